"""Recording a custom voice from the microphone in chromium (its fake device plays a
speech-like recording), and the message a user sees when the microphone is refused."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from support.stack import Stack

from .page import catalog_loaded, console_errors, open_page, screenshot, tab, wait

pytestmark = pytest.mark.e2e

TAKE_S = 4.0


def _record(browser: WebDriver, kind: str) -> None:
    """Records a take of TAKE_S seconds or more with the page's Record button."""
    button = browser.find_element(By.ID, f"voice-{kind}-record")
    status = browser.find_element(By.ID, f"voice-{kind}-status")
    button.click()
    wait(browser, lambda b: button.get_attribute("aria-pressed") == "true")

    def long_enough(_: WebDriver) -> bool:
        seconds = re.search(r"([\d.]+) s", status.text)
        return seconds is not None and float(seconds.group(1)) >= TAKE_S

    wait(browser, long_enough)
    button.click()
    wait(browser, lambda b: status.text.startswith("Recorded "))


def test_a_voice_is_recorded_from_the_microphone(browser: WebDriver, stack: Stack) -> None:
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    tab(browser, "voices")
    browser.find_element(By.ID, "voice-name").send_keys("Mic")
    _record(browser, "sample")
    _record(browser, "consent")
    assert browser.find_element(By.ID, "voice-sample-take").is_displayed()
    screenshot(browser, "voices")
    browser.find_element(By.ID, "voice-create").click()
    delete = (By.CSS_SELECTOR, "#voice-list button[aria-label='Delete Mic']")
    wait(browser, lambda b: b.find_elements(*delete))
    browser.find_element(*delete).click()
    wait(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, "#voice-list tbody tr"))
    assert console_errors(browser) == []


def test_a_refused_microphone_says_what_to_do(refusing_browser: WebDriver, stack: Stack) -> None:
    browser = refusing_browser
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    tab(browser, "voices")
    browser.find_element(By.ID, "voice-sample-record").click()
    message = browser.find_element(By.ID, "message")
    wait(browser, lambda b: message.is_displayed())
    assert message.text.startswith("The microphone was refused.")
    assert "upload a file instead" in message.text
    record = browser.find_element(By.ID, "voice-sample-record")
    assert record.get_attribute("aria-pressed") == "false"
