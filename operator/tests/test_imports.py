"""The operator's image holds its own dependencies only: no FastAPI, no web server."""

from __future__ import annotations

import subprocess
import sys

# Blocking a module in sys.modules makes importing it fail as if it were not installed.
_WITHOUT_WEB_STACK = """
import sys
for name in ("fastapi", "starlette", "uvicorn"):
    sys.modules[name] = None
import chorus_operator.handlers
"""


def test_the_operator_starts_without_fastapi_installed() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _WITHOUT_WEB_STACK], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
