"""A document as database rows: ids and all, built without a connection (in a worker when
-j > 1), so that the loading process only writes.

A place's duties and steps count up in source order from a block of ids of its own (its
division code, else a hashed guess the loader may move, loads.claim_block), each list from
its own part of the block.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.db import ID_LIMIT, Row, Rows, json_text, stable_id
from pipeline.records import Duty, Finding, ListKind, NormalizedDocument, Town
from pipeline.schema import (
    metadata,
)
from pipeline.versions import content_sha256, pack


def town_id(doc: NormalizedDocument) -> int:
    return stable_id(*doc.town.key)


BLOCK_BITS = 20
BLOCKS = ID_LIMIT >> BLOCK_BITS  # 953,674,316 blocks of 2^20 ids
LIST_BITS = 18  # each list of a place has its own part of the place's block
LISTS: tuple[ListKind, ...] = ("basic", "cooperative", "withdrawn")
BLOCK_LOCK = 0x626C6F636B73  # any constant bigint: "blocks"


def place_block(town: Town, tid: int) -> int:
    """The block a place's duty and step ids are taken from, as the worker proposes it; the
    loader keeps it unless another place holds it already (towns.row_block is the registry).

    A town's nine-digit division code (652324103) is its block: unique, and the same in any
    build. A town the dataset does not know gets a hashed block; it meets a taken one rarely
    (a billion blocks), and then takes the next free one.
    """
    if town.code and town.code.isdigit() and int(town.code) < BLOCKS:
        return int(town.code)
    return stable_id(tid, "rows") % BLOCKS


def row_block(block: int, kind: ListKind) -> int:
    """Where the duty and step ids of a place's list start: they count up from here.

    Consecutive ids keep each list's rows together in every index and let the FTS index
    append (random ids made loading twice as slow); a list's ids do not move when another
    list of the place is reloaded.
    """
    return (block << BLOCK_BITS) + (LISTS.index(kind) << LIST_BITS)




@dataclass(frozen=True)
class PreparedList:
    """One list of a document as rows: the unit a load replaces and versions."""

    kind: ListKind
    content_sha256: str
    content: bytes  # versions.pack of its duties
    duties: Rows
    steps: Rows
    duty_departments: Rows
    search: list[tuple[int, str, str]]  # (duty id, title, step text) for the search index

    @property
    def size(self) -> int:
        return len(self.duties.values)

    @property
    def too_large(self) -> bool:
        """More duties or steps than the list's block of ids holds."""
        return max(len(self.duties.values), len(self.steps.values)) >= 1 << LIST_BITS


@dataclass(frozen=True)
class Prepared:
    """One document as database rows, built without a connection (in a worker when -j > 1).

    Tuples, not records: the loading process only writes. Unpickling a document's thousand
    pydantic records cost it 7 ms of a town's ~40, and turning rows into tuples 7 more.
    """

    path: str
    sha256: str
    format: str
    encoding: str | None
    parser_version: str
    published: date | None  # as the document states it
    town_id: int
    town: str
    block: int  # place_block(town_id): where its rows' ids were counted from
    document_id: int
    rows_read: int
    duties: int  # how many
    quarantined: int
    findings: list[Finding]
    tables: dict[str, Rows]  # towns, departments, department_aliases
    lists: dict[ListKind, PreparedList]


def prepare(doc: NormalizedDocument) -> Prepared:
    """The rows `load_document` writes for `doc`, ids and all."""
    tid = town_id(doc)
    department_ids = {d.name: stable_id(d.name) for d in doc.departments}
    tables: dict[str, list[Row]] = {
        "towns": [{"id": tid, **doc.town.model_dump()}],
        "departments": [{"id": department_ids[d.name], "name": d.name,
                         "short_name": d.short_name, "jurisdiction": d.jurisdiction}
                        for d in doc.departments],
        "department_aliases": [{"jurisdiction": d.jurisdiction or "", "alias": alias,
                                "department_id": department_ids[d.name]}
                               for d in doc.departments for alias in d.aliases],
    }
    did = stable_id(tid, doc.sha256)
    kinds = [*doc.lists, *(k for k in LISTS if k not in doc.lists and
                           any(d.list == k for d in doc.duties))]
    block = place_block(doc.town, tid)
    lists = {kind: prepare_list(tid, did, block, kind, [d for d in doc.duties if d.list == kind],
                                department_ids) for kind in kinds}
    return Prepared(doc.path, doc.sha256, doc.format, doc.encoding, doc.parser_version,
                    doc.published, tid, doc.town.name, block, did, doc.rows_read, len(doc.duties),
                    doc.quarantined, doc.findings,
                    {name: Rows.of(metadata.tables[name], rows) for name, rows in tables.items()},
                    lists)


# Each table's columns in the table's order (a test holds them to schema.py): rows are built as
# tuples in this order directly, not as dicts that Rows.of would turn into tuples.
DUTY_COLUMNS = ("id", "document_id", "town_id", "list", "seq", "category", "title",
                "source_line", "source_sheet", "raw")
STEP_COLUMNS = ("id", "duty_id", "party", "position", "number", "section", "department_id",
                "text", "raw")
LINK_COLUMNS = ("duty_id", "department_id", "role", "written", "note")


def prepare_list(tid: int, did: int, block: int, kind: ListKind, list_duties: list[Duty],
                 department_ids: dict[str, int]) -> PreparedList:
    duties: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    search: list[tuple[int, str, str]] = []
    start = row_block(block, kind)
    step_id = start
    for duty_id, duty in enumerate(list_duties, start=start + 1):
        duties.append((duty_id, did, tid, duty.list, duty.seq, duty.category, duty.title,
                       duty.source_line, duty.source_sheet, json_text(duty.raw)))
        search.append((duty_id, duty.title, "\n".join(s.text for s in duty.steps)))
        for s in duty.steps:
            step_id += 1
            steps.append((step_id, duty_id, s.party, s.position, s.number, s.section,
                          department_ids.get(s.department) if s.department else None,
                          s.text, s.raw))
        # the departments stage keeps one link per department and role
        links.extend((duty_id, department_ids[link.department], link.role, link.written,
                      link.note) for link in duty.departments)
    return PreparedList(kind, content_sha256(list_duties), pack(list_duties),
                        table_rows(DUTY_COLUMNS, duties), table_rows(STEP_COLUMNS, steps),
                        table_rows(LINK_COLUMNS, links), search)


def table_rows(columns: tuple[str, ...], values: list[tuple[Any, ...]]) -> Rows:
    """Rows as Rows.of gives them: no columns when there are no rows."""
    return Rows(columns if values else (), values)
