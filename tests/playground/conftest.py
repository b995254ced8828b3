"""The playground in Debian's chromium (driven by Selenium through /usr/bin/chromedriver, so
Selenium Manager never downloads a browser), against real routers and providers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from support.jobs_stack import jobs_router as jobs_router
from support.processes import ServiceProcess
from support.redis_server import redis_url as redis_url
from support.secure_stack import Keys, api_key_env, start_secure_router
from support.stack import Stack, shipped_stack, start_router
from support.voice_samples import encode, speechlike
from support.voice_stack import start_cloning_provider

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
LOCAL = ("espeak", "piper")


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """espeak-ng and Piper behind a router, as `make run` registers them; one for the whole
    package, as starting them is most of its time."""
    with shipped_stack(LOCAL, tmp_path_factory.mktemp("playground")) as stack:
        yield stack


CLONERS = ("cloner-a", "cloner-b")


@pytest.fixture(scope="module")
def cloning_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two voice-cloning providers, each with a model of its own, behind a router."""
    logs = tmp_path_factory.mktemp("cloners")
    models = {name: f"{name}-model" for name in CLONERS}
    cloners = {
        name: start_cloning_provider(name, logs, {"CHORUS_CLONING_MODELS": f'["{model}"]'})
        for name, model in models.items()
    }
    registry = logs / "providers.yaml"
    Stack.write_registry_file(
        registry,
        [
            {"name": name, "url": proc.url, "models": [models[name]]}
            for name, proc in cloners.items()
        ],
    )
    stack = Stack(start_router(registry, logs), cloners, registry)
    try:
        for proc in cloners.values():
            proc.wait_ready()
        stack.router.wait_ready("/healthz")
        stack.wait_for_states({name: True for name in CLONERS})
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def secure_router(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """A router with API keys required, over the same providers."""
    logs = tmp_path_factory.mktemp("playground-secure")
    router = start_secure_router(
        stack.registry_file, logs, api_key_env(Keys.sqlite(logs).database_url)
    )
    try:
        yield router
    finally:
        router.stop()


@pytest.fixture(scope="package")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the browser saves what the page downloads."""
    return tmp_path_factory.mktemp("downloads")


def _chromium(*flags: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1280,1100",
        "--use-fake-device-for-media-stream",
        *flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


@pytest.fixture(scope="package")
def browser(
    tmp_path_factory: pytest.TempPathFactory, downloads: Path
) -> Iterator[webdriver.Chrome]:
    """Chromium whose microphone is granted without a prompt (the fake UI says yes) and plays
    a speech-like recording, so a recorded take is a usable voice sample."""
    microphone = tmp_path_factory.mktemp("microphone") / "speaker.wav"
    microphone.write_bytes(encode(speechlike(3.0, 48_000), 48_000))
    driver = _chromium(
        "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={microphone}"
    )
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def refusing_browser() -> Iterator[webdriver.Chrome]:
    """Chromium whose user says no when the page asks for the microphone."""
    driver = _chromium("--use-fake-ui-for-media-stream=deny")
    try:
        yield driver
    finally:
        driver.quit()
