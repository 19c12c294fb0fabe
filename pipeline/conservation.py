"""Conservation checks that do not trust the parser: nothing lost, counted from the source.

rows  count_rows reads the container again, by its own simple rule (a row of a table whose
      first filled cell is a number; a line whose first field is one), without the readers,
      the tables stage or any of their counters. Every such row must be a duty or a
      quarantined row. Not made for .doc/.wps/.rtf (read through a LibreOffice conversion
      the counter does not see) and PDF (whose rows only a table reader can find).
text  lost_text compares a responsibility cell's letters (Han characters and Latin letters;
      markup, number marks, digits, punctuation and spaces ignored) with what the steps
      stage made of it: step texts, section headings, departments and the findings that hold
      discarded text. A letter that reached none of them was lost.
"""

import html
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from typing import Any

from pipeline.text import CONTROL
from pipeline.vocabulary import numbering

SEQ = re.compile(r"[0-9０-９]+[.、．]?")
TAG = re.compile(r"<[^<>]*>")
# Han characters and Latin letters are what a check compares; full-width letters fold first.
NOT_LETTER = re.compile(r"[^A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
FULL_WIDTH_LETTER = re.compile("[\uff21-\uff3a\uff41-\uff5a]")
FOLD = str.maketrans({chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
                     | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)})
LINES = re.compile(r"\r\n|\r|\n")
XLSX = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
DOCX = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def is_numbered(text: str) -> bool:
    """is_numbered(" １２ ") -> True; is_numbered("一、党的建设") -> False."""
    return SEQ.fullmatch(unspaced(text)) is not None


def unspaced(text: str) -> str:
    """The text without any whitespace (str.split's whitespace is the regex's \\s, faster)."""
    return "".join(text.split())


def count_rows(format: str, data: bytes, encoding: str | None) -> int | None:
    """Rows of the source that hold a duty by their look: a first filled cell that is a number.

    None for a container this module does not know (the check is then not made).
    """
    if not data:
        return None
    if format in ("tsv", "csv"):
        return count_lines(data.decode(encoding or "utf-8"), "," if format == "csv" else "\t")
    counters = {"html": count_html_rows, "xlsx": count_xlsx_rows, "docx": count_docx_rows,
                "xls": count_xls_rows}
    if format not in counters:
        return None
    return counters[format](data, encoding)


def is_duty_row(cells: list[str]) -> bool:
    """A row whose first filled cell is a number, unless its cells number the columns
    (1 2 3 …, under some headers). is_duty_row(["3", "党建"]) -> True"""
    first = next((text for cell in cells if (text := unspaced(cell).strip('"'))), "")
    if not is_numbered(first):
        return False
    if first != "1" or unspaced(cells[0]).strip('"') != "1":
        return True  # the cells cannot be 1 2 3 …: spare reading the rest of the row
    filled = [unspaced(cell).strip('"') for cell in cells]
    while filled and not filled[-1]:
        filled.pop()
    return len(filled) < 3 or filled != [str(n) for n in range(1, len(filled) + 1)]


def count_lines(text: str, delimiter: str) -> int:
    """Lines whose first field (quotes and spaces aside) is a number."""
    return sum(1 for line in LINES.split(text) if is_duty_row(line.split(delimiter)))


def count_html_rows(data: bytes, encoding: str | None) -> int:
    """<tr> of innermost tables holding a 序号 cell, whose first cell is a number."""
    import lxml.html

    root = lxml.html.document_fromstring(CONTROL.sub("", data.decode(encoding or "utf-8")))
    count = 0
    widths: set[int] = set()  # of the list table before: the next one may continue it
    for table in root.iter("table"):
        if table.find(".//table") is not None:
            continue
        rows = [[text_of(cell) for cell in row.iter("td", "th")] for row in table.iter("tr")]
        numbered = [cells for cells in rows if cells and is_numbered(cells[0])]
        if any(cells and unspaced(cells[0]) == "序号" for cells in rows) or (
                numbered and len(numbered[0]) in widths):
            count += sum(1 for cells in numbered if is_duty_row(cells))
            widths = {len(cells) for cells in numbered}
        else:
            widths = set()
    return count


def text_of(element: Any) -> str:
    return "".join(str(text) for text in element.itertext())


def count_xlsx_rows(data: bytes, encoding: str | None) -> int:
    """Worksheet rows whose first filled cell is a number, read from the sheet XML itself."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    count = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            strings = etree.fromstring(archive.read("xl/sharedStrings.xml"), parser)
            shared = [text_of(item) for item in strings.iter(f"{XLSX}si")]
        for name in names:
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            sheet = etree.fromstring(archive.read(name), parser)
            for row in sheet.iter(f"{XLSX}row"):
                count += is_duty_row([xlsx_value(cell, shared) for cell in row.iter(f"{XLSX}c")])
    return count


def count_xls_rows(data: bytes, encoding: str | None) -> int:
    """Worksheet rows whose first filled cell is a number, read by xlrd cell by cell (merged
    cells are not filled here: a row under a merged 序号 is not a new duty)."""
    import xlrd

    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    count = 0
    for sheet in book.sheets():
        for index in range(sheet.nrows):
            count += is_duty_row([cell_text(cell) for cell in sheet.row(index)])
    return count


def cell_text(cell: Any) -> str:
    """An xls cell as its text: cell_text(1.0) -> "1"."""
    value = cell.value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_value(cell: Any, shared: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return text_of(cell)
    value = cell.find(f"{XLSX}v")
    if value is None or value.text is None:
        return ""
    if kind == "s":
        index = int(value.text)
        return shared[index] if 0 <= index < len(shared) else ""
    text = str(value.text)
    return text[:-2] if text.endswith(".0") else text


def count_docx_rows(data: bytes, encoding: str | None) -> int:
    """Table rows of tables holding a 序号 cell whose first cell is a number, or is numbered
    by Word's automatic numbering."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = etree.fromstring(archive.read("word/document.xml"), parser)
        numbered_styles = set()  # paragraph styles that number their paragraphs (List Number)
        if "word/styles.xml" in archive.namelist():
            styles = etree.fromstring(archive.read("word/styles.xml"), parser)
            numbered_styles = {style.get(f"{DOCX}styleId") for style in styles.iter(f"{DOCX}style")
                               if style.find(f"{DOCX}pPr/{DOCX}numPr") is not None}
    count = 0
    for table in body.iter(f"{DOCX}tbl"):
        firsts = [row.find(f"{DOCX}tc") for row in table.iterchildren(f"{DOCX}tr")]
        texts = [text_of(cell) if cell is not None else "" for cell in firsts]
        if not any(unspaced(text) == "序号" for text in texts):
            continue
        for row, cell, text in zip(table.iterchildren(f"{DOCX}tr"), firsts, texts, strict=True):
            auto = cell is not None and not text.strip() and (
                cell.find(f".//{DOCX}numPr") is not None
                or any(style.get(f"{DOCX}val") in numbered_styles
                       for style in cell.iter(f"{DOCX}pStyle")))
            count += auto or (is_numbered(text)
                              and is_duty_row([text_of(c) for c in row.iterchildren(f"{DOCX}tc")]))
    return count


@cache
def heading_marks() -> re.Pattern[str]:
    return re.compile("|".join(numbering().headings))


# Cells recur from town to town of a county: their letters are read once.
@lru_cache(maxsize=4096)  # about 0.8 KB an entry
def letters(text: str) -> str:
    """The letters a check compares: letters("<p>一、审核：1.审核材料；</p>") -> "审核审核材料"."""
    if "<" in text or "&" in text:
        text = html.unescape(TAG.sub("", text))
    if FULL_WIDTH_LETTER.search(text):  # rare; translate costs a dict lookup per character
        text = text.translate(FOLD)
    return NOT_LETTER.sub("", heading_marks().sub("", text))


def lost_text(cell: str, kept: Iterable[str]) -> str:
    """The letters of `cell`, in order, that are in none of `kept` (each counted as often as
    it occurs). lost_text("1.甲乙；2.丙", ["甲乙"]) -> "丙"
    """
    want = letters(cell)
    have = letters("".join(kept))
    if want == have:  # the usual case: everything kept, in order
        return ""
    missing = Counter(want) - Counter(have)
    return "".join(missing_in_order(want, missing)) if missing else ""


def missing_in_order(text: str, missing: Counter[str]) -> Iterator[str]:
    left = Counter(missing)
    for char in text:
        if left[char] > 0:
            left[char] -= 1
            yield char
