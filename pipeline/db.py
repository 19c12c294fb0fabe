"""The database: engines, and loading one document per transaction (the schema is schema.py).

Keys are deterministic (stable_id over natural keys; a place's duties and steps count up
in source order from its own block), so a rebuild gives the same ids in any load order,
and a department's identity is its canonical name.
"""

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Engine,
    Table,
    create_engine,
    delete,
    event,
    exists,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline import parser_version
from pipeline.errors import DatabaseError, mask_url
from pipeline.records import Finding, NormalizedDocument
from pipeline.schema import (
    department_aliases,
    departments,
    documents,
    duties,
    duty_departments,
    metadata,
    quality_issues,
    run_documents,
    runs,
    steps,
    towns,
)


def stable_id(*parts: object) -> int:
    """A 63-bit id from natural-key parts: the same parts give the same id in any run."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) >> 1


def open_engine(url: str, existing: bool = False) -> Engine:
    """An engine for `url`, checked by connecting once; DatabaseError says what to do.

    With existing=True the database must already hold a build (for commands that only read).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"{url}: not a database URL; use sqlite:///path.db or "
                            "postgresql://user@host/db") from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if existing and not Path(parsed.database).exists():
            raise DatabaseError(f"no database at {parsed.database}; build it first with make "
                                "or pipeline build")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # Chinese stays readable in JSON columns (raw cells) for anyone browsing the database.
    engine = create_engine(parsed, json_serializer=json_text)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(f"cannot connect to {mask_url(url)}: {reason}; check that the "
                            "server is running, the database exists and the URL is right") from None
    if existing and not inspect(engine).has_table("duties"):
        raise DatabaseError(f"{mask_url(url)} holds no duties yet; build it first with make "
                            "or pipeline build")
    return engine


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL: readers (Datasette) never block the loader, and a commit costs one sync, not
    # several; a killed process still leaves the last committed state.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def town_id(doc: NormalizedDocument) -> int:
    town = doc.town
    return stable_id(town.province, town.prefecture, town.county, town.name)


BLOCK_BITS = 20


def row_block(tid: int) -> int:
    """Where a place's duty and step ids start: they count up from here, in source order.

    Consecutive ids keep each place's rows together in every index and let the FTS index
    append (random ids made loading twice as slow). Two places whose blocks met would make
    the second load fail on a unique key, loudly, never overwrite the first.
    """
    return stable_id(tid, "rows") >> BLOCK_BITS << BLOCK_BITS


Row = dict[str, Any]


@dataclass(frozen=True)
class Rows:
    """One table's rows as the drivers take them: one tuple per row, JSON already text."""

    columns: tuple[str, ...]  # in the table's order
    values: list[tuple[Any, ...]]

    @classmethod
    def of(cls, table: Table, rows: list[Row]) -> "Rows":
        if not rows:
            return cls((), [])
        columns = tuple(c.name for c in table.columns if c.name in rows[0])
        json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
        return cls(columns, [tuple(json_text(row[c]) if c in json_columns else row[c]
                                   for c in columns) for row in rows])

    def dicts(self) -> list[Row]:
        return [dict(zip(self.columns, value, strict=True)) for value in self.values]


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
    town_id: int
    document_id: int
    rows_read: int
    duties: int  # how many
    quarantined: int
    findings: list[Finding]
    tables: dict[str, Rows]  # towns, departments, … steps, in insert order
    search: list[tuple[int, str, str]]  # (duty id, title, step text) for the search index

    @property
    def too_large(self) -> bool:
        """More duties or steps than the place's block of ids holds."""
        return max(len(self.tables["duties"].values),
                   len(self.tables["steps"].values)) >= 1 << BLOCK_BITS


def prepare(doc: NormalizedDocument) -> Prepared:
    """The rows `load_document` writes for `doc`, ids and all."""
    tid = town_id(doc)
    did = stable_id(tid, doc.path)
    department_ids = {d.name: stable_id(d.name) for d in doc.departments}
    tables: dict[str, list[Row]] = {
        "towns": [{"id": tid, **doc.town.model_dump()}],
        "departments": [{"id": department_ids[d.name], "name": d.name,
                         "short_name": d.short_name, "jurisdiction": d.jurisdiction}
                        for d in doc.departments],
        "department_aliases": [{"jurisdiction": d.jurisdiction or "", "alias": alias,
                                "department_id": department_ids[d.name]}
                               for d in doc.departments for alias in d.aliases],
        "duties": [], "steps": [], "duty_departments": [],
    }
    search: list[tuple[int, str, str]] = []
    block = row_block(tid)
    step_id = block
    for duty_id, duty in enumerate(doc.duties, start=block + 1):
        tables["duties"].append({
            "id": duty_id, "document_id": did, "town_id": tid, "list": duty.list,
            "seq": duty.seq, "category": duty.category, "title": duty.title,
            "source_line": duty.source_line, "source_sheet": duty.source_sheet, "raw": duty.raw,
        })
        search.append((duty_id, duty.title, "\n".join(s.text for s in duty.steps)))
        tables["steps"].extend({
            "id": (step_id := step_id + 1), "duty_id": duty_id,
            "party": s.party, "position": s.position, "number": s.number,
            "section": s.section, "text": s.text, "raw": s.raw,
            "department_id": department_ids.get(s.department) if s.department else None,
        } for s in duty.steps)
        tables["duty_departments"].extend({
            "duty_id": duty_id, "department_id": department_ids[link.department],
            "role": link.role, "written": link.written, "note": link.note,
        } for link in duty.departments)  # the departments stage keeps one per department and role
    return Prepared(doc.path, doc.sha256, doc.format, doc.encoding, doc.parser_version, tid, did,
                    doc.rows_read, len(doc.duties), doc.quarantined, doc.findings,
                    {name: Rows.of(metadata.tables[name], rows) for name, rows in tables.items()},
                    search)


def lock_place(conn: Connection, prepared: Prepared) -> None:
    """Serialize loads of one place across processes (PostgreSQL; SQLite locks the file).

    Taken first in the document's transaction and released when it ends, so two builds of
    the same place started at once load it one after the other.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": prepared.town_id})


def is_loaded(conn: Connection, prepared: Prepared) -> bool:
    """True when the place's loaded document has this content and parser version."""
    query = select(exists().where(
        documents.c.town_id == prepared.town_id,
        documents.c.sha256 == prepared.sha256,
        documents.c.parser_version == prepared.parser_version,
    ))
    return bool(conn.execute(query).scalar())


def start_run(engine: Engine, arguments: list[str]) -> int:
    with engine.begin() as conn:
        result = conn.execute(runs.insert().values(
            started_at=now(), parser_version=parser_version(),
            arguments=json.dumps(arguments, ensure_ascii=False)))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_run(engine: Engine, run_id: int, counts: dict[str, int]) -> None:
    with engine.begin() as conn:
        conn.execute(update(runs).where(runs.c.id == run_id).values(finished_at=now(), **counts))


def record_document(conn: Connection, run_id: int, path: str, status: str,
                    prepared: Prepared | None) -> None:
    """One run_documents row."""
    conn.execute(run_documents.insert().values(
        run_id=run_id, path=path, status=status,
        rows_read=prepared.rows_read if prepared else 0,
        duties_loaded=prepared.duties if prepared and status == "loaded" else 0,
        rows_quarantined=prepared.quarantined if prepared else 0,
    ))


def record_findings(conn: Connection, run_id: int, document_id: int | None,
                    findings: Iterable[Any]) -> None:
    rows = [
        {"run_id": run_id, "document_id": document_id, **f.model_dump()}
        for f in findings
    ]
    if rows:
        conn.execute(quality_issues.insert(), rows)


def load_document(conn: Connection, prepared: Prepared, run_id: int) -> int:
    """Replace the document's place in the database; call inside one transaction.

    Returns the document id.
    """
    from pipeline.search import index_duties, unindex_town

    if prepared.too_large:
        raise DatabaseError(f"{prepared.path}: more than {(1 << BLOCK_BITS) - 1:,} duties or "
                            "steps in one place; split the document")
    tid = prepared.town_id
    previous = town_departments(conn, tid)
    unindex_town(conn, tid)
    delete_town(conn, tid)
    tables = prepared.tables
    insert_missing(conn, towns, tables["towns"])
    conn.execute(documents.insert().values(
        id=prepared.document_id, town_id=tid, path=prepared.path, sha256=prepared.sha256,
        format=prepared.format, encoding=prepared.encoding,
        parser_version=prepared.parser_version, loaded_at=now(), rows_read=prepared.rows_read,
        duties_loaded=prepared.duties, rows_quarantined=prepared.quarantined,
    ))
    insert_missing(conn, departments, tables["departments"])
    insert_missing(conn, department_aliases, tables["department_aliases"])
    insert_all(conn, duties, tables["duties"])
    index_duties(conn, prepared.search)
    insert_all(conn, steps, tables["steps"])
    insert_all(conn, duty_departments, tables["duty_departments"])
    delete_orphan_departments(conn, previous)
    fault_point("mid-load")
    return prepared.document_id


def fault_point(name: str) -> None:
    """Pause here when PIPELINE_FAULT names this point, so a test can kill a real build.

    The test sets PIPELINE_FAULT=mid-load and PIPELINE_FAULT_FILE=path: the build writes the
    file, with the old rows deleted and the new ones written but not committed, and waits.
    """
    if os.environ.get("PIPELINE_FAULT") == name:
        Path(os.environ["PIPELINE_FAULT_FILE"]).write_text(str(os.getpid()))
        time.sleep(600)


def delete_town(conn: Connection, tid: int) -> None:
    town_duties = select(duties.c.id).where(duties.c.town_id == tid)
    conn.execute(delete(duty_departments).where(duty_departments.c.duty_id.in_(town_duties)))
    conn.execute(delete(steps).where(steps.c.duty_id.in_(town_duties)))
    conn.execute(delete(duties).where(duties.c.town_id == tid))
    conn.execute(delete(documents).where(documents.c.town_id == tid))


def town_departments(conn: Connection, tid: int) -> set[int]:
    """Departments the place's current rows refer to: the only ones its reload can orphan."""
    town_duties = select(duties.c.id).where(duties.c.town_id == tid)
    linked = select(duty_departments.c.department_id).where(
        duty_departments.c.duty_id.in_(town_duties))
    headed = select(steps.c.department_id).where(
        steps.c.duty_id.in_(town_duties), steps.c.department_id.is_not(None))
    return {department for (department,) in conn.execute(linked.union(headed))}


def delete_orphan_departments(conn: Connection, candidates: set[int]) -> None:
    """Drop those of `candidates` that no duty or step refers to any more, with their aliases.

    Checking only the reloaded place's departments keeps a load's cost independent of the
    size of the database.
    """
    if not candidates:
        return
    orphans = [department for (department,) in conn.execute(
        select(departments.c.id).where(
            departments.c.id.in_(sorted(candidates)),
            ~exists().where(duty_departments.c.department_id == departments.c.id),
            ~exists().where(steps.c.department_id == departments.c.id)))]
    for chunk in range(0, len(orphans), 500):
        ids = orphans[chunk: chunk + 500]
        conn.execute(delete(department_aliases).where(department_aliases.c.department_id.in_(ids)))
        conn.execute(delete(departments).where(departments.c.id.in_(ids)))


def insert_all(conn: Connection, table: Table, rows: Rows) -> None:
    """Bulk insert: COPY on PostgreSQL, the driver's executemany elsewhere.

    The INSERT is compiled by SQLAlchemy once and the tuples go to the driver as they are:
    SQLAlchemy's per-row parameter processing cost more than SQLite's inserting.
    """
    if not rows.values:
        return
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, rows)
        return
    statement = table.insert().compile(dialect=conn.dialect, column_keys=list(rows.columns))
    conn.exec_driver_sql(str(statement), rows.values)


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def copy_rows(conn: Connection, table: Table, rows: Rows) -> None:
    """COPY … FROM STDIN through psycopg 3, inside the connection's open transaction."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, rows.columns)))
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for value in rows.values:
            copy.write_row(value)


def insert_missing(conn: Connection, table: Table, rows: Rows) -> None:
    """Insert rows whose key is not there yet (INSERT … ON CONFLICT DO NOTHING)."""
    if not rows.values:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows.dicts())


def now() -> datetime:
    return datetime.now(UTC)


def department_summary(engine: Engine) -> list[dict[str, Any]]:
    """Each department with its aliases and its duty counts per role, busiest first."""
    from sqlalchemy import func

    with engine.connect() as conn:
        aliases: dict[int, list[str]] = {}
        for department_id, alias in conn.execute(
                select(department_aliases.c.department_id, department_aliases.c.alias)
                .distinct().order_by(department_aliases.c.alias)):
            aliases.setdefault(department_id, []).append(alias)
        counts: dict[tuple[int, str], int] = {
            (department_id, role): number for department_id, role, number in conn.execute(
                select(duty_departments.c.department_id, duty_departments.c.role, func.count())
                .group_by(duty_departments.c.department_id, duty_departments.c.role))
        }
        rows = conn.execute(select(departments).order_by(departments.c.name)).mappings().all()
    summary = [
        {**row, "aliases": aliases.get(row["id"], []),
         **{role: counts.get((row["id"], role), 0)
            for role in ("counterpart", "receiver", "mentioned")}}
        for row in rows
    ]
    return sorted(summary, key=lambda r: (-r["counterpart"] - r["receiver"], r["name"]))
