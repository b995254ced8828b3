"""SSML read by a hardened XML parser into a small tree that knows where each element was.

defusedxml's expat reader refuses what makes XML dangerous to parse: a DTD (so no entity
can be declared, which stops "billion laughs" before it starts), entity references and
external references. On top of it, the tree is bounded in size, depth and element count,
so no input makes the router build more than a small tree. Every refusal is a 400 that
names the line and column where the parser stopped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import AttributesImpl

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from chorus_contracts import InvalidRequest

MAX_SSML_CHARS = 100_000
MAX_DEPTH = 32
MAX_ELEMENTS = 2_000
_FRAGMENT_START = "<speak>"


@dataclass
class Element:
    """One SSML element: its tag, attributes, position (1-based) and children in order."""

    tag: str
    attributes: dict[str, str]
    line: int
    column: int
    children: list[Element | str] = field(default_factory=list)

    def refuse(self, problem: str) -> InvalidRequest:
        """A 400 about this element, naming where it is."""
        return ssml_error(f"<{self.tag}> {problem}", self.line, self.column)


def ssml_error(
    problem: str, line: int, column: int, kind: str = "SSML", param: str = "input"
) -> InvalidRequest:
    return InvalidRequest(f"{kind} at line {line}, column {column}: {problem}", param=param)


class _Bounded(Exception):
    """A bound was passed at (line, column); raised from inside the parser so that it stops
    at once."""

    def __init__(self, problem: str, line: int, column: int) -> None:
        super().__init__(problem)
        self.line, self.column = line, column


def _position(line: int | None, column: int | None, shift: int) -> tuple[int, int]:
    """expat's position (column from 0) as the user counts in what they sent (from 1), less
    the `shift` characters put before their first line."""
    line = line or 1
    return line, (column or 0) + 1 - (shift if line == 1 else 0)


class _TreeBuilder(ContentHandler):
    def __init__(self, parser: DefusedExpatParser, shift: int, max_elements: int) -> None:
        super().__init__()
        self._parser = parser
        self._shift = shift
        self._max_elements = max_elements
        self._open: list[Element] = []
        self._count = 0
        self.root: Element | None = None

    def startElement(self, name: str, attrs: AttributesImpl) -> None:  # noqa: N802 - SAX API
        self._count += 1
        parser = self._parser
        line, column = _position(parser.getLineNumber(), parser.getColumnNumber(), self._shift)
        if len(self._open) >= MAX_DEPTH:
            raise _Bounded(f"elements nest deeper than {MAX_DEPTH}", line, column)
        if self._count > self._max_elements:
            raise _Bounded(f"more than {self._max_elements} elements", line, column)
        element = Element(name, dict(attrs.items()), line, column)
        if self._open:
            self._open[-1].children.append(element)
        else:
            self.root = element
        self._open.append(element)

    def endElement(self, name: str) -> None:  # noqa: N802 - SAX API
        self._open.pop()

    def characters(self, content: str) -> None:
        if not self._open:
            return
        children = self._open[-1].children
        if children and isinstance(children[-1], str):
            children[-1] += content
        else:
            children.append(content)


def parse_document(source: str) -> Element:
    """The `<speak>` element of `source`; a 400 naming line and column when it is not
    well-formed, not SSML, or past a bound. A fragment ("Wait <break/> now") is read as
    the content of a `<speak>` element."""
    if len(source) > MAX_SSML_CHARS:
        raise InvalidRequest(
            f"SSML is {len(source)} characters; the maximum is {MAX_SSML_CHARS}", param="input"
        )
    document = source.lstrip().startswith(("<speak", "<?xml", "<!"))
    wrapped = source if document else f"{_FRAGMENT_START}{source}</speak>"
    shift = 0 if document else len(_FRAGMENT_START)
    return parse_tree(wrapped.encode("utf-8"), "speak", shift=shift)


def parse_tree(
    data: bytes,
    root_tag: str,
    *,
    kind: str = "SSML",
    param: str = "input",
    shift: int = 0,
    max_elements: int = MAX_ELEMENTS,
) -> Element:
    """The root element of the XML document `data`, which must be `root_tag`; a 400 (in
    `kind`'s words, about `param`) naming line and column when it is not well-formed,
    hostile or past a bound. `shift` characters were put before the user's first line."""

    def refuse(problem: str, line: int, column: int) -> InvalidRequest:
        return ssml_error(problem, line, column, kind, param)

    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setFeature(feature_namespaces, False)
    builder = _TreeBuilder(parser, shift, max_elements)
    parser.setContentHandler(builder)
    try:
        parser.parse(io.BytesIO(data))
    except SAXParseException as exc:
        line, column = _position(exc.getLineNumber(), exc.getColumnNumber(), shift)
        raise refuse(f"malformed XML: {exc.getMessage()}", line, column) from None
    except _Bounded as exc:
        raise refuse(f"refused: {exc}", exc.line, exc.column) from None
    except DefusedXmlException as exc:
        line, column = _position(parser.getLineNumber(), parser.getColumnNumber(), shift)
        raise refuse(f"refused: {_reason(exc)}", line, column) from None
    root = builder.root
    if root is None or root.tag != root_tag:
        raise refuse(f"{kind} must have <{root_tag}> as its root element", 1, 1)
    return root


def _reason(exc: DefusedXmlException) -> str:
    # defusedxml's messages name the exception class and its arguments; say what it means.
    kind = type(exc).__name__
    return {
        "DTDForbidden": "a DTD (<!DOCTYPE ...>) is not allowed",
        "EntitiesForbidden": "entity declarations are not allowed",
        "ExternalReferenceForbidden": "external references are not allowed",
    }.get(kind, kind)
