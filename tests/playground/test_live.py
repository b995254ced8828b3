"""The Live page in chromium: a WebSocket session fed as a user types or an LLM streams,
its audio played as it arrives, and a barge-in that stops it, against a real router."""

from __future__ import annotations

import re

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support.stack import Stack

from .page import catalog_loaded, console_errors, open_page, screenshot, tab, wait

pytestmark = pytest.mark.e2e

LIVE = "return window.chorusPlayground.live"
SCHEDULED = "return window.chorusPlayground.scheduledSeconds"
ANSWER = " ".join(
    [
        "Sure, the train leaves at nine from platform four.",
        "It takes about two hours, with one stop on the way, and the café car opens at ten.",
        "If you would rather sleep, the quiet coach is at the front of the train.",
        "Tickets bought on board cost a little more, so buy yours before you leave.",
        "Have a pleasant journey, and do not forget your umbrella: rain is forecast.",
    ]
)
# A paste as the page receives it; WebDriver cannot reach the system clipboard headless.
PASTE = """
const data = new DataTransfer();
data.setData("text/plain", arguments[0]);
document.getElementById("live-text").dispatchEvent(
  new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
"""


def _open_live(browser: WebDriver, stack: Stack) -> None:
    open_page(browser, stack.router.url)
    catalog_loaded(browser)
    tab(browser, "live")
    Select(browser.find_element(By.ID, "live-model")).select_by_value("piper")


def _rows(browser: WebDriver) -> list[list[str]]:
    return [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.find_elements(By.CSS_SELECTOR, "#live-turns tbody tr")
    ]


def _barge_ins(stack: Stack) -> float:
    metrics = httpx.get(f"{stack.router.url}/metrics", timeout=10).text
    found = re.search(r"^tts_live_barge_ins_total (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_typed_text_is_spoken_as_it_is_typed(browser: WebDriver, stack: Stack) -> None:
    _open_live(browser, stack)
    browser.find_element(By.ID, "live-text").send_keys("Hello there. This sentence was typed live.")
    wait(browser, lambda b: b.execute_script(SCHEDULED) >= 1.0)
    assert browser.execute_script(LIVE)["deltas"] > 0
    wait(browser, lambda b: [row[4] for row in _rows(b)][:1] == ["done"])
    _, first_audio, seconds, provider, _ = _rows(browser)[0]
    assert re.fullmatch(r"\d+ ms", first_audio)
    assert provider == "piper"
    assert float(seconds.removesuffix(" s")) >= 1.0
    assert console_errors(browser) == []


def test_a_pasted_answer_streams_in_and_stop_barges_in(browser: WebDriver, stack: Stack) -> None:
    barge_ins = _barge_ins(stack)
    _open_live(browser, stack)
    browser.execute_script(PASTE, ANSWER)
    wait(browser, lambda b: b.execute_script(SCHEDULED) >= 1.0)
    screenshot(browser, "live")
    browser.find_element(By.ID, "live-stop").click()
    wait(browser, lambda b: b.execute_script(LIVE)["status"] == "cleared")
    assert browser.execute_script("return window.chorusPlayground.live.queuedSeconds()") == 0
    assert browser.find_element(By.ID, "live-text").get_property("value") == ""
    assert [row[4] for row in _rows(browser)] == ["stopped"]
    assert _barge_ins(stack) == barge_ins + 1
    # The session goes on: the next words make a new turn.
    browser.find_element(By.ID, "live-text").send_keys("And now, something else.")
    wait(browser, lambda b: [row[4] for row in _rows(b)][-1:] == ["done"])
    assert _rows(browser)[0][4] == "stopped"
    assert console_errors(browser) == []
