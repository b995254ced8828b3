"""Credentials and long user text never reach a log line, from any logger."""

from __future__ import annotations

import logging

import pytest

from chorus_router.security.redaction import install_log_redaction, redact

KEY = "sk-chorus-0123456789ab-" + "k" * 43
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {KEY}",
        f"headers={{'authorization': 'Bearer {JWT}'}}",
        f"token {JWT} refused",
        f"key {KEY} revoked",
        "vendor key sk-proj-abcdefghijklmnopqrstuvwxyz rejected",
        'config {"api_key": "hunter2hunter2"}',
        "GET /v1/models?api_key=hunter2hunter2&x=1",
        "redis://:hunter2hunter2@redis:6379/0",
        "Basic YWxpY2U6aHVudGVyMg==",
    ],
)
def test_secrets_are_redacted(text: str) -> None:
    cleaned = redact(text)

    for secret in (KEY, JWT, "sk-proj-abcdefghijklmnopqrstuvwxyz", "hunter2", "YWxpY2U6"):
        assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_ordinary_text_is_untouched() -> None:
    text = "provider espeak failed: upstream_error (tokenizer crashed at 3 tokens)"
    assert redact(text) == text


def test_every_logger_is_redacted_and_long_text_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()
    long_text = "Once upon a time " * 40
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("some.library").info("auth %s for %r", f"Bearer {KEY}", {"t": JWT})
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "POST", "/v1/audio/speech", "1.1", 200
        )
        logging.getLogger("chorus").warning("input was %s", long_text)
        try:
            raise RuntimeError(f"refused {KEY}")
        except RuntimeError:
            logging.getLogger("chorus").exception("failed")

    access_args = caplog.records[1].args
    assert isinstance(access_args, tuple)
    assert access_args[4] == 200  # formatters that unpack arguments still work
    logged = caplog.text
    assert KEY not in logged
    assert JWT not in logged
    assert long_text not in logged
    assert f"({len(long_text)} characters)" in logged
    assert "RuntimeError: refused sk-[redacted]" in logged
