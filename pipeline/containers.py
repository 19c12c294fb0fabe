"""Container readers: each turns one kind of file into rows of cells with their positions.

tsv   tab-separated text, one row per line (the portal scrape of the sample)
html  a portal article page: titles in <p><strong>/<h*>, one <table> per list
xlsx  one sheet per list or all lists in one sheet; merged ranges are filled
docx  title paragraphs, then tables; merged cells repeat, paragraphs join with newlines

Cells of html rows keep their inner HTML, so that <ol>, <p> and <br> still reach the
steps stage; xlsx and docx cells are plain text with one line per paragraph.
"""

import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pipeline.errors import SourceError
from pipeline.tables import Row, cell_words, is_title
from pipeline.text import CONTROL
from pipeline.wordnumbering import WordNumbering

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Defences against hostile archives: an xlsx/docx is a zip of XML.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ROWS = 100_000
MAX_CELLS = 2_000_000


def zip_format(name: str, data: bytes) -> str:
    """ "xlsx" or "docx" by the archive's parts; refuses zip bombs and other archives."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise SourceError(name, f"a damaged zip container ({exc}); download it again", "format") \
            from None
    unzipped = sum(member.file_size for member in members)
    if unzipped > MAX_UNZIPPED_BYTES:
        raise SourceError(name, f"the archive unpacks to {unzipped:,} bytes, over the "
                          f"{MAX_UNZIPPED_BYTES:,}-byte limit: refusing a possible zip bomb",
                          "too-large")
    names = {member.filename for member in members}
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    raise SourceError(name, "a zip archive that is neither .xlsx nor .docx; unpack it and "
                      "build the files inside", "format")


def html_rows(name: str, text: str) -> Iterator[Row]:
    """List titles and the rows of list tables, in page order; page chrome is skipped.

    A table counts when one of its first rows starts with 序号, so navigation and layout
    tables are ignored; only innermost tables are read.
    """
    import lxml.html

    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                                  encoding=None)
    try:
        root = lxml.html.document_fromstring(CONTROL.sub("", text), parser=parser)
    except Exception as exc:  # lxml raises several types for a page it cannot build a tree of
        raise SourceError(name, f"cannot parse the HTML page ({exc})", "format") from None
    element: HtmlElement
    width: int | None = None  # a list table may go on, without its header, in the next table
    for element in root.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "div", "table"):
        if element.tag == "table":
            if element.find(".//table") is None:
                rows = list(table_rows(element, width))
                width = len(rows[0].cells) if rows else None
                yield from rows
        elif next(element.iterancestors("table"), None) is None and not any(
                child.tag in ("p", "div", "table") for child in element.iterdescendants()):
            title = " ".join(element.text_content().split())
            # <h1> names the page (often the place, once); other elements count when titles.
            if title and len(title) < 80 and (is_title(title) or element.tag == "h1"):
                width = None
                yield Row(int(element.sourceline or 0), [title])


def table_rows(table: "HtmlElement", continues: int | None = None) -> Iterator[Row]:
    """Rows with rowspan and colspan filled, each cell as its inner HTML. A table without a
    序号 header is read only where it continues a list table of `continues` columns: as wide,
    starting like its rows (续表 after a page break)."""
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    if not any(is_header_row(row) for row in rows[:3]) and not (
            continues and rows and starts_numbered(rows[0], continues)):
        return
    carried: dict[int, tuple[int, str]] = {}  # column → (rows left, cell html) from a rowspan
    for row in rows:
        cells: list[str] = []
        sources = iter(row.xpath("./td|./th"))
        column = 0
        while True:
            if column in carried:
                left, html = carried[column]
                cells.append(html)
                carried[column] = (left - 1, html)
                if left - 1 == 0:
                    del carried[column]
                column += 1
                continue
            cell = next(sources, None)
            if cell is None:
                break
            html = inner_html(cell)
            span = int_attribute(cell, "colspan")
            down = int_attribute(cell, "rowspan")
            for _ in range(span):
                cells.append(html)
                if down > 1:
                    carried[column] = (down - 1, html)
                column += 1
        if any(c.strip() for c in cells):
            yield Row(int(row.sourceline or 0), cells)


def starts_numbered(row: "HtmlElement", width: int) -> bool:
    """A row `width` columns wide whose first cell is a 序号 (3, 3.) or empty (the rest of a
    row cut by the page)."""
    cells = row.xpath("./td|./th")
    words = cell_words(cells[0].text_content()) if cells else "x"
    return sum(int_attribute(cell, "colspan") for cell in cells) == width and (
        not words or words.rstrip(".、").isdigit())


def is_header_row(row: "HtmlElement") -> bool:
    from pipeline.vocabulary import headers

    first = row.xpath("./td|./th")
    return bool(first) and cell_words(first[0].text_content()) in headers().fields.seq


def inner_html(cell: "HtmlElement") -> str:
    """The cell's content as HTML, without the <td> itself."""
    import lxml.html

    parts = [cell.text or ""]
    parts += [lxml.html.tostring(child, encoding="unicode") for child in cell]
    return "".join(parts).strip()


def int_attribute(cell: "HtmlElement", name: str) -> int:
    try:
        return max(1, min(int(cell.get(name, "1")), 1000))
    except ValueError:
        return 1


def xlsx_rows(name: str, data: bytes) -> Iterator[Row]:
    """Every sheet's rows in order, merged ranges filled with their top-left value."""
    import openpyxl  # uses defusedxml when it is installed, which our dependencies ensure

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise SourceError(name, f"cannot open the workbook ({root_cause(exc)}); "
                          "open and re-save it in Excel or LibreOffice", "format") from None
    cells_read = 0
    for sheet in workbook.worksheets:
        if sheet.max_row > MAX_ROWS:
            raise SourceError(name, f"sheet {sheet.title} has {sheet.max_row:,} rows, over the "
                              f"{MAX_ROWS:,}-row limit", "too-large")
        merged = {}
        for cell_range in sheet.merged_cells.ranges:
            value = sheet.cell(cell_range.min_row, cell_range.min_col).value
            for row in range(cell_range.min_row, cell_range.max_row + 1):
                for column in range(cell_range.min_col, cell_range.max_col + 1):
                    merged[row, column] = value
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells_read += len(values)
            if cells_read > MAX_CELLS:
                raise SourceError(name, f"more than {MAX_CELLS:,} cells: refusing to read on",
                                  "too-large")
            cells = [cell_text(merged.get((number, column), value))
                     for column, value in enumerate(values, start=1)]
            if any(c.strip() for c in cells):
                yield Row(number, cells, sheet.title)


def root_cause(exc: BaseException) -> str:
    """The innermost exception, on one line: libraries wrap the XML parser's real complaint."""
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    first_line = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {first_line}"


def cell_text(value: object) -> str:
    """cell_text(3.0) -> "3"; cell_text(None) -> ""."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n")


def docx_rows(name: str, data: bytes) -> Iterator[Row]:
    """Title paragraphs and table rows in body order; a cell's paragraphs become lines.

    Rows are numbered within their table ("table 2", row 5); titles by body position.
    """
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for a damaged file
        raise SourceError(name, f"cannot open the document ({root_cause(exc)}); "
                          "open and re-save it in Word or LibreOffice", "format") from None
    numbering = WordNumbering.of(document)  # numbers Word shows but the text lacks
    tables = 0
    heading = True  # the first paragraph may name the place (会盟镇) without being a title
    for paragraph_number, child in enumerate(document.element.body.iterchildren(), start=1):
        if child.tag.endswith("}p"):  # prose around the tables is not a list row; titles are
            text = numbering.text(Paragraph(child, document)).strip()
            if text and (is_title(text) or (heading and len(text) < 80)):
                yield Row(paragraph_number, [text])
            heading = heading and not text
        elif child.tag.endswith("}tbl"):
            tables += 1
            table = Table(child, document)
            for row_number, row in enumerate(table.rows, start=1):
                cells = ["\n".join(numbering.text(p) for p in cell.paragraphs)
                         for cell in row.cells]
                if any(c.strip() for c in cells):
                    yield Row(row_number, cells, f"table {tables}")
