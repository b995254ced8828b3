"""The Speak page's SSML mode in chromium: snippets, the compiled preview for the chosen
provider, what speaking it dropped, and the router's message for markup it cannot read."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from support.stack import Stack

from .page import (
    catalog_loaded,
    console_errors,
    open_page,
    screenshot,
    serious_violations,
    wait,
)

pytestmark = pytest.mark.e2e


def _ssml_box(browser: WebDriver, base_url: str, provider: str) -> WebElement:
    """The Speak page in SSML mode on `provider`, its text box emptied."""
    open_page(browser, base_url)
    catalog_loaded(browser)
    Select(browser.find_element(By.ID, "speak-provider")).select_by_value(provider)
    Select(browser.find_element(By.ID, "speak-input-format")).select_by_value("ssml")
    box = browser.find_element(By.ID, "speak-text")
    # The plain text that was there is now the document's words.
    assert (box.get_attribute("value") or "").startswith("<speak>Hello!")
    box.clear()
    return box


def _segments(browser: WebDriver) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#speak-segments tbody tr")
    return [[c.text for c in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def test_ssml_spoken_on_espeak_is_previewed_with_its_pause_and_heard(
    browser: WebDriver, stack: Stack
) -> None:
    box = _ssml_box(browser, stack.router.url, "espeak")
    box.send_keys("<speak>Hello there,")
    browser.find_element(By.CSS_SELECTOR, "#speak-ssml-tools [data-snippet=break]").click()
    box.send_keys(" general Kenobi, ")
    browser.find_element(By.CSS_SELECTOR, "#speak-ssml-tools [data-snippet=prosody]").click()
    box.send_keys('.<audio src="chime.wav"/></speak>')

    caption = browser.find_element(By.ID, "speak-segments-caption")
    wait(browser, lambda b: caption.is_displayed() and caption.text == "Compiled for espeak")
    wait(browser, lambda b: ["Hello there,", "500 ms"] in [row[:2] for row in _segments(b)])
    assert browser.find_element(By.ID, "speak-dropped").text == "audio"

    browser.find_element(By.ID, "speak-go").click()
    scheduled = "return window.chorusPlayground.scheduledSeconds"
    wait(browser, lambda b: b.execute_script(scheduled) >= 1.0)
    wait(browser, lambda b: b.find_element(By.ID, "speak-served-by").text == "espeak")
    assert browser.find_element(By.ID, "speak-markup-dropped").text == "audio"
    assert 'extra_body={"input_format": "ssml"}' in (
        browser.find_element(By.ID, "speak-snippet-python").text
    )
    screenshot(browser, "ssml")
    assert serious_violations(browser) == []
    # Previews of the markup half typed were refused (400s); nothing else went wrong.
    assert console_errors(browser, refusals=False) == []


def test_malformed_ssml_shows_the_routers_line_and_column(browser: WebDriver, stack: Stack) -> None:
    box = _ssml_box(browser, stack.router.url, "espeak")
    box.send_keys('<speak>One <break time="1s"> two.</speak>')
    problem = browser.find_element(By.ID, "speak-text-problem")
    wait(browser, lambda b: problem.is_displayed())
    assert re.match(r"400: SSML at line 1, column \d+: ", problem.text), problem.text
    assert box.get_attribute("aria-invalid") == "true"
    # Mended, the message goes and the preview comes back.
    box.clear()
    box.send_keys('<speak>One <break time="1s"/> two.</speak>')
    wait(browser, lambda b: ["One", "1000 ms"] in [row[:2] for row in _segments(b)])
    assert not problem.is_displayed()
