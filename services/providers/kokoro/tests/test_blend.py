from __future__ import annotations

import numpy as np
import pytest

from chorus_contracts import InvalidRequest, UnknownVoice
from chorus_kokoro.blend import BlendPart, Style, blend_style, parse_voice

STYLES: dict[str, Style] = {
    "jf_alpha": np.full((4, 1, 3), 3.0, dtype=np.float32),
    "jm_kumo": np.zeros((4, 1, 3), dtype=np.float32),
}


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
        ("jf_alpha", [BlendPart("jf_alpha", 1.0)]),
        ("jf_alpha(2)+jm_kumo(1)", [BlendPart("jf_alpha", 2.0), BlendPart("jm_kumo", 1.0)]),
        (" jf_alpha ( 0.5 ) + jm_kumo ", [BlendPart("jf_alpha", 0.5), BlendPart("jm_kumo", 1.0)]),
        ("jf_alpha(.25)+jm_kumo(3.)", [BlendPart("jf_alpha", 0.25), BlendPart("jm_kumo", 3.0)]),
    ],
)
def test_voices_and_blends_parse(spec: str, parts: list[BlendPart]) -> None:
    assert parse_voice(spec) == parts


@pytest.mark.parametrize(
    "spec",
    [
        "jf_alpha(2",
        "jf_alpha(2)+",
        "+jm_kumo",
        "jf_alpha(0)+jm_kumo(1)",
        "jf_alpha(-1)+jm_kumo(1)",
        "jf_alpha(two)",
        "jf_alpha(2)jm_kumo(1)",
        "jf alpha",
        "+".join(["jf_alpha"] * 9),
    ],
)
def test_malformed_blends_are_the_clients_error(spec: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_voice(spec)
    assert caught.value.param == "voice"


def test_a_blend_is_the_weighted_mean_of_the_style_tables() -> None:
    blended = blend_style(STYLES, parse_voice("jf_alpha(2)+jm_kumo(1)"))
    assert blended.dtype == np.float32
    np.testing.assert_allclose(blended, np.full((4, 1, 3), 2.0))


def test_one_voice_keeps_its_own_table_and_unknown_voices_are_404() -> None:
    assert blend_style(STYLES, parse_voice("jm_kumo")) is STYLES["jm_kumo"]
    with pytest.raises(UnknownVoice, match="af_heart"):
        blend_style(STYLES, parse_voice("jf_alpha+af_heart"))
