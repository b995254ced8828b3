"""`voice_reference` decodes to the file's bytes; anything else is a 400 naming the field."""

from __future__ import annotations

import base64

import pytest

from chorus_contracts import InvalidRequest, decode_voice_reference
from chorus_contracts.speech import MAX_VOICE_REFERENCE_CHARS


def test_the_files_bytes_come_back() -> None:
    audio = b"RIFF" + bytes(range(256)) * 4
    assert decode_voice_reference(base64.b64encode(audio).decode("ascii")) == audio


@pytest.mark.parametrize(
    ("encoded", "says"),
    [
        ("not base64!", "in base64"),
        ("QUJD" + "A", "in base64"),  # unpadded
        ("A" * (MAX_VOICE_REFERENCE_CHARS + 4), "over 12 MiB"),
    ],
)
def test_what_is_not_a_bounded_base64_file_is_the_clients_error(encoded: str, says: str) -> None:
    with pytest.raises(InvalidRequest, match=says) as caught:
        decode_voice_reference(encoded)
    assert (caught.value.status, caught.value.param) == (400, "voice_reference")
