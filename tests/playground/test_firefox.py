"""The playground's main checks in Debian's firefox-esr too ("it works in the current Chromium
and Firefox"). firefox-esr speaks WebDriver BiDi itself, and puppeteer-core (npm, installed by
scripts/bootstrap.sh --test) drives it over that, so no geckodriver is needed. The checks are
firefox/playground.test.mjs, run by node's test runner against this package's routers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support.processes import ServiceProcess
from support.stack import Stack

# Starting the package's routers (when this module runs first) and then Firefox, on a loaded
# machine, takes more than the suite's two minutes a test.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHECKS = Path(__file__).with_name("firefox") / "playground.test.mjs"


def test_the_page_speaks_compares_and_shows_the_401_in_firefox(
    stack: Stack, secure_router: ServiceProcess
) -> None:
    env = {
        **os.environ,
        "CHORUS_ROUTER_URL": stack.router.url,
        "CHORUS_SECURE_ROUTER_URL": secure_router.url,
    }
    run = subprocess.run(
        ["node", "--test", "--test-reporter=spec", CHECKS.name],
        cwd=CHECKS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
