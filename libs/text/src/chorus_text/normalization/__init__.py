"""Text rewritten for speech: numbers, money, dates, units, addresses as words."""

from chorus_text.normalization.pipeline import normalize_text

__all__ = ["normalize_text"]
