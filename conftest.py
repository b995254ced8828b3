"""The main environment's pytest never collects the torch packages: they have no torch here.

`make test-gpu` (scripts/gpu_env.sh) runs each of them in its own environment instead.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

_ROOT = Path(__file__).parent

with (_ROOT / "pyproject.toml").open("rb") as _file:
    collect_ignore = list(tomllib.load(_file)["tool"]["uv"]["workspace"]["exclude"])
