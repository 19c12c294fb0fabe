"""Exports: every table and view as CSV, Parquet or xlsx files, one per table.

CSV is UTF-8 with a BOM so that Excel opens the Chinese correctly. In CSV and xlsx a text
cell that begins with = + - or @ gets a leading apostrophe, so a spreadsheet never runs it
as a formula (CSV injection); Parquet keeps values as they are, typed.
xlsx cannot hold most control characters (XML 1.0 forbids them): they are removed and
counted, so that a stray \x0b in a raw cell never stops an export half-way. Each file is
written beside its final name and renamed, so an export never leaves half a file.
"""

import csv
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "parquet", "xlsx")
# What XML 1.0 (and so xlsx) cannot hold: C0 controls but tab and line ends, lone
# surrogates, U+FFFE and U+FFFF. openpyxl refuses the controls with IllegalCharacterError.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A writer writes `rows` under `columns` to a path and returns how many characters it removed.
Writer = Callable[[Path, list[str], Iterator[tuple[Any, ...]]], int]


@dataclass(frozen=True)
class Exported:
    path: Path
    removed: int  # characters the format cannot hold, removed


# Spreadsheets hold 15 significant digits: a longer integer is written as text to stay exact.
EXACT_IN_SPREADSHEETS = 10**15


def neutralize(value: Any) -> Any:
    """neutralize("=1+1") -> "'=1+1"; neutralize(2**60) -> "1152921504606846976"; other
    numbers and text pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= EXACT_IN_SPREADSHEETS:
        return str(value)
    return value


def plain(value: Any) -> Any:
    """JSON columns (raw cells) as JSON text; everything else unchanged."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def relations(engine: Engine) -> list[str]:
    """Every table and view an analyst reads, in a stable order."""
    from pipeline.schema import metadata
    from pipeline.views import VIEWS

    existing = set(inspect(engine).get_table_names()) | set(inspect(engine).get_view_names())
    return [name for name in [*(t.name for t in metadata.sorted_tables), *VIEWS]
            if name in existing]


def selected(engine: Engine, name: str) -> str:
    """The SELECT of one export: every column but binary ones (a version's compressed duties,
    which `pipeline history --version` prints), ordered by the table's key — every column,
    for a view — so that two exports of the same data are identical from either database."""
    from sqlalchemy import LargeBinary

    from pipeline.schema import metadata

    table = metadata.tables.get(name)
    if table is None:
        columns = [c["name"] for c in inspect(engine).get_columns(name)]
        order = columns
    else:
        columns = [c.name for c in table.columns if not isinstance(c.type, LargeBinary)]
        order = [c.name for c in table.primary_key.columns] or columns
    listed = ", ".join(f'"{c}"' for c in columns)
    keys = ", ".join(f'"{c}" NULLS FIRST' for c in order)  # SQLite's default, not PostgreSQL's
    return f'SELECT {listed} FROM "{name}" ORDER BY {keys}'


def read_relation(engine: Engine, name: str) -> tuple[list[str], Iterator[tuple[Any, ...]]]:
    with engine.connect() as conn:
        # names from relations() and the schema only
        result = conn.execute(text(selected(engine, name)))
        columns = list(result.keys())
        rows = [tuple(plain(v) for v in row) for row in result]
    return columns, iter(rows)


def export(engine: Engine, out: Path, format: str) -> list[Exported]:
    """Write one file per table and view into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    writer: Writer = {"csv": write_csv, "parquet": write_parquet, "xlsx": write_xlsx}[format]
    written = []
    staging = Path(tempfile.mkdtemp(dir=out, prefix=".export-"))
    try:
        for name in relations(engine):
            columns, rows = read_relation(engine, name)
            path = staging / f"{name}.{format}"
            try:
                removed = writer(path, columns, rows)
                written.append(Exported(path.replace(out / path.name), removed))
            except OSError as exc:  # name the file the user asked for (a full disk names none)
                raise OSError(exc.errno, exc.strerror, str(out / path.name)) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def write_csv(path: Path, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    """CSV holds any character; NUL included (Python's csv writes it as it is)."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows([neutralize(v) for v in row] for row in rows)
    return 0


def write_parquet(path: Path, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = list(zip(*rows, strict=True)) or [() for _ in columns]
    table = pa.table({name: pa.array(list(values)) for name, values in
                      zip(columns, data, strict=True)})
    pq.write_table(table, path)
    return 0


def write_xlsx(path: Path, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(path.stem[:31])
    removed = 0

    def cell(value: Any) -> Any:
        nonlocal removed
        if isinstance(value, str):
            value, count = NOT_IN_XML.subn("", value)
            removed += count
        return neutralize(value)

    sheet.append([cell(c) for c in columns])
    for row in rows:
        sheet.append([cell(v) for v in row])
    workbook.save(path)
    return removed


# Sheet names: at most 31 characters, none of these.
NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def export_coverage(engine: Engine, out: Path) -> Path:
    """The catalogue's coverage matrix as one xlsx: a sheet per county, an item a row and a
    place a column, 1 where the place holds the item and 0 where it does not; a 0 where most
    of the county holds the item (a gap) is filled red. Written beside `out` and renamed."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, PatternFill

    from pipeline.coverage import read_matrices

    workbook = Workbook(write_only=True)
    gap = PatternFill("solid", fgColor="FDE2E1")
    vertical = Alignment(text_rotation=255)  # 255: characters stacked, as 汉字 are written
    names: set[str] = set()
    for matrix in read_matrices(engine) or []:
        sheet = workbook.create_sheet(sheet_name(matrix.group or "未分县", names))
        sheet.freeze_panes = "E2"

        sheet.append([heading(sheet, word) for word in ("清单 list", "编码 code", "事项 item",
                                                        "乡镇数 places")]
                     + [heading(sheet, town.name, vertical) for town in matrix.towns])
        for item in matrix.items:
            row: list[Any] = [item.list, item.code, neutralize(NOT_IN_XML.sub("", item.title)),
                              matrix.holders(item)]
            for town in matrix.towns:
                cell = WriteOnlyCell(sheet, int((item.id, town.id) in matrix.present))
                if matrix.is_gap(item, town):
                    cell.fill = gap
                row.append(cell)
            sheet.append(row)
    if not names:
        workbook.create_sheet("coverage").append(["No duty is in the catalogue yet."])
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.partial")
    try:
        workbook.save(staging)
        staging.replace(out)
    finally:
        staging.unlink(missing_ok=True)
    return out


def heading(sheet: Any, value: str, alignment: Any = None) -> Any:
    """A bold header cell of a write-only sheet."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, NOT_IN_XML.sub("", value))
    cell.font = Font(bold=True)
    if alignment is not None:
        cell.alignment = alignment
    return cell


def sheet_name(name: str, taken: set[str]) -> str:
    """sheet_name("新疆维吾尔自治区昌吉回族自治州玛纳斯县", set()) -> its last 31 characters
    (the county end says most); a name already taken gets " (2)", " (3)"…"""
    base = NOT_IN_SHEET_NAMES.sub("", name)[-31:] or "sheet"
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = base[-(31 - len(suffix)):] + suffix
    taken.add(candidate)
    return candidate
