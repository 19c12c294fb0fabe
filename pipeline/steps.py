"""Steps stage: a responsibility cell → ordered steps (section, department, number, text).

A cell is first cut into blocks at HTML block elements (<p>, <ol>, <li>, <br>) or line
breaks; a block is then a section heading (一、分户工作), a department sub-heading
(县自然资源局, or 县应急管理局 指导… inline), or text cut at its number marks.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from pipeline.departments import department_heading
from pipeline.findings import Collector, Note, Recorder
from pipeline.markup import read_blocks
from pipeline.records import Party, Step
from pipeline.text import CONTROL
from pipeline.vocabulary import numbering

TRAILING = re.compile(r"[；;\s]+$")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


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
    marks = "|".join(numbering().markers)
    return re.compile(f"(?:^|(?<=[\\s；;。]))(?:{marks})")


@cache
def heading_pattern() -> re.Pattern[str]:
    marks = "|".join(numbering().headings)
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


def split_heading(text: str) -> tuple[str, str]:
    """A heading and the steps written after it on the same line.

    split_heading("审核工作：1.审核材料；2.发放补贴") -> ("审核工作", "1.审核材料；2.发放补贴");
    split_heading("分户工作") -> ("分户工作", "")
    """
    head, colon, rest = text.partition("：") if "：" in text else text.partition(":")
    if colon and head.strip() and rest.strip():
        return head.strip(), rest.strip()
    if (mark := marker_pattern().search(text)) and mark.start() > 0:
        return text[: mark.start()].strip(), text[mark.start():].strip()
    return text, ""


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
    steps, notes = cell_steps(raw, party, context.field, context.places)
    for note in notes:
        context.found.add(note.severity, note.code, note.message, context.line, note.field,
                          note.raw, context.sheet)
    return list(steps)


# The same cells recur from town to town of a county (a county's departments write the
# upper duties once for all its towns): each distinct cell is read once. An entry holds
# about 5 KB; 2,048 are about two counties' cells (the sample has about 600).
@lru_cache(maxsize=2048)
def cell_steps(raw: str, party: Party, field: str,
               places: tuple[str, ...]) -> tuple[tuple[Step, ...], tuple[Note, ...]]:
    """parse_steps without a place in a document: the steps, and the findings as notes that
    parse_steps gives the cell's line and sheet. Steps are frozen records, safe to share."""
    recorder = Recorder("")
    steps = read_steps(raw, party, Context(recorder, 0, field, places))
    return tuple(steps), tuple(recorder.notes)


def read_steps(raw: str, party: Party, context: Context) -> list[Step]:
    """parse_steps itself; every finding it makes is at the context's line and sheet."""
    if CONTROL.search(raw):
        context.found.add("warning", "text-fixed", f"{context.field}: control characters "
                          "removed (the original is kept in raw)", context.line, context.field,
                          raw, context.sheet)
    steps: list[Step] = []
    section: str | None = None
    department: str | None = None
    previous: int | None = None
    open_heading: tuple[str, int] | None = None  # a heading as written, and the steps before it
    for block in read_blocks(raw):
        text = " ".join(block.text.split())
        if heading := heading_pattern().match(text):
            check_heading_used(open_heading, len(steps), context)
            section, rest = split_heading(heading["rest"].strip())
            department, previous, open_heading = None, None, (text, len(steps))
            if not rest:
                continue
            text = rest
        if named := department_heading(text, context.places):
            department, rest = named
            check_heading_used(open_heading, len(steps), context)
            section, previous, open_heading = department, None, (text, len(steps))
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
    check_heading_used(open_heading, len(steps), context)
    return steps


def check_heading_used(heading: tuple[str, int] | None, steps: int, context: Context) -> None:
    """Warn about a heading with no step under it: its text would be in no step's section."""
    if heading is not None and heading[1] == steps:
        context.found.add("warning", "heading-empty", f"{context.field}: heading {heading[0]!r} "
                          "has no step under it", context.line, context.field, heading[0],
                          context.sheet)


def clean_step(piece: Piece, context: Context) -> str:
    """Step text without its mark, HTML, trailing ；/; or stray whitespace; fixes are warnings."""
    cleaned = context.found.clean(piece.body, context.line, context.field, context.sheet)
    if not cleaned or cleaned[-1] in "；;" or cleaned[-1].isspace():  # else TRAILING cannot match
        return TRAILING.sub("", cleaned)
    return cleaned


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

