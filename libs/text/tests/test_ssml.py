"""SSML compiled to segments: what each element does, and what hostile XML gets."""

from __future__ import annotations

import pytest

from chorus_contracts import InvalidRequest, SpeechSegment
from chorus_text.ssml import MAX_DEPTH, MAX_ELEMENTS, compile_ssml, features_of, join_words


def _segments(ssml: str) -> list[dict[str, object]]:
    return [s.model_dump(exclude_defaults=True) for s in compile_ssml(ssml).segments]


def _refusal(ssml: str) -> str:
    with pytest.raises(InvalidRequest) as refused:
        compile_ssml(ssml)
    assert refused.value.param == "input"
    return refused.value.message


def test_breaks_end_a_segment_with_their_pause() -> None:
    assert _segments(
        '<speak>One <break time="1.5s"/> two <break time="250ms"/>'
        '<break strength="strong"/> three <break/></speak>'
    ) == [
        {"text": "One", "pause_ms": 1500},
        {"text": "two", "pause_ms": 950},
        {"text": "three", "pause_ms": 400},
    ]


def test_a_mark_waits_for_the_words_after_it() -> None:
    assert _segments('<speak>A <mark name="b"/><break time="1s"/>c <mark name="end"/></speak>') == [
        {"text": "A"},
        {"pause_ms": 1000, "marks": ["b"]},
        {"text": "c"},
        {"marks": ["end"]},
    ]


def test_a_leading_break_is_a_silent_segment() -> None:
    assert _segments('<speak><break time="2s"/>Hello.</speak>') == [
        {"pause_ms": 2000},
        {"text": "Hello."},
    ]


def test_sentences_end_their_sentence_and_paragraphs_pause() -> None:
    assert _segments("<speak><p><s>First one</s><s>Second one!</s></p>Then</speak>") == [
        {"text": "First one."},
        {"text": "Second one!", "pause_ms": 400},
        {"text": "Then"},
    ]


def test_prosody_nests_and_multiplies() -> None:
    assert _segments(
        '<speak>Plain <prosody rate="slow" volume="-6dB" pitch="+10%">slow '
        '<prosody rate="200%" volume="loud">double</prosody></prosody></speak>'
    ) == [
        {"text": "Plain"},
        {"text": "slow", "rate": 0.64, "volume_db": -6.0, "pitch": "+10%"},
        {"text": "double", "rate": 1.28, "pitch": "+10%"},
    ]


def test_nested_prosody_stays_within_one_values_range() -> None:
    nested = '<prosody rate="x-fast" volume="+20dB">' * 3 + "Fast" + "</prosody>" * 3
    assert _segments(f"<speak>{nested}</speak>") == [
        {"text": "Fast", "rate": 4.0, "volume_db": 24.0}
    ]


def test_emphasis_language_voice_and_marks_travel_with_their_words() -> None:
    assert _segments(
        '<speak><emphasis>Very</emphasis> <lang xml:lang="fr-FR">bonjour</lang> '
        '<voice name="nova">hi</voice> <mark name="here"/>there</speak>'
    ) == [
        {"text": "Very", "emphasis": "moderate"},
        {"text": "bonjour", "language": "fr-FR"},
        {"text": "hi", "voice": "nova"},
        {"text": "there", "marks": ["here"]},
    ]


def test_phonemes_are_a_segment_of_their_own() -> None:
    assert _segments(
        '<speak>Say <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme> now.</speak>'
    ) == [
        {"text": "Say"},
        {"text": "tomato", "phonemes": "təˈmɑːtoʊ"},
        {"text": "now."},
    ]


@pytest.mark.parametrize(
    ("element", "said"),
    [
        ('<sub alias="World Wide Web">WWW</sub>', "World Wide Web"),
        ('<say-as interpret-as="characters">SSML</say-as>', "S S M L"),
        ('<say-as interpret-as="spell-out">ab1</say-as>', "A B one"),
        ('<say-as interpret-as="cardinal">1,234</say-as>',
         "one thousand two hundred and thirty-four"),
        ('<say-as interpret-as="ordinal">3rd</say-as>', "third"),
        ('<say-as interpret-as="digits">2024</say-as>', "two zero two four"),
        ('<say-as interpret-as="date" format="dmy">15/03/2024</say-as>',
         "March fifteenth twenty twenty-four"),
        ('<say-as interpret-as="date" format="ym">2024-03</say-as>', "March twenty twenty-four"),
        ('<say-as interpret-as="time">3:30pm</say-as>', "three thirty p m"),
        ('<say-as interpret-as="telephone">+1 555 123 4567</say-as>',
         "plus one, five five five, one two three, four five six seven"),
        ('<say-as interpret-as="currency">$12.50</say-as>', "twelve dollars and fifty cents"),
        (f'<say-as interpret-as="cardinal">{"9" * 400}</say-as>', " ".join(["nine"] * 400)),
    ],
)  # fmt: skip
def test_say_as_and_sub_are_said_as_words(element: str, said: str) -> None:
    assert compile_ssml(f"<speak>{element}</speak>").text == said


def test_unknown_elements_lose_their_tags_and_are_reported() -> None:
    markup = compile_ssml(
        '<speak>Ring <audio src="bell.wav">ding</audio> <mstts:express-as style="calm">'
        'calm</mstts:express-as> <say-as interpret-as="unit">5kg</say-as></speak>'
    )
    assert markup.text == "Ring ding calm 5kg"
    assert markup.dropped == ["audio", "mstts:express-as", 'say-as interpret-as="unit"']


def test_a_fragment_is_the_content_of_speak() -> None:
    markup = compile_ssml('Wait <break time="1s"/> now')
    assert [s.text for s in markup.segments] == ["Wait", "now"]
    assert "line 1, column 8: malformed XML: mismatched tag" in _refusal("Wait </b> now")


def test_malformed_ssml_names_line_and_column() -> None:
    message = _refusal("<speak>\n  Hello <break time='1s'>\n</speak>")
    assert message.startswith("SSML at line 3, column 3: malformed XML: mismatched tag")


@pytest.mark.parametrize(
    ("ssml", "says"),
    [
        ('<speak><break time="eleven seconds"/></speak>', '<break> time="eleven seconds"'),
        ('<speak><break time="11s"/></speak>', "longer than 10000 ms"),
        ('<speak><prosody rate="9">x</prosody></speak>', "outside 0.25x to 4x"),
        ('<speak><prosody volume="very">x</prosody></speak>', 'volume="very"'),
        ('<speak><emphasis level="max">x</emphasis></speak>', 'level="max"'),
        ("<speak><sub>WHO</sub></speak>", 'needs a alias="..."'),
        ('<speak><say-as interpret-as="cardinal">many</say-as></speak>', '"many" is not a number'),
        ('<speak><say-as interpret-as="date" format="dmy">2024</say-as></speak>', "parts"),
        ('<speak><say-as interpret-as="date" format="dmy">0/1/2024</say-as></speak>', "day"),
        ("<speak><break/></speak>", "no text to speak"),
        ('<?xml version="1.0"?><voice name="x">hi</voice>', "<speak> as its root"),
        (f'<speak><lang xml:lang="{"x" * 33}">hi</lang></speak>', "longer than 32"),
        (f'<speak><voice name="{"x" * 201}">hi</voice></speak>', "longer than 200"),
        (f'<speak><phoneme ph="{"a" * 2001}">x</phoneme></speak>', "longer than 2000"),
        ("<speak>" + '<mark name="m"/>' * 65 + "hi</speak>", "more than 64 marks"),
    ],
)
def test_unreadable_values_are_refused_naming_the_element(ssml: str, says: str) -> None:
    assert says in _refusal(ssml)


def test_a_value_refusal_names_the_elements_position() -> None:
    assert _refusal('<speak>\n <p>\n  <break time="x"/></p></speak>').startswith(
        "SSML at line 3, column 3: <break>"
    )


def test_billion_laughs_is_refused_at_its_dtd() -> None:
    laughs = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    ssml = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">{laughs}]><speak>&lol9;</speak>'
    )
    assert "a DTD (<!DOCTYPE ...>) is not allowed" in _refusal(ssml)


def test_external_entities_and_undeclared_entities_are_refused() -> None:
    external = '<!DOCTYPE speak [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>'
    assert "DTD" in _refusal(external)
    assert "undefined entity" in _refusal("<speak>&x;</speak>")


def test_ten_thousand_deep_nesting_stops_at_the_depth_bound() -> None:
    deep = "<speak>" + "<s>" * 10_000 + "x" + "</s>" * 10_000 + "</speak>"
    message = _refusal(deep)
    assert f"elements nest deeper than {MAX_DEPTH}" in message
    # Stopped at the element past the bound, not after reading the whole document.
    assert f"column {8 + 3 * (MAX_DEPTH - 1)}:" in message


def test_element_count_and_size_are_bounded() -> None:
    assert f"more than {MAX_ELEMENTS} elements" in _refusal(
        "<speak>" + "<mark name='m'/>" * (MAX_ELEMENTS + 1) + "x</speak>"
    )
    assert "the maximum is 100000" in _refusal("<speak>" + "a" * 100_000 + "</speak>")


def test_features_name_what_a_segment_asks_of_an_engine() -> None:
    segment = SpeechSegment(text="x", pause_ms=5, rate=1.2, phonemes="ks", voice="nova")
    assert features_of(segment) == {"break", "prosody-rate", "phoneme", "voice"}
    assert features_of(SpeechSegment(text="x")) == set()


def test_words_join_without_a_space_before_punctuation() -> None:
    assert join_words(["Hello", "", ", world", "again", "."]) == "Hello, world again."


def test_what_is_said_instead_of_the_written_words_keeps_them_for_timings() -> None:
    assert _segments(
        '<speak>The <sub alias="World Wide Web">WWW</sub> turns '
        '<say-as interpret-as="cardinal">30</say-as>.</speak>'
    ) == [
        {"text": "The"},
        {"text": "World Wide Web", "written": "WWW"},
        {"text": "turns"},
        # Punctuation alone belongs to the words before it.
        {"text": "thirty.", "written": "30"},
    ]
