"""Exports: every table and view as CSV, Parquet or xlsx files, one per table.

CSV is UTF-8 with a BOM so that Excel opens the Chinese correctly. In CSV and xlsx a text
cell that begins with = + - or @ gets a leading apostrophe, so a spreadsheet never runs it
as a formula (CSV injection); Parquet keeps values as they are, typed.
"""

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "parquet", "xlsx")


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


def export(engine: Engine, out: Path, format: str) -> list[Path]:
    """Write one file per table and view into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    writer = {"csv": write_csv, "parquet": write_parquet, "xlsx": write_xlsx}[format]
    written = []
    for name in relations(engine):
        columns, rows = read_relation(engine, name)
        path = out / f"{name}.{format}"
        writer(path, columns, rows)
        written.append(path)
    return written


def write_csv(path: Path, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(columns)
        writer.writerows([neutralize(v) for v in row] for row in rows)


def write_parquet(path: Path, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = list(zip(*rows, strict=True)) or [() for _ in columns]
    table = pa.table({name: pa.array(list(values)) for name, values in
                      zip(columns, data, strict=True)})
    pq.write_table(table, path)


def write_xlsx(path: Path, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(path.stem[:31])
    sheet.append(columns)
    for row in rows:
        sheet.append([neutralize(v) for v in row])
    workbook.save(path)
