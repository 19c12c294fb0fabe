"""A reference catalogue (目录) that a county or province publishes: code, title[, category]
[, list], as CSV or xlsx. Imported, its rows become the catalogue items of their lists
(source 'reference') and every town's duties of those lists are matched to them again.

The header names each column, in English or as the 目录 writes it (HEADERS); a list column
holds basic/cooperative/withdrawn or the Chinese list name (基本履职事项…); without one,
every row belongs to the list given (default basic). A bad file is refused whole, with the
file, line and what to fix; nothing is written.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, delete, text

from pipeline.db import finish_run, stable_id, start_run, writing
from pipeline.errors import UsageError, escape, path_text
from pipeline.records import ListKind
from pipeline.schema import catalogue_items
from pipeline.versions import title_key

if TYPE_CHECKING:
    from pipeline.catalogue import CatalogueOutcome

# Column → the header words that name it (case and spaces ignored).
HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "编码", "代码", "编号", "事项编码", "目录编码", "事项代码"),
    "title": ("title", "事项名称", "名称", "事项"),
    "category": ("category", "事项类别", "类别"),
    "list": ("list", "清单", "清单类型", "清单名称"),
}
# A list cell: our name, or a word of the Chinese name.
LIST_WORDS: dict[str, ListKind] = {"basic": "basic", "cooperative": "cooperative",
                                   "withdrawn": "withdrawn", "基本": "basic", "配合": "cooperative",
                                   "收回": "withdrawn"}
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Reference:
    line: int
    code: str
    title: str
    category: str | None
    list: ListKind


def read_reference(path: Path, default_list: ListKind = "basic") -> list[Reference]:
    """The rows of a reference catalogue file; UsageError naming the line when one is wrong."""
    rows = read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") else read_csv(path)
    name = escape(path_text(path))
    header_at = next((i for i, row in enumerate(rows) if any(cell for cell in row)), None)
    if header_at is None:
        raise UsageError(f"{name}: empty; a reference catalogue has a header row "
                         "(code, title[, category][, list]) and a row per item")
    columns = header_columns(rows[header_at])
    missing = [c for c in ("code", "title") if c not in columns]
    if missing:
        raise UsageError(f"{name}:{header_at + 1}: no {' or '.join(missing)} column in the header "
                         f"{[c for c in rows[header_at] if c]}; name them code and title (or "
                         "编码 and 事项名称)")
    found: list[Reference] = []
    seen_codes: dict[tuple[str, str], int] = {}
    seen_titles: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(row):
            continue
        cell = {c: (row[i] if i < len(row) else "") for c, i in columns.items()}
        if not cell["code"] or not cell["title"]:
            raise UsageError(f"{name}:{index}: a row without a {'code' if not cell['code'] else 'title'}; "
                             "every item needs both")
        kind = list_kind(cell.get("list") or "", default_list)
        if kind is None:
            raise UsageError(f"{name}:{index}: list {cell['list']!r} is none of basic, "
                             "cooperative, withdrawn (or 基本/配合/收回)")
        key = title_key(cell["title"])
        for seen, value, what in ((seen_codes, cell["code"], "code"), (seen_titles, key, "title")):
            if (kind, value) in seen:
                raise UsageError(f"{name}:{index}: the same {what} as line {seen[(kind, value)]} "
                                 f"in the {kind} list; each item needs its own")
            seen[(kind, value)] = index
        found.append(Reference(index, cell["code"], cell["title"], cell.get("category") or None,
                               kind))
    if len(found) > MAX_ROWS:
        raise UsageError(f"{name}: more than {MAX_ROWS:,} items; is this a catalogue?")
    return found


def header_columns(row: list[str]) -> dict[str, int]:
    """header_columns(["编码", "事项名称"]) -> {"code": 0, "title": 1}."""
    words = {word.casefold(): column for column, names in HEADERS.items() for word in names}
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        column = words.get("".join(cell.split()).casefold())
        if column and column not in found:
            found[column] = index
    return found


def list_kind(value: str, default: ListKind) -> ListKind | None:
    """list_kind("配合履职事项清单", "basic") -> "cooperative"; an empty cell is the default."""
    if not value.strip():
        return default
    return next((kind for word, kind in LIST_WORDS.items() if word in value.casefold()), None)


def read_csv(path: Path) -> list[list[str]]:
    data = read_bytes(path)
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        try:
            decoded = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UsageError(f"{escape(path_text(path))}: neither UTF-8 nor GB18030 text; save it as "
                         "CSV UTF-8 or as .xlsx")
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(decoded))]


def read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    data = read_bytes(path)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged or foreign file
        raise UsageError(f"{escape(path_text(path))}: not a readable .xlsx ({exc}); save it "
                         "again from Excel or WPS, or as CSV") from None
    sheet = workbook.worksheets[0]
    rows = [["" if value is None else str(value).strip() for value in row]
            for row in sheet.iter_rows(values_only=True)]
    workbook.close()
    return rows


def read_bytes(path: Path) -> bytes:
    """The file's bytes, at most 50 MiB (a catalogue is far smaller)."""
    limit = 50 << 20
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {escape(path_text(path))}: {exc.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{escape(path_text(path))}: larger than 50 MiB; is this a catalogue?")
    return data


@dataclass(frozen=True)
class Imported:
    items: dict[str, int]  # reference items per list
    matched: "CatalogueOutcome"  # what matching those lists again did


def import_reference(engine: Engine, path: Path, arguments: list[str],
                     default_list: ListKind = "basic") -> Imported:
    """Make the file's rows the reference items of their lists (replacing any imported before)
    and match every town's duties of those lists to them again, in one transaction."""
    from pipeline.catalogue import CATALOGUE_LOCK, clear, match_lists

    references = read_reference(path, default_list)
    if not references:
        raise UsageError(f"{escape(path_text(path))}: a header and no items; nothing imported")
    kinds = tuple(sorted({ref.list for ref in references}))
    from pipeline.schema import ensure_schema

    ensure_schema(engine)
    run_id = start_run(engine, arguments)
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOGUE_LOCK})
        clear(conn, kinds)  # every match of these lists is made again
        conn.execute(delete(catalogue_items).where(catalogue_items.c.source == "reference",
                                                   catalogue_items.c.list.in_(kinds)))
        conn.execute(catalogue_items.insert(), [
                {"id": stable_id("catalogue", ref.list, "code", ref.code), "list": ref.list,
                 "title": ref.title, "title_key": title_key(ref.title),
                 "category": ref.category, "code": ref.code, "source": "reference"}
            for ref in references])
        outcome = match_lists(conn, run_id, True, kinds)
    finish_run(engine, run_id, {})
    return Imported({kind: sum(ref.list == kind for ref in references) for kind in kinds}, outcome)
