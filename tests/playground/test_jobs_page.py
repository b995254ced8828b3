"""The Jobs page in chromium: a Markdown document submitted as a long-form job, its progress
followed through Server-Sent Events, and its M4B downloaded, against a router with jobs on
(real Redis, espeak-ng and Piper)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support.jobs_stack import JobsRouter

from .page import console_errors, open_page, screenshot, tab, wait

pytestmark = pytest.mark.e2e

JOB = "return window.chorusPlayground.job"


def test_a_document_becomes_a_job_followed_to_its_audiobook(
    browser: WebDriver, jobs_router: JobsRouter, downloads: Path
) -> None:
    key = jobs_router.keys.create("reader", "speech")
    open_page(browser, jobs_router.router.url, key)
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#job-voice option"))
    tab(browser, "jobs")
    browser.find_element(By.ID, "job-title").send_keys("Harbour Tales")
    Select(browser.find_element(By.ID, "job-model")).select_by_value("piper")
    browser.find_element(By.ID, "job-submit").click()
    wait(browser, lambda b: b.execute_script(JOB)["status"] == "succeeded")
    # Progress came as events: at least the queued job and its end.
    assert browser.execute_script(JOB)["events"] >= 2
    progress = browser.find_element(By.ID, "job-progress")
    assert progress.get_property("value") == progress.get_property("max")
    titles = [
        row.find_elements(By.TAG_NAME, "td")[1].text
        for row in browser.find_elements(By.CSS_SELECTOR, "#job-chapters tbody tr")
    ]
    assert titles == ["The Harbour", "Night"]
    screenshot(browser, "jobs")
    browser.find_element(By.CSS_SELECTOR, "#job-outputs button[data-kind='book']").click()
    book = downloads / "harbour-tales.m4b"
    wait(browser, lambda b: book.exists())
    with av.open(str(book)) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        assert [c["metadata"].get("title") for c in container.chapters()] == titles
    assert console_errors(browser, refusals=False) == []
