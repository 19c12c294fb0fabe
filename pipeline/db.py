"""The database: engines, and loading one document per transaction (the schema is schema.py).

Keys are deterministic (stable_id over natural keys; a place's duties and steps count up
in source order from its own block), so a rebuild gives the same ids in any load order,
and a department's identity is its canonical name.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
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
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline import parser_version
from pipeline.errors import DatabaseError, PipelineError, UsageError, escape, mask_arguments, mask_url
from pipeline.records import Duty, Finding, ListKind, NormalizedDocument, Town
from pipeline.schema import (
    department_aliases,
    departments,
    documents,
    duties,
    duty_changes,
    duty_departments,
    list_versions,
    metadata,
    quality_issues,
    run_documents,
    runs,
    steps,
    towns,
)
from pipeline.versions import Diff, Unsure, content_sha256, diff_duties, pack, title_key, unpack

# Every id is below 10^15: exact in JavaScript (Datasette's JSON, 2^53), in float64 (pandas
# reading a CSV column with blanks) and in a spreadsheet's 15 significant digits.
ID_LIMIT = 10**15


def stable_id(*parts: object) -> int:
    """An id from natural-key parts, below ID_LIMIT: the same parts give the same id in any run.

    A collision between two of a million departments has a chance of about 1 in 2,000.
    """
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest) % ID_LIMIT


def open_engine(url: str, existing: bool = False) -> Engine:
    """An engine for `url`, checked by connecting once; DatabaseError says what to do.

    With existing=True the database must already hold a build (for commands that only read).
    UsageError for a URL we do not serve: another database, or SQLite without a file.
    """
    parsed = check_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite" and parsed.query.get("uri") != "true":
        database = Path(str(parsed.database))
        if existing and not database.exists():
            raise DatabaseError(f"no database at {escape(str(database))}; build it first with "
                                "make or pipeline build")
        try:
            database.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = "a file of that name is in the way" if isinstance(exc, FileExistsError) \
                else exc.strerror
            raise DatabaseError(f"cannot create the folder {escape(str(database.parent))} for "
                                f"the database: {reason}") from None
    if parsed.get_backend_name() == "postgresql":
        # UTF-8 on the wire whatever the server's encoding, so that a SQL_ASCII database
        # reaches check_postgres' refusal instead of failing inside the driver on bytes.
        options["connect_args"] = {"client_encoding": "utf8"}
    # Chinese stays readable in JSON columns (raw cells) for anyone browsing the database.
    engine = create_engine(parsed, json_serializer=json_text, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", sqlite_pragmas)
        event.listen(engine, "begin", sqlite_begin)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        if engine.dialect.name == "sqlite":
            raise DatabaseError(f"cannot open the database {escape(str(parsed.database))}: "
                                f"{reason}; check that its folder can be written") from None
        raise DatabaseError(f"cannot connect to {mask_url(url)}: {reason}; check that the "
                            "server is running, the database exists and the URL is right") from None
    if existing and not inspect(engine).has_table("duties"):
        raise DatabaseError(f"{mask_url(url)} holds no duties yet; build it first with make "
                            "or pipeline build")
    return engine


def check_url(url: str) -> URL:
    """The parsed URL of a database we serve: a SQLite file, or PostgreSQL.

    check_url("mysql://u@h/db") raises UsageError; so does "sqlite://" (in memory: a build
    into it would vanish when the command ends, having said "loaded").
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise UsageError(f"{mask_url(url)}: not a database URL; use sqlite:///path.db or "
                         "postgresql://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise UsageError(f"{mask_url(url)}: {backend} databases are not supported; use "
                         "sqlite:///path.db or postgresql://user@host/db")
    if backend == "sqlite" and (parsed.database in (None, "", ":memory:")
                                or str(parsed.database).startswith("file::memory:")
                                or parsed.query.get("mode") == "memory"):
        raise UsageError(f"{mask_url(url)}: names no database file (SQLite would keep it in memory and "
                         "lose it when the command ends); use sqlite:///path.db")
    return parsed


# What says the database cannot be written at all, rather than that one document is wrong:
# SQLite's result codes, PostgreSQL's SQLSTATE classes and codes.
SQLITE_CANNOT_WRITE = {8: "READONLY", 10: "IOERR", 13: "FULL", 14: "CANTOPEN"}
POSTGRES_CANNOT_WRITE = ("53", "58", "25006")  # resources (disk full…), system error, read-only


def cannot_write(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be written (full, read-only, I/O error)."""
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in SQLITE_CANNOT_WRITE  # extended codes keep the primary below
    sqlstate = getattr(orig, "sqlstate", None) or ""
    return sqlstate.startswith(POSTGRES_CANNOT_WRITE)


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling off: sqlite_begin() says BEGIN, and how.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # WAL: readers (Datasette) never block the loader, and a commit costs one sync, not
    # several; a killed process still leaves the last committed state.
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for a writing() transaction (SQLAlchemy's pysqlite recipe)."""
    conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('sqlite_begin', '')}")


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

    def shifted(self, columns: set[str], delta: int) -> "Rows":
        """The rows with `delta` added to the named columns (moving rows to another block)."""
        at = [i for i, name in enumerate(self.columns) if name in columns]
        return Rows(self.columns, [tuple(v + delta if i in at and v is not None else v
                                         for i, v in enumerate(value)) for value in self.values])


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


def prepare_list(tid: int, did: int, block: int, kind: ListKind, list_duties: list[Duty],
                 department_ids: dict[str, int]) -> PreparedList:
    rows: dict[str, list[Row]] = {"duties": [], "steps": [], "duty_departments": []}
    search: list[tuple[int, str, str]] = []
    start = row_block(block, kind)
    step_id = start
    for duty_id, duty in enumerate(list_duties, start=start + 1):
        rows["duties"].append({
            "id": duty_id, "document_id": did, "town_id": tid, "list": duty.list,
            "seq": duty.seq, "category": duty.category, "title": duty.title,
            "source_line": duty.source_line, "source_sheet": duty.source_sheet, "raw": duty.raw,
        })
        search.append((duty_id, duty.title, "\n".join(s.text for s in duty.steps)))
        rows["steps"].extend({
            "id": (step_id := step_id + 1), "duty_id": duty_id,
            "party": s.party, "position": s.position, "number": s.number,
            "section": s.section, "text": s.text, "raw": s.raw,
            "department_id": department_ids.get(s.department) if s.department else None,
        } for s in duty.steps)
        rows["duty_departments"].extend({
            "duty_id": duty_id, "department_id": department_ids[link.department],
            "role": link.role, "written": link.written, "note": link.note,
        } for link in duty.departments)  # the departments stage keeps one per department and role
    tables = {name: Rows.of(metadata.tables[name], table) for name, table in rows.items()}
    return PreparedList(kind, content_sha256(list_duties), pack(list_duties), tables["duties"],
                        tables["steps"], tables["duty_departments"], search)


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: on SQLite it takes the write lock at BEGIN (BEGIN IMMEDIATE), so
    what it reads first cannot change before it writes; PostgreSQL uses advisory locks."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            yield conn


def lock_place(conn: Connection, tid: int) -> None:
    """Serialize loads of one place across processes (PostgreSQL; SQLite locks the file).

    Taken first in the document's transaction and released when it ends, so two builds of
    the same place started at once load it one after the other.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": tid})


@dataclass(frozen=True)
class Current:
    """The current version of one list of a place."""

    id: int
    number: int
    content_sha256: str
    duties: int
    document_id: int
    parser_version: str


def current_versions(conn: Connection, tid: int) -> dict[str, Current]:
    query = select(list_versions.c.list, list_versions.c.id, list_versions.c.number,
                   list_versions.c.content_sha256, list_versions.c.duties,
                   list_versions.c.document_id, list_versions.c.parser_version).where(
        list_versions.c.town_id == tid, list_versions.c.is_current)
    return {kind: Current(*rest) for kind, *rest in conn.execute(query)}


def is_loaded(conn: Connection, prepared: Prepared) -> bool:
    """True when this very file, under this parser, is what every list it holds shows now."""
    current = current_versions(conn, prepared.town_id)
    return bool(prepared.lists) and all(
        kind in current and current[kind].document_id == prepared.document_id
        and current[kind].parser_version == prepared.parser_version
        for kind in prepared.lists)


def note_path(conn: Connection, prepared: Prepared) -> str | None:
    """Record the document's path when the same file was loaded under another name; returns
    the old name (a renamed file is not reloaded)."""
    old = conn.execute(select(documents.c.path).where(
        documents.c.id == prepared.document_id)).scalar()
    if old is None or old == prepared.path:
        return None
    conn.execute(update(documents).where(documents.c.id == prepared.document_id)
                 .values(path=prepared.path))
    return str(old)


def start_run(engine: Engine, arguments: list[str]) -> int:
    """A new runs row, its arguments stored with every URL's password masked."""
    with writing(engine) as conn:
        mask_stored_arguments(conn)
        result = conn.execute(runs.insert().values(
            started_at=now(), parser_version=parser_version(),
            arguments=json.dumps(mask_arguments(arguments), ensure_ascii=False)))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def mask_stored_arguments(conn: Connection) -> None:
    """Mask the passwords that builds before this version stored in runs.arguments."""
    stored = conn.execute(select(runs.c.id, runs.c.arguments).where(
        runs.c.arguments.like("%://%@%"))).all()
    for run_id, arguments in stored:
        if (masked := mask_url(arguments)) != arguments:
            conn.execute(update(runs).where(runs.c.id == run_id).values(arguments=masked))


def finish_run(engine: Engine, run_id: int, counts: dict[str, int]) -> None:
    with writing(engine) as conn:
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


class Refused(PipelineError):
    """A document the loader will not apply; nothing of it is written."""


@dataclass(frozen=True)
class Published:
    date: date | None
    source: str  # document, argument, file-modified or unknown


@dataclass(frozen=True)
class ListLoad:
    """What loading one list did: a new version with its changes, or the same content."""

    list: ListKind
    version: int  # the list's version number after the load
    new: bool
    changes: int


def check_shrink(prepared: Prepared, current: dict[str, Current]) -> None:
    """Refuse a new version that empties a list or loses more than half of it."""
    for kind, part in prepared.lists.items():
        before = current.get(kind)
        if before is None or before.content_sha256 == part.content_sha256:
            continue
        if part.size == 0 or part.size * 2 < before.duties:
            raise Refused(f"the {kind} list of {prepared.town} would go from {before.duties} "
                          f"duties to {part.size}; is the file cut short? Nothing of it was "
                          "loaded; if the list really shrank, build again with --accept-shrink")


def load_document(conn: Connection, prepared: Prepared, run_id: int, published: Published,
                  accept_shrink: bool = False) -> tuple[list[ListLoad], list[Finding]]:
    """Replace the lists the document holds, of its place, and nothing else; call inside one
    transaction. A list whose content changed gets a new version and its changes recorded.

    Returns what happened to each list, and the warnings about unsure matches.
    """
    for part in prepared.lists.values():
        if part.too_large:
            raise Refused(f"more than {(1 << LIST_BITS) - 1:,} duties or steps in the {part.kind} "
                          "list; split the document")
    tid = prepared.town_id
    current = current_versions(conn, tid)
    if not accept_shrink:
        check_shrink(prepared, current)
    previous = place_departments(conn, tid, list(prepared.lists))
    insert_missing(conn, towns, prepared.tables["towns"])
    prepared = in_block(prepared, claim_block(conn, prepared))
    save_document(conn, prepared, run_id)
    share_departments(conn, prepared.tables["departments"])
    insert_missing(conn, departments, prepared.tables["departments"])
    insert_missing(conn, department_aliases, prepared.tables["department_aliases"])
    loads: list[ListLoad] = []
    warnings: list[Finding] = []
    for kind, part in prepared.lists.items():
        before = current.get(kind)
        if before is None and part.size == 0:
            continue  # an empty list where there was none: its error finding says why
        replace_list(conn, tid, part)
        if before is not None and before.content_sha256 == part.content_sha256:
            refresh_version(conn, before.id, prepared, part)
            loads.append(ListLoad(kind, before.number, False, 0))
            continue
        version_id, number = add_version(conn, prepared, part, before, published)
        changes, unsure = record_changes(conn, run_id, tid, version_id, before, part)
        warnings += [unsure_finding(prepared.path, kind, item) for item in unsure]
        loads.append(ListLoad(kind, number, True, changes))
    if not loads:
        raise Refused("holds no list with a duty in it, so nothing was loaded (the errors "
                      "above say why)")
    delete_orphan_departments(conn, previous)
    conn.execute(delete(documents).where(  # a file whose every list moved on to another file
        documents.c.town_id == tid,
        ~exists().where(list_versions.c.document_id == documents.c.id),
        ~exists().where(duties.c.document_id == documents.c.id)))
    return loads, warnings


def claim_block(conn: Connection, prepared: Prepared) -> int:
    """The place's block of row ids: the one it holds, else the worker's guess if free, else
    the next free one (under a lock on PostgreSQL, so two new places cannot take one block)."""
    held = conn.execute(select(towns.c.row_block).where(towns.c.id == prepared.town_id)).scalar()
    if held is not None:
        return int(held)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BLOCK_LOCK})
    block = prepared.block
    while conn.execute(select(exists().where(towns.c.row_block == block))).scalar():
        block = (block + 1) % BLOCKS
    conn.execute(update(towns).where(towns.c.id == prepared.town_id).values(row_block=block))
    return block


def in_block(prepared: Prepared, block: int) -> Prepared:
    """The document's rows with their ids moved into `block` (rarely other than the guess)."""
    if block == prepared.block:
        return prepared
    delta = (block - prepared.block) << BLOCK_BITS
    lists = {kind: replace(part, duties=part.duties.shifted({"id"}, delta),
                           steps=part.steps.shifted({"id", "duty_id"}, delta),
                           duty_departments=part.duty_departments.shifted({"duty_id"}, delta),
                           search=[(i + delta, title, text) for i, title, text in part.search])
             for kind, part in prepared.lists.items()}
    return replace(prepared, block=block, lists=lists)


def save_document(conn: Connection, prepared: Prepared, run_id: int) -> None:
    """The documents row of this file: one per content, its path the latest seen."""
    values = dict(path=prepared.path, format=prepared.format, encoding=prepared.encoding,
                  parser_version=prepared.parser_version, loaded_at=now(),
                  rows_read=prepared.rows_read, duties_loaded=prepared.duties,
                  rows_quarantined=prepared.quarantined, findings_run_id=run_id)
    changed = conn.execute(update(documents).where(documents.c.id == prepared.document_id)
                           .values(**values)).rowcount
    if not changed:
        conn.execute(documents.insert().values(id=prepared.document_id, town_id=prepared.town_id,
                                               sha256=prepared.sha256, **values))


def replace_list(conn: Connection, tid: int, part: PreparedList) -> None:
    """The place's current rows of this list give way to the new ones."""
    from pipeline.search import index_duties, unindex_list

    unindex_list(conn, tid, part.kind)
    delete_list(conn, tid, part.kind)
    insert_all(conn, duties, part.duties)
    index_duties(conn, part.search)
    insert_all(conn, steps, part.steps)
    insert_all(conn, duty_departments, part.duty_departments)


def delete_list(conn: Connection, tid: int, kind: str) -> None:
    list_duties = select(duties.c.id).where(duties.c.town_id == tid, duties.c.list == kind)
    conn.execute(delete(duty_departments).where(duty_departments.c.duty_id.in_(list_duties)))
    conn.execute(delete(steps).where(steps.c.duty_id.in_(list_duties)))
    conn.execute(delete(duties).where(duties.c.town_id == tid, duties.c.list == kind))


def refresh_version(conn: Connection, version_id: int, prepared: Prepared,
                    part: PreparedList) -> None:
    """Same content from this file (a copy, or a new parser): the version now points to it."""
    conn.execute(update(list_versions).where(list_versions.c.id == version_id).values(
        document_id=prepared.document_id, sha256=prepared.sha256, content=part.content,
        parser_version=prepared.parser_version))


def add_version(conn: Connection, prepared: Prepared, part: PreparedList, before: Current | None,
                published: Published) -> tuple[int, int]:
    """A new current version of the list; the one before stays in the history."""
    tid = prepared.town_id
    number = 1 + (conn.execute(select(func.max(list_versions.c.number)).where(
        list_versions.c.town_id == tid, list_versions.c.list == part.kind)).scalar() or 0)
    if before is not None:
        conn.execute(update(list_versions).where(list_versions.c.id == before.id)
                     .values(is_current=False))
    version_id = stable_id(tid, part.kind, number)
    conn.execute(list_versions.insert().values(
        id=version_id, town_id=tid, list=part.kind, number=number,
        document_id=prepared.document_id, sha256=prepared.sha256,
        content_sha256=part.content_sha256, duties=part.size, published=published.date,
        published_from=published.source, loaded_at=now(), is_current=True,
        parser_version=prepared.parser_version, content=part.content))
    return version_id, number


def record_changes(conn: Connection, run_id: int, tid: int, version_id: int,
                   before: Current | None, part: PreparedList) -> tuple[int, list[Unsure]]:
    """duty_changes rows from the version before to this one; a list's first version is all
    added. A duty added here that this run removed from another list of the place (or the
    other way round) is one `moved` row."""
    if before is None:
        seq, title = part.duties.columns.index("seq"), part.duties.columns.index("title")
        found = Diff([], [])
        rows = [change_row("added", None, (row[seq], row[title])) for row in part.duties.values]
    else:
        old = unpack(conn.execute(select(list_versions.c.content).where(
            list_versions.c.id == before.id)).scalar_one())
        found = diff_duties(old, unpack(part.content))
        rows = [change_row(c.change, (c.old.seq, c.old.title) if c.old else None,
                           (c.new.seq, c.new.title) if c.new else None, c.score, c.detail)
                for c in found.changes]
    if before is not None:  # a list's first version has no duty that moved in or out
        rows = pair_moves(conn, run_id, tid, part.kind, rows)
    for row in rows:
        row.update(run_id=run_id, version_id=version_id, town_id=tid, list=part.kind,
                   previous_version_id=before.id if before else None)
    if rows:
        insert_all(conn, duty_changes, Rows.of(duty_changes, rows))
    return len(rows), found.unsure


def change_row(change: str, old: tuple[int, str] | None, new: tuple[int, str] | None,
               score: float | None = None, detail: str | None = None) -> Row:
    return {"change": change, "old_list": None,
            "old_seq": old[0] if old else None, "old_title": old[1] if old else None,
            "new_seq": new[0] if new else None, "new_title": new[1] if new else None,
            "score": score, "detail": detail}


def pair_moves(conn: Connection, run_id: int, tid: int, kind: str, rows: list[Row]) -> list[Row]:
    """Turn an added/removed pair across two lists of the place, in this run, into `moved`."""
    others = conn.execute(select(duty_changes.c.id, duty_changes.c.change, duty_changes.c.list,
                                 duty_changes.c.old_seq, duty_changes.c.old_title,
                                 duty_changes.c.new_title).where(
        duty_changes.c.run_id == run_id, duty_changes.c.town_id == tid,
        duty_changes.c.list != kind, duty_changes.c.previous_version_id.is_not(None),
        duty_changes.c.change.in_(("added", "removed")))).all()
    removed = {title_key(o.old_title): o for o in others if o.change == "removed"}
    added = {title_key(o.new_title): o for o in others if o.change == "added"}
    kept: list[Row] = []
    for row in rows:
        if row["change"] == "added" and (gone := removed.pop(title_key(row["new_title"]), None)):
            conn.execute(delete(duty_changes).where(duty_changes.c.id == gone.id))
            row.update(change="moved", old_list=gone.list, old_seq=gone.old_seq,
                       old_title=gone.old_title)
        elif row["change"] == "removed" and (came := added.pop(title_key(row["old_title"]), None)):
            conn.execute(update(duty_changes).where(duty_changes.c.id == came.id).values(
                change="moved", old_list=kind, old_seq=row["old_seq"], old_title=row["old_title"]))
            continue
        kept.append(row)
    return kept


def unsure_finding(path: str, kind: str, item: Unsure) -> Finding:
    candidates = "; ".join(f"{duty.seq} {duty.title} ({score:.0f}%)"
                           for duty, score in item.candidates)
    return Finding(path=path, line=item.new.source_line, sheet=item.new.source_sheet,
                   field="title", code="change-unsure", severity="warning",
                   message=f"{kind} duty {item.new.seq} {item.new.title!r} may be a rewording "
                           f"of an earlier duty, but not surely: {candidates}; recorded as "
                           "removed + added", raw=item.new.title)


def forget_document(conn: Connection, path: str) -> list[str]:
    """Remove the current lists the file at `path` provides; their versions stay in the
    history, marked withdrawn. Returns the lists removed ("basic of 凉州户镇")."""
    from pipeline.search import unindex_list

    rows = conn.execute(select(list_versions.c.id, list_versions.c.town_id, list_versions.c.list,
                               towns.c.name)
                        .join(documents, documents.c.id == list_versions.c.document_id)
                        .join(towns, towns.c.id == list_versions.c.town_id)
                        .where(documents.c.path == path, list_versions.c.is_current)).all()
    for version_id, tid, kind, _ in rows:
        lock_place(conn, tid)
        previous = place_departments(conn, tid, [kind])
        unindex_list(conn, tid, kind)
        delete_list(conn, tid, kind)
        conn.execute(update(list_versions).where(list_versions.c.id == version_id)
                     .values(is_current=False, withdrawn_at=now()))
        delete_orphan_departments(conn, previous)
    return [f"{kind} of {name}" for _, _, kind, name in rows]


def missing_sources(conn: Connection) -> list[str]:
    """Paths of files that provide current lists and are no longer where they were loaded from."""
    paths = conn.execute(select(documents.c.path).distinct()
                         .join(list_versions, list_versions.c.document_id == documents.c.id)
                         .where(list_versions.c.is_current).order_by(documents.c.path)).scalars()
    return [path for path in paths if not Path(path).exists()]


def place_departments(conn: Connection, tid: int, kinds: list[str]) -> set[int]:
    """Departments the lists' current rows refer to: the only ones their reload can orphan."""
    list_duties = select(duties.c.id).where(duties.c.town_id == tid, duties.c.list.in_(kinds))
    linked = select(duty_departments.c.department_id).where(
        duty_departments.c.duty_id.in_(list_duties))
    headed = select(steps.c.department_id).where(
        steps.c.duty_id.in_(list_duties), steps.c.department_id.is_not(None))
    return {department for (department,) in conn.execute(linked.union(headed))}


def share_departments(conn: Connection, rows: Rows) -> None:
    """PostgreSQL: hold the departments this load links to, so that no concurrent load deletes
    one as an orphan before this one commits (delete_orphan_departments only tries)."""
    if conn.dialect.name != "postgresql" or not rows.values:
        return
    ids = sorted(value[rows.columns.index("id")] for value in rows.values)
    conn.execute(text("SELECT pg_advisory_xact_lock_shared(key) FROM unnest(:ids) AS key"),
                 {"ids": ids})


def delete_orphan_departments(conn: Connection, candidates: set[int]) -> None:
    """Drop those of `candidates` that no duty or step refers to any more, with their aliases.

    Checking only the reloaded lists' departments keeps a load's cost independent of the
    size of the database. On PostgreSQL a department another load is linking to right now
    is left for a later load to drop: this one only tries its lock, so it never waits.
    """
    if conn.dialect.name == "postgresql" and candidates:
        candidates = set(conn.execute(text(
            "SELECT key FROM unnest(:ids) AS key WHERE pg_try_advisory_xact_lock(key)"),
            {"ids": sorted(candidates)}).scalars())
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
