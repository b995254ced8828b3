"""The playground's page as the tests drive it: open it, pick a tab, wait for what a user sees."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

DOCS = Path(__file__).resolve().parents[2] / "docs"
WAIT_S = 60


def wait(browser: WebDriver, condition: Callable[[WebDriver], Any]) -> Any:
    return WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(condition)


def screenshot(browser: WebDriver, page: str) -> None:
    """docs/playground-<page>.png, only when asked (CHORUS_SCREENSHOTS=1): CI keeps a clean tree."""
    if os.environ.get("CHORUS_SCREENSHOTS") == "1":
        browser.save_screenshot(str(DOCS / f"playground-{page}.png"))


def open_page(browser: WebDriver, base_url: str, key: str = "") -> None:
    browser.get(f"{base_url}/")
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{base_url}/")
    if key:
        field = browser.find_element(By.ID, "api-key")
        field.send_keys(key)
        browser.execute_script("document.getElementById('api-key').blur()")


def catalog_loaded(browser: WebDriver) -> None:
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#speak-voice option"))


def tab(browser: WebDriver, name: str) -> None:
    browser.find_element(By.ID, f"tab-{name}").click()


def console_errors(browser: WebDriver, refusals: bool = True) -> list[str]:
    """The console's errors; with `refusals=False`, less the requests the router refused (a 4xx
    the page expects, such as the admin-only provider list asked with a speech-only key)."""
    # Selenium leaves get_log unannotated.
    entries: list[dict[str, Any]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
    errors = [e["message"] for e in entries if e["level"] == "SEVERE"]
    if refusals:
        return errors
    return [e for e in errors if not re.search(r"responded with a status of 4\d\d", e)]


AXE = Path(__file__).with_name("vendor") / "axe.min.js"
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document).then(
  (result) => done(result.violations.map((v) => (
    {id: v.id, impact: v.impact, where: v.nodes.map((n) => n.target.join(" "))}
  ))),
  (error) => done([{id: "axe failed: " + error, impact: "critical", where: []}]),
);
"""


def serious_violations(browser: WebDriver) -> list[str]:
    """What axe-core finds serious or critical on the page as it stands, one line each."""
    # WebDriver's scripts run outside the page's CSP, as a browser extension's would.
    browser.execute_script(AXE.read_text())
    browser.set_script_timeout(WAIT_S)
    violations = browser.execute_async_script(RUN_AXE)
    return [
        f"{v['id']}: {v['where']}" for v in violations if v["impact"] in ("serious", "critical")
    ]
