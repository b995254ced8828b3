"""SSML attribute values as numbers: break times and strengths, prosody rate and volume.

Named values follow the common vendor reading (Azure's and Google's), since the SSML
recommendation leaves them to the processor.
"""

from __future__ import annotations

import re

from chorus_contracts import MAX_PAUSE_MS

BREAK_STRENGTHS_MS = {
    "none": 0,
    "x-weak": 100,
    "weak": 250,
    "medium": 400,
    "strong": 700,
    "x-strong": 1000,
}
RATES = {"x-slow": 0.5, "slow": 0.64, "medium": 1.0, "default": 1.0, "fast": 1.55, "x-fast": 2.0}
VOLUMES_DB = {
    "silent": -96.0,
    "x-soft": -12.0,
    "soft": -6.0,
    "medium": 0.0,
    "default": 0.0,
    "loud": 6.0,
    "x-loud": 12.0,
}
MIN_RATE, MAX_RATE = 0.25, 4.0
MIN_VOLUME_DB, MAX_VOLUME_DB = -96.0, 24.0
_TIME = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*")
_PERCENT = re.compile(r"\s*([+-]?)(\d+(?:\.\d+)?)%\s*")
_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)\s*")
_DECIBELS = re.compile(r"\s*([+-]\d+(?:\.\d+)?)\s*dB\s*")


def break_ms(time: str | None, strength: str | None) -> int:
    """`time="1.5s"` or `"500ms"`, else the strength's pause (medium when neither is given).
    ValueError when unreadable or past the longest pause."""
    if time is not None:
        match = _TIME.fullmatch(time)
        if match is None:
            raise ValueError(f'time="{time}" is not a duration such as "500ms" or "1.5s"')
        value = float(match.group(1)) * (1 if match.group(2) == "ms" else 1000)
        if value > MAX_PAUSE_MS:
            raise ValueError(f'time="{time}" is longer than {MAX_PAUSE_MS} ms')
        return round(value)
    if strength is None:
        return BREAK_STRENGTHS_MS["medium"]
    if strength not in BREAK_STRENGTHS_MS:
        raise ValueError(f'strength="{strength}" is not one of {", ".join(BREAK_STRENGTHS_MS)}')
    return BREAK_STRENGTHS_MS[strength]


def rate_factor(rate: str) -> float:
    """A prosody rate as a speed multiplier: named, "150%" (of normal), "+20%" (faster
    than normal) or a plain multiplier "1.2". ValueError outside 0.25-4."""
    if rate in RATES:
        return RATES[rate]
    percent = _PERCENT.fullmatch(rate)
    number = _NUMBER.fullmatch(rate)
    if percent is not None:
        sign, value = percent.group(1), float(percent.group(2)) / 100
        factor = 1 + value if sign == "+" else 1 - value if sign == "-" else value
    elif number is not None:
        factor = float(number.group(1))
    else:
        raise ValueError(f'rate="{rate}" is not a rate such as "slow", "80%" or "+10%"')
    if not MIN_RATE <= factor <= MAX_RATE:
        raise ValueError(f'rate="{rate}" is outside {MIN_RATE:g}x to {MAX_RATE:g}x')
    return factor


def volume_db(volume: str) -> float:
    """A prosody volume in decibels: named, or "+6dB" / "-3dB"."""
    if volume in VOLUMES_DB:
        return VOLUMES_DB[volume]
    match = _DECIBELS.fullmatch(volume)
    if match is None:
        raise ValueError(f'volume="{volume}" is not a volume such as "loud" or "-6dB"')
    value = float(match.group(1))
    if not MIN_VOLUME_DB <= value <= MAX_VOLUME_DB:
        raise ValueError(f'volume="{volume}" is outside -96dB to +24dB')
    return value
