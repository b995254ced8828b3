from __future__ import annotations

import pytest

from chorus_kokoro.languages import normalize_language, voice_gender, voice_language


@pytest.mark.parametrize(
    ("code", "espeak"),
    [("a", "en-us"), ("b", "en-gb"), ("en", "en-us"), ("EN_gb", "en-gb"), ("pt", "pt-br"),
     ("fr", "fr-fr"), ("de", "de")],
)  # fmt: skip
def test_client_language_codes_become_espeak_codes(code: str, espeak: str) -> None:
    assert normalize_language(code) == espeak


def test_voice_ids_say_their_language_and_gender() -> None:
    assert (voice_language("jf_alpha"), voice_gender("jf_alpha")) == ("ja", "female")
    assert (voice_language("am_adam"), voice_gender("am_adam")) == ("en-us", "male")
    assert (voice_language("custom"), voice_gender("custom")) == (None, None)
