"""`make test-cuda` on a machine where torch sees no GPU: it stops at once, says why, and
leaves the same line in the summary a device run brings back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# torch as a CPU build answers on a machine without a GPU; the main environment has no torch.
CPU_TORCH = """\
__version__ = "2.13.0+cpu"


class cuda:
    @staticmethod
    def is_available() -> bool:
        return False
"""


def make_test_cuda(out: Path, python: str, pythonpath: Path | None = None) -> tuple[int, str]:
    env = {"PATH": "/usr/bin:/bin", "OUT": str(out), "CUDA_PYTHON": python}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    result = subprocess.run(
        ["make", "--no-print-directory", "test-cuda"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_without_a_gpu_it_fails_at_once_with_the_reason_and_a_summary(tmp_path: Path) -> None:
    (tmp_path / "site" / "torch").mkdir(parents=True)
    (tmp_path / "site" / "torch" / "__init__.py").write_text(CPU_TORCH)
    rc, output = make_test_cuda(tmp_path, sys.executable, tmp_path / "site")
    assert rc != 0
    assert "test-cuda: FAILED, no GPU: torch 2.13.0+cpu" in output
    assert "sees no CUDA device; run it on a GPU machine" in output
    summary = (tmp_path / "test-cuda.txt").read_text()
    assert summary.startswith("test-cuda: FAILED, no GPU: torch 2.13.0+cpu")


def test_an_interpreter_without_torch_is_named(tmp_path: Path) -> None:
    rc, output = make_test_cuda(tmp_path, sys.executable)
    assert rc != 0
    assert f"test-cuda: FAILED, no GPU: {sys.executable} has no torch" in output
