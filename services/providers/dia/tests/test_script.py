"""SSML segments as the dialogue script Dia reads."""

from __future__ import annotations

from chorus_contracts import SpeechSegment
from chorus_dia.script import dialogue_script, segments_script


def test_voices_become_speaker_tags_where_the_speaker_changes() -> None:
    segments = [
        SpeechSegment(text="Did you hear that?", pause_ms=500),
        SpeechSegment(text="Hear what?", voice="S2", rate=0.8),
        SpeechSegment(text="Never mind,", voice="S2"),
        SpeechSegment(text="it was nothing.", pitch="high"),
    ]
    assert segments_script(segments, "S1") == (
        "[S1] Did you hear that? [S2] Hear what? Never mind, [S1] it was nothing."
    )


def test_a_script_with_its_tags_keeps_them_before_a_cloned_voices_transcript() -> None:
    script = segments_script([SpeechSegment(text="Hi there."), SpeechSegment(text="")], "S2")
    assert dialogue_script(script, "S2", "I am the sample.") == (
        "[S2] I am the sample. [S2] Hi there."
    )
