"""Builds: documents found, normalized (in parallel if asked) and loaded, with a report each.

The CLI calls these and prints what they return; nothing here prints or exits.
"""

import hashlib
import os
import pickle
import secrets
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, Union

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from pipeline.budgets import MIB, Budget, over
from pipeline.errors import DatabaseError, PipelineError, SourceError, escape, mask_url, path_text
from pipeline.pool import start_fork_server
from pipeline.records import Finding, NormalizedDocument

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from sqlalchemy import Engine

    from pipeline.loads import ListLoad, Published
    from pipeline.rows import Prepared

Status = Literal["loaded", "skipped", "failed", "normalized", "missing"]
Outcome = NormalizedDocument | Finding
Loadable = Union["Prepared", NormalizedDocument, Finding, "Unchanged"]
T = TypeVar("T")


@dataclass(frozen=True)
class Counts:
    rows_read: int
    duties: int
    quarantined: int

    @classmethod
    def of(cls, doc: NormalizedDocument) -> "Counts":
        return cls(doc.rows_read, len(doc.duties), doc.quarantined)


@dataclass
class DocumentReport:
    """What a build says of one document: counts and findings, never the document itself,
    so that a build of thousands of towns holds one document at a time."""

    path: str
    status: Status
    counts: Counts | None = None
    findings: list[Finding] = field(default_factory=list)
    lists: list["ListLoad"] = field(default_factory=list)  # what the load did to each list
    note: str | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def reconciled(self) -> bool:
        """Rows read = duties loaded + rows quarantined: nothing lost, nothing invented."""
        counts = self.counts
        return counts is None or counts.rows_read == counts.duties + counts.quarantined

    def summary(self) -> str:
        counts = self.counts
        path = escape(self.path)
        if self.status == "missing":
            return f"{path}: no longer exists; its lists stay in the database"
        if counts is None:
            return f"{path}: failed, nothing loaded"
        verb = {"loaded": "loaded", "skipped": "unchanged, skipped",
                "normalized": "normalized", "failed": "failed"}[self.status]
        lists = "".join(f"; {load.list} " + (
            f"unchanged (version {load.version})" if not load.new else
            f"version {load.version}" if load.version == 1 else
            f"version {load.version}, {load.changes} changes") for load in self.lists)
        note = f" ({self.note})" if self.note else ""
        return (f"{path}: {verb}{note}; rows read {counts.rows_read} = {counts.duties} duties "
                f"+ {counts.quarantined} quarantined; {self.errors} errors, "
                f"{self.warnings} warnings{lists}")


@dataclass(frozen=True)
class Unchanged:
    """A file whose bytes, read by this parser, are what every list it holds shows now, as
    the database said before the build began: it is skipped without being read again."""

    path: str
    document_id: int
    town_id: int
    town: str
    lists: tuple[str, ...]
    parser_version: str
    rows_read: int
    duties: int
    quarantined: int
    errors: int  # its findings when it was loaded
    warnings: int


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files named, and every entry inside folders named (sorted; names starting with "." are
    skipped, as ls does). Entries that are not documents (a sub-folder, a FIFO, a broken
    link) are kept, so that the build reports each of them by name instead of passing over it.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.iterdir()) if not p.name.startswith("."))
        else:
            found.append(path)
    return found


def not_a_document(path: Path) -> str | None:
    """Why `path` cannot be a document (it is a folder, a FIFO, a link to nowhere), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return ("a folder, not a document: a build reads the files directly inside the "
                "folders it is given; name this folder to read its files, or move it away")
    if not stat.S_ISREG(mode):
        return "not a regular file (a FIFO, socket or device); only regular files are read"
    return None


def normalized_names(paths: list[Path]) -> dict[Path, str]:
    """The JSON file name of each document: normalized_names([Path("raw/a.txt")]) ->
    {Path("raw/a.txt"): "a.json"}; two documents of one stem (a.txt, a.xlsx) keep their
    extension (a.txt.json, a.xlsx.json), so neither overwrites the other."""
    stems: dict[str, int] = {}
    for path in paths:
        stems[path.stem] = stems.get(path.stem, 0) + 1
    return {path: f"{path.stem if stems[path.stem] == 1 else path.name}.json" for path in paths}


def normalize_path(path: Path, budget: Budget | None = None, debug: bool = False) -> Outcome:
    """Read and normalize one raw document; an unreadable one becomes a single error Finding."""
    from pipeline.documents import normalize_document
    from pipeline.sources import read_source

    if reason := not_a_document(path):
        return Finding(path=path_text(path), code="not-a-document", severity="error", message=reason)
    try:
        return normalize_document(read_source(path, budget or Budget()))
    except SourceError as exc:
        return Finding(path=path_text(path), code=exc.code, severity="error", message=exc.message)
    except MemoryError:  # over the worker's address-space limit (run_stage sets it)
        if debug:
            raise
        return out_of_memory(path)
    except Exception as exc:  # a parser bug must not stop the other documents
        if debug:
            raise
        return Finding(path=path_text(path), code="internal", severity="error",
                       message=f"the parser failed on this document ({type(exc).__name__}: "
                               f"{exc}); please report it with the file attached")


def prepare_path(path: Path, budget: Budget | None = None, debug: bool = False,
                 normalized: Path | None = None, reuse: bool = False) -> Loadable:
    """normalize_path, then the database rows: what a build's workers hand the loader.

    With `normalized` (a JSON file's path), the normalized document is also written there;
    with `reuse`, a JSON there made from these very bytes by this parser is read instead.
    """
    from pipeline.rows import prepare

    if normalized and reuse and (kept := reuse_normalized(path, normalized, budget)):
        return prepare(kept)
    outcome = normalize_path(path, budget, debug)
    if isinstance(outcome, Finding):
        return outcome
    if normalized is not None:
        write_normalized(outcome, normalized)
    try:
        return prepare(outcome)
    except MemoryError:
        if debug:
            raise
        return out_of_memory(path)


def reuse_normalized(path: Path, json_path: Path,
                     budget: Budget | None = None) -> NormalizedDocument | None:
    """The document `json_path` holds, when it was normalized from `path`'s present bytes by
    this parser version; else None. What make's per-file rule gave before a build ran as one
    command: reading a document's JSON costs a quarter of normalizing it again."""
    from pipeline import parser_version

    digest = file_digest(path, budget or Budget())
    if digest is None or not json_made_from(json_path, digest):
        return None
    try:
        doc = NormalizedDocument.model_validate_json(json_path.read_bytes())
    except (OSError, ValueError):  # pydantic's ValidationError included: normalize again
        return None
    fits = (doc.sha256, doc.parser_version, doc.path) == (digest, parser_version(), path_text(path))
    return doc if fits else None


def out_of_memory(path: Path) -> Finding:
    import resource

    limit, _ = resource.getrlimit(resource.RLIMIT_AS)
    if limit == resource.RLIM_INFINITY:
        message = "ran out of memory while being read"
    else:
        message = (f"needs more memory than the {limit // MIB:,} MiB limit while being read, "
                   + over("max_memory", f"{limit // MIB:,} MiB"))
    return Finding(path=str(path), code="too-large", severity="error", message=message)


def normalize_paths(paths: list[Path], jobs: int = 1, budget: Budget | None = None,
                    debug: bool = False) -> Iterator[tuple[Path, Outcome]]:
    """Normalize documents in order, over `jobs` worker processes when jobs > 1."""
    return run_stage(normalize_path, paths, jobs, budget, debug)


def prepare_paths(paths: list[Path], jobs: int = 1, budget: Budget | None = None,
                  debug: bool = False, normalized: Path | None = None,
                  reuse: bool = False) -> Iterator[tuple[Path, Loadable]]:
    """Normalize documents and prepare their rows, in order, over `jobs` worker processes.

    With `normalized` (a folder), each document's JSON is written there too, by its worker;
    with `reuse`, an up-to-date JSON there is read instead of normalizing again.
    """
    if normalized is None:
        return run_stage(prepare_path, paths, jobs, budget, debug)
    names = normalized_names(paths)
    return run_stage(partial(prepare_writing, folder=normalized, names=names, reuse=reuse),
                     paths, jobs, budget, debug)


def prepare_changed(url: str, paths: list[Path], jobs: int = 1, budget: Budget | None = None,
                    debug: bool = False, normalized: Path | None = None,
                    force: bool = False) -> Iterator[tuple[Path, Loadable]]:
    """prepare_paths for the files that changed, in order with an Unchanged for each file the
    database already holds as it is (its JSON, with `normalized`, up to date too): a build
    after one file changed reads that file, not the whole folder. With `force`, every file."""
    same = {} if force else unchanged_files(url, paths, normalized, budget or Budget())
    changed = prepare_paths([p for p in paths if p not in same], jobs, budget, debug,
                            normalized, reuse=not force)
    for path in paths:
        yield (path, same[path]) if path in same else next(changed)


def unchanged_files(url: str, paths: list[Path], normalized: Path | None,
                    budget: Budget) -> dict[Path, Unchanged]:
    """The files whose present bytes were loaded under this parser version, from this path, and
    provide every current list they ever provided; {} when the database is not there yet."""
    from sqlalchemy import func, inspect, select

    from pipeline import db, parser_version
    from pipeline.schema import documents, list_versions, quality_issues, towns

    try:
        engine = db.open_engine(url, existing=True)
    except PipelineError:
        return {}
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("list_versions"):
                return {}
            loaded = {row.sha256: row for row in conn.execute(
                select(documents, towns.c.name.label("town"))
                .join(towns, towns.c.id == documents.c.town_id)
                .where(documents.c.parser_version == parser_version()))}
            if not loaded:
                return {}
            held: dict[int, dict[str, bool]] = {}  # document → each list it provided: current?
            for document, kind, current, version in conn.execute(select(
                    list_versions.c.document_id, list_versions.c.list, list_versions.c.is_current,
                    list_versions.c.parser_version)):
                provided = held.setdefault(document, {})
                provided[kind] = provided.get(kind, False) or (current and version == parser_version())
            severities: dict[int, dict[str, int]] = {}
            for document, severity, number in conn.execute(
                    select(quality_issues.c.document_id, quality_issues.c.severity, func.count())
                    .join(documents, (documents.c.id == quality_issues.c.document_id)
                          & (documents.c.findings_run_id == quality_issues.c.run_id))
                    .group_by(quality_issues.c.document_id, quality_issues.c.severity)):
                severities.setdefault(document, {})[severity] = number
    except SQLAlchemyError:
        return {}  # whatever it is, the build itself will meet it and say so
    finally:
        engine.dispose()
    names = normalized_names(paths) if normalized is not None else {}
    same: dict[Path, Unchanged] = {}
    for path in paths:
        digest = file_digest(path, budget)
        row = loaded.get(digest) if digest else None
        lists = held.get(row.id, {}) if row else {}
        if (row is None or row.path != path_text(path) or not lists or not all(lists.values())
                or (normalized is not None
                    and not json_made_from(normalized / names[path], digest or ""))):
            continue
        counts = severities.get(row.id, {})
        same[path] = Unchanged(row.path, row.id, row.town_id, row.town, tuple(lists),
                               row.parser_version, row.rows_read, row.duties_loaded, row.rows_quarantined,
                               counts.get("error", 0), counts.get("warning", 0))
    return same


def file_digest(path: Path, budget: Budget) -> str | None:
    """The sha256 of a document within the byte budget; None for anything else."""
    try:
        if not_a_document(path) or path.stat().st_size > budget.max_bytes:
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def json_made_from(json_path: Path, digest: str) -> bool:
    """True when the normalized JSON there was made from these bytes by this parser (its
    identity fields come first: only its head is read)."""
    from pipeline import parser_version

    try:
        with json_path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return False
    return digest.encode() in head and parser_version().encode() in head


def prepare_writing(path: Path, budget: Budget | None, debug: bool, folder: Path,
                    names: dict[Path, str], reuse: bool) -> Loadable:
    return prepare_path(path, budget, debug, folder / names[path], reuse)


# A worker is replaced after this many documents, so that its heap cannot creep up to the limit.
TASKS_PER_WORKER = 50


def run_stage(stage: Callable[[Path, Budget | None, bool], T], paths: list[Path], jobs: int,
              budget: Budget | None, debug: bool) -> Iterator[tuple[Path, T | Finding]]:
    """stage(path) for each path, in order, each in a worker process under the budget's memory
    limit and timeout; in this process only when both are off and jobs is 1.

    A worker that dies (killed, as the out-of-memory killer does) or runs out of time fails
    its own document, with a finding naming it; it is replaced and the build goes on.
    """
    budget = budget or Budget()
    if not paths:
        return iter(())
    if not budget.isolated and (jobs <= 1 or len(paths) <= 1):
        return ((path, stage(path, budget, debug)) for path in paths)
    return in_workers(stage, paths, jobs, budget, debug, start_fork_server())


def in_workers(stage: Callable[[Path, Budget | None, bool], T], paths: list[Path], jobs: int,
               budget: Budget, debug: bool,
               context: "BaseContext") -> Iterator[tuple[Path, T | Finding]]:
    from pebble import ProcessPool

    # A bounded window of submitted documents: the loader may be slower than the workers, and
    # finished documents must not pile up in memory (a province is thousands of towns).
    pool = ProcessPool(max_workers=max(1, min(jobs, len(paths))), max_tasks=TASKS_PER_WORKER,
                       initializer=start_worker, initargs=(budget.max_memory,), context=context)
    try:
        window: deque[tuple[Path, Future[bytes]]] = deque()
        for path in paths:
            window.append((path, pool.schedule(in_worker, (stage, path, budget, debug),
                                               timeout=budget.timeout or None)))
            if len(window) >= 4 * jobs:
                done_path, future = window.popleft()
                outcome = worker_result(done_path, future, budget, debug)
                yield done_path, outcome
        while window:
            done_path, future = window.popleft()
            outcome = worker_result(done_path, future, budget, debug)
            yield done_path, outcome
    except BaseException:
        # Interrupted (Ctrl-C, an error in the loader): workers are stopped, not waited for.
        pool.stop()  # type: ignore[no-untyped-call]
        raise
    else:
        pool.close()  # type: ignore[no-untyped-call]
    finally:
        pool.join()


def in_worker(stage: Callable[[Path, Budget | None, bool], T], path: Path, budget: Budget,
              debug: bool) -> bytes:
    """stage(path), pickled here: a result too large for the memory limit to pickle is then
    a finding of its document, not a worker dying with a traceback."""
    try:
        return pickle.dumps(stage(path, budget, debug), pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        if debug:
            raise
        return pickle.dumps(out_of_memory(path))


def worker_result(path: Path, future: "Future[bytes]", budget: Budget,
                  debug: bool) -> T | Finding:
    """A worker's outcome, or the finding that says how its worker failed."""
    from pebble import ProcessExpired

    while not future.done():  # a wait with no timeout would not see Ctrl-C until it ends
        wait([future], timeout=0.5)
    try:
        outcome: T | Finding = pickle.loads(future.result())
        return outcome
    except TimeoutError:
        message = (f"reading it took longer than {budget.timeout:g} seconds and was stopped, "
                   + over("timeout", f"{budget.timeout:g}-second"))
        return Finding(path=str(path), code="timeout", severity="error", message=message)
    except ProcessExpired as exc:
        if debug:
            raise
        return Finding(path=str(path), code="worker-died", severity="error",
                             message=f"the worker process reading it {how_it_ended(exc.exitcode)}"
                                     "; nothing of it was loaded. If the file is genuine, raise "
                                     "--max-memory or free memory, then build again")
    except BrokenProcessPool as exc:  # no worker could be started at all
        if debug:
            raise
        return Finding(path=str(path), code="worker-died", severity="error",
                       message=f"no worker process could read it ({exc}); build again")


def how_it_ended(exitcode: int) -> str:
    """how_it_ended(-9) -> "was killed (SIGKILL, as the out-of-memory killer does)"."""
    import signal

    if exitcode == -signal.SIGKILL:
        return "was killed (SIGKILL, as the out-of-memory killer does)"
    if exitcode < 0:
        try:
            return f"was ended by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was ended by signal {-exitcode}"
    return f"exited with status {exitcode}"


def start_worker(max_memory: int) -> None:
    """Set up a worker: a lower priority, and its memory limit (0: none).

    Workers run at a lower priority: the single loading process is the pipeline's
    bottleneck, and on a machine with as many workers as cores it must not wait for one.
    """
    import resource

    lower_priority()
    if max_memory:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = max_memory if hard == resource.RLIM_INFINITY else min(max_memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def lower_priority() -> None:
    if hasattr(os, "nice"):  # not on Windows
        os.nice(10)


def read_normalized(path: Path) -> Outcome:
    """A NormalizedDocument from its JSON, or a Finding saying how to regenerate it."""
    try:
        return NormalizedDocument.model_validate_json(path.read_bytes())
    except (OSError, ValidationError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not a normalized document"
        return Finding(path=path_text(path), code="normalized", severity="error",
                       message=f"{reason}; regenerate it with: pipeline normalize RAWFILE")


def write_normalized(doc: NormalizedDocument, out: Path) -> None:
    """Write the JSON atomically: an interrupted or failed write leaves the old file and no
    partial one. A file that already holds the same JSON is left alone."""
    data = (doc.model_dump_json(indent=1) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    with suppress(OSError):
        if out.stat().st_size == len(data) and out.read_bytes() == data:
            return
    # O_EXCL with the umask's mode (mkstemp's 0600 would hide the committed file from others)
    temporary = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
    try:
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666),
                       "wb") as file:
            file.write(data)
        temporary.replace(out)
    except OSError as exc:  # name the file the user asked for (a full disk names none)
        raise OSError(exc.errno, exc.strerror, str(out)) from exc
    finally:
        with suppress(OSError):  # gone after replace(); there after a failure
            temporary.unlink(missing_ok=True)


def normalize_to_json(paths: list[Path], out: Path, budget: Budget | None = None,
                      progress: Callable[[], None] | None = None) -> Iterator[DocumentReport]:
    """Write each document's JSON into `out` (or to `out` itself when it names a .json)."""
    names = normalized_names(paths)
    for path, outcome in normalize_paths(paths, budget=budget):
        if progress:
            progress()
        if isinstance(outcome, Finding):
            yield DocumentReport(path_text(path), "failed", None, [outcome])
            continue
        write_normalized(outcome, out if out.suffix == ".json" else out / names[path])
        yield DocumentReport(path_text(path), "normalized", Counts.of(outcome), outcome.findings)


@dataclass(frozen=True)
class LoadOptions:
    force: bool = False  # reload documents even when unchanged
    accept_shrink: bool = False  # allow a new version to empty a list or lose half of it
    published: date | None = None  # when the documents do not say when they were published


def load_outcomes(url: str, outcomes: Iterable[tuple[Path, Loadable]], arguments: list[str],
                  options: LoadOptions = LoadOptions(),
                  progress: Callable[[], None] | None = None) -> Iterator[DocumentReport]:
    """Load each document in its own transaction and record the run; yields one report each,
    then one for each file that provides current lists and no longer exists."""
    from pipeline import db, loads, schema, search

    engine = db.open_engine(url)
    try:
        schema.ensure_schema(engine)
        run_id = db.start_run(engine, arguments)
        with engine.connect() as conn:
            bulk_after = search.bulk_after(conn)
        if engine.dialect.name == "postgresql":  # a fresh load: see search.py and schema.py
            search.drop_trigram_indexes(engine)
            schema.drop_foreign_keys(engine)
        counts = {"documents_loaded": 0, "documents_skipped": 0, "documents_failed": 0}
        claims: dict[tuple[int, str], str] = {}  # (place, list) → the file that holds it
        for path, outcome in outcomes:
            report = load_outcome(engine, run_id, path, outcome, options, claims,
                                  defer_index=counts["documents_loaded"] >= bulk_after)
            counts[f"documents_{report.status}"] += 1
            if progress:
                progress()
            yield report
        schema.restore_foreign_keys(engine)
        # On PostgreSQL the GIN indexes are built while the catalogue matches.
        if (matched := search.finish_index_during(engine, partial(catalogue_step, engine,
                                                                  run_id))) is not None:
            yield matched
        db.finish_run(engine, run_id, counts)
        with engine.connect() as conn:
            missing = loads.missing_sources(conn)
        for gone in missing:
            yield DocumentReport(gone, "missing", None, [Finding(
                path=gone, code="source-missing", severity="warning",
                message=f"no longer exists: its lists stay in the database; `pipeline forget "
                        f"{gone}` removes them")])
    except SQLAlchemyError as exc:  # outside a document's transaction: the database itself
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(f"{mask_url(url)}: {reason}") from None
    finally:
        engine.dispose()


def load_outcome(engine: "Engine", run_id: int, path: Path, outcome: Loadable,
                 options: LoadOptions, claims: dict[tuple[int, str], str],
                 defer_index: bool = False) -> DocumentReport:
    """Load one document in its own transaction; with defer_index, the search index is left
    stale in that transaction, for one rebuild at the end of the build (search.finish_index)."""
    from pipeline import db, loads, rows, search

    if isinstance(outcome, Finding):
        return fail(engine, run_id, path_text(path), None, outcome)
    doc = rows.prepare(outcome) if isinstance(outcome, NormalizedDocument) else outcome
    counts = Counts(doc.rows_read, doc.duties, doc.quarantined)
    rivals = sorted({claims[key] for kind in doc.lists if (key := (doc.town_id, kind)) in claims
                     and claims[key] != doc.path})
    claims.update({(doc.town_id, kind): claims.get((doc.town_id, kind), doc.path)
                   for kind in doc.lists})
    if rivals:
        return fail(engine, run_id, doc.path, None if isinstance(doc, Unchanged) else doc, Finding(
            path=doc.path, code="same-list", severity="error",
            message=f"holds {'、'.join(doc.lists)} of {doc.town}, as {'、'.join(rivals)} in this "
                    "build does; neither is loaded over the other: keep one of the files (or "
                    "build them one at a time, the later as a new version)"))
    if isinstance(doc, Unchanged):
        return skip_unchanged(engine, run_id, doc, counts)
    try:
        with db.writing(engine) as conn:
            db.lock_place(conn, doc.town_id)
            if not options.force and loads.is_loaded(conn, doc):
                renamed = loads.note_path(conn, doc)
                db.record_document(conn, run_id, doc.path, "skipped", doc)
                return DocumentReport(doc.path, "skipped", counts, doc.findings,
                                      note=f"the file once loaded as {renamed}" if renamed else None)
            if defer_index:
                search.mark_stale(conn)
            done, warnings = loads.load_document(conn, doc, run_id, publication(doc, options),
                                                 options.accept_shrink)
            db.record_document(conn, run_id, doc.path, "loaded", doc)
            db.record_findings(conn, run_id, doc.document_id, [*doc.findings, *warnings])
    except loads.Refused as exc:
        return fail(engine, run_id, doc.path, doc, Finding(
            path=doc.path, code="refused", severity="error", message=str(exc)))
    except (SQLAlchemyError, DatabaseError) as exc:
        if db.cannot_write(exc):  # a full disk or a read-only database: the build stops here
            raise
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return fail(engine, run_id, doc.path, doc, Finding(
            path=doc.path, code="load", severity="error",
            message=f"database refused the document, nothing of it was written: {reason}"))
    return DocumentReport(doc.path, "loaded", counts, [*doc.findings, *warnings], done)


def skip_unchanged(engine: "Engine", run_id: int, doc: Unchanged, counts: Counts) -> DocumentReport:
    """Record an unchanged file as skipped, once its lists are seen to be still its own (a
    build of the same place in between fails it: it was not read, so build again)."""
    from pipeline import db, loads

    with db.writing(engine) as conn:
        db.lock_place(conn, doc.town_id)
        if loads.is_loaded(conn, doc):
            db.record_document(conn, run_id, doc.path, "skipped", doc)
            return SkippedReport(doc.path, "skipped", counts, [], counts_of=(doc.errors,
                                                                               doc.warnings))
    return fail(engine, run_id, doc.path, None, Finding(
        path=doc.path, code="load", severity="error",
        message="another build changed its place while this one ran, and it was not read "
                "again; build again"))


@dataclass
class SkippedReport(DocumentReport):
    """An unchanged file's report: its findings are those recorded when it was loaded, counted."""

    counts_of: tuple[int, int] = (0, 0)  # errors, warnings

    @property
    def errors(self) -> int:
        return self.counts_of[0]

    @property
    def warnings(self) -> int:
        return self.counts_of[1]


@dataclass
class CatalogueReport(DocumentReport):
    """What the build's catalogue step did (pipeline/catalogue.py), reported as a document is."""

    def summary(self) -> str:
        return self.note or "catalogue: failed"


def catalogue_step(engine: "Engine", run_id: int) -> CatalogueReport | None:
    """Match the lists this build changed into the catalogue, in a transaction of its own: a
    failure is reported and leaves the loaded lists as they are (the next build, or `pipeline
    catalogue`, matches them). None when no list needed it."""
    from pipeline import catalogue, db

    try:
        outcome = catalogue.update_catalogue(engine, run_id)
    except Exception as exc:  # whatever it is, the lists loaded stay loaded
        if isinstance(exc, SQLAlchemyError) and db.cannot_write(exc):
            raise
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
        finding = Finding(path="catalogue", code="catalogue-failed", severity="error",
                          message=f"the catalogue was not updated ({type(exc).__name__}: "
                                  f"{reason}); the lists loaded are kept; run `pipeline "
                                  "catalogue` to match them")
        return CatalogueReport("catalogue", "failed", None, [finding])
    if not outcome.lists:
        return None
    return CatalogueReport("catalogue", "loaded", None, outcome.findings, note=outcome.summary())


def fail(engine: "Engine", run_id: int, path: str, doc: "Prepared | None",
         failure: Finding) -> DocumentReport:
    """Record a document that was not loaded: why, and what was found in it."""
    from pipeline import db

    findings = [*(doc.findings if doc else []), failure]
    with db.writing(engine) as conn:
        db.record_document(conn, run_id, path, "failed", doc)
        db.record_findings(conn, run_id, None, findings)
    return DocumentReport(path, "failed", None, findings)


def publication(doc: "Prepared", options: LoadOptions) -> "Published":
    """When a document was published: as it says, else as --published says, else the date
    its file was last modified."""
    from pipeline.loads import Published

    if doc.published is not None:
        return Published(doc.published, "document")
    if options.published is not None:
        return Published(options.published, "argument")
    try:
        modified = Path(doc.path).stat().st_mtime
    except OSError:
        return Published(None, "unknown")
    return Published(datetime.fromtimestamp(modified, UTC).date(), "file-modified")
