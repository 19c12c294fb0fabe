"""Chinese search over duty titles and step text, with the same answers on both databases.

SQLite: an FTS5 table with the trigram tokenizer (duty_search, rowid = duties.id). Trigrams
need three characters, so a shorter term is matched with LIKE on the base tables — never
on the trigram table, where Debian 12's SQLite 3.40.1 returns no rows for a short
non-ASCII LIKE (sqlite_capabilities() checks for it at start-up).
PostgreSQL: ILIKE on the base tables, served by the pg_trgm GIN indexes.
Both are substring matches, every term must match, and ASCII letters match in any case.
Terms are folded as stored text is (text.normalize_text: full-width ＡＢＣ１２ → ABC12,
invisible format characters dropped), and capped in number and length before any SQL is
built: each term is a condition, and thousands of them overflow SQLite's parser.
"""

import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, delete, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import UsageError
from pipeline.text import normalize_text

log = logging.getLogger("pipeline")
T = TypeVar("T")

FTS_TABLE = "duty_search"
# The index holds no copy of the text (external content): it reads each duty's title and
# steps, a line each so that no match spans two, from this view over the base tables.
FTS_SOURCE = "duty_search_source"
STEPS_OF_DUTY = ("coalesce((SELECT group_concat(text, char(10)) FROM (SELECT s.text FROM steps s "
                 "WHERE s.duty_id = d.id ORDER BY s.id)), '')")
FTS_SOURCE_DDL = [
    f"DROP VIEW IF EXISTS {FTS_SOURCE}",
    f"CREATE VIEW {FTS_SOURCE} AS SELECT d.id AS id, d.title AS title, {STEPS_OF_DUTY} AS steps "
    "FROM duties d ORDER BY d.id",  # in id order: FTS5 flushes whenever a rowid goes down
]
FTS_DDL = (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, steps, "
           f"content='{FTS_SOURCE}', content_rowid='id', tokenize='trigram')")
FTS_SETTINGS = {
    # Merge index segments 16 at a time, not 4: a per-document load writes one segment each,
    # and merging fewer, larger ones cost a quarter less; searches stay under a millisecond.
    "automerge": 16,
    # Pending terms held in memory before a segment is written (default 1 MB): a rebuild of
    # the whole index then writes few, large segments.
    "hashsize": 16 * 1024 * 1024,
}
FTS_CONFIG = [f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rank) VALUES ('{name}', {value})"
              for name, value in FTS_SETTINGS.items()]
# A build that loads many documents does not maintain the index per document: it marks the
# index stale (in the first such document's transaction) and rebuilds it once at the end.
# Searches never trust a stale index; the next build or search rebuilds it.
STALE = "search_index"
# A build switches to one rebuild at the end once it has loaded more documents than this
# share of the places the database held when it started (all of them in a fresh database):
# rebuilding costs about a third of indexing the same rows one document at a time.
BULK_SHARE = 0.25
# Datasette's table search (?_search=) runs `duty_text MATCH :query` on this view, and the
# plugin (datasette_plugin.py) makes MATCH the function `matches`: the same terms and hits as
# `pipeline search`, for terms of any length. It reads every duty: a second per ~100,000.
TEXT_VIEW = "duty_text"
TEXT_VIEW_DDL = [
    f"DROP VIEW IF EXISTS {TEXT_VIEW}",
    f"CREATE VIEW {TEXT_VIEW} AS SELECT d.id AS rowid, d.title || coalesce(char(10) || "
    "(SELECT group_concat(s.text, char(10)) FROM steps s WHERE s.duty_id = d.id), '') "
    f"AS {TEXT_VIEW} FROM duties d",
]
MIN_TRIGRAM = 3
MAX_TERMS = 32
MAX_TERM_CHARS = 100
HIGHLIGHT = ("【", "】")


@dataclass(frozen=True)
class Capabilities:
    trigram: bool  # FTS5 with the trigram tokenizer (SQLite 3.34+)
    short_like_on_trigram: bool  # a 2-character non-ASCII LIKE on a trigram table finds rows


@cache
def sqlite_capabilities() -> Capabilities:
    """Probe this process's SQLite once: is trigram FTS there, and does short LIKE work on it?"""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        conn.close()
        log.warning("SQLite %s has no FTS5 trigram tokenizer: search falls back to LIKE "
                    "(slower on large databases)", sqlite3.sqlite_version)
        return Capabilities(trigram=False, short_like_on_trigram=False)
    conn.execute("INSERT INTO probe VALUES ('农作物秸秆禁烧')")
    found = conn.execute("SELECT count(*) FROM probe WHERE x LIKE '%秸秆%'").fetchone()[0]
    conn.close()
    if not found:
        log.debug("SQLite %s: short non-ASCII LIKE on a trigram table finds nothing; short "
                  "terms go to the base tables", sqlite3.sqlite_version)
    return Capabilities(trigram=True, short_like_on_trigram=bool(found))


def uses_fts(conn: Connection) -> bool:
    return conn.dialect.name == "sqlite" and sqlite_capabilities().trigram


def is_stale(conn: Connection) -> bool:
    """True while the index does not hold every duty as it is (see STALE)."""
    return conn.execute(stale_query()).scalar() is not None


@cache
def stale_query() -> Select[tuple[str]]:
    """Built once: a load asks it for each list it indexes or unindexes."""
    from pipeline.schema import schema_state

    return select(schema_state.c.digest).where(schema_state.c.name == STALE)


def mark_stale(conn: Connection) -> None:
    """Say, in the caller's transaction, that the index no longer follows the duties: what
    this transaction loads is indexed by rebuild_index, at the end of the build or later."""
    from pipeline.schema import schema_state

    if uses_fts(conn) and not is_stale(conn):
        conn.execute(schema_state.insert().values(name=STALE, digest="stale"))


def rebuild_index(conn: Connection) -> None:
    """The whole index written again from the duties, in one go; no longer stale."""
    from pipeline.schema import schema_state

    if uses_fts(conn):
        conn.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}) VALUES ('rebuild')"))
    conn.execute(delete(schema_state).where(schema_state.c.name == STALE))


def bulk_after(conn: Connection) -> int:
    """How many documents a build loads with the index maintained before it defers the rest
    to one rebuild (BULK_SHARE of the places held now; none in a fresh database)."""
    from pipeline.schema import towns

    if not uses_fts(conn):
        return 1 << 62
    return int(BULK_SHARE * conn.execute(select(func.count()).select_from(towns)).scalar_one())


def finish_index(engine: Engine) -> None:
    """At the end of a build: the one rebuild of an index this build (or a crashed one) left
    stale; on PostgreSQL, the trigram indexes a fresh load went without."""
    from pipeline.db import writing

    if engine.dialect.name == "postgresql":
        create_trigram_indexes(engine)
        return
    if not sqlite_capabilities().trigram:
        return
    with writing(engine) as conn:
        if is_stale(conn):
            rebuild_index(conn)


def finish_index_during(engine: Engine, work: Callable[[], T]) -> T:
    """finish_index, then work(); on PostgreSQL both at once, finish_index in a thread of
    its own: building the GIN indexes is the server's work, and `work` (the catalogue step)
    mostly this process's. work's result."""
    if engine.dialect.name != "postgresql":
        finish_index(engine)
        return work()
    with ThreadPoolExecutor(1) as pool:
        indexing = pool.submit(finish_index, engine)
        result = work()
        indexing.result()
    return result


# PostgreSQL: a fresh load (no duties yet) goes without the pg_trgm GIN indexes, built once at
# the end: maintaining them row by row cost more than building them from all the rows. The
# STALE row says they are missing; dropping and building take this lock without waiting (a
# build that does not get it leaves the job to the one that has it), and run CONCURRENTLY,
# so that other builds' loads neither wait for them nor deadlock with them.
INDEX_LOCK = 0x7472676D696478  # any constant bigint: "trgmidx"


def drop_trigram_indexes(engine: Engine) -> None:
    """PostgreSQL, at the start of a build into a database with no duties: no GIN indexes
    until finish_index (marked stale first, so that a crash leaves them to be rebuilt)."""
    from pipeline.schema import TRIGRAM_INDEXES, duties, schema_state

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.execute(select(duties.c.id).limit(1)).first() is not None:
            return
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": INDEX_LOCK}).scalar():
            return
        try:
            if not is_stale(conn):
                conn.execute(schema_state.insert().values(name=STALE, digest="stale"))
            for name in TRIGRAM_INDEXES:
                conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INDEX_LOCK})


def create_trigram_indexes(engine: Engine) -> None:
    """PostgreSQL: build the GIN indexes a fresh load (or a crashed one) went without."""
    from pipeline.schema import TRIGRAM_INDEXES, schema_state

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not is_stale(conn):
            return
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": INDEX_LOCK}).scalar():
            return
        try:
            for name, statement in TRIGRAM_INDEXES.items():
                valid = conn.execute(text("SELECT i.indisvalid FROM pg_index i JOIN pg_class c "
                                          "ON c.oid = i.indexrelid WHERE c.relname = :name"),
                                     {"name": name}).scalar()
                if valid is False:  # left by a CREATE … CONCURRENTLY that was interrupted
                    conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {name}"))
                conn.execute(text(statement.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY")))
            conn.execute(delete(schema_state).where(schema_state.c.name == STALE))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": INDEX_LOCK})


def repair_index(engine: Engine) -> bool:
    """Rebuild a stale index if the database can be written now; True when it is fresh."""
    from pipeline.db import writing

    if engine.dialect.name == "postgresql":  # searches are right without the indexes
        return True
    if not sqlite_capabilities().trigram:
        return True
    with engine.connect() as conn:
        if not is_stale(conn):
            return True
    try:
        with writing(engine) as conn:
            if is_stale(conn):
                log.info("rebuilding the search index (a build did not finish it)")
                rebuild_index(conn)
    except SQLAlchemyError as exc:  # read-only, or locked past the busy timeout
        log.warning("the search index is stale and could not be rebuilt now (%s); searching "
                    "the tables directly, which is slower; the next build repairs it",
                    str(getattr(exc, "orig", exc)).strip().splitlines()[0])
        return False
    return True


def unindex_list(conn: Connection, town_id: int, kind: str) -> None:
    """Take one list of a place out of the index, before its rows are replaced: an external
    content index is told the very text it indexed, read from the rows still there."""
    if uses_fts(conn) and not is_stale(conn):
        conn.execute(text(f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, title, steps) "
                          f"SELECT 'delete', d.id, d.title, {STEPS_OF_DUTY} FROM duties d "
                          "WHERE d.town_id = :town AND d.list = :list ORDER BY d.id"),
                     {"town": town_id, "list": kind})


def index_duties(conn: Connection, rows: list[tuple[int, str, str]]) -> None:
    """rows: (duty id, title, steps), steps joined by newlines as FTS_SOURCE joins them.

    In ascending id order, as a place's ids are: FTS5 flushes its pending terms whenever a
    rowid goes down, which made loading twice as slow. Nothing while the index is stale.
    """
    if uses_fts(conn) and rows and not is_stale(conn):
        conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE} (rowid, title, steps) VALUES (?, ?, ?)",
                             rows)


@dataclass(frozen=True)
class Hit:
    duty_id: int
    town: str
    list: str
    seq: int
    category: str | None
    title: str
    highlight: str  # the first place a term occurs, the terms in 【】
    where: str  # "title", or the step that holds it: "town step 3"


def escape_like(term: str) -> str:
    """escape_like("100%_") -> "100\\\\%\\\\_"."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def split_query(query: str) -> list[str]:
    """A query's terms: whitespace separates them and double quotes group a phrase; a quote
    left open is a character like any other.

    split_query('宣传 "秸秆禁烧"') -> ["宣传", "秸秆禁烧"]; split_query('"') -> ['"']
    """
    if query.count('"') % 2:
        return query.split()
    terms: list[str] = []
    for index, part in enumerate(query.split('"')):
        if index % 2:
            terms += [part.strip()] if part.strip() else []
        else:
            terms += part.split()
    return terms


def conditions(conn: Connection, terms: list[str], lists: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """The WHERE clause over duties d that every term must satisfy, and its parameters.

    A stale index is not used: the terms go to the base tables (checked in the query's own
    read transaction, so a build committing meanwhile cannot make the answer wrong).
    """
    like = "ILIKE" if conn.dialect.name == "postgresql" else "LIKE"
    fts = uses_fts(conn) and not is_stale(conn)
    clauses, params = [], {}
    for i, term in enumerate(terms):
        if fts and len(term) >= MIN_TRIGRAM:
            params[f"m{i}"] = '"' + term.replace('"', '""') + '"'
            clauses.append(f"d.id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :m{i})")
        else:
            params[f"p{i}"] = f"%{escape_like(term)}%"
            clauses.append(f"(d.title {like} :p{i} ESCAPE '\\' OR EXISTS (SELECT 1 FROM steps s "
                           f"WHERE s.duty_id = d.id AND s.text {like} :p{i} ESCAPE '\\'))")
    if lists:
        params.update({f"l{i}": name for i, name in enumerate(lists)})
        clauses.append(f"d.list IN ({', '.join(f':l{i}' for i in range(len(lists)))})")
    return " AND ".join(clauses), params


def search_duties(engine: Engine, query: str, lists: tuple[str, ...] = (),
                  limit: int | None = 100) -> list[Hit]:
    """Duties whose title or steps contain every term of `query` (split_query), at most
    `limit` of them (None: all), in place, list and 序号 order."""
    terms = parse_terms(query)
    if not terms:
        return []
    repair_index(engine)
    with engine.connect() as conn:
        where, params = conditions(conn, terms, lists)
        rows = conn.execute(text(
            "SELECT d.id, t.name, d.list, d.seq, d.category, d.title FROM duties d "
            f"JOIN towns t ON t.id = d.town_id WHERE {where} "
            "ORDER BY t.name, d.list, d.seq, d.id LIMIT :limit"),
            {**params, "limit": no_limit(conn) if limit is None else limit}).all()
        step_texts = steps_of(conn, [row[0] for row in rows])
    return [hit(row, step_texts.get(row[0], []), terms) for row in rows]


def no_limit(conn: Connection) -> int | None:
    """LIMIT's "all rows": -1 on SQLite, NULL on PostgreSQL (which refuses a negative one)."""
    return None if conn.dialect.name == "postgresql" else -1


def count_duties(engine: Engine, query: str, lists: tuple[str, ...] = ()) -> int:
    """How many duties search_duties finds in all, however many it shows."""
    terms = parse_terms(query)
    if not terms:
        return 0
    repair_index(engine)
    with engine.connect() as conn:
        where, params = conditions(conn, terms, lists)
        return int(conn.execute(text(f"SELECT count(*) FROM duties d WHERE {where}"),
                                params).scalar_one())


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def matches(query: str, text: str) -> bool:
    """The search as one function over a duty's text (its title and steps, a line each), for
    Datasette's table search: matches("宣传 秸秆", "…秸秆禁烧…\n…宣传…") -> True.

    The same terms as search_duties, and its matching: a substring, ASCII letters in any case.
    """
    folded = text.translate(ASCII_LOWER)
    return all(term.translate(ASCII_LOWER) in folded for term in fold_terms(split_query(query)))


def parse_terms(query: str) -> list[str]:
    """The query's terms (split_query), folded as stored text is; UsageError past the caps.

    parse_terms('ＡＢＣ "秸秆 禁烧" (一)') -> ["ABC", "秸秆禁烧", "（一）"]
    """
    words = split_query(query)
    if len(words) > MAX_TERMS:
        raise UsageError(f"a search takes at most {MAX_TERMS} terms, this one has "
                         f"{len(words):,}; search for the most telling few")
    terms = fold_terms(words)
    if (longest := max((len(term) for term in terms), default=0)) > MAX_TERM_CHARS:
        raise UsageError(f"a search term holds at most {MAX_TERM_CHARS} characters, one has "
                         f"{longest:,}; search for a telling part of it")
    return terms


def fold_terms(words: list[str]) -> list[str]:
    """Each term as the pipeline stores text (text.normalize_text); a term left empty goes."""
    return [term for term in (normalize_text(word).text for word in words) if term]


def steps_of(conn: Connection, duty_ids: list[int]) -> dict[int, list[tuple[str, int, str]]]:
    """The steps of each duty, read 500 duties at a time: `--all` may find more duties than
    a statement may bind parameters (32,766 on SQLite)."""
    found: dict[int, list[tuple[str, int, str]]] = {}
    for start in range(0, len(duty_ids), 500):
        chunk = duty_ids[start: start + 500]
        names = ", ".join(f":d{i}" for i in range(len(chunk)))
        for duty_id, party, position, step in conn.execute(text(
                f"SELECT duty_id, party, position, text FROM steps WHERE duty_id IN ({names}) "
                "ORDER BY duty_id, party DESC, position"),
                {f"d{i}": duty_id for i, duty_id in enumerate(chunk)}):
            found.setdefault(duty_id, []).append((party, position, step))
    return found


def hit(row: Any, steps: list[tuple[str, int, str]], terms: list[str]) -> Hit:
    """The hit, with the first field that holds the first term highlighted."""
    duty_id, town, kind, seq, category, title = row
    fields = [("title", title)] + [(f"{party} step {position}", step)
                                   for party, position, step in steps]
    first = terms[0].casefold()
    where, holder = next(((w, f) for w, f in fields if first in f.casefold()), fields[0])
    return Hit(duty_id, town, kind, seq, category, title, highlight(holder, terms), where)


def highlight(field: str, terms: list[str], context: int = 24) -> str:
    """highlight("农作物秸秆禁烧工作", ["禁烧"]) -> "农作物秸秆【禁烧】工作"."""
    folded = field.casefold()
    spans = sorted((i, i + len(t)) for t in terms for i in find_all(folded, t.casefold()))
    if not spans:
        return field
    start = max(0, spans[0][0] - context)
    end = min(len(field), spans[-1][1] + context)
    out, cursor = [], start
    for left, right in spans:
        if left < cursor or right > end:
            continue
        out += [field[cursor:left], HIGHLIGHT[0], field[left:right], HIGHLIGHT[1]]
        cursor = right
    out.append(field[cursor:end])
    return ("…" if start else "") + "".join(out) + ("…" if end < len(field) else "")


def find_all(haystack: str, needle: str) -> list[int]:
    positions, start = [], haystack.find(needle)
    while start != -1 and needle:
        positions.append(start)
        start = haystack.find(needle, start + len(needle))
    return positions
