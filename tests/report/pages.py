"""Reading a rendered report back with the standard library only: the page as a tree
(``html.parser``), each diagram as XML (``xml.etree``), a screenshot as pixels (``zlib``).
Import as ``report.pages`` (``pythonpath = ["tests"]``).
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import attrs

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


@attrs.define(eq=False)
class Element:
    tag: str
    attributes: dict[str, str]
    children: list[Element] = attrs.Factory(list)
    texts: list[str] = attrs.Factory(list)
    """Text directly inside, and (in order) the text of every child, for ``text``."""

    @property
    def classes(self) -> set[str]:
        return set(self.attributes.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return [
            element
            for element in self.iter()
            if (tag is None or element.tag == tag) and (cls is None or cls in element.classes)
        ]

    def one(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.find_all(tag, cls)
        assert len(found) == 1, f"{len(found)} <{tag} class={cls}>"
        return found[0]

    def text(self) -> str:
        return "".join(self.texts)


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attributes})
        self.tags.append((tag, element.attributes))
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attributes})
        self.tags.append((tag, element.attributes))
        self.stack[-1].children.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.texts.append(data)


@attrs.frozen
class Page:
    root: Element
    tags: list[tuple[str, dict[str, str]]]
    """Every start tag in document order, with its attributes."""
    source: str


def parse(page: str) -> Page:
    tree = _Tree()
    tree.feed(page)
    tree.close()
    return Page(tree.root, tree.tags, page)


def svgs(page: str) -> list[ET.Element]:
    """Each inline diagram, parsed on its own as XML (which fails unless it is well-formed)."""
    found = []
    for match in re.finditer(r"<svg\b", page):
        end = page.index("</svg>", match.start()) + len("</svg>")
        found.append(ET.fromstring(page[match.start() : end]))
    return found


def has_class(element: ET.Element, name: str) -> bool:
    return name in element.get("class", "").split()


def by_class(svg: ET.Element, name: str) -> list[ET.Element]:
    return [element for element in svg.iter() if has_class(element, name)]


def svg_text(element: ET.Element) -> str:
    """The visible text of an SVG element (its ``<text>``s, not its ``<title>``)."""
    return "".join("".join(t.itertext()) for t in element.iter("text"))


def title(element: ET.Element) -> str:
    found = element.find("title")
    assert found is not None
    return found.text or ""


@attrs.frozen
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixel(self, x: int, y: int) -> tuple[int, ...]:
        row = self.rows[y]
        return tuple(row[x * self.channels : x * self.channels + min(self.channels, 3)])


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode_png(path: Path) -> Image:
    """An 8-bit RGB or RGBA PNG (what Chromium writes) as rows of pixel bytes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, header = 8, b"", b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                up_left = previous[i - channels] if i >= channels else 0
                line[i] = (line[i] + _paeth(left, previous[i], up_left)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return Image(width, height, channels, rows)
