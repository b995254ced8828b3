"""What a listener hears of SSML: Whisper's transcript of espeak-ng, Piper and Kokoro holds
none of the markup's words, and a spelled-out word is heard letter by letter.

To keep the run short, each engine's clips are joined (a second of silence between them)
and transcribed once: espeak-ng speaks all twenty texts, Piper and Kokoro every fourth.
"""

from __future__ import annotations

import pytest
from openai import OpenAI

from support.transcribe import normalized_words, transcribe

pytestmark = pytest.mark.e2e

RATE = 24_000
# Every supported element, and a few that are not (dropped, never spoken).
TEXTS = [
    '<speak>Wait a moment. <break time="700ms"/> Now go on.</speak>',
    '<speak>Soft steps <break strength="strong"/> in the hall.</speak>',
    "<speak><p><s>The first line ends.</s><s>The second one follows.</s></p></speak>",
    '<speak><prosody rate="slow">The slow river bends.</prosody></speak>',
    '<speak><prosody rate="x-fast" pitch="high">Quick words now.</prosody></speak>',
    '<speak><prosody volume="loud" pitch="-10%">A loud low voice.</prosody></speak>',
    '<speak>This is <emphasis level="strong">very</emphasis> important.</speak>',
    '<speak>Spell <say-as interpret-as="characters">abc</say-as> for me.</speak>',
    '<speak>We counted <say-as interpret-as="cardinal">1234</say-as> birds.</speak>',
    '<speak>She came <say-as interpret-as="ordinal">3</say-as> in the race.</speak>',
    '<speak>The code is <say-as interpret-as="digits">4521</say-as> today.</speak>',
    '<speak>Born on <say-as interpret-as="date" format="mdy">07/04/1999</say-as>.</speak>',
    '<speak>We meet at <say-as interpret-as="time">10:30</say-as> tomorrow.</speak>',
    '<speak>Call <say-as interpret-as="telephone">555-0123</say-as> now.</speak>',
    '<speak>It costs <say-as interpret-as="currency">$42.50</say-as> in total.</speak>',
    '<speak>The <sub alias="World Health Organization">WHO</sub> met today.</speak>',
    '<speak>I like <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme> soup.</speak>',
    '<speak><lang xml:lang="en-GB">The colour of the sky.</lang></speak>',
    '<speak><voice name="alloy">One voice here.</voice> <mark name="m1"/>Done.</speak>',
    '<speak xmlns="http://www.w3.org/2001/10/synthesis" version="1.0">'
    '<audio src="x.wav">The bell</audio> rang <unknown-tag>twice</unknown-tag>.</speak>',
]
# What reading the markup aloud would put in the transcript.
MARKUP_WORDS = {"speak", "break", "prosody", "phoneme", "ipa", "say", "as", "sub", "emphasis"}


def _pcm(client: OpenAI, model: str, text: str) -> bytes:
    response = client.audio.speech.create(
        model=model, voice="alloy", input=text, response_format="pcm"
    )
    return response.read()


def _heard(client: OpenAI, model: str, texts: list[str]) -> str:
    gap = bytes(2 * RATE)
    return transcribe(gap.join(_pcm(client, model, text) for text in texts), RATE)


@pytest.mark.parametrize(
    ("model", "texts"), [("espeak", TEXTS), ("piper", TEXTS[::4]), ("kokoro", TEXTS[2::4])]
)
def test_no_markup_is_heard(client: OpenAI, model: str, texts: list[str]) -> None:
    heard = _heard(client, model, texts)
    assert not {"<", ">"} & set(heard), heard
    assert not MARKUP_WORDS & set(normalized_words(heard)), heard
    # And the words are there: the transcript is not empty or cut short.
    assert len(normalized_words(heard)) >= 3 * len(texts), heard


@pytest.mark.parametrize("model", ["espeak", "piper", "kokoro"])
def test_a_spelled_out_word_is_heard_letter_by_letter(client: OpenAI, model: str) -> None:
    # A code, not a word: Whisper writes what it hears of letters ("X-K-Q", "XKQ", "x k q"),
    # and would hear a short word's letters as other words ("D O G" came back "the OG").
    heard = _heard(
        client, model, ['<speak>The code is <say-as interpret-as="spell-out">xkq</say-as>.</speak>']
    )
    assert "xkq" in "".join(normalized_words(heard)), heard
