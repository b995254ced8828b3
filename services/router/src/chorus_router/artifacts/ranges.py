"""HTTP byte ranges (RFC 9110) for stored files: one range, or the whole file."""

from __future__ import annotations

import re

from chorus_contracts import RangeNotSatisfiable

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def byte_range(header: str | None, size: int) -> tuple[int, int]:
    """`(start, length)` of a single `bytes=` range; the whole file for none, a malformed
    one or several (RFC 9110 lets a server ignore those)."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None or match.group(1) == match.group(2) == "":
        return 0, size
    first, last = match.group(1), match.group(2)
    if first == "":
        length = min(int(last), size)
        if length == 0:
            raise RangeNotSatisfiable("the range asks for no bytes", size=size)
        return size - length, length
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiable(f"the range starts past the file's {size} bytes", size=size)
    if end < start:
        return 0, size
    return start, end - start + 1
