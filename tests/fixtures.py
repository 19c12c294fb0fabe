"""Realistic containers of the sample's rows, written by the libraries that write them.

The HTML page is hand-written (tests/data/portal-page.html) with the lists put in the
way county portals publish them; openpyxl writes the xlsx and python-docx the docx.
"""

import html
import re
from itertools import groupby
from pathlib import Path

from pipeline.tables import parse_tables, read_rows
from tests.conftest import DATA, SAMPLE

STEP_COLUMNS = {"上级部门职责", "凉州户镇配合职责", "承接部门及工作方式"}


def sample_sections(text: str | None = None) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of each list, read from the sample text (or another like it)."""
    tables = parse_tables(read_rows(text or SAMPLE.read_text(encoding="utf-8")))
    return [(s.title, s.header.cells, [r.cells for r in s.rows])  # type: ignore[union-attr]
            for s in tables.sections]


def as_lines(cell: str) -> str:
    """What a person types in a spreadsheet cell: one heading or numbered step per line."""
    text = re.sub(r"</?(?:p|ol)\b[^>]*>", "\n", cell)
    text = re.sub(r"\s+(?=\d+\.)", "\n", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def cell_value(header: str, value: str) -> str | int:
    if header == "序号":
        return int(value)
    return as_lines(value) if header in STEP_COLUMNS else value


def write_xlsx(path: Path, text: str | None = None, one_sheet: bool = False) -> Path:
    """One sheet per list (or all in one), a merged title row and categories merged down."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    sheet = workbook.create_sheet("清单") if one_sheet else None
    for title, header, rows in sample_sections(text):
        if not one_sheet:
            sheet = workbook.create_sheet(title[-8:])
        assert sheet is not None
        top = sheet.max_row + (2 if sheet.max_row > 1 else 0)
        sheet.cell(top, 1, title).font = Font(bold=True, size=16)
        sheet.merge_cells(start_row=top, start_column=1, end_row=top, end_column=len(header))
        for column, word in enumerate(header, start=1):
            sheet.cell(top + 1, column, word).font = Font(bold=True)
        first = top + 2
        for offset, row in enumerate(rows):
            for column, (word, value) in enumerate(zip(header, row, strict=True), start=1):
                cell = sheet.cell(first + offset, column, cell_value(word, value))
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        category = header.index("事项类别") + 1
        start = first
        for _, group in groupby(rows, key=lambda r: r[category - 1]):
            length = len(list(group))
            if length > 1:
                sheet.merge_cells(start_row=start, start_column=category,
                                  end_row=start + length - 1, end_column=category)
            start += length
    workbook.save(path)
    return path


def write_docx(path: Path, text: str | None = None) -> Path:
    """Title paragraphs, then one table per list with categories merged down."""
    import docx

    document = docx.Document()
    document.add_heading("关于公布履行职责事项清单的通知", level=1)
    for title, header, rows in sample_sections(text):
        document.add_paragraph().add_run(title).bold = True
        table = document.add_table(rows=1 + len(rows), cols=len(header))
        table.style = "Table Grid"
        for column, word in enumerate(header):
            table.cell(0, column).text = word
        for row, table_row in zip(rows, list(table.rows)[1:], strict=True):
            cells = table_row.cells  # table.cell() walks the whole table on every call
            for column, (word, value) in enumerate(zip(header, row, strict=True)):
                lines = str(cell_value(word, value)).split("\n")
                cell = cells[column]
                cell.text = lines[0]
                for line in lines[1:]:
                    cell.add_paragraph(line)
        category = header.index("事项类别")
        start = 1
        for _, group in groupby(rows, key=lambda r: r[category]):
            length = len(list(group))
            if length > 1:
                merged = table.cell(start, category).merge(table.cell(start + length - 1, category))
                merged.text = rows[start - 1][category]
            start += length
    document.save(path)
    return path


def write_html(path: Path, text: str | None = None) -> Path:
    """The portal page: titles in <p><strong>, categories as rowspan, cells as published."""
    parts = []
    for title, header, rows in sample_sections(text):
        parts.append(f'<p style="text-align:center"><strong>{html.escape(title)}</strong></p>')
        parts.append('<table border="1" cellspacing="0"><tbody>')
        parts.append("<tr>" + "".join(f"<th>{html.escape(w)}</th>" for w in header) + "</tr>")
        category = header.index("事项类别")
        spans = [len(list(g)) for _, g in groupby(rows, key=lambda r: r[category])]
        starts = {sum(spans[:i]): span for i, span in enumerate(spans)}
        for index, row in enumerate(rows):
            cells = []
            for column, (word, value) in enumerate(zip(header, row, strict=True)):
                if column == category:
                    if index not in starts:
                        continue
                    cells.append(f'<td rowspan="{starts[index]}">{html.escape(value)}</td>')
                elif word in STEP_COLUMNS:
                    cells.append(f"<td>{value}</td>")  # portal cells hold <ol>/<p> markup
                else:
                    cells.append(f"<td>{html.escape(value)}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table>")
    page = (DATA / "portal-page.html").read_text(encoding="utf-8")
    path.write_text(page.replace("<!-- LISTS -->", "\n".join(parts)), encoding="utf-8")
    return path
