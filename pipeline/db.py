"""The database: engines, transactions, bulk writes and the record of each run.

The schema is schema.py; a document's rows are made by rows.py and loaded by loads.py.
Keys are deterministic (stable_id over natural keys), so a rebuild gives the same ids in
any load order, and a department's identity is its canonical name.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    Engine,
    Table,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, Connection, Dialect, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline import parser_version
from pipeline.errors import DatabaseError, UsageError, escape, mask_arguments, mask_url
from pipeline.records import Finding
from pipeline.schema import (
    FK_LOCK,
    department_aliases,
    departments,
    duty_departments,
    quality_issues,
    run_documents,
    runs,
)

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

    def shifted(self, columns: set[str], delta: int) -> "Rows":
        """The rows with `delta` added to the named columns (moving rows to another block)."""
        at = [i for i, name in enumerate(self.columns) if name in columns]
        return Rows(self.columns, [tuple(v + delta if i in at and v is not None else v
                                         for i, v in enumerate(value)) for value in self.values])


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
    the same place started at once load it one after the other. With it, FK_LOCK shared:
    foreign keys are not dropped or added back while a load runs (schema.restore_foreign_keys).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(LOCK_PLACE, {"keys": FK_LOCK, "key": tid})


LOCK_PLACE = text("SELECT pg_advisory_xact_lock_shared(:keys), pg_advisory_xact_lock(:key)")


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


class Counted(Protocol):
    """A document's counts (rows.Prepared, builds.Unchanged)."""

    @property
    def rows_read(self) -> int: ...
    @property
    def duties(self) -> int: ...
    @property
    def quarantined(self) -> int: ...


def record_document(conn: Connection, run_id: int, path: str, status: str,
                    prepared: Counted | None) -> None:
    """One run_documents row."""
    conn.execute(run_documents.insert(), dict(
        run_id=run_id, path=path, status=status,
        rows_read=prepared.rows_read if prepared else 0,
        duties_loaded=prepared.duties if prepared and status == "loaded" else 0,
        rows_quarantined=prepared.quarantined if prepared else 0,
    ))


FINDING_COLUMNS = tuple(Finding.model_fields)  # each a quality_issues column
finding_values = attrgetter(*FINDING_COLUMNS)  # a finding's values, as a tuple in that order


def record_findings(conn: Connection, run_id: int, document_id: int | None,
                    findings: Iterable[Finding]) -> None:
    """quality_issues rows, in one bulk insert (COPY on PostgreSQL)."""
    insert_all(conn, quality_issues, Rows(
        ("run_id", "document_id", *FINDING_COLUMNS),
        [(run_id, document_id, *finding_values(f)) for f in findings]))


def insert_all(conn: Connection, table: Table, rows: Rows) -> None:
    """Bulk insert: COPY on PostgreSQL, the driver's executemany elsewhere.

    The tuples go to the driver as they are: SQLAlchemy's per-row parameter processing cost
    more than SQLite's inserting.
    """
    if not rows.values:
        return
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, rows)
        return
    conn.exec_driver_sql(insert_sql(table, rows.columns, conn.dialect), rows.values)


@lru_cache(maxsize=256)
def insert_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    """The INSERT of these columns as the driver takes it, compiled once: compiling it for
    every call was a tenth of a load's time.

    SQLAlchemy lists the columns in the table's order, whatever theirs: rows in another
    order would go into the wrong columns, so they are refused.
    """
    if columns != (ordered := tuple(c.name for c in table.columns if c.name in columns)):
        raise ValueError(f"columns {columns} are not {table.name}'s, in its order {ordered}")
    return str(table.insert().compile(dialect=dialect, column_keys=list(columns)))


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def copy_rows(conn: Connection, table: Table, rows: Rows) -> None:
    """COPY … FROM STDIN through psycopg 3, inside the connection's open transaction."""
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(copy_sql(table.name, rows.columns)) as copy:
        for value in rows.values:
            copy.write_row(value)


@lru_cache(maxsize=256)
def copy_sql(table: str, columns: tuple[str, ...]) -> str:
    """The COPY statement, composed once: composing it for every call cost as much as
    writing a hundred rows."""
    from psycopg import sql

    return sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))).as_string()


def insert_missing(conn: Connection, table: Table, rows: Rows) -> None:
    """Insert rows whose key is not there yet (INSERT … ON CONFLICT DO NOTHING); the tuples
    go to the driver as they are."""
    if not rows.values:
        return
    statement = insert_missing_sql(table, rows.columns, conn.dialect)
    if conn.dialect.name == "postgresql":  # one statement, each column an array
        conn.exec_driver_sql(statement, tuple(list(column)
                                              for column in zip(*rows.values, strict=True)))
    else:
        conn.exec_driver_sql(statement, rows.values)


@lru_cache(maxsize=256)
def insert_missing_sql(table: Table, columns: tuple[str, ...], dialect: Dialect) -> str:
    """On PostgreSQL each column an array (unnest): executemany's statement per row cost a
    document over a hundred for its departments and their aliases."""
    if dialect.name == "postgresql":
        types = {column.name: column.type.compile(dialect=dialect) for column in table.columns}
        arrays = ", ".join(f"%s::{types[name]}[]" for name in columns)
        return (f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
                "ON CONFLICT DO NOTHING")
    return f"{insert_sql(table, columns, dialect)} ON CONFLICT DO NOTHING"


def now() -> datetime:
    return datetime.now(UTC)


def department_summary(engine: Engine) -> list[dict[str, Any]]:
    """Each department with its aliases and its duty counts per role, busiest first."""

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
