"""The provider contract (v1) as one suite any provider package runs against its service."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import pytest

from chorus_contracts import (
    CONTRACT_VERSION,
    FIRST_AUDIO_METRIC,
    SAMPLE_RATE_HEADER,
    SERVER_TIMING_HEADER,
    Capabilities,
    pcm_content_type,
    timing_ms,
)
from chorus_contracts.errors import ErrorBody

_IN_FLIGHT = re.compile(r"^chorus_provider_in_flight_requests (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class ContractTarget:
    """A running provider and what a test may ask of it.

    `long_text` must keep the engine busy for more than one chunk, so that a client leaving
    after the first chunk leaves in the middle. `unknown_voice` is None for providers that
    pass any voice through. `reference_wav` is required when the provider declares
    `voice_cloning`: a sample it must accept as `voice_reference` (with `reference_text`,
    what it says, as `voice_reference_text` when given). `extra` goes with every
    request, `long_extra` with the long ones (e.g. generation lengths of a tiny model).
    """

    url: str
    voice: str
    text: str = "Hello there."
    long_text: str = "One short sentence. Then a second one. And a third to end on."
    unknown_voice: str | None = "no-such-voice-0"
    reference_wav: bytes | None = None
    reference_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    long_extra: dict[str, Any] = field(default_factory=dict)
    timeout_s: float = 60.0

    def body(self, **fields: Any) -> dict[str, Any]:
        return {"text": self.text, "voice": self.voice, "extra": self.extra, **fields}

    def long_body(self) -> dict[str, Any]:
        return self.body(text=self.long_text, extra={**self.extra, **self.long_extra})


def _speak(target: ContractTarget, **fields: Any) -> httpx.Response:
    body = target.body(**fields)
    return httpx.post(f"{target.url}/v1/synthesize", json=body, timeout=target.timeout_s)


def _assert_error(response: httpx.Response, statuses: tuple[int, ...]) -> ErrorBody:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    body = ErrorBody.model_validate(response.json())
    assert body.error.message
    assert body.error.type
    return body


def _in_flight(url: str) -> float:
    found = _IN_FLIGHT.search(httpx.get(f"{url}/metrics", timeout=5).text)
    assert found, "the provider's /metrics lacks chorus_provider_in_flight_requests"
    return float(found.group(1))


def wait_until_in_flight(url: str, count: int, timeout_s: float) -> None:
    """Wait until the provider at `url` has at least `count` syntheses in flight."""
    deadline = time.monotonic() + timeout_s
    while _in_flight(url) < count:
        assert time.monotonic() < deadline, f"fewer than {count} syntheses ever ran at once"
        time.sleep(0.05)


def wait_until_idle(url: str, timeout_s: float) -> None:
    """Wait until the provider at `url` has no synthesis in flight; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while _in_flight(url) > 0:
        assert time.monotonic() < deadline, "the engine slot stayed taken after the client left"
        time.sleep(0.05)


_BAD_BODIES: dict[str, Any] = {
    "empty text": {"text": "", "voice": "{voice}"},
    "no voice": {"text": "Hello."},
    "speed zero": {"text": "Hello.", "voice": "{voice}", "speed": 0},
    "speed eleven": {"text": "Hello.", "voice": "{voice}", "speed": 11},
    "extra not an object": {"text": "Hello.", "voice": "{voice}", "extra": "loud"},
    "text not a string": {"text": ["Hello."], "voice": "{voice}"},
    "a list for a body": ["Hello."],
}


class ProviderContract:
    """Subclass in a provider's tests, with a fixture `contract` giving a `ContractTarget`."""

    @pytest.fixture
    def capabilities(self, contract: ContractTarget) -> Capabilities:
        response = httpx.get(f"{contract.url}/v1/capabilities", timeout=10)
        assert response.status_code == 200, response.text[:300]
        return Capabilities.model_validate(response.json())

    def test_health_and_readiness_answer(self, contract: ContractTarget) -> None:
        assert httpx.get(f"{contract.url}/healthz", timeout=5).status_code == 200
        ready = httpx.get(f"{contract.url}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"

    def test_capabilities_have_the_contract_shape(
        self, contract: ContractTarget, capabilities: Capabilities
    ) -> None:
        assert capabilities.contract_version == CONTRACT_VERSION
        assert capabilities.provider
        assert capabilities.models
        assert 8_000 <= capabilities.sample_rate <= 192_000
        assert capabilities.max_text_length > 0
        low, high = capabilities.speed_range
        assert 0 < low <= 1.0 <= high
        ids = [voice.id for voice in capabilities.voices]
        assert len(ids) == len(set(ids)), "voice ids repeat"
        if contract.unknown_voice is not None:
            assert contract.voice in ids
        if capabilities.voice_cloning:
            assert contract.reference_wav is not None, "cloning declared: give reference_wav"

    def test_first_audio_time_is_told(self, contract: ContractTarget) -> None:
        """Server-Timing gives the engine's time to its first audio (the router passes it on)."""
        response = _speak(contract)
        assert response.status_code == 200, response.text[:300]
        header = response.headers.get(SERVER_TIMING_HEADER)
        first_audio_ms = timing_ms(header, FIRST_AUDIO_METRIC)
        assert first_audio_ms is not None, header
        assert 0 < first_audio_ms <= response.elapsed.total_seconds() * 1000

    def test_speech_is_streamed_pcm_at_the_declared_rate(
        self, contract: ContractTarget, capabilities: Capabilities
    ) -> None:
        response = _speak(contract)
        assert response.status_code == 200, response.text[:300]
        assert response.headers["content-type"] == pcm_content_type(capabilities.sample_rate)
        assert response.headers[SAMPLE_RATE_HEADER] == str(capabilities.sample_rate)
        assert len(response.content) % 2 == 0
        samples = np.frombuffer(response.content, dtype="<i2")
        assert len(samples) > capabilities.sample_rate // 20, "under 50 ms of audio"
        assert np.abs(samples).max() > 0, "only silence"

    def test_streaming_providers_send_audio_in_several_chunks(
        self, contract: ContractTarget, capabilities: Capabilities
    ) -> None:
        if not capabilities.streaming:
            pytest.skip("the provider declares no streaming")
        body = contract.long_body()
        chunks = 0
        with httpx.stream(
            "POST", f"{contract.url}/v1/synthesize", json=body, timeout=contract.timeout_s
        ) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw():
                chunks += bool(chunk)
                if chunks > 1:
                    break  # streaming shown; the rest need not be made
        assert chunks > 1

    @pytest.mark.parametrize("case", sorted(_BAD_BODIES))
    def test_bad_input_is_a_4xx_in_the_contract_shape(
        self, contract: ContractTarget, case: str
    ) -> None:
        raw = _BAD_BODIES[case]
        body = (
            {k: (contract.voice if v == "{voice}" else v) for k, v in raw.items()}
            if isinstance(raw, dict)
            else raw
        )
        response = httpx.post(f"{contract.url}/v1/synthesize", json=body, timeout=10)
        error = _assert_error(response, (400, 422))
        assert error.error.retryable is False

    def test_malformed_json_is_a_4xx(self, contract: ContractTarget) -> None:
        response = httpx.post(
            f"{contract.url}/v1/synthesize",
            content=b'{"text": "Hello", ',
            headers={"content-type": "application/json"},
            timeout=10,
        )
        _assert_error(response, (400, 422))

    def test_text_over_the_declared_limit_is_refused(
        self, contract: ContractTarget, capabilities: Capabilities
    ) -> None:
        body = _assert_error(
            _speak(contract, text="a" * (capabilities.max_text_length + 1)), (400, 413)
        )
        assert body.error.param == "text"

    def test_an_unknown_voice_is_a_404(self, contract: ContractTarget) -> None:
        if contract.unknown_voice is None:
            pytest.skip("the provider passes any voice through")
        body = _assert_error(_speak(contract, voice=contract.unknown_voice), (404,))
        assert body.error.retryable is False

    def test_a_client_leaving_mid_stream_frees_the_engine(self, contract: ContractTarget) -> None:
        body = contract.long_body()
        with httpx.stream(
            "POST", f"{contract.url}/v1/synthesize", json=body, timeout=contract.timeout_s
        ) as response:
            assert response.status_code == 200
            assert next(response.iter_raw())
        wait_until_idle(contract.url, contract.timeout_s)
        assert _speak(contract).status_code == 200

    def test_a_voice_reference_is_used_when_cloning_is_declared(
        self, contract: ContractTarget, capabilities: Capabilities
    ) -> None:
        if not capabilities.voice_cloning:
            pytest.skip("the provider declares no voice cloning")
        assert contract.reference_wav is not None
        encoded = base64.b64encode(contract.reference_wav).decode("ascii")
        response = _speak(
            contract, voice_reference=encoded, voice_reference_text=contract.reference_text
        )
        assert response.status_code == 200, response.text[:300]
        assert np.abs(np.frombuffer(response.content, dtype="<i2")).max() > 0
        for bad in ("not base64 at all!", base64.b64encode(b"not a wav file").decode("ascii")):
            error = _assert_error(_speak(contract, voice_reference=bad), (400, 422))
            assert error.error.param == "voice_reference"
