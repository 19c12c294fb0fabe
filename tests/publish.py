"""Lists laid out as county offices publish them, and exported by LibreOffice as they do.

A published .docx is landscape, with ruled tables whose header row repeats on each page,
categories merged down, one paragraph per step, and a closing line after the last table;
a published .xlsx has one sheet per list, a merged title row, ruled and wrapped cells and
the header repeated on each printed page. `export` turns either into PDF, .doc or .xls
with LibreOffice, as a publisher's "save as" does.
"""

import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

import pytest

# (title, header, rows): each row a list of cells; a cell's lines are its paragraphs.
Section = tuple[str, list[str], list[list[str]]]
WIDE = {"事项名称": 3, "区级部门职责": 5, "上级部门职责": 5, "县级部门职责": 5, "工作方式": 5,
        "承接部门及工作方式": 6}


def width(word: str) -> int:
    """Relative column width: step columns wide, 序号 narrow."""
    if word == "序号":
        return 1
    if word.endswith("配合职责"):
        return 5
    return WIDE.get(word, 2)


def soffice() -> str:
    """The LibreOffice binary; tests fail without it under CI=true and skip elsewhere."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        message = "LibreOffice is not installed (apt-get install libreoffice-writer libreoffice-calc)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def export(source: Path, target_format: str, out: Path) -> Path:
    """source converted by LibreOffice into out/<stem>.<target_format>, in a fresh profile."""
    with tempfile.TemporaryDirectory(prefix="dutylists-export-") as profile:
        subprocess.run([soffice(), f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                        "--convert-to", target_format, "--outdir", str(out), str(source)],
                       check=True, capture_output=True, timeout=300)
    result = out / f"{source.stem}.{target_format}"
    assert result.is_file(), f"LibreOffice wrote no {result}"
    return result


def merged_runs(rows: Sequence[Sequence[str]], column: int) -> list[tuple[int, int]]:
    """(first row, length) of each run of equal values in a column, runs of 2 or more."""
    runs, start = [], 0
    for _, group in groupby(rows, key=lambda row: row[column]):
        length = len(list(group))
        if length > 1:
            runs.append((start, length))
        start += length
    return runs


def lines_needed(text: str, column_width: float) -> int:
    """Lines a wrapped cell takes: a Chinese character is two width units, a Latin one."""
    per_line = max(1.0, column_width - 2)
    return sum(max(1, math.ceil(sum(2 if ord(c) > 0x2E80 else 1 for c in paragraph) / per_line))
               for paragraph in text.split("\n"))


def write_docx(path: Path, sections: list[Section], heading: str, closing: str) -> Path:
    """Landscape A4, a heading, then per list a bold title and a ruled table."""
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    document = docx.Document()
    page = document.sections[0]
    page.orientation = WD_ORIENT.LANDSCAPE
    page.page_width, page.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(page, side, Cm(2))
    document.add_heading(heading, level=1)
    for title, header, rows in sections:
        document.add_paragraph().add_run(title).bold = True
        table = document.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        table.autofit = False
        total = sum(width(word) for word in header)
        for column, word in enumerate(header):
            for cell in table.columns[column].cells:
                cell.width = Cm(25.7 * width(word) / total)
            table.cell(0, column).text = word
        repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
        repeat.set(qn("w:val"), "true")
        table.rows[0]._tr.get_or_add_trPr().append(repeat)
        for index, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                lines = value.split("\n")
                cell = table.cell(index, column)
                cell.text = lines[0]
                for line in lines[1:]:
                    cell.add_paragraph(line)
        if "事项类别" in header:
            category = header.index("事项类别")
            for start, length in merged_runs(rows, category):
                merged = table.cell(start + 1, category).merge(table.cell(start + length, category))
                merged.text = rows[start][category]
    document.add_paragraph(closing)  # Word always ends a document with a paragraph
    document.save(path)
    return path


def write_xlsx(path: Path, sections: list[Section]) -> Path:
    """One sheet per list: merged title, ruled wrapped cells, categories merged down."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin")
    ruled = Border(left=thin, right=thin, top=thin, bottom=thin)
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for title, header, rows in sections:
        sheet = workbook.create_sheet(title[-8:])
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]
        sheet.print_title_rows = "2:2"  # the header on every printed page
        sheet.cell(1, 1, title).font = Font(bold=True, size=16)
        sheet.cell(1, 1).alignment = Alignment(horizontal="center")
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
        for column, word in enumerate(header, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = 9 * width(word)
            cell = sheet.cell(2, column, word)
            cell.font, cell.border = Font(bold=True), ruled
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for offset, row in enumerate(rows):
            # openpyxl cannot measure text; Excel stores each row's height, so we do too.
            sheet.row_dimensions[3 + offset].height = 16 * max(
                lines_needed(value, 9 * width(word)) for word, value in zip(header, row, strict=True))
            for column, (word, value) in enumerate(zip(header, row, strict=True), start=1):
                cell = sheet.cell(3 + offset, column, int(value) if word == "序号" else value)
                cell.border = ruled
                # Categories at the top of their merged block: a block cut by a page break
                # shows its text on the block's first page (centred, it may land on any).
                cell.alignment = Alignment(horizontal="center" if word in ("序号", "事项类别")
                                           else "left", vertical="top", wrap_text=True)
        if "事项类别" in header:
            category = header.index("事项类别") + 1
            for start, length in merged_runs(rows, category - 1):
                sheet.merge_cells(start_row=3 + start, start_column=category,
                                  end_row=2 + start + length, end_column=category)
    workbook.save(path)
    return path
