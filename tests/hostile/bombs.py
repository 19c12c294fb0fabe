"""Hostile files, made small on disk in the test's own folder (nothing big is committed).

Each writer takes the path to write and returns it. The xlsx and docx start as real files
written by openpyxl and python-docx; only the hostile part is patched into their XML.
"""

import io
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

TITLE = "昌吉州玛纳斯县兰州湾镇基本履职事项清单"  # another town than the good document's


def span_bomb_html(path: Path, cells: int = 1300, per_row: int = 4) -> Path:
    """A ~49 KB portal page whose table cells each span 1000 columns and 1000 rows."""
    row = "<tr>" + '<td colspan=1000 rowspan=1000>x</td>' * per_row + "</tr>\n"
    body = row * (cells // per_row)
    path.write_text(f"<html><body><p><strong>{TITLE}</strong></p><table>\n"
                    "<tr><td>序号</td><td>事项类别</td><td>事项名称</td></tr>\n"
                    f"{body}</table></body></html>\n", encoding="utf-8")
    return path


def patch_zip(path: Path, member: str, patch: Callable[[str], str]) -> Path:
    """Rewrite one XML member of a zip container through `patch`."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[member] = patch(parts[member].decode("utf-8")).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def small_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "基本"
    sheet.append([TITLE])
    sheet.append(["序号", "事项类别", "事项名称"])
    sheet.append([1, "党的建设", "组织工作"])
    workbook.save(path)
    return path


def merge_bomb_xlsx(path: Path, ref: str = "A1:XFD1048576") -> Path:
    """A 2 KB workbook whose sheet merges every cell Excel can address."""
    small_xlsx(path)

    def merge(xml: str) -> str:
        return xml.replace("</sheetData>", f'</sheetData><mergeCells count="1">'
                           f'<mergeCell ref="{ref}"/></mergeCells>', 1)
    return patch_zip(path, "xl/worksheets/sheet1.xml", merge)


def far_cell_xlsx(path: Path) -> Path:
    """A workbook with one value in the sheet's last cell (XFD1048576): a 17-billion-cell grid."""
    small_xlsx(path)

    def far(xml: str) -> str:
        return xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                           "<is><t>x</t></is></c></row></sheetData>", 1)
    return patch_zip(path, "xl/worksheets/sheet1.xml", far)


def dense_xlsx(path: Path, rows: int, columns: int = 10, dimension: bool = False) -> Path:
    """A sheet of rows × columns numbers, written as raw XML so that making it is quick;
    its <dimension> is left out unless asked for (then it is right, as Excel writes it)."""
    small_xlsx(path)
    letters = [chr(ord("A") + i) for i in range(columns)]

    def dense(xml: str) -> str:
        body = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}"><v>{r}</v></c>' for c in letters)
                       + "</row>" for r in range(4, rows + 4))
        ref = f'<dimension ref="A1:{letters[-1]}{rows + 3}"/>' if dimension else ""
        xml = re.sub(r"<dimension ref=\"[^\"]*\"/>", ref, xml)
        return xml.replace("</sheetData>", body + "</sheetData>", 1)
    return patch_zip(path, "xl/worksheets/sheet1.xml", dense)


def long_merged_xlsx(path: Path, characters: int = 1_000_000, columns: int = 1000) -> Path:
    """A cell of a million characters merged across a thousand columns: a few thousand cells,
    but a row whose text is a billion characters once the merge is filled."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([TITLE])
    sheet.append(["序号", "事项类别", "事项名称"])
    sheet.append(["长" * characters])
    sheet.merge_cells(f"A3:{get_column_letter(columns)}3")
    workbook.save(path)
    return path


def small_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=2, cols=3)
    for column, word in enumerate(["序号", "事项类别", "事项名称"]):
        table.cell(0, column).text = word
    for column, word in enumerate(["1", "党的建设", "组织工作"]):
        table.cell(1, column).text = word
    document.save(path)
    return path


def grid_span_bomb_docx(path: Path, span: int = 100_000_000) -> Path:
    """A docx whose second row's first cell spans 100 million grid columns."""
    small_docx(path)

    def widen(xml: str) -> str:
        rows = xml.split("<w:tr")
        cells = rows[2].split("<w:tc>", 1)
        rows[2] = cells[0] + f'<w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' + cells[1]
        return "<w:tr".join(rows)
    return patch_zip(path, "word/document.xml", widen)


def entity_bomb_docx(path: Path) -> Path:
    """A docx whose document.xml declares the "billion laughs" entities and uses them."""
    small_docx(path)
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))

    def bomb(xml: str) -> str:
        xml = xml.replace("?>", f'?><!DOCTYPE w:document [<!ENTITY l0 "ha">{laughs}]>', 1)
        return xml.replace("组织工作", "&l9;", 1)
    return patch_zip(path, "word/document.xml", bomb)


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def symlink(path: Path, target: str | Path) -> Path:
    path.symlink_to(target)
    return path
