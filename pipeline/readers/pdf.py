"""Text PDFs with pdfplumber: list titles and the rows of ruled tables, page by page.

What a PDF writer does to a table, and what is undone here:
- a cell's paragraphs are wrapped into visual lines: a line that reaches the cell's right
  edge continues on the next one (joined), a shorter one ends its paragraph (a new line),
  and a line that starts with a step or heading mark always starts a paragraph;
- merged cells are drawn once: their text fills every row and column they cover;
- a row cut by a page break goes on at the top of the next page with an empty 序号 cell:
  it is joined back to the row above; the header repeated on each page is dropped;
- a column may be drawn as two (WPS does this): columns are the header's cells;
- "fake bold" is each character printed twice, slightly shifted: removed (dedupe_chars).

Rows are numbered within their page (header rows included) and carry "page N" as their
sheet, so a finding reads `page 3, line 5`. Text without a Unicode mapping ((cid:…) glyphs)
is refused with what to do. Scanned pages (only an image) are read by OCR when the extra
`ocr` is installed (pipeline/readers/ocr.py), each of their rows carrying its recognition
score; without it they are refused with how to enable it.
"""

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.budgets import DEFAULT, Budget, over
from pipeline.containers import root_cause
from pipeline.dates import date_line
from pipeline.errors import SourceError
from pipeline.readers.ocr import INSTALL, Grid, Recogniser, ScanPage
from pipeline.tables import Row, is_title
from pipeline.vocabulary import load_vocabulary

if TYPE_CHECKING:
    from pdfplumber.page import Page
    from pdfplumber.pdf import PDF

MAX_PAGES = 2_000
MAX_BARE_CURVES = 100  # a page with no text but this many curves has its text drawn as outlines
TABLE_SETTINGS = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
OCR_HINT = f"it is a scan (its pages are images, with no text to read): {INSTALL}"
Box = tuple[float, float, float, float]  # x0, top, x1, bottom


@cache
def paragraph_start() -> re.Pattern[str]:
    """A step mark (1.  （1）  ①) or a heading mark (一、) at the start of a line."""
    numbering = load_vocabulary("numbering")
    return re.compile("^(?:" + "|".join(numbering["markers"] + numbering["headings"]) + ")")


@dataclass
class Cell:
    """A cell's text as paragraphs, with what decides whether a page break cut a paragraph:
    the room left on its last line, and the width of its first line's first unbreakable run."""

    text: str
    room: float = 0.0
    lead: float = 0.0
    score: float | None = None  # the lowest recognition score of its characters, when OCR read it


@dataclass
class Reading:
    """What carries over from one page to the next."""

    header: list[str] | None = None
    columns: list[tuple[float, float]] = field(default_factory=list)  # the header cells' x
    pending: tuple[Row, list[Cell]] | None = None  # the last data row, until it is complete
    last_title: str | None = None
    cells_read: int = 0
    budget: Budget = DEFAULT


def pdf_rows(name: str, data: bytes, budget: Budget = DEFAULT) -> Iterator[Row]:
    """Titles above the tables and every table row, in page order; a PDF that cannot be
    opened is refused here, before any row is asked for."""
    pdf = open_pdf(name, data)
    return read_pages(name, pdf, budget)


def open_pdf(name: str, data: bytes) -> "PDF":
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        pages = len(pdf.pages)
    except PDFPasswordIncorrect:
        raise SourceError(name, "the PDF is password-protected; save an unprotected copy",
                          "format") from None
    except Exception as exc:  # pdfminer raises many types for a damaged file
        raise SourceError(name, f"cannot open the PDF ({root_cause(exc)}); download it again "
                          "or re-export it", "format") from None
    if pages > MAX_PAGES:
        pdf.close()
        raise SourceError(name, f"the PDF has {pages:,} pages, over the {MAX_PAGES:,}-page limit",
                          "too-large")
    return pdf


def read_pages(name: str, pdf: "PDF", budget: Budget) -> Iterator[Row]:
    pages = len(pdf.pages)
    reading = Reading(budget=budget)
    scanned: list[int] = []
    engine: Recogniser | None = None
    with pdf:
        for number, raw_page in enumerate(pdf.pages, start=1):
            page = raw_page.dedupe_chars()
            if not page.chars:
                if page.images and (engine := engine or scan_engine(name, pdf, number, budget)):
                    from pipeline.readers.ocr import read_scan_page

                    yield from page_rows(name, read_scan_page(raw_page, engine), number, reading)
                    raw_page.close()
                elif page.images:
                    scanned.append(number)
                elif len(page.curves) > MAX_BARE_CURVES:
                    raise SourceError(name, f"page {number} draws its text as outlines, with no "
                                      "characters to extract; re-export the PDF without "
                                      "converting text to curves, or use the original", "pdf-text")
                continue
            check_unicode(name, page, number)
            yield from page_rows(name, text_page(page), number, reading)
            raw_page.close()  # pdfplumber caches each page's objects; a long PDF would pile up
        if reading.pending:
            yield reading.pending[0]
    if scanned:
        if len(scanned) == pages:
            raise SourceError(name, OCR_HINT, "scan")
        raise SourceError(name, f"pages {', '.join(map(str, scanned))} are scanned images among "
                          f"text pages, and their rows cannot be read: {OCR_HINT}", "scan")


def scan_engine(name: str, pdf: "PDF", first: int, budget: Budget) -> Recogniser | None:
    """The OCR engine for the scanned pages from page `first` on, once the scan is known to fit
    the budget; None when the extra is not installed (the scan is then refused at the end)."""
    from pipeline.readers.ocr import check_scan_budget, recogniser

    engine = recogniser()
    if engine is None:
        return None
    sizes = []
    for page in pdf.pages[first - 1:]:
        if not page.chars and page.images:
            sizes.append((float(page.width), float(page.height)))
        if page.page_number > first:
            page.close()  # its objects are parsed again when its turn comes; none pile up
    check_scan_budget(name, len(sizes), (max(w for w, _ in sizes), max(h for _, h in sizes)),
                      budget)
    return engine


def text_page(page: "Page") -> ScanPage:
    """A text page's characters and ruled tables, in the shape a scanned page is read into."""
    tables = [Grid(list(table.cells), table.bbox) for table in page.find_tables(TABLE_SETTINGS)]
    return ScanPage(page.chars, tables)


def check_unicode(name: str, page: "Page", number: int) -> None:
    """Refuse glyphs the PDF gives no character for: "(cid:12)" or private-use code points."""
    unmapped = sum(1 for char in page.chars if char["text"].startswith("(cid:")
                   or any("\ue000" <= c <= "\uf8ff" for c in char["text"]))
    if unmapped:
        raise SourceError(name, f"page {number}: {unmapped} characters have no Unicode mapping "
                          "((cid:…) glyphs or a broken ToUnicode map), so the text cannot be "
                          "extracted; re-export the PDF from the original with fonts embedded, "
                          "or use the original .docx/.xlsx", "pdf-text")


def page_rows(name: str, page: ScanPage, number: int, reading: Reading) -> Iterator[Row]:
    """The page's titles (text outside tables) and table rows, from top to bottom."""
    tables = sorted(page.tables, key=lambda t: t.bbox[1])
    boxes = [t.bbox for t in tables]
    outside = [c for c in page.chars if not any(inside(c, box) for box in boxes)]
    items: list[tuple[float, str | Grid]] = [(line["top"], line["text"].strip())
                                             for line in text_lines(outside)]
    items += [(table.bbox[1], table) for table in tables]
    line = 0
    previous_text = ""
    for _, item in sorted(items, key=lambda pair: pair[0]):
        if isinstance(item, str):
            title = title_of(previous_text, item)
            previous_text = item
            if title and title != reading.last_title:  # the same title atop every page
                if reading.pending:
                    yield reading.pending[0]
                    reading.pending = None
                reading.last_title = title
                yield Row(line + 1, [title], f"page {number}")
            elif date_line(item) is not None:  # 发布日期：…, or the date under the seal
                yield Row(line + 1, [item], f"page {number}")
            continue
        previous_text = ""
        for grid_row in table_grid(name, page, item, reading):
            line += 1
            yield from place_row(grid_row, line, number, reading)


def title_of(previous: str, text: str) -> str | None:
    """A list title, perhaps wrapped onto a second line: title_of("…镇基本", "履职事项清单")."""
    if text and is_title(text):
        return text
    if previous and is_title(previous + text):
        return previous + text
    return None


def place_row(cells: list[Cell], line: int, page: int, reading: Reading) -> Iterator[Row]:
    """Emit a header once, join a continued row to the one above, hold the last data row."""
    texts = [cell.text for cell in cells]
    compact = [re.sub(r"\s+", "", text) for text in texts]
    notes: tuple[tuple[str, str], ...] = ()
    if any(cell.score is not None for cell in cells):
        compact, notes = snap_header(compact)
    if compact and compact[0] in load_vocabulary("headers")["fields"]["seq"]:
        if compact == reading.header:
            return  # the header again, at the top of a page
        if reading.pending:
            yield reading.pending[0]
            reading.pending = None
        reading.header = compact
        yield Row(line, compact, f"page {page}", notes=notes)
        return
    if not any(texts):
        return
    if reading.pending and continues(cells, line, reading):
        row, above = reading.pending
        joined = [join_cells(a, b) for a, b in zip(above, cells, strict=False)]
        reading.pending = (Row(row.line, [c.text for c in joined], row.sheet,
                               notes=ocr_notes(joined)), joined)
        return
    if reading.pending:
        yield reading.pending[0]
    reading.pending = (Row(line, texts, f"page {page}", notes=ocr_notes(cells)), cells)


def snap_header(cells: list[str]) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """An OCR'd header row with a word misread by one character, as the vocabulary spells it,
    and the warning that says so; any other row as it is.

    snap_header(["序号", "事项名称", "街道配合职贵"]) -> (["序号", "事项名称", "街道配合职责"], …)
    """
    from fnmatch import fnmatchcase

    from rapidfuzz.distance import Hamming, Levenshtein

    words = [word for field in load_vocabulary("headers")["fields"].values() for word in field]
    snapped = []
    for cell in cells:
        if not cell or any(fnmatchcase(cell, word) for word in words):
            snapped.append(cell)
            continue
        near = {word for word in words if not word.startswith("*") and len(word) >= 4
                and Levenshtein.distance(cell, word) == 1}
        near |= {cell[: -len(word) + 1] + word[1:] for word in words  # *配合职责: the fixed tail
                 if word.startswith("*") and len(word) >= 4 and len(cell) >= len(word)
                 and Hamming.distance(cell[-len(word) + 1:], word[1:]) == 1}
        snapped.append(near.pop() if len(near) == 1 else cell)
    if snapped == cells or snapped[0] not in load_vocabulary("headers")["fields"]["seq"]:
        return cells, ()
    fixed = "; ".join(f"{a} as {b}" for a, b in zip(cells, snapped, strict=True) if a != b)
    return snapped, (("ocr-header", f"header read by OCR with a character wrong, taken as the "
                      f"header word one character away: {fixed}"),)


def ocr_notes(cells: list[Cell]) -> tuple[tuple[str, str], ...]:
    """The warning a row read by OCR carries: how sure the recogniser was of its cells."""
    scores = [cell.score for cell in cells if cell.score is not None]
    if not scores:
        return ()
    return (("ocr", f"read by OCR from a scan: recognition score {min(scores):.2f} at the "
             f"lowest, {sum(scores) / len(scores):.2f} on average over its {len(scores)} cells "
             "with text; check the row against the scan"),)


def lowest(scores: Iterable[float | None]) -> float | None:
    """lowest([0.9, None, 0.8]) -> 0.8; lowest([None]) -> None."""
    known = [score for score in scores if score is not None]
    return min(known) if known else None


def continues(cells: list[Cell], line: int, reading: Reading) -> bool:
    """A page's first row with an empty 序号 and as many cells is the rest of the row above.

    A row that is one text across the table (a category heading) is not.
    """
    above = reading.pending[1] if reading.pending else []
    texts = {cell.text for cell in cells if cell.text}
    return (line <= 2 and reading.header is not None and not cells[0].text.strip()
            and len(cells) == len(above) and len(texts) >= 1
            and not (len(texts) == 1 and all(cell.text for cell in cells)))


def join_cells(above: Cell, below: Cell) -> Cell:
    """The two halves of a cell cut by a page break: one paragraph when the line ran on."""
    if not below.text:
        return above
    if not above.text:
        return below
    wrapped = below.lead > above.room and not paragraph_start().match(below.text)
    return Cell(above.text + ("" if wrapped else "\n") + below.text, below.room, above.lead,
                lowest([above.score, below.score]))


def table_grid(name: str, page: ScanPage, table: Grid, reading: Reading) -> Iterator[list[Cell]]:
    """The table's rows as cells, merged cells filled, columns as the header draws them."""
    cells: list[Box] = list(table.cells)
    reading.cells_read += len(cells)
    limit = reading.budget.max_cells
    if reading.cells_read > limit:
        raise SourceError(name, f"more than {limit:,} table cells, "
                          + over("max_cells", f"{limit:,}-cell"), "too-large")
    xs = sorted({round(box[0], 1) for box in cells})
    ys = sorted({round(box[1], 1) for box in cells})
    chars = [c for c in page.chars if inside(c, table.bbox)]
    texts: dict[Box, Cell] = {}

    def text_of(boxes: list[Box]) -> Cell:
        """One cell's text, or the texts of the cells a header cell spans, left to right."""
        parts = []
        for box in boxes:
            if box not in texts:
                texts[box] = cell_text([c for c in chars if inside(c, box)], box, page.slack)
            if texts[box].text:
                parts.append(texts[box])
        if not parts:
            return Cell("")
        return Cell("\n".join(part.text for part in parts), parts[-1].room, parts[0].lead,
                    lowest(part.score for part in parts))

    edges_x = [*xs, table.bbox[2]]
    edges_y = [*ys, table.bbox[3]]
    for i, top in enumerate(ys):
        # A merged cell cut by a page break has no closing rule, so no cell: its part in
        # this row is the open region between the grid lines.
        covering: list[Box] = [
            covering_box(cells, x, top) or (x, top, float(edges_x[j + 1]), float(edges_y[i + 1]))
            for j, x in enumerate(xs)]
        header_row = starts_header(covering[0], chars)
        groups = column_groups(xs, covering) if header_row else matching_groups(xs, reading)
        if header_row:
            reading.columns = [(covering[g[0]][0], covering[g[-1]][2]) for g in groups]
        yield [text_of(unique([covering[j] for j in group])) for group in groups]


def unique(boxes: list[Box]) -> list[Box]:
    seen: list[Box] = []
    for box in boxes:
        if box not in seen:
            seen.append(box)
    return seen


def covering_box(cells: list[Box], x: float, top: float) -> Box | None:
    """The cell (merged or not) that covers the grid point just inside (x, top)."""
    for box in cells:
        if box[0] - 0.5 <= x < box[2] - 0.5 and box[1] - 0.5 <= top < box[3] - 0.5:
            return box
    return None


def starts_header(first: Box, chars: list[dict[str, Any]]) -> bool:
    words = load_vocabulary("headers")["fields"]["seq"]
    text = "".join(c["text"] for c in chars if inside(c, first))
    return re.sub(r"\s+", "", text) in words


def column_groups(xs: list[float], covering: list[Box]) -> list[list[int]]:
    """Grid columns grouped by the header cell above them: one header cell, one column."""
    groups: list[list[int]] = []
    for j, box in enumerate(covering):
        if groups and covering[groups[-1][0]] == box:
            groups[-1].append(j)
        else:
            groups.append([j])
    return groups


def matching_groups(xs: list[float], reading: Reading) -> list[list[int]]:
    """Grid columns grouped under the last header's columns when they line up, else one each."""
    groups: list[list[int]] = [[] for _ in reading.columns]
    for j, x in enumerate(xs):
        found = [g for g, (x0, x1) in enumerate(reading.columns) if x0 - 2 <= x < x1 - 2]
        if not found:
            return [[j] for j in range(len(xs))]
        groups[found[0]].append(j)
    if not reading.columns or any(not group for group in groups):
        return [[j] for j in range(len(xs))]
    return groups


def inside(char: dict[str, Any], box: Box) -> bool:
    """The character's centre lies in the box."""
    x: float = (char["x0"] + char["x1"]) / 2
    y: float = (char["top"] + char["bottom"]) / 2
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def text_lines(chars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from pdfplumber.utils.text import chars_to_textmap

    if not chars:
        return []
    lines: list[dict[str, Any]] = chars_to_textmap(chars).extract_text_lines(strip=True)
    return lines


def cell_text(chars: list[dict[str, Any]], box: Box, slack: float = 0.0) -> Cell:
    """A cell's visual lines joined back into its paragraphs, one per line of text.

    Text starts at the cell's left padding, and the right padding is taken to be the same.
    A line was wrapped when the next line's first unbreakable run (a character with the
    punctuation that must stay with it, a number) would not have fitted after it; a line
    that starts with a step or heading mark always starts a paragraph. `slack` is how far the
    positions may be off (OCR's are estimates): the room left on a line is taken that much
    smaller.
    """
    lines = [line for line in text_lines(chars) if line["text"].strip()]
    if not lines:
        return Cell("")
    right = box[2] - (min(line["x0"] for line in lines) - box[0])
    paragraphs: list[str] = []
    room = 0.0
    for line in lines:
        text = line["text"].strip()
        if paragraphs and lead_width(line["chars"]) > room and not paragraph_start().match(text):
            paragraphs[-1] += text
        else:
            paragraphs.append(text)
        room = right - line["x1"] - slack
    return Cell("\n".join(paragraphs), room, lead_width(lines[0]["chars"]),
                lowest(char.get("score") for char in chars))


def lead_width(chars: list[dict[str, Any]]) -> float:
    """The width of a line's first run that no line break may cut.

    lead_width(chars of "（聘）用") is the width of "（聘）"; of "训；" both; of "2024年" the digits.
    """
    rules = load_vocabulary("linebreaks")
    visible = [c for c in chars if c["text"].strip()]
    if not visible:
        return 0.0
    end = 1
    while end < len(visible):
        before, after = visible[end - 1]["text"], visible[end]["text"]
        latin = after.isascii() and after.isalnum()  # a Latin word or a number goes on
        if not (after in rules["no_line_start"] or before in rules["no_line_end"]
                or (latin and ((before.isascii() and before.isalnum())
                               or before in rules["no_line_start"]))):
            break
        end += 1
    return float(visible[end - 1]["x1"] - visible[0]["x0"])
