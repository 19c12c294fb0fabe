"""Loading: a document's lists replace those lists of its place, one transaction each; a
list whose content changed becomes a new version, with its changes (duty_changes).
"""

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Protocol

from sqlalchemy import (
    bindparam,
    delete,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection

from pipeline.db import Row, Rows, insert_all, insert_missing, lock_place, now, stable_id
from pipeline.errors import PipelineError
from pipeline.records import Finding, ListKind
from pipeline.rows import BLOCK_BITS, BLOCK_LOCK, BLOCKS, LIST_BITS, Prepared, PreparedList
from pipeline.schema import (
    department_aliases,
    departments,
    documents,
    duties,
    duty_changes,
    duty_departments,
    list_versions,
    steps,
    towns,
)
from pipeline.versions import Diff, Unsure, diff_duties, title_key, unpack


@dataclass(frozen=True)
class Current:
    """The current version of one list of a place."""

    id: int
    number: int
    content_sha256: str
    duties: int
    document_id: int
    parser_version: str


# The statements a load runs for every document are built once, here, their values bound at
# each call: SQLAlchemy then finds each compiled in its cache without building and keying a new
# construct, which cost 80 µs a statement against 20.
CURRENT_VERSIONS = select(
    list_versions.c.list, list_versions.c.id, list_versions.c.number,
    list_versions.c.content_sha256, list_versions.c.duties, list_versions.c.document_id,
    list_versions.c.parser_version).where(
    list_versions.c.town_id == bindparam("town"), list_versions.c.is_current)
LATEST_NUMBERS = select(list_versions.c.list, func.max(list_versions.c.number)).where(
    list_versions.c.town_id == bindparam("town")).group_by(list_versions.c.list)


def current_versions(conn: Connection, tid: int) -> dict[str, Current]:
    return {kind: Current(*rest) for kind, *rest in conn.execute(CURRENT_VERSIONS, {"town": tid})}


def latest_numbers(conn: Connection, tid: int) -> dict[str, int]:
    """Each list's last version number, current or withdrawn (pipeline forget)."""
    return {kind: number for kind, number in conn.execute(LATEST_NUMBERS, {"town": tid})}


class Held(Protocol):
    """What a file holds, as far as is_loaded asks (rows.Prepared, builds.Unchanged)."""

    @property
    def town_id(self) -> int: ...
    @property
    def lists(self) -> Collection[str]: ...
    @property
    def document_id(self) -> int: ...
    @property
    def parser_version(self) -> str: ...


def is_loaded(conn: Connection, prepared: Held) -> bool:
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
    numbers = latest_numbers(conn, tid)
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
        number = numbers.get(kind, 0) + 1
        version_id = add_version(conn, prepared, part, before, published, number)
        changes, unsure = record_changes(conn, run_id, tid, version_id, before, part)
        warnings += [unsure_finding(prepared.path, kind, item) for item in unsure]
        loads.append(ListLoad(kind, number, True, changes))
    if not loads:
        raise Refused("holds no list with a duty in it, so nothing was loaded (the errors "
                      "above say why)")
    delete_orphan_departments(conn, previous)
    conn.execute(DELETE_UNUSED_DOCUMENTS, {"town": tid})
    return loads, warnings


# A file whose every list moved on to another file. A file's versions and duties are its
# place's: asked within the place, each probe reads the place's rows through its index
# instead of scanning every place's (which grew with the database, once a document).
DELETE_UNUSED_DOCUMENTS = delete(documents).where(
    documents.c.town_id == bindparam("town"),
    ~exists().where(list_versions.c.town_id == documents.c.town_id,
                    list_versions.c.document_id == documents.c.id),
    ~exists().where(duties.c.town_id == documents.c.town_id,
                    duties.c.document_id == documents.c.id))
HELD_BLOCK = select(towns.c.row_block).where(towns.c.id == bindparam("town"))
LOCK_BLOCKS = text("SELECT pg_advisory_xact_lock(:key)")
BLOCK_TAKEN = select(exists().where(towns.c.row_block == bindparam("block")))
TAKE_BLOCK = update(towns).where(towns.c.id == bindparam("town")).values(
    row_block=bindparam("block"))


def claim_block(conn: Connection, prepared: Prepared) -> int:
    """The place's block of row ids: the one it holds, else the worker's guess if free, else
    the next free one (under a lock on PostgreSQL, so two new places cannot take one block)."""
    held = conn.execute(HELD_BLOCK, {"town": prepared.town_id}).scalar()
    if held is not None:
        return int(held)
    if conn.dialect.name == "postgresql":
        conn.execute(LOCK_BLOCKS, {"key": BLOCK_LOCK})
    block = prepared.block
    while conn.execute(BLOCK_TAKEN, {"block": block}).scalar():
        block = (block + 1) % BLOCKS
    conn.execute(TAKE_BLOCK, {"town": prepared.town_id, "block": block})
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
    changed = conn.execute(UPDATE_DOCUMENT, {"document": prepared.document_id, **values}).rowcount
    if not changed:
        conn.execute(documents.insert(), {"id": prepared.document_id, "town_id": prepared.town_id,
                                          "sha256": prepared.sha256, **values})


# Its SET clause is the columns of the values given with it.
UPDATE_DOCUMENT = update(documents).where(documents.c.id == bindparam("document"))


def replace_list(conn: Connection, tid: int, part: PreparedList) -> None:
    """The place's current rows of this list give way to the new ones."""
    from pipeline.search import index_duties, unindex_list

    unindex_list(conn, tid, part.kind)
    delete_list(conn, tid, part.kind)
    insert_all(conn, duties, part.duties)
    index_duties(conn, part.search)
    insert_all(conn, steps, part.steps)
    insert_all(conn, duty_departments, part.duty_departments)


LIST_DUTIES = select(duties.c.id).where(duties.c.town_id == bindparam("town"),
                                        duties.c.list == bindparam("list"))
DELETE_LIST = (delete(duty_departments).where(duty_departments.c.duty_id.in_(LIST_DUTIES)),
               delete(steps).where(steps.c.duty_id.in_(LIST_DUTIES)),
               delete(duties).where(duties.c.town_id == bindparam("town"),
                                    duties.c.list == bindparam("list")))


def delete_list(conn: Connection, tid: int, kind: str) -> None:
    for statement in DELETE_LIST:
        conn.execute(statement, {"town": tid, "list": kind})


def refresh_version(conn: Connection, version_id: int, prepared: Prepared,
                    part: PreparedList) -> None:
    """Same content from this file (a copy, or a new parser): the version now points to it."""
    conn.execute(UPDATE_VERSION, {"version": version_id, "document_id": prepared.document_id,
                                  "sha256": prepared.sha256, "content": part.content,
                                  "parser_version": prepared.parser_version})


# Its SET clause is the columns of the values given with it.
UPDATE_VERSION = update(list_versions).where(list_versions.c.id == bindparam("version"))


def add_version(conn: Connection, prepared: Prepared, part: PreparedList, before: Current | None,
                published: Published, number: int) -> int:
    """The list's version `number`, current from now on; the one before stays in the history."""
    tid = prepared.town_id
    if before is not None:
        conn.execute(UPDATE_VERSION, {"version": before.id, "is_current": False})
    version_id = stable_id(tid, part.kind, number)
    conn.execute(list_versions.insert(), dict(
        id=version_id, town_id=tid, list=part.kind, number=number,
        document_id=prepared.document_id, sha256=prepared.sha256,
        content_sha256=part.content_sha256, duties=part.size, published=published.date,
        published_from=published.source, loaded_at=now(), is_current=True,
        parser_version=prepared.parser_version, content=part.content))
    return version_id


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
        old = unpack(conn.execute(VERSION_CONTENT, {"version": before.id}).scalar_one())
        found = diff_duties(old, unpack(part.content))
        rows = [change_row(c.change, (c.old.seq, c.old.title) if c.old else None,
                           (c.new.seq, c.new.title) if c.new else None, c.score, c.detail)
                for c in found.changes]
    if before is not None:  # a list's first version has no duty that moved in or out
        rows = pair_moves(conn, run_id, tid, part.kind, rows)
    version = {"run_id": run_id, "version_id": version_id, "town_id": tid, "list": part.kind,
               "previous_version_id": before.id if before else None}
    insert_all(conn, duty_changes, Rows(CHANGE_COLUMNS,
                                        [change_values({**row, **version}) for row in rows]))
    return len(rows), found.unsure


VERSION_CONTENT = select(list_versions.c.content).where(list_versions.c.id == bindparam("version"))


# The duty_changes columns a load writes, in the table's order (as insert_all takes them).
CHANGE_COLUMNS = ("run_id", "version_id", "previous_version_id", "town_id", "change", "list",
                  "old_list", "old_seq", "new_seq", "old_title", "new_title", "score", "detail")
change_values = itemgetter(*CHANGE_COLUMNS)  # a row's values, as a tuple in that order


def change_row(change: str, old: tuple[int, str] | None, new: tuple[int, str] | None,
               score: float | None = None, detail: str | None = None) -> Row:
    return {"change": change, "old_list": None,
            "old_seq": old[0] if old else None, "old_title": old[1] if old else None,
            "new_seq": new[0] if new else None, "new_title": new[1] if new else None,
            "score": score, "detail": detail}


# A place's changes are those of its versions: asked so, the query reads them through the
# version index instead of scanning every change of every place (a quarter of a million rows
# in a 1,000-town database: 43 ms against 1 for each list a load changes).
MOVE_CANDIDATES = select(
    duty_changes.c.id, duty_changes.c.change, duty_changes.c.list, duty_changes.c.old_seq,
    duty_changes.c.old_title, duty_changes.c.new_title).where(
    duty_changes.c.version_id.in_(select(list_versions.c.id).where(
        list_versions.c.town_id == bindparam("town"))),
    duty_changes.c.run_id == bindparam("run"), duty_changes.c.town_id == bindparam("town"),
    duty_changes.c.list != bindparam("list"), duty_changes.c.previous_version_id.is_not(None),
    duty_changes.c.change.in_(("added", "removed")))


def pair_moves(conn: Connection, run_id: int, tid: int, kind: str, rows: list[Row]) -> list[Row]:
    """Turn an added/removed pair across two lists of the place, in this run, into `moved`."""
    others = conn.execute(MOVE_CANDIDATES, {"run": run_id, "town": tid, "list": kind}).all()
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


LISTS_DUTIES = select(duties.c.id).where(duties.c.town_id == bindparam("town"),
                                         duties.c.list.in_(bindparam("lists", expanding=True)))
PLACE_DEPARTMENTS = select(duty_departments.c.department_id).where(
    duty_departments.c.duty_id.in_(LISTS_DUTIES)).union(select(steps.c.department_id).where(
        steps.c.duty_id.in_(LISTS_DUTIES), steps.c.department_id.is_not(None)))


def place_departments(conn: Connection, tid: int, kinds: list[str]) -> set[int]:
    """Departments the lists' current rows refer to: the only ones their reload can orphan."""
    return set(conn.execute(PLACE_DEPARTMENTS, {"town": tid, "lists": kinds}).scalars())


def share_departments(conn: Connection, rows: Rows) -> None:
    """PostgreSQL: hold the departments this load links to, so that no concurrent load deletes
    one as an orphan before this one commits (delete_orphan_departments only tries)."""
    if conn.dialect.name != "postgresql" or not rows.values:
        return
    ids = sorted(value[rows.columns.index("id")] for value in rows.values)
    conn.execute(SHARE_DEPARTMENTS, {"ids": ids})


SHARE_DEPARTMENTS = text("SELECT pg_advisory_xact_lock_shared(key) FROM unnest(:ids) AS key")


def delete_orphan_departments(conn: Connection, candidates: set[int]) -> None:
    """Drop those of `candidates` that no duty or step refers to any more, with their aliases.

    Checking only the reloaded lists' departments keeps a load's cost independent of the
    size of the database. On PostgreSQL a department another load is linking to right now
    is left for a later load to drop: this one only tries its lock, so it never waits.
    """
    if conn.dialect.name == "postgresql" and candidates:
        candidates = set(conn.execute(TRY_DEPARTMENTS, {"ids": sorted(candidates)}).scalars())
    if not candidates:
        return
    orphans = list(conn.execute(ORPHANS, {"ids": sorted(candidates)}).scalars())
    for chunk in range(0, len(orphans), 500):
        for statement in DELETE_DEPARTMENTS:
            conn.execute(statement, {"ids": orphans[chunk: chunk + 500]})


TRY_DEPARTMENTS = text("SELECT key FROM unnest(:ids) AS key WHERE pg_try_advisory_xact_lock(key)")
ORPHANS = select(departments.c.id).where(
    departments.c.id.in_(bindparam("ids", expanding=True)),
    ~exists().where(duty_departments.c.department_id == departments.c.id),
    ~exists().where(steps.c.department_id == departments.c.id))
DELETE_DEPARTMENTS = (  # the aliases first: they refer to the department
    delete(department_aliases).where(department_aliases.c.department_id.in_(
        bindparam("ids", expanding=True))),
    delete(departments).where(departments.c.id.in_(bindparam("ids", expanding=True))))
