"""Builds: documents found, normalized (in parallel if asked) and loaded, with a report each.

The CLI calls these and prints what they return; nothing here prints or exits.
"""

import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, Union

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from pipeline.budgets import MIB, Budget, over
from pipeline.errors import DatabaseError, SourceError, mask_url
from pipeline.records import Finding, NormalizedDocument

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pipeline.db import ListLoad, Prepared, Published

Status = Literal["loaded", "skipped", "failed", "normalized", "missing"]
Outcome = NormalizedDocument | Finding
Loadable = Union["Prepared", NormalizedDocument, Finding]
T = TypeVar("T")


@dataclass(frozen=True)
class Counts:
    rows_read: int
    duties: int
    quarantined: int

    @classmethod
    def of(cls, doc: NormalizedDocument) -> "Counts":
        return cls(doc.rows_read, len(doc.duties), doc.quarantined)

    @classmethod
    def of_prepared(cls, prepared: "Prepared") -> "Counts":
        return cls(prepared.rows_read, prepared.duties, prepared.quarantined)


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
        if self.status == "missing":
            return f"{self.path}: no longer exists; its lists stay in the database"
        if counts is None:
            return f"{self.path}: failed, nothing loaded"
        verb = {"loaded": "loaded", "skipped": "unchanged, skipped",
                "normalized": "normalized", "failed": "failed"}[self.status]
        lists = "".join(f"; {load.list} " + (
            f"unchanged (version {load.version})" if not load.new else
            f"version {load.version}" if load.version == 1 else
            f"version {load.version}, {load.changes} changes") for load in self.lists)
        note = f" ({self.note})" if self.note else ""
        return (f"{self.path}: {verb}{note}; rows read {counts.rows_read} = {counts.duties} duties "
                f"+ {counts.quarantined} quarantined; {self.errors} errors, "
                f"{self.warnings} warnings{lists}")


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files named, and what folders named hold (sorted, hidden ones skipped): whatever in
    them is not a readable file (a FIFO, a folder, a broken link) is reported when read."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.iterdir()) if not p.name.startswith("."))
        else:
            found.append(path)
    return found


def normalize_path(path: Path, budget: Budget | None = None, debug: bool = False) -> Outcome:
    """Read and normalize one raw document; an unreadable one becomes a single error Finding."""
    from pipeline.documents import normalize_document
    from pipeline.sources import read_source

    try:
        return normalize_document(read_source(path, budget or Budget()))
    except SourceError as exc:
        return Finding(path=str(path), code=exc.code, severity="error", message=exc.message)
    except MemoryError:  # over the worker's address-space limit (run_stage sets it)
        if debug:
            raise
        return out_of_memory(path)
    except Exception as exc:  # a parser bug must not stop the other documents
        if debug:
            raise
        return Finding(path=str(path), code="internal", severity="error",
                       message=f"the parser failed on this document ({type(exc).__name__}: "
                               f"{exc}); please report it with the file attached")


def prepare_path(path: Path, budget: Budget | None = None, debug: bool = False) -> Loadable:
    """normalize_path, then the database rows: what a build's workers hand the loader."""
    from pipeline.db import prepare

    outcome = normalize_path(path, budget, debug)
    if isinstance(outcome, Finding):
        return outcome
    try:
        return prepare(outcome)
    except MemoryError:
        if debug:
            raise
        return out_of_memory(path)


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
                  debug: bool = False) -> Iterator[tuple[Path, Loadable]]:
    """Normalize documents and prepare their rows, in order, over `jobs` worker processes."""
    return run_stage(prepare_path, paths, jobs, budget, debug)


# Workers start from a fork server that has imported these, not from the loading process:
# a worker's memory limit then measures the document, not the loader's heap, and no process
# is forked while the pool's own threads run.
WORKER_MODULES = ["pipeline.builds", "pipeline.documents", "pipeline.db"]
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
        return
    if not budget.isolated and (jobs <= 1 or len(paths) <= 1):
        for path in paths:
            yield path, stage(path, budget, debug)
        return
    import multiprocessing

    from pebble import ProcessPool

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_MODULES)
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
        return Finding(path=str(path), code="normalized", severity="error",
                       message=f"{reason}; regenerate it with: pipeline normalize RAWFILE")


def write_normalized(doc: NormalizedDocument, out: Path) -> None:
    """Write the JSON atomically, so an interrupted run never leaves half a file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(doc.model_dump_json(indent=1) + "\n", encoding="utf-8")
    partial.replace(out)


def normalize_to_json(paths: list[Path], out: Path, budget: Budget | None = None,
                      progress: Callable[[], None] | None = None) -> Iterator[DocumentReport]:
    """Write each document's JSON into `out` (or to `out` itself when it names a .json)."""
    for path, outcome in normalize_paths(paths, budget=budget):
        if progress:
            progress()
        if isinstance(outcome, Finding):
            yield DocumentReport(str(path), "failed", None, [outcome])
            continue
        write_normalized(outcome, out if out.suffix == ".json" else out / f"{path.stem}.json")
        yield DocumentReport(str(path), "normalized", Counts.of(outcome), outcome.findings)


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
    from pipeline import db, schema

    engine = db.open_engine(url)
    try:
        schema.ensure_schema(engine)
        run_id = db.start_run(engine, arguments)
        counts = {"documents_loaded": 0, "documents_skipped": 0, "documents_failed": 0}
        claims: dict[tuple[int, str], str] = {}  # (place, list) → the file that holds it
        for path, outcome in outcomes:
            report = load_outcome(engine, run_id, path, outcome, options, claims)
            counts[f"documents_{report.status}"] += 1
            if progress:
                progress()
            yield report
        db.finish_run(engine, run_id, counts)
        with engine.connect() as conn:
            missing = db.missing_sources(conn)
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
                 options: LoadOptions, claims: dict[tuple[int, str], str]) -> DocumentReport:
    from pipeline import db

    if isinstance(outcome, Finding):
        return fail(engine, run_id, str(path), None, outcome)
    doc = db.prepare(outcome) if isinstance(outcome, NormalizedDocument) else outcome
    counts = Counts.of_prepared(doc)
    rivals = sorted({claims[key] for kind in doc.lists if (key := (doc.town_id, kind)) in claims
                     and claims[key] != doc.path})
    claims.update({(doc.town_id, kind): claims.get((doc.town_id, kind), doc.path)
                   for kind in doc.lists})
    if rivals:
        return fail(engine, run_id, doc.path, doc, Finding(
            path=doc.path, code="same-list", severity="error",
            message=f"holds {'、'.join(doc.lists)} of {doc.town}, as {'、'.join(rivals)} in this "
                    "build does; neither is loaded over the other: keep one of the files (or "
                    "build them one at a time, the later as a new version)"))
    try:
        with db.writing(engine) as conn:
            db.lock_place(conn, doc.town_id)
            if not options.force and db.is_loaded(conn, doc):
                renamed = db.note_path(conn, doc)
                db.record_document(conn, run_id, doc.path, "skipped", doc)
                return DocumentReport(doc.path, "skipped", counts, doc.findings,
                                      note=f"the file once loaded as {renamed}" if renamed else None)
            loads, warnings = db.load_document(conn, doc, run_id, publication(doc, options),
                                               options.accept_shrink)
            db.record_document(conn, run_id, doc.path, "loaded", doc)
            db.record_findings(conn, run_id, doc.document_id, [*doc.findings, *warnings])
    except db.Refused as exc:
        return fail(engine, run_id, doc.path, doc, Finding(
            path=doc.path, code="refused", severity="error", message=str(exc)))
    except (SQLAlchemyError, DatabaseError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return fail(engine, run_id, doc.path, doc, Finding(
            path=doc.path, code="load", severity="error",
            message=f"database refused the document, nothing of it was written: {reason}"))
    return DocumentReport(doc.path, "loaded", counts, [*doc.findings, *warnings], loads)


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
    from pipeline.db import Published

    if doc.published is not None:
        return Published(doc.published, "document")
    if options.published is not None:
        return Published(options.published, "argument")
    try:
        modified = Path(doc.path).stat().st_mtime
    except OSError:
        return Published(None, "unknown")
    return Published(datetime.fromtimestamp(modified, UTC).date(), "file-modified")
