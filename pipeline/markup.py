"""Markup in cells: parsed as HTML only where it is real markup, never where it only looks so.

A portal's cells hold <p>, <ol>, <br>, <strong>…; a plain-text list holds "面积<5亩" or
"a<b and c>d". A "<" counts as a tag only when a known tag name follows with attributes
written as name="value" (or none), or it closes a known tag; any other "<" is text, and is
kept as text even inside a cell that also holds real markup.
"""

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from pipeline.text import CONTROL

if TYPE_CHECKING:
    from lxml import etree

BLOCK_TAGS = frozenset({"p", "div", "ol", "ul", "li", "br", "tr", "td", "th", "table", "section",
                        "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"})
INLINE_TAGS = frozenset({"span", "strong", "b", "em", "i", "font", "u", "a", "sup", "sub"})
NAMES = "|".join(sorted(BLOCK_TAGS | INLINE_TAGS | {"html", "head", "body"}))
ATTRIBUTE = r"""\s+[A-Za-z_:][\w:.-]*\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>=`]+)"""
TAG = re.compile(f"</(?:{NAMES})\\s*>|<(?:{NAMES})(?:{ATTRIBUTE})*\\s*/?>", re.I)
LOOKALIKE = re.compile(r"<(?!!--)")
# A cell is a fragment: a stray </body> or </html> in it would end the parse and lose the rest.
DOCUMENT_TAGS = re.compile(r"</?(?:html|head|body)\b[^>]*>", re.I)
LINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Block:
    text: str
    item: int | None = None  # position in its <ol>/<ul> when the block is an <li>


def has_markup(text: str) -> bool:
    """has_markup("<p>甲</p>") -> True; has_markup("a<b and c>d") -> False."""
    return "<" in text and TAG.search(text) is not None


def read_blocks(raw: str) -> list[Block]:
    """Cut a cell into blocks: HTML block elements when it holds markup, else its lines."""
    if not has_markup(raw):
        return [Block(line.strip()) for line in LINES.split(raw) if line.strip()]
    return html_blocks(raw)


def plain_text(cell: str, separator: str = "\n") -> str:
    """A cell without markup, one line per block: plain_text("<p>甲</p><p>乙</p>") -> "甲\\n乙"."""
    if not has_markup(cell):
        return cell.strip()
    return separator.join(block.text for block in html_blocks(cell))


def escape_lookalikes(fragment: str) -> str:
    """Every "<" that does not open a real tag, as &lt;: escape_lookalikes("a<b") -> "a&lt;b"."""
    tags = {match.start() for match in TAG.finditer(fragment)}
    return LOOKALIKE.sub(lambda m: "<" if m.start() in tags else "&lt;", fragment)


# The two shapes most portal cells take, read without lxml when nothing else is in them:
# a list opened and never closed (<ol style="list-style-type: none"> 1.… 2.…) and a run of
# bare paragraphs (<p>…</p><p>…</p>). No "<" or "&" in the text, no carriage return (the
# HTML parser's own business); a property test checks they give what lxml gives.
OPEN_LIST = re.compile(f"\\s*<ol(?:{ATTRIBUTE})*\\s*>([^<&\\r]*)", re.I)
PARAGRAPHS = re.compile(r"(?:\s*<p>[^<&\r]*</p>)+\s*")
PARAGRAPH = re.compile(r"<p>([^<]*)</p>")


def simple_blocks(fragment: str) -> list[Block] | None:
    """The blocks of a cell of one of the two common shapes, or None for lxml to read."""
    if match := OPEN_LIST.fullmatch(fragment):
        text = match[1].strip()
        return [Block(text)] if text else []
    if PARAGRAPHS.fullmatch(fragment):
        return [Block(text) for part in PARAGRAPH.findall(fragment) if (text := part.strip())]
    return None


def html_blocks(raw: str) -> list[Block]:
    """Blocks of an HTML fragment; an unclosed <ol> simply runs to the end of the cell."""
    cleaned = CONTROL.sub("", raw)
    simple = simple_blocks(cleaned)
    return lxml_blocks(cleaned) if simple is None else simple


def lxml_blocks(cleaned: str) -> list[Block]:
    """Blocks of an HTML fragment (without control characters), as lxml parses it."""
    from lxml import etree

    fragment = escape_lookalikes(DOCUMENT_TAGS.sub("", cleaned))
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
