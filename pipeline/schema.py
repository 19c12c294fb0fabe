"""The schema: tables as SQLAlchemy Core metadata, the DDL that metadata cannot say, and
ensure_schema(), which brings any database up to date.

schemas/ holds what this generates (make schemas); a test fails when it is stale.
"""

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    create_mock_engine,
    delete,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.schema import CreateIndex, CreateTable

from pipeline.errors import DatabaseError, mask_url

RawJSON = JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = MetaData()

towns = Table(
    "towns", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False, comment="乡镇/街道 name, e.g. 凉州户镇"),
    Column("kind", Text, nullable=False, comment="镇/乡/民族乡/街道/苏木"),
    Column("county", Text, comment="县/区/旗/县级市, e.g. 玛纳斯县"),
    Column("prefecture", Text, comment="州/市/地区/盟, e.g. 昌吉州"),
    Column("province", Text, comment="as written, else from the division dataset"),
    Column("code", Text, comment="国家统计局 division code, e.g. 652324103; NULL when unknown"),
    Column("row_block", BigInteger, unique=True,
           comment="the block of ids its duties and steps are numbered in"),
)

documents = Table(
    "documents", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("town_id", BigInteger, ForeignKey("towns.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("encoding", Text),
    Column("parser_version", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("duties_loaded", Integer, nullable=False),
    Column("rows_quarantined", Integer, nullable=False),
    Column("findings_run_id", Integer, comment="the run whose findings describe this document"),
)

list_versions = Table(
    "list_versions", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("town_id", BigInteger, ForeignKey("towns.id"), nullable=False),
    Column("list", Text, nullable=False, comment="basic/cooperative/withdrawn"),
    Column("number", Integer, nullable=False, comment="1, 2, … per place and list"),
    Column("document_id", BigInteger, ForeignKey("documents.id"), nullable=False,
           comment="the file it was last loaded from"),
    Column("sha256", Text, nullable=False, comment="SHA-256 of that file"),
    Column("content_sha256", Text, nullable=False,
           comment="the list's own content: each row's category and cells"),
    Column("duties", Integer, nullable=False),
    Column("published", Date, comment="publication date"),
    Column("published_from", Text, nullable=False,
           comment="where the date came from: document/argument/file-modified"),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("is_current", Boolean, nullable=False, comment="the version the other tables show"),
    Column("withdrawn_at", DateTime(timezone=True), comment="when pipeline forget removed it"),
    Column("parser_version", Text, nullable=False),
    Column("content", LargeBinary, nullable=False,
           comment="the version's duties, zlib-compressed JSON (pipeline history --version)"),
    UniqueConstraint("town_id", "list", "number"),
)

duties = Table(
    "duties", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("document_id", BigInteger, ForeignKey("documents.id"), nullable=False),
    Column("town_id", BigInteger, ForeignKey("towns.id"), nullable=False),
    Column("list", Text, nullable=False, comment="basic/cooperative/withdrawn"),
    Column("seq", Integer, nullable=False, comment="序号"),
    Column("category", Text, comment="事项类别; NULL when the list has none"),
    Column("title", Text, nullable=False, comment="事项名称"),
    Column("source_line", Integer, nullable=False, comment="line, or row of source_sheet"),
    Column("source_sheet", Text, comment="xlsx sheet or docx table; NULL for text"),
    Column("raw", RawJSON, nullable=False, comment="the source row's cells, lossless"),
    Index("duties_town_list_seq", "town_id", "list", "seq"),
)

departments = Table(
    "departments", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False, unique=True, comment="canonical full name"),
    Column("short_name", Text, comment="the 县/州 form, e.g. 县农业农村局"),
    Column("jurisdiction", Text, comment="e.g. 玛纳斯县"),
)

department_aliases = Table(
    "department_aliases", metadata,
    Column("jurisdiction", Text, nullable=False),
    Column("alias", Text, nullable=False),
    Column("department_id", BigInteger, ForeignKey("departments.id"), nullable=False),
    PrimaryKeyConstraint("jurisdiction", "alias"),
)

steps = Table(
    "steps", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("duty_id", BigInteger, ForeignKey("duties.id"), nullable=False),
    Column("party", Text, nullable=False, comment="upper/town/receiver"),
    Column("position", Integer, nullable=False, comment="1… within duty and party"),
    Column("number", Integer, comment="the source's number; NULL when unnumbered"),
    Column("section", Text, comment="heading without 一、, or the department sub-heading"),
    Column("department_id", BigInteger, ForeignKey("departments.id")),
    Column("text", Text, nullable=False),
    Column("raw", Text, nullable=False, comment="the step as written"),
    UniqueConstraint("duty_id", "party", "position"),
    Index("steps_department", "department_id"),
)

duty_departments = Table(
    "duty_departments", metadata,
    Column("duty_id", BigInteger, ForeignKey("duties.id"), nullable=False),
    Column("department_id", BigInteger, ForeignKey("departments.id"), nullable=False),
    Column("role", Text, nullable=False, comment="counterpart/receiver/mentioned"),
    Column("written", Text, nullable=False, comment="the spelling in the source"),
    Column("note", Text, comment="what a catch-all added, e.g. 及其他…部门"),
    PrimaryKeyConstraint("duty_id", "department_id", "role"),
    Index("duty_departments_department", "department_id"),
)

duty_changes = Table(
    "duty_changes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("version_id", BigInteger, ForeignKey("list_versions.id"), nullable=False),
    Column("previous_version_id", BigInteger, ForeignKey("list_versions.id"),
           comment="NULL for a list's first version"),
    Column("town_id", BigInteger, ForeignKey("towns.id"), nullable=False),
    Column("change", Text, nullable=False,
           comment="added/removed/reworded/steps_changed/renumbered/moved"),
    Column("list", Text, nullable=False),
    Column("old_list", Text, comment="the list a moved duty came from"),
    Column("old_seq", Integer),
    Column("new_seq", Integer),
    Column("old_title", Text),
    Column("new_title", Text),
    Column("score", Float, comment="title similarity of a reworded duty, 0–100"),
    Column("detail", Text),
    Index("duty_changes_version", "version_id"),
)

catalogue_items = Table(
    "catalogue_items", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False,
           comment="from (list, title_key), or (list, code) for a reference item"),
    Column("list", Text, nullable=False, comment="basic/cooperative/withdrawn"),
    Column("title", Text, nullable=False,
           comment="canonical: the reference's, else the wording most of its duties use"),
    Column("title_key", Text, nullable=False, comment="the normalized title it was founded on"),
    Column("category", Text, comment="the reference's, else the commonest of its duties'"),
    Column("code", Text, comment="the reference catalogue's code (目录编码); NULL for others"),
    Column("source", Text, nullable=False,
           comment="towns (found in the lists) / reference (pipeline catalogue import)"),
    Index("catalogue_items_list", "list"),
)

# Titles are keyed by title_id, a hash of (list, title_key): a btree cannot index a text
# longer than about 2,700 bytes on PostgreSQL, and a title may be longer than that.
catalogue_titles = Table(
    "catalogue_titles", metadata,
    Column("title_id", BigInteger, primary_key=True, autoincrement=False,
           comment="from (list, title_key)"),
    Column("list", Text, nullable=False),
    Column("title_key", Text, nullable=False, comment="a distinct normalized title"),
    Column("item_id", BigInteger, ForeignKey("catalogue_items.id"), nullable=False),
    Column("score", Float, nullable=False, comment="similarity to the item, 0–100"),
    Column("method", Text, nullable=False, comment="exact/similar/reference"),
    Column("reason", Text, comment="why it has an item of its own though near another: "
                                   "unsure/same-town; NULL when sure"),
    Column("candidates", Text, comment="the items it was near: JSON [[item_id, score], …]"),
    Index("catalogue_titles_item", "item_id"),
)

duty_catalogue = Table(
    "duty_catalogue", metadata,
    Column("duty_id", BigInteger, primary_key=True, autoincrement=False,
           comment="no foreign key: a list is reloaded before it is matched again"),
    Column("item_id", BigInteger, ForeignKey("catalogue_items.id"), nullable=False),
    Column("score", Float, comment="title similarity to the item, 0–100; NULL for manual"),
    Column("method", Text, nullable=False, comment="exact/similar/reference/manual"),
    Column("town_id", BigInteger, nullable=False),
    Column("list", Text, nullable=False),
    Column("title_key", Text, nullable=False),
    Column("title_id", BigInteger, nullable=False, comment="its catalogue_titles row"),
    Column("version_id", BigInteger, nullable=False,
           comment="the list version matched: another current version is matched again"),
    Column("title", Text, comment="the duty's title when matched (its item is named again only "
                                  "when the wordings it holds change)"),
    Column("category", Text, comment="the duty's category when matched"),
    Index("duty_catalogue_item", "item_id", "town_id"),
    Index("duty_catalogue_town", "town_id", "list"),
    Index("duty_catalogue_title", "title_id"),
)

catalogue_decisions = Table(
    "catalogue_decisions", metadata,
    Column("town_id", BigInteger, nullable=False),
    Column("title_id", BigInteger, nullable=False, comment="from (list, title_key)"),
    Column("list", Text, nullable=False),
    Column("title_key", Text, nullable=False,
           comment="the duty's normalized title: the decision holds for every version with it"),
    Column("decision", Text, nullable=False, comment="link/split"),
    Column("item_id", BigInteger, comment="the item linked to; NULL for split"),
    Column("title", Text, nullable=False, comment="the duty's title when decided"),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("town_id", "title_id"),
)

catalogue_reviews = Table(
    "catalogue_reviews", metadata,
    Column("duty_id", BigInteger, primary_key=True, autoincrement=False),
    Column("item_id", BigInteger, nullable=False, comment="the item it was given"),
    Column("reason", Text, nullable=False,
           comment="unsure (near several items) / same-town (its town holds the item already) "
                   "/ stale (a manual link to an item that is gone)"),
    Column("candidates", Text, nullable=False,
           comment="the items it was near: JSON [[item_id, title, score], …]"),
    Column("finding_id", Integer, comment="its quality_issues row (current_findings shows it)"),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("parser_version", Text, nullable=False),
    Column("arguments", Text, nullable=False),
    Column("documents_loaded", Integer, nullable=False, default=0),
    Column("documents_skipped", Integer, nullable=False, default=0),
    Column("documents_failed", Integer, nullable=False, default=0),
)

run_documents = Table(
    "run_documents", metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("path", Text, nullable=False),
    Column("status", Text, nullable=False, comment="loaded/skipped/failed"),
    Column("rows_read", Integer, nullable=False),
    Column("duties_loaded", Integer, nullable=False),
    Column("rows_quarantined", Integer, nullable=False),
    PrimaryKeyConstraint("run_id", "path"),
)

quality_issues = Table(
    "quality_issues", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("document_id", BigInteger, comment="no foreign key: findings outlive reloads"),
    Column("path", Text, nullable=False),
    Column("sheet", Text),
    Column("line", Integer),
    Column("field", Text),
    Column("code", Text, nullable=False),
    Column("severity", Text, nullable=False, comment="error/warning"),
    Column("message", Text, nullable=False),
    Column("raw", Text),
    Index("quality_issues_run", "run_id"),
)

schema_state = Table(
    "schema_state", metadata,
    Column("name", Text, primary_key=True),
    Column("digest", Text, nullable=False, comment="SHA-256 of the DDL this database was made "
           "with; under search_index, 'stale' while the search index is to be rebuilt"),
)

# PostgreSQL only: trigram indexes for Chinese substring search (pg_trgm needs a UTF-8 LC_CTYPE).
TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
TRIGRAM_INDEXES = {
    "duties_title_trgm": "CREATE INDEX IF NOT EXISTS duties_title_trgm ON duties "
                         "USING gin (title gin_trgm_ops)",
    "steps_text_trgm": "CREATE INDEX IF NOT EXISTS steps_text_trgm ON steps "
                       "USING gin (text gin_trgm_ops)",
}

SCHEMA_LOCK = 0x6475747973636865  # any constant bigint: "dutysche"
# PostgreSQL: a fresh load goes without the foreign keys of the tables it fills (checked row by
# row, they cost about as much as the COPY itself) and adds them back at the end of the build,
# each checked in one pass (restore_foreign_keys). The system catalogue says which are missing,
# so a build killed in between leaves nothing to remember: the next build adds them back.
BULK_TABLES = ("duties", "steps", "duty_departments", "duty_changes")
# Loads hold this lock shared for their transaction (db.lock_place); dropping and adding the
# keys hold it exclusively, so that neither waits for a table that a waiting load holds.
FK_LOCK = 0x647574796B657973  # any constant bigint: "dutykeys"
# How long dropping the keys waits for a table (an analyst's query may hold one): past it,
# the load keeps its keys. Below deadlock_timeout (1 s by default), so that a deadlock with
# another transaction always ends on this side.
DROP_WAIT = "500ms"
# How this release numbers places and rows (towns keyed by division code, ids below 10^15,
# blocks per place); a database numbered another way is refused, not mixed with it.
ID_SCHEME = "2"

log = logging.getLogger("pipeline")


def ensure_schema(engine: Engine) -> None:
    """Create whatever tables, columns, indexes and views are missing; safe on every run.

    Done once per schema: a database whose recorded digest matches this release's DDL is
    left alone, so builds take no schema locks (CREATE INDEX on every build deadlocked with
    concurrent loads). Otherwise one transaction, under a database-wide advisory lock on
    PostgreSQL and BEGIN IMMEDIATE on SQLite, so that builds started at once do not race.
    """
    from pipeline.db import writing

    if engine.dialect.name == "postgresql":
        check_postgres(engine)
    digest = hashlib.sha256(schema_ddl(engine.dialect.name).encode()).hexdigest()
    if recorded(engine, "schema") == digest:
        return
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        if recorded(conn, "schema") == digest:
            return  # another build made it while this one waited
        check_ids(conn)
        metadata.create_all(conn)
        add_missing_columns(conn)
        replace_outdated_index(conn)
        for statement in extra_ddl(conn.dialect.name):
            conn.execute(text(statement))
        conn.execute(delete(schema_state).where(schema_state.c.name.in_(("schema", "ids"))))
        conn.execute(schema_state.insert(), [{"name": "schema", "digest": digest},
                                             {"name": "ids", "digest": ID_SCHEME}])


def replace_outdated_index(conn: Connection) -> None:
    """SQLite: drop a search index made another way (before it read its text from the duties)
    and mark it stale, so that this build makes it again (search.rebuild_index)."""
    from pipeline import search

    if conn.dialect.name != "sqlite":
        return
    made = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :name"),
                        {"name": search.FTS_TABLE}).scalar()
    if made is not None and made != search.FTS_DDL.replace(" IF NOT EXISTS", ""):
        conn.execute(text(f"DROP TABLE {search.FTS_TABLE}"))
        conn.execute(delete(schema_state).where(schema_state.c.name == search.STALE))
        conn.execute(schema_state.insert().values(name=search.STALE, digest="stale"))


def check_ids(conn: Connection) -> None:
    """Refuse a database whose rows were numbered another way (an earlier release): loading
    into it would give its places a second copy of every list."""
    if inspect(conn).has_table("duties") and recorded(conn, "ids") != ID_SCHEME:
        path = conn.engine.url.database if conn.dialect.name == "sqlite" else None
        fix = (f"delete {path} and build again (make)" if path
               else "build into a new database (createdb … and --db)")
        raise DatabaseError(f"{mask_url(str(conn.engine.url))} was built by an earlier release "
                            f"that numbered places and rows differently; {fix}")


def recorded(bind: Engine | Connection, name: str) -> str | None:
    """What schema_state records under `name` (the DDL's digest, the id scheme), if anything."""
    query = select(schema_state.c.digest).where(schema_state.c.name == name)
    if isinstance(bind, Connection):
        return bind.execute(query).scalar() if inspect(bind).has_table("schema_state") else None
    with bind.connect() as conn:
        return recorded(conn, name)


def extra_ddl(dialect: str) -> list[str]:
    """What metadata cannot say: search structures per dialect, then the analyst views."""
    from pipeline import search, views

    if dialect == "postgresql":
        searching = [TRIGRAM_EXTENSION, *TRIGRAM_INDEXES.values()]
    else:
        searching = search.FTS_SOURCE_DDL + search.TEXT_VIEW_DDL
        if search.sqlite_capabilities().trigram:
            searching += [search.FTS_DDL, *search.FTS_CONFIG]
    return searching + views.view_ddl(dialect)


def add_missing_columns(conn: Connection) -> None:
    """Bring a database built by an older release up to date: columns are only ever added."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise DatabaseError(f"{mask_url(str(conn.engine.url))}: table {table.name} "
                                    f"lacks the required column {column.name}; rebuild into a "
                                    "new database")
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))


def check_postgres(engine: Engine) -> None:
    """Refuse a non-UTF-8 database; warn when its LC_CTYPE leaves pg_trgm blind to Chinese."""
    with engine.connect() as conn:
        encoding = conn.execute(text("SHOW server_encoding")).scalar_one()
        ctype = conn.execute(text("SELECT datctype FROM pg_database "
                                  "WHERE datname = current_database()")).scalar_one()
    fix = ("create it with: CREATE DATABASE name TEMPLATE template0 ENCODING 'UTF8' "
           "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise DatabaseError(f"{mask_url(str(engine.url))} uses encoding {encoding}, which cannot "
                            f"hold Chinese text; {fix}")
    if "utf" not in ctype.lower().replace("-", ""):
        log.warning("%s has LC_CTYPE %s: pg_trgm will ignore Chinese characters and searches "
                    "will not use their index; %s", mask_url(str(engine.url)), ctype, fix)


@cache
def schema_ddl(dialect_name: str) -> str:
    """The CREATE statements for one dialect ("sqlite" or "postgresql"), as schemas/ holds them."""
    drivers = {"sqlite": "sqlite://", "postgresql": "postgresql+psycopg://"}
    dialect = create_mock_engine(drivers[dialect_name], executor=None).dialect
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        statements.extend(
            str(CreateIndex(index).compile(dialect=dialect)).strip()
            for index in sorted(table.indexes, key=lambda i: str(i.name))
        )
    statements += extra_ddl(dialect_name)
    return ";\n\n".join(statements) + ";\n"


def relation_columns() -> dict[str, list[str]]:
    """Columns of every table and view, from an empty in-memory SQLite built by ensure_schema."""
    engine = create_engine("sqlite://")
    ensure_schema(engine)
    inspector = inspect(engine)
    names = [*inspector.get_table_names(), *inspector.get_view_names()]
    columns = {name: [c["name"] for c in inspector.get_columns(name)] for name in names}
    engine.dispose()
    return columns


def bulk_foreign_keys() -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys a fresh PostgreSQL load goes without,
    named as PostgreSQL names them: ("steps", "steps_duty_id_fkey", "FOREIGN KEY (duty_id)
    REFERENCES duties (id)")."""
    keys = []
    for name in BULK_TABLES:
        for key in sorted(metadata.tables[name].foreign_key_constraints,
                          key=lambda k: tuple(k.column_keys)):
            columns = ", ".join(element.parent.name for element in key.elements)
            targets = ", ".join(element.column.name for element in key.elements)
            keys.append((name, f"{name}_{'_'.join(key.column_keys)}_fkey",
                         f"FOREIGN KEY ({columns}) REFERENCES {key.referred_table.name} ({targets})"))
    return keys


def foreign_keys_present(conn: Connection) -> dict[str, bool]:
    """The bulk tables' foreign keys there now: name → validated."""
    return {name: valid for name, valid in conn.execute(text(
        "SELECT c.conname, c.convalidated FROM pg_constraint c JOIN pg_class t "
        "ON t.oid = c.conrelid WHERE c.contype = 'f' AND t.relname = ANY(:tables) "
        "AND t.relnamespace = current_schema()::regnamespace"), {"tables": list(BULK_TABLES)})}


def drop_foreign_keys(engine: Engine) -> None:
    """PostgreSQL, at the start of a build into a database with no duties: the bulk tables'
    foreign keys go, in one transaction, until restore_foreign_keys. Left alone while another
    build loads (it holds FK_LOCK), makes indexes or keys (it holds search.INDEX_LOCK), or
    past DROP_WAIT for a table."""
    if engine.dialect.name != "postgresql":
        return
    with index_lock(engine, wait=False) as held:
        if not held:
            return
        try:
            with engine.begin() as conn:
                if not conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                    {"key": FK_LOCK}).scalar():
                    return
                if conn.execute(select(duties.c.id).limit(1)).first() is not None:
                    return
                conn.execute(text(f"SET LOCAL lock_timeout = '{DROP_WAIT}'"))
                present = foreign_keys_present(conn)
                for table in BULK_TABLES:
                    if names := [name for owner, name, _ in bulk_foreign_keys()
                                 if owner == table and name in present]:
                        conn.execute(text(f"ALTER TABLE {table} " + ", ".join(
                            f"DROP CONSTRAINT {name}" for name in names)))
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            log.info("a table was busy: this load keeps its foreign keys")


def restore_foreign_keys(engine: Engine) -> None:
    """PostgreSQL, at the end of every build: the bulk tables' foreign keys that a fresh load
    (this one, or one killed before its end) went without are added back, then each checked
    in one pass; IntegrityError if a row breaks one (that key stays, marked not valid, and
    the next build checks it again)."""
    if engine.dialect.name != "postgresql":
        return
    keys = bulk_foreign_keys()
    with engine.connect() as conn:
        if all(foreign_keys_present(conn).get(name) for _, name, _ in keys):
            return
    with index_lock(engine, wait=True):
        with engine.begin() as conn:  # quick: NOT VALID checks no row; loads wait for it
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FK_LOCK})
            present = foreign_keys_present(conn)
            for table, name, definition in keys:
                if name not in present:
                    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition} "
                                      "NOT VALID"))
        # Checking the rows takes no lock that stops loads: they go on, checked row by row.
        broken: list[IntegrityError] = []
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            present = foreign_keys_present(conn)
            for table, name, _ in keys:
                if not present[name]:
                    try:
                        conn.execute(text(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}"))
                    except IntegrityError as exc:  # the other keys are still checked
                        broken.append(exc)
        if broken:
            raise broken[0]


@contextmanager
def index_lock(engine: Engine, wait: bool) -> Iterator[bool]:
    """search.INDEX_LOCK, held by a connection of its own for the block; True when held.

    Keys are not dropped or added while another build makes the GIN indexes: CREATE INDEX
    CONCURRENTLY waits for every older transaction, and ALTER TABLE for the table it holds.
    Waiting polls, for the same reason: a statement that waited would be such a transaction.
    """
    from pipeline.search import INDEX_LOCK

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        while not (held := conn.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                        {"key": INDEX_LOCK}).scalar()) and wait:
            time.sleep(0.1)
        try:
            yield bool(held)
        finally:
            if held:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INDEX_LOCK})
