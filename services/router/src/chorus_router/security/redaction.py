"""Keeps credentials and users' text out of the logs, whatever logger a line comes from.

Redaction happens where log records are made (the record factory), not in a filter on a
handler: uvicorn installs its handlers after the app is built, and a filter on one logger
misses the records of other libraries' loggers.
"""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# Arguments longer than this (a user's input text, say) are cut to a short head.
MAX_ARG_CHARS = 200
_HEAD_CHARS = 40

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization header values: "Bearer <token>", "Basic <credentials>".
    (re.compile(r"\b(Bearer|Basic)\s+[^\s'\",;]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # JSON Web Tokens (header.payload.signature, base64url; the header starts with '{"').
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), REDACTED),
    # API keys: Chorus's own (sk-chorus-...) and other vendors' sk-... keys.
    (re.compile(r"\bsk-[\w-]{16,}"), f"sk-{REDACTED}"),
    # key=value and "key": "value" forms of secrets.
    (
        re.compile(
            r"\b(api[_-]?key|access[_-]?token|token|secret|password)(['\"]?\s*[:=]\s*['\"]?)"
            r"[^\s'\",&]+",
            re.IGNORECASE,
        ),
        rf"\1\2{REDACTED}",
    ),
    # Passwords in URLs: redis://:password@host, https://user:password@host.
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), rf"\1{REDACTED}@"),
]


# Any of the patterns, in one pass: most log text holds no secret, and one search is a
# fifth of the cost of five substitutions (a log line's message and arguments are each
# redacted, on every request's path).
_ANY = re.compile(
    "|".join(
        f"(?i:{pattern.pattern})" if pattern.flags & re.IGNORECASE else f"(?:{pattern.pattern})"
        for pattern, _ in _PATTERNS
    )
)


def redact(text: str) -> str:
    """`text` with every credential it contains replaced by a marker."""
    if _ANY.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingRecordFactory:
    """Wraps the current log record factory: each record leaves it already redacted.

    The message and each argument are redacted in place rather than merged into one string,
    because formatters such as uvicorn's access log unpack `record.args`.
    """

    def __init__(self, make_record: Any) -> None:
        self._make_record = make_record

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self._make_record(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _clean(value) for key, value in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record


def install_log_redaction() -> None:
    """Redact every log record of this process from now on (installing twice is harmless)."""
    current = logging.getLogRecordFactory()
    if not isinstance(current, RedactingRecordFactory):
        logging.setLogRecordFactory(RedactingRecordFactory(current))


def _clean(value: Any) -> Any:
    """Numbers stay numbers (for %d); anything whose text holds a secret becomes that text,
    redacted; long strings are cut to a short head."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    if len(text) > MAX_ARG_CHARS and isinstance(value, str):
        return f"{redact(text[:_HEAD_CHARS])}... ({len(text)} characters)"
    cleaned = redact(text)
    return value if cleaned == text else cleaned
