"""Assembling the model from its parts: verified, atomic, and done once."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from chorus_kokoro.model_files import (
    ModelFileError,
    assemble,
    default_model_path,
    default_voices_path,
)


@pytest.fixture
def parts(tmp_path: Path) -> list[Path]:
    paths = []
    for n, content in enumerate([b"first-", b"second-", b"third"]):
        path = tmp_path / f"part{n}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


SHA = hashlib.sha256(b"first-second-third").hexdigest()


def test_parts_are_joined_in_order_and_leave_no_temporary_file(
    parts: list[Path], tmp_path: Path
) -> None:
    target = tmp_path / "cache" / "model.onnx"
    assert assemble(parts, SHA, target) == target
    assert target.read_bytes() == b"first-second-third"
    assert os.listdir(target.parent) == ["model.onnx"]
    # Readable by any user: images assemble it as root and run the service as uid 10001.
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_good_file_is_kept_and_a_corrupt_one_rebuilt(parts: list[Path], tmp_path: Path) -> None:
    target = tmp_path / "model.onnx"
    assemble(parts, SHA, target)
    os.utime(target, ns=(0, 0))
    assemble(parts, SHA, target)
    assert target.stat().st_mtime_ns == 0, "a verified file must not be rewritten"
    target.write_bytes(b"first-second-thi")  # a half-written file from some other tool
    assemble(parts, SHA, target)
    assert target.read_bytes() == b"first-second-third"


def test_parts_that_fail_the_checksum_leave_nothing_behind(
    parts: list[Path], tmp_path: Path
) -> None:
    target = tmp_path / "cache" / "model.onnx"
    with pytest.raises(ModelFileError, match="SHA-256"):
        assemble(parts, "0" * 64, target)
    assert os.listdir(target.parent) == []


def test_an_unwritable_data_dir_names_the_setting(parts: list[Path], tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(ModelFileError, match="CHORUS_KOKORO_DATA_DIR"):
        assemble(parts, SHA, blocker / "model.onnx")


def test_the_pypi_parts_make_the_published_model(tmp_path: Path) -> None:
    model = default_model_path(tmp_path)
    assert model.stat().st_size > 80_000_000
    assert default_voices_path().name == "voices_ja.npz"
