"""A dialogue script, `Speaker N: text` lines as VibeVoice's own examples write them.

Lines without a label continue the speaker before them; a text with no label at all is one
speaker's. Speakers are numbered as written (e.g. 1 to 4) and given to the model in order
of their numbers, the way VibeVoice renumbers them for its prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chorus_contracts import InvalidRequest

_LABEL = re.compile(r"^\s*Speaker\s+(\d{1,2})\s*:\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    speaker: int  # as written in the text
    text: str


@dataclass(frozen=True)
class Script:
    turns: list[Turn]

    @property
    def speakers(self) -> list[int]:
        """The speakers' numbers, lowest first: the model's speaker 0, 1, ..."""
        return sorted({turn.speaker for turn in self.turns})

    def role(self, speaker: int) -> str:
        """The speaker id the model's chat template writes for `speaker`."""
        return str(self.speakers.index(speaker))


def parse_script(text: str, max_speakers: int) -> Script:
    """Turns of the text in order; a 400 when nothing is left to say or too many speak."""
    turns: list[Turn] = []
    for line in text.splitlines():
        label = _LABEL.match(line)
        if label:
            turns.append(Turn(int(label.group(1)), label.group(2).strip()))
        elif line.strip():
            speaker = turns[-1].speaker if turns else 1
            previous = turns.pop().text if turns and turns[-1].speaker == speaker else ""
            turns.append(Turn(speaker, f"{previous} {line.strip()}".strip()))
    turns = [turn for turn in turns if turn.text]
    if not turns:
        raise InvalidRequest("text contains nothing to speak", param="text")
    script = Script(turns)
    if len(script.speakers) > max_speakers:
        raise InvalidRequest(
            f"the text has {len(script.speakers)} speakers; VibeVoice here takes at most "
            f"{max_speakers}",
            param="text",
        )
    return script
