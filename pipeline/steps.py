"""Steps stage: a responsibility cell → ordered steps (section, department, number, text).

A cell is first cut into blocks at HTML block elements (<p>, <ol>, <li>, <br>) or line
breaks; a block is then a section heading (一、分户工作), a department sub-heading
(县自然资源局, or 县应急管理局 指导… inline), or text cut at its number marks.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from pipeline.departments import department_heading
from pipeline.findings import Collector
from pipeline.records import Party, Step
from pipeline.text import CONTROL
from pipeline.vocabulary import load_vocabulary

if TYPE_CHECKING:
    from lxml import etree

BLOCK_TAGS = frozenset({"p", "div", "ol", "ul", "li", "br", "tr", "td", "th", "table", "section",
                        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
INLINE_TAGS = frozenset({"span", "strong", "b", "em", "i", "font", "u", "a"})
HTML_TAG = re.compile(f"</?(?:{'|'.join(sorted(BLOCK_TAGS | INLINE_TAGS))})\\b[^>]*>", re.I)
# A cell is a fragment: a stray </body> or </html> in it would end the parse and lose the rest.
DOCUMENT_TAGS = re.compile(r"</?(?:html|head|body)\b[^>]*>", re.I)
LINES = re.compile(r"\r\n|\r|\n")
TRAILING = re.compile(r"[；;\s]+$")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


@dataclass(frozen=True)
class Block:
    text: str
    item: int | None = None  # position in its <ol>/<ul> when the block is an <li>


@dataclass(frozen=True)
class Piece:
    """A step before cleaning: its number mark's value, its text as written, and that text
    without the mark."""

    number: int | None
    raw: str
    body: str


@cache
def marker_pattern() -> re.Pattern[str]:
    """Any number mark, only at a block's start or after whitespace or ；; 。"""
    marks = "|".join(load_vocabulary("numbering")["markers"])
    return re.compile(f"(?:^|(?<=[\\s；;。]))(?:{marks})")


@cache
def heading_pattern() -> re.Pattern[str]:
    marks = "|".join(load_vocabulary("numbering")["headings"])
    return re.compile(f"^(?:{marks})\\s*(?P<rest>.+)$")


def parse_step_marker(mark: str) -> int | None:
    """The number a mark stands for.

    parse_step_marker("（12）") -> 12; parse_step_marker("③") -> 3; parse_step_marker("前") -> None
    """
    match = marker_pattern().match(mark)
    return None if match is None else mark_number(match)


def mark_number(match: re.Match[str]) -> int:
    """The number of a marker_pattern() match: its one matched group, as an integer."""
    value = match[match.lastindex or 0]
    if value in "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳":
        return ord(value) - ord("①") + 1
    if value in "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇":
        return ord(value) - ord("⑴") + 1
    return int(value.translate(FULL_WIDTH_DIGITS))


def read_blocks(raw: str) -> list[Block]:
    """Cut a cell into blocks: HTML block elements when it holds HTML, else its lines."""
    if not HTML_TAG.search(raw):
        return [Block(line.strip()) for line in LINES.split(raw) if line.strip()]
    return html_blocks(raw)


def plain_text(cell: str, separator: str = "\n") -> str:
    """A cell without markup, one line per block: plain_text("<p>甲</p><p>乙</p>") -> "甲\\n乙"."""
    if not HTML_TAG.search(cell):
        return cell.strip()
    return separator.join(block.text for block in html_blocks(cell))


def html_blocks(raw: str) -> list[Block]:
    """Blocks of an HTML fragment; an unclosed <ol> simply runs to the end of the cell."""
    from lxml import etree

    fragment = DOCUMENT_TAGS.sub("", CONTROL.sub("", raw))
    document = etree.fromstring(f"<html><body>{fragment}</body></html>", html_parser())
    body = document.find("body")
    blocks: list[Block] = []
    buffer: list[str] = []

    def flush(item: int | None = None) -> None:
        text = "".join(buffer).strip()
        buffer.clear()
        if text:
            blocks.append(Block(text, item))

    def visit(element: "etree._Element") -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        block = tag.lower() in BLOCK_TAGS
        if block:
            flush()
        buffer.append(element.text or "")
        for child in element:
            visit(child)
            buffer.append(child.tail or "")
        if block:
            flush(list_position(element) if tag.lower() == "li" else None)

    visit(document if body is None else body)
    flush()
    return blocks


@cache
def html_parser() -> "etree.HTMLParser":
    """lxml's plain HTML parser: no network, no comments; lxml.html's element classes would
    cost a Python call per element."""
    from lxml import etree

    return etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def list_position(item: "etree._Element") -> int:
    """1 + the number of <li> before this one in its list."""
    return 1 + sum(1 for sibling in item.itersiblings(preceding=True) if sibling.tag == "li")


def split_pieces(text: str) -> Iterator[Piece]:
    """Cut a block at its number marks; text before the first mark is an unnumbered piece.

    [p.number for p in split_pieces("1.甲； 2.乙")] -> [1, 2]
    """
    marks = list(marker_pattern().finditer(text))
    head = text[: marks[0].start()] if marks else text
    if head.strip():
        yield Piece(None, head.strip(), head.strip())
    ends = [mark.start() for mark in marks[1:]] + [len(text)]
    for mark, end in zip(marks, ends[: len(marks)], strict=True):
        raw = text[mark.start(): end].strip()
        yield Piece(mark_number(mark), raw, raw[len(mark.group()):])


def strip_marker(text: str) -> str:
    """strip_marker("（2）通知") -> "通知"."""
    return marker_pattern().sub("", text, count=1) if marker_pattern().match(text) else text


@dataclass
class Context:
    """Where the cell is, for findings: the collector, source line and field name."""

    found: Collector
    line: int
    field: str
    places: tuple[str, ...] = ()
    sheet: str | None = None

    def at(self, field: str) -> "Context":
        return Context(self.found, self.line, field, self.places, self.sheet)


def parse_steps(raw: str, party: Party, context: Context) -> list[Step]:
    """All steps of one party's cell, positioned 1… across its sections."""
    if CONTROL.search(raw):
        context.found.add("warning", "text-fixed", f"{context.field}: control characters "
                          "removed (the original is kept in raw)", context.line, context.field,
                          raw, context.sheet)
    steps: list[Step] = []
    section: str | None = None
    department: str | None = None
    previous: int | None = None
    for block in read_blocks(raw):
        text = " ".join(block.text.split())
        if heading := heading_pattern().match(text):
            section, department, previous = heading["rest"].strip(), None, None
            continue
        if named := department_heading(text, context.places):
            department, rest = named
            section, previous = department, None
            if not rest:
                continue
            text = rest
        # In an <ol><li> list the number is the item's position.
        pieces = [Piece(block.item, text, strip_marker(text))] if block.item is not None \
            else split_pieces(text)
        for piece in pieces:
            check_number(piece, previous, section, context)
            if piece.number is not None:
                previous = piece.number
            cleaned = clean_step(piece, context)
            if not cleaned:
                context.found.add("warning", "step-empty", f"{context.field}: mark {piece.raw!r} "
                                  "has no text and makes no step", context.line, context.field,
                                  piece.raw, context.sheet)
                continue
            steps.append(Step(party=party, position=len(steps) + 1, number=piece.number,
                              section=section, department=department, text=cleaned,
                              raw=piece.raw))
    return steps


def clean_step(piece: Piece, context: Context) -> str:
    """Step text without its mark, HTML, trailing ；/; or stray whitespace; fixes are warnings."""
    cleaned = context.found.clean(piece.body, context.line, context.field, context.sheet)
    return TRAILING.sub("", cleaned)


def check_number(piece: Piece, previous: int | None, section: str | None,
                 context: Context) -> None:
    """Warn when a numbered sequence skips or repeats a number; the steps are kept."""
    if piece.number is None:
        return
    expected = (previous or 0) + 1
    if piece.number != expected:
        where = f" under {section}" if section else ""
        verb = "repeats" if previous is not None and piece.number <= previous else "skips to"
        context.found.add("warning", "step-number", f"{context.field}: numbering{where} {verb} "
                          f"{piece.number} where {expected} was expected; steps kept as written",
                          context.line, context.field, piece.raw, context.sheet)

