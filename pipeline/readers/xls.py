"""Legacy Excel workbooks (.xls, BIFF8) with xlrd: the same rows the xlsx reader gives.

Merged ranges are filled with their top-left value, as in xlsx; numbers, dates, booleans
and formula results become the text a reader sees in the cell (1.0 in 序号 reads "1").
"""

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from pipeline.budgets import DEFAULT, Budget, over
from pipeline.containers import cell_text, root_cause
from pipeline.errors import SourceError
from pipeline.tables import Row

if TYPE_CHECKING:
    from xlrd.book import Book
    from xlrd.sheet import Cell, Sheet


def xls_rows(name: str, data: bytes, budget: Budget = DEFAULT) -> Iterator[Row]:
    """Every sheet's rows in order, merged ranges filled; budgets checked per sheet first."""
    import xlrd

    try:
        # formatting_info: xlrd reports merged ranges only when it reads the formatting.
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
    except Exception as exc:  # xlrd raises many types for a damaged workbook
        raise SourceError(name, f"cannot open the .xls workbook ({root_cause(exc)}); "
                          "open and re-save it in Excel or LibreOffice", "format") from None
    cells_read = 0
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        cells_read += check_budget(name, sheet, cells_read, budget.max_cells)
        merged = merged_values(book, sheet)
        for row in range(sheet.nrows):
            cells = [merged.get((row, column)) or shown_value(book, cell)
                     for column, cell in enumerate(sheet.row(row))]
            if any(c.strip() for c in cells):
                yield Row(row + 1, cells, sheet.name)
        book.unload_sheet(index)


def check_budget(name: str, sheet: "Sheet", cells_read: int, max_cells: int) -> int:
    """The sheet's cell count (rows × columns), after refusing a sheet or merged ranges over
    the cell budget."""
    cells: int = sheet.nrows * sheet.ncols
    spanned = sum((r2 - r1) * (c2 - c1) for r1, r2, c1, c2 in sheet.merged_cells)
    if cells_read + cells > max_cells or spanned > max_cells:
        raise SourceError(name, f"sheet {sheet.name} has {max(cells, spanned):,} cells, "
                          + over("max_cells", f"{max_cells:,}-cell"), "too-large")
    return cells


def merged_values(book: "Book", sheet: "Sheet") -> dict[tuple[int, int], str]:
    """(row, column) → the text of the merged range that covers it (0-based, as xlrd)."""
    merged: dict[tuple[int, int], str] = {}
    for r1, r2, c1, c2 in sheet.merged_cells:  # half-open ranges
        if r1 >= sheet.nrows or c1 >= sheet.ncols:
            continue
        value = shown_value(book, sheet.cell(r1, c1))
        for row in range(r1, min(r2, sheet.nrows)):
            for column in range(c1, min(c2, sheet.ncols)):
                merged[row, column] = value
    return merged


def shown_value(book: "Book", cell: "Cell") -> str:
    """The cell as Excel shows it, near enough for a list: shown_value(number 1.0) -> "1".

    Formulas are stored with their last result, which is what xlrd gives; a date is
    written as 2024-05-01 (with the time when it has one).
    """
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            moment: datetime = xlrd.xldate_as_datetime(float(cell.value), book.datemode)
        except (ValueError, OverflowError):
            return cell_text(cell.value)
        return moment.strftime("%Y-%m-%d" if moment.time() == datetime.min.time()
                               else "%Y-%m-%d %H:%M:%S")
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(int(cell.value), "#ERROR"))
    return cell_text(cell.value)
