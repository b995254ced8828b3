"""A provider's model identity follows the content of its model files, not their names."""

from __future__ import annotations

from pathlib import Path

from chorus_provider import model_fingerprint


def test_new_content_under_the_same_name_is_a_new_identity(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"weights v1")
    first = model_fingerprint(model, "noise=0.667")
    assert first == model_fingerprint(model, "noise=0.667")
    assert first.startswith("sha256:")
    assert len(first) == len("sha256:") + 32
    model.write_bytes(b"weights v2")
    assert model_fingerprint(model, "noise=0.667") != first


def test_settings_that_shape_the_sound_count_too(tmp_path: Path) -> None:
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"weights")
    assert model_fingerprint(model, "noise=0.667") != model_fingerprint(model, "noise=0.5")
    # A file and a text with the same bytes are different parts.
    assert model_fingerprint(model) != model_fingerprint("weights")
