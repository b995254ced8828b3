"""The init container's fetcher (arguments, failure) and the mount path it hands over."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chorus_torch import TorchSettings
from chorus_torch.fetch import Wanted, parse_wanted


def test_wanted_repos_name_a_revision_and_maybe_a_folder() -> None:
    assert parse_wanted("nari-labs/Dia-1.6B-0626@main") == Wanted(
        "nari-labs/Dia-1.6B-0626", "main", ""
    )
    assert parse_wanted("descript/dac_44khz@0a1b2c:codec") == Wanted(
        "descript/dac_44khz", "0a1b2c", "codec"
    )
    for bad in ("no-owner@main", "a/b", "a/b@main:../up", "a/b@main:/abs"):
        with pytest.raises(argparse.ArgumentTypeError, match="owner/name@revision"):
            parse_wanted(bad)


def test_a_failed_fetch_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    result = subprocess.run(
        [sys.executable, "-m", "chorus_torch.fetch", "--dest", str(tmp_path), "acme/tiny@main"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "fetching the model failed" in result.stderr


def test_the_operators_mount_is_the_model_path_unless_the_provider_says_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_MODEL_PATH", "/models")
    assert TorchSettings.load().model_path == Path("/models")
    monkeypatch.setenv("CHORUS_TORCH_MODEL_PATH", str(tmp_path))
    assert TorchSettings.load().model_path == tmp_path
