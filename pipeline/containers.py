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
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any, cast

from lxml import etree

from pipeline.budgets import Budget, over
from pipeline.dates import date_line
from pipeline.errors import SourceError
from pipeline.tables import Row, cell_words, is_title
from pipeline.text import CONTROL
from pipeline.wordnumbering import WordNumbering

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

# A span is capped as browsers cap colspan (HTML: at most 1000); the filled grid is then
# checked against Budget.max_cells before it is built.
SPAN_CAP = 1000


def zip_format(name: str, data: bytes, budget: Budget) -> str:
    """ "xlsx" or "docx" by the archive's parts; refuses zip bombs and other archives."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise SourceError(name, f"a damaged zip container ({exc}); download it again", "format") \
            from None
    # zipfile never unpacks past a member's declared size, so the directory's sum is a bound.
    unzipped = sum(member.file_size for member in members)
    if unzipped > budget.max_unpacked:
        raise SourceError(name, f"the archive unpacks to {unzipped:,} bytes (a zip bomb?), "
                          + over("max_bytes", f"{budget.max_unpacked:,}-byte unpacked "
                                 "(4 × --max-bytes)"), "too-large")
    names = {member.filename for member in members}
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    raise SourceError(name, "a zip archive that is neither .xlsx nor .docx; unpack it and "
                      "build the files inside", "format")


def check_grid(name: str, what: str, rows: list[list[tuple[str, int]]], budget: Budget) -> None:
    """Refuse a table whose filled grid is over budget, from (text, slots it covers) per cell.

    Checked before the grid is built: its cells (rows × columns once spans are filled), and
    its text, since one long cell repeated by a span is a row as long as all its copies.
    """
    cells = sum(slots for row in rows for _, slots in row)
    if cells > budget.max_cells:
        raise too_many_cells(name, what, cells, budget)
    text = sum(len(content) * slots for row in rows for content, slots in row)
    if text > budget.max_unpacked:
        raise SourceError(name, f"{what} holds {text:,} characters, "
                          + over("max_bytes", f"{budget.max_unpacked:,}-character (4 × --max-bytes)"),
                          "too-large")


def too_many_cells(name: str, what: str, cells: int, budget: Budget) -> SourceError:
    return SourceError(name, f"{what} fills {cells:,} cells, "
                       + over("max_cells", f"{budget.max_cells:,}-cell"), "too-large")


def html_rows(name: str, text: str, budget: Budget) -> Iterator[Row]:
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
                rows = list(table_rows(name, element, budget, width))
                width = len(rows[0].cells) if rows else None
                yield from rows
        elif next(element.iterancestors("table"), None) is None and not any(
                child.tag in ("p", "div", "table") for child in element.iterdescendants()):
            title = " ".join(element.text_content().split())
            # <h1> names the page (often the place, once); other elements count when titles,
            # or when they date the page (发布日期：…, or the date under the seal).
            if title and len(title) < 80 and (is_title(title) or element.tag == "h1"
                                              or date_line(title) is not None):
                width = None
                yield Row(int(element.sourceline or 0), [title])


def table_rows(name: str, table: "HtmlElement", budget: Budget,
               continues: int | None = None) -> Iterator[Row]:
    """Rows with rowspan and colspan filled, each cell as its inner HTML. A table without a
    序号 header is read only where it continues a list table of `continues` columns: as wide,
    starting like its rows (续表 after a page break).

    The filled grid's size is known from the spans alone, and checked before it is built:
    a cell covers colspan × (rowspan, cut at the table's end) slots, and no two overlap.
    """
    rows = table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr")
    if not any(is_header_row(row) for row in rows[:3]) and not (
            continues and rows and starts_numbered(rows[0], continues)):
        return
    spans = [[(inner_html(cell), span(cell, "colspan"), span(cell, "rowspan"))
              for cell in row.xpath("./td|./th")] for row in rows]
    covers = [[(html, across * min(down, len(rows) - index)) for html, across, down in cells]
              for index, cells in enumerate(spans)]
    check_grid(name, f"the table on line {rows[0].sourceline or 0}, once rowspan and colspan "
               "are filled,", covers, budget)
    carried: dict[int, tuple[int, str]] = {}  # column → (rows left, cell html) from a rowspan
    for row, row_spans in zip(rows, spans, strict=True):
        cells: list[str] = []
        sources = iter(row_spans)
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
            source = next(sources, None)
            if source is None:
                break
            html, across, down = source
            for _ in range(across):
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
    return sum(span(cell, "colspan") for cell in cells) == width and (
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


def span(cell: "HtmlElement", name: str) -> int:
    """A colspan or rowspan between 1 and SPAN_CAP; anything unreadable counts as 1."""
    try:
        return max(1, min(int(cell.get(name, "1")), SPAN_CAP))
    except ValueError:  # not a number, or more digits than int() accepts
        return 1


def xlsx_rows(name: str, data: bytes, budget: Budget) -> Iterator[Row]:
    """Every sheet's rows in order, merged ranges filled with their top-left value.

    openpyxl streams the sheets (read-only mode); each sheet's XML is first measured
    (measure_sheet), so that the grid openpyxl pads rows to, and the merged ranges filled
    here, are known to fit the budget before any of them is built.
    """
    import openpyxl  # uses defusedxml when it is installed, which our dependencies ensure

    # Measured before openpyxl opens the workbook: opening scans a sheet without <dimension>.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        titles = sheet_titles(archive)
        extents = {}
        for part in archive.namelist():
            if part.startswith("xl/worksheets/") and part.count("/") == 2 and part.endswith(".xml"):
                with archive.open(part) as xml:
                    extents[part] = measure_sheet(name, titles.get(part, part), xml, budget)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise SourceError(name, f"cannot open the workbook ({root_cause(exc)}); "
                          "open and re-save it in Excel or LibreOffice", "format") from None
    try:
        for sheet in workbook.worksheets:
            # Read-only sheets keep the path of their XML part; merged cells are not exposed.
            part = str(sheet._worksheet_path).lstrip("/")  # type: ignore[attr-defined]
            if part not in extents:
                raise SourceError(name, f"sheet {sheet.title} is stored at {part}, outside "
                                  "xl/worksheets/; open and re-save it in Excel or LibreOffice",
                                  "format")
            yield from sheet_rows(name, sheet, extents[part], budget)
    except (SourceError, MemoryError):
        raise
    except Exception as exc:  # streamed, a damaged sheet shows only when it is read
        raise SourceError(name, f"cannot open the workbook ({root_cause(exc)}); "
                          "open and re-save it in Excel or LibreOffice", "format") from None
    finally:
        workbook.close()


def sheet_titles(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each worksheet part's sheet name, from xl/workbook.xml and its relationships
    ({"xl/worksheets/sheet1.xml": "基本"}); empty when they cannot be read (openpyxl will say)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        relations = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"), parser)
        book = etree.fromstring(archive.read("xl/workbook.xml"), parser)
    except (KeyError, etree.XMLSyntaxError):  # a damaged workbook: openpyxl will say how
        return {}
    targets = {relation.get("Id"): relation.get("Target", "") for relation in relations}
    titles: dict[str, str] = {}
    for sheet in book.iter("{*}sheet"):
        target = str(targets.get(sheet.get(RELATION_ID), ""))
        part = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        titles[part] = str(sheet.get("name", part))
    return titles


RELATION_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


# Counted by lxml, not cell by cell in Python: a cell with a child (<v>, <is>) holds a value,
# a bare one only a style.
COUNT_VALUES = etree.XPath("count(*[*])")
LAST_VALUE = etree.XPath("string(*[*][last()]/@r)")
LAST_POSITION = etree.XPath("count(*[*][last()]/preceding-sibling::*) + 1")


class Extent:
    """What a sheet's XML holds: cells with a value, the grid they and the merges span."""

    def __init__(self) -> None:
        self.cells = 0
        self.rows = 0
        self.columns = 0
        self.merges: list[tuple[int, int, int, int]] = []  # min_col, min_row, max_col, max_row
        self.merged_cells = 0


def measure_sheet(name: str, title: str, xml: IO[bytes], budget: Budget) -> Extent:
    """Stream a sheet's XML once: count its cells, find its extent and its merged ranges.

    The declared <dimension> is not trusted (it may be missing or wrong); rows and columns
    are those of cells that hold a value, and of merged ranges.
    """
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries

    extent = Extent()
    where = f"sheet {title}"
    row_number = 0
    events = etree.iterparse(xml, events=("end",), tag=("{*}row", "{*}mergeCell"),
                             resolve_entities=False, no_network=True, huge_tree=False)
    try:
        for _, element in events:
            try:
                if etree.QName(element).localname == "row":
                    row_number = int(element.get("r") or row_number + 1)
                    values = int(cast(float, COUNT_VALUES(element)))
                    if values:
                        extent.cells += values
                        extent.rows = max(extent.rows, row_number)
                        last = str(LAST_VALUE(element))  # cells come in column order
                        column = (column_index_from_string(coordinate_from_string(last)[0])
                                  if last else int(cast(float, LAST_POSITION(element))))
                        extent.columns = max(extent.columns, column)
                        if extent.cells > budget.max_cells:
                            raise too_many_cells(name, f"{where} has more than "
                                                 f"{budget.max_cells:,} cells and", extent.cells,
                                                 budget)
                else:
                    low_col, low_row, high_col, high_row = range_boundaries(element.get("ref", ""))
                    if None in (low_col, low_row, high_col, high_row):
                        continue  # a whole row or column, which Excel never writes as a merge
                    bounds = (low_col or 0, low_row or 0, high_col or 0, high_row or 0)
                    extent.merges.append(bounds)
                    extent.merged_cells += (bounds[2] - bounds[0] + 1) * (bounds[3] - bounds[1] + 1)
                    extent.rows = max(extent.rows, bounds[3])
                    extent.columns = max(extent.columns, bounds[2])
                    if extent.merged_cells > budget.max_cells:
                        raise too_many_cells(name, f"{where}'s merged ranges (the last "
                                             f"{element.get('ref')})", extent.merged_cells, budget)
            except (ValueError, TypeError):
                raise SourceError(name, f"{where}: a cell reference that is not valid "
                                  f"({etree.tostring(element)[:80]!r}); open and re-save it in "
                                  "Excel or LibreOffice", "format") from None
            element.clear()
            while element.getprevious() is not None:  # keep memory flat on a long sheet
                del element.getparent()[0]
    except etree.XMLSyntaxError as exc:
        raise SourceError(name, f"{where}: damaged XML ({exc}); open and re-save it in Excel "
                          "or LibreOffice", "format") from None
    if extent.rows * extent.columns > budget.max_cells:
        raise too_many_cells(name, f"{where} spans {extent.rows:,} rows × {extent.columns:,} "
                             "columns and", extent.rows * extent.columns, budget)
    return extent


def sheet_rows(name: str, sheet: Any, extent: Extent, budget: Budget) -> Iterator[Row]:
    """A measured sheet's rows, each padded to the sheet's width, merged ranges filled.

    `sheet` is a ReadOnlyWorksheet, whose stubs type its rows as a Worksheet's. The text a
    merge repeats is counted when its top-left value is read, before it is repeated.
    """
    if not extent.rows or not extent.columns:
        return
    sheet.reset_dimensions()  # the declared <dimension> may cut rows off; ours is measured
    starting: dict[int, list[tuple[int, int, int, int]]] = {}
    for merge in extent.merges:
        starting.setdefault(merge[1], []).append(merge)
    active: list[tuple[tuple[int, int, int, int], object]] = []  # (range, top-left value)
    repeated = 0  # characters the merges fill in
    rows = sheet.iter_rows(min_row=1, max_row=extent.rows, max_col=extent.columns,
                           values_only=True)
    for number, values in enumerate(rows, start=1):
        filled: list[object] = list(values)
        for merge in starting.get(number, []):
            value = filled[merge[0] - 1]
            repeated += len(cell_text(value)) * (merge[2] - merge[0] + 1) * (merge[3] - merge[1] + 1)
            if repeated > budget.max_unpacked:
                raise SourceError(name, f"sheet {sheet.title}'s merged ranges repeat "
                                  f"{repeated:,} characters, " + over(
                                      "max_bytes", f"{budget.max_unpacked:,}-character "
                                      "(4 × --max-bytes)"), "too-large")
            active.append((merge, value))
        for (low_col, _, high_col, _), value in active:
            filled[low_col - 1:high_col] = [value] * (high_col - low_col + 1)
        active = [(merge, value) for merge, value in active if merge[3] > number]
        cells = [cell_text(value) for value in filled]
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


def docx_rows(name: str, data: bytes, budget: Budget) -> Iterator[Row]:
    """Title paragraphs and table rows in body order; a cell's paragraphs become lines.

    Rows are numbered within their table ("table 2", row 5); titles by body position.
    python-docx parses the XML (lxml with entities unresolved, no network, no huge trees).
    """
    import docx
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
        if child.tag.endswith("}p"):  # prose is not a list row; titles and date lines are
            text = numbering.text(Paragraph(child, document)).strip()
            if text and (is_title(text) or date_line(text) is not None
                         or (heading and len(text) < 80)):
                yield Row(paragraph_number, [text])
            heading = heading and not text
        elif child.tag.endswith("}tbl"):
            tables += 1
            yield from docx_table_rows(name, child, f"table {tables}", budget,
                                       lambda p: numbering.text(Paragraph(p, document)))  # type: ignore[arg-type]


def docx_table_rows(name: str, table: "_Element", where: str, budget: Budget,
                    text_of: Callable[["_Element"], str]) -> Iterator[Row]:
    """A Word table's rows on its layout grid: a cell spanning columns (w:gridSpan) repeats,
    a cell continuing a vertical merge (w:vMerge) repeats the one above. A cell's paragraphs
    are its lines, each read by `text_of` (as Word shows it, with its automatic number).

    The grid's size is counted from the spans and checked before any row is built.
    """
    from docx.oxml.ns import qn

    rows = table.findall(qn("w:tr"))
    layout = [[(cell, grid_span(cell), "\n".join(text_of(p) for p in cell.findall(qn("w:p"))))
               for cell in row.findall(qn("w:tc"))] for row in rows]
    check_grid(name, f"{where}, once its w:gridSpan are filled,",
               [[(text, width) for _, width, text in cells] for cells in layout], budget)
    above: dict[int, str] = {}  # grid column → text of the cell there in the row above
    for row_number, (row, cells) in enumerate(zip(rows, layout, strict=True), start=1):
        texts: list[str] = []
        column = word_int(row.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}"), 0)
        current: dict[int, str] = {}
        for cell, width, own in cells:
            merge = cell.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
            continued = merge is not None and merge.get(qn("w:val"), "continue") == "continue"
            text = above.get(column, "") if continued else own
            texts += [text] * width
            current[column] = text
            column += width
        above = current
        if any(t.strip() for t in texts):
            yield Row(row_number, texts, where)


def grid_span(cell: "_Element") -> int:
    from docx.oxml.ns import qn

    return word_int(cell.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}"), 1)


def word_int(element: "_Element | None", default: int) -> int:
    """The w:val of a w:gridSpan or w:gridBefore, between 0 and SPAN_CAP (default if absent)."""
    from docx.oxml.ns import qn

    if element is None:
        return default
    try:
        return max(0, min(int(element.get(qn("w:val"), default)), SPAN_CAP))
    except ValueError:  # not a number, or more digits than int() accepts
        return default
