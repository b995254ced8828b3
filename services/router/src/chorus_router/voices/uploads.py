"""Reading a multipart upload into memory with every part bounded as the bytes arrive.

Starlette's form parser spools files to temporary files on disk and learns their size only
at the end; here an oversized file is refused at the first byte past the limit, and nothing
of a refused upload is ever written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from chorus_contracts import InvalidRequest, PayloadTooLarge

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELD_BYTES = 8 * 1024
MAX_PARTS = 16
# What a form may add around its file: boundaries, part headers and the small text fields.
FORM_OVERHEAD_BYTES = MAX_PARTS * (MAX_FIELD_BYTES + 1024)


@dataclass
class UploadForm:
    """The text fields and files of one multipart request."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        return self.fields.get(name)

    def required_text(self, name: str) -> str:
        """The field's value, trimmed; absent and blank alike are refused."""
        value = (self.fields.get(name) or "").strip()
        if not value:
            raise InvalidRequest(f"Missing required parameter: '{name}'.", param=name)
        return value

    def required_file(self, name: str) -> bytes:
        data = self.files.get(name)
        if data is None:
            raise InvalidRequest(
                f"Missing required parameter: '{name}' (an audio file).", param=name
            )
        return data


async def read_upload(
    request: Request, file_fields: frozenset[str], max_file_bytes: int
) -> UploadForm:
    """Parse the request body as multipart/form-data; `file_fields` may hold up to the limit."""
    kind, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequest("this endpoint takes a multipart/form-data body")
    collector = _Collector(file_fields, max_file_bytes)
    try:
        parser = MultipartParser(boundary, collector.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except (FormParserError, ValueError) as exc:
        raise InvalidRequest(f"malformed multipart body: {exc}") from None
    if not collector.complete:
        raise InvalidRequest("malformed multipart body: it ends before its closing boundary")
    return collector.form


class _Collector:
    """The parser's callbacks: one part at a time, each checked against its limit."""

    def __init__(self, file_fields: frozenset[str], max_file_bytes: int) -> None:
        self.form = UploadForm()
        self.complete = False
        self._file_fields = file_fields
        self._max_file_bytes = max_file_bytes
        self._parts = 0
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""
        self._name = ""
        self._limit = MAX_FIELD_BYTES
        self._data = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise InvalidRequest(f"the form has more than {MAX_PARTS} parts")
        self._disposition = b""
        self._data = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        raw = options.get(b"name")
        if raw is None:
            raise InvalidRequest("malformed multipart body: a part has no name")
        self._name = raw.decode("utf-8", errors="replace")
        is_file = self._name in self._file_fields
        self._limit = self._max_file_bytes if is_file else MAX_FIELD_BYTES

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if len(self._data) + (end - start) > self._limit:
            if self._name in self._file_fields:
                raise PayloadTooLarge(
                    f"'{self._name}' is larger than {self._limit} bytes, the most accepted",
                    param=self._name,
                )
            raise InvalidRequest(
                f"form field '{self._name}' is longer than {self._limit} bytes", param=self._name
            )
        self._data += data[start:end]

    def _part_end(self) -> None:
        if self._name in self._file_fields:
            self.form.files[self._name] = bytes(self._data)
            return
        try:
            self.form.fields[self._name] = self._data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest(
                f"form field '{self._name}' is not UTF-8 text", param=self._name
            ) from None

    def _end(self) -> None:
        self.complete = True
