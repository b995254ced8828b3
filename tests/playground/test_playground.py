"""The playground as a user meets it: in chromium, against real routers and providers."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support.processes import ServiceProcess
from support.stack import Stack
from support.voice_samples import encode, speechlike

from .conftest import CLONERS
from .page import (
    catalog_loaded,
    console_errors,
    open_page,
    screenshot,
    serious_violations,
    tab,
    wait,
)

pytestmark = pytest.mark.e2e


def test_the_page_is_public_with_a_strict_content_security_policy(
    stack: Stack, secure_router: ServiceProcess
) -> None:
    for router in (stack.router, secure_router):
        response = httpx.get(f"{router.url}/", follow_redirects=True, timeout=10)
        assert response.status_code == 200
        assert response.url.path == "/playground"
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "connect-src 'self'" in policy
        assert "unsafe-inline" not in policy
        script = httpx.get(f"{router.url}/playground/api.js", timeout=10)
        assert script.headers["content-type"].startswith("text/javascript")
    # Only the page is public: the API it calls still wants a key.
    assert httpx.get(f"{secure_router.url}/v1/models", timeout=10).status_code == 401


def test_the_page_loads_its_catalog_with_no_console_error(browser: WebDriver, stack: Stack) -> None:
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    providers = [o.text for o in Select(browser.find_element(By.ID, "speak-provider")).options]
    assert {"espeak", "piper"} <= set(providers)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#speak-pieces li"))
    assert console_errors(browser) == []


def test_a_sentence_streams_into_the_audio_graph(browser: WebDriver, stack: Stack) -> None:
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    Select(browser.find_element(By.ID, "speak-provider")).select_by_value("piper")
    browser.find_element(By.ID, "speak-go").click()
    scheduled = "return window.chorusPlayground.scheduledSeconds"
    wait(browser, lambda b: b.execute_script(scheduled) >= 1.0)
    first_audio = browser.find_element(By.ID, "speak-first-audio")
    wait(browser, lambda b: re.fullmatch(r"\d+ ms", first_audio.text))
    wait(browser, lambda b: b.find_element(By.ID, "speak-served-by").text == "piper")
    assert 'model="piper"' in browser.find_element(By.ID, "speak-snippet-python").text
    screenshot(browser, "speak")
    assert console_errors(browser) == []


def test_two_providers_are_compared(browser: WebDriver, stack: Stack) -> None:
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    tab(browser, "compare")
    browser.find_element(By.ID, "compare-go").click()
    rows = "#compare-results tbody tr"
    wait(
        browser,
        lambda b: (
            [r.get_attribute("data-state") for r in b.find_elements(By.CSS_SELECTOR, rows)]
            == ["done", "done"]
        ),
    )
    served = {
        r.find_elements(By.TAG_NAME, "td")[4].text
        for r in browser.find_elements(By.CSS_SELECTOR, rows)
    }
    assert served == {"espeak", "piper"}
    screenshot(browser, "compare")


def _upload_voice(browser: WebDriver, router_url: str, name: str, tmp_path: Path) -> None:
    """Creates voice `name` from uploaded files on the Voices page, and waits for it listed."""
    sample = tmp_path / "sample.wav"
    sample.write_bytes(encode(speechlike(4.0, 24_000), 24_000))
    open_page(browser, router_url)
    catalog_loaded(browser)
    tab(browser, "voices")
    browser.find_element(By.ID, "voice-name").send_keys(name)
    browser.find_element(By.ID, "voice-sample").send_keys(str(sample))
    browser.find_element(By.ID, "voice-consent").send_keys(str(sample))
    browser.find_element(By.ID, "voice-create").click()
    delete = (By.CSS_SELECTOR, f"#voice-list button[aria-label='Delete {name}']")
    wait(browser, lambda b: b.find_elements(*delete))


def test_a_voice_is_created_from_an_uploaded_file_and_deleted(
    browser: WebDriver, stack: Stack, tmp_path: Path
) -> None:
    _upload_voice(browser, stack.router.url, "Ada", tmp_path)
    delete = (By.CSS_SELECTOR, "#voice-list button[aria-label='Delete Ada']")
    browser.find_element(*delete).click()
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "#voice-list tbody tr"))
    assert console_errors(browser) == []


def test_a_voice_is_previewed_on_each_cloning_provider_in_turn(
    browser: WebDriver, cloning_stack: Stack, tmp_path: Path
) -> None:
    _upload_voice(browser, cloning_stack.router.url, "Grace", tmp_path)
    browser.find_element(By.CSS_SELECTOR, "#voice-list button[aria-label='Preview Grace']").click()
    rows = "#voice-previews tbody tr"

    def previews(b: WebDriver) -> list[tuple[str | None, ...]]:
        return [
            (
                r.get_attribute("data-state"),
                *(c.text for c in r.find_elements(By.TAG_NAME, "td")[:2]),
            )
            for r in b.find_elements(By.CSS_SELECTOR, rows)
        ]

    wait(browser, lambda b: [p[0] for p in previews(b)] == ["played", "played"])
    assert [p[1:] for p in previews(browser)] == [(name, name) for name in CLONERS]
    assert console_errors(browser) == []


def test_the_platform_page_shows_provider_health(browser: WebDriver, stack: Stack) -> None:
    open_page(browser, stack.router.url)
    tab(browser, "platform")
    cells = "#platform-health tbody td:first-child"
    wait(
        browser,
        lambda b: {c.text for c in b.find_elements(By.CSS_SELECTOR, cells)} == {"espeak", "piper"},
    )
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#platform-audit tbody tr"))
    screenshot(browser, "platform")


def test_without_a_key_the_page_shows_the_401_message(
    browser: WebDriver, secure_router: ServiceProcess
) -> None:
    open_page(browser, secure_router.url)
    message = browser.find_element(By.ID, "message")
    wait(browser, lambda b: message.is_displayed())
    assert message.text.startswith("401: You didn't provide an API key.")


@pytest.mark.parametrize("page", ["speak", "compare", "live", "jobs", "voices", "platform"])
def test_axe_finds_no_serious_accessibility_violation(
    browser: WebDriver, stack: Stack, page: str
) -> None:
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    tab(browser, page)
    assert serious_violations(browser) == []
