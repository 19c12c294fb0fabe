"""The `pipeline` command: reads arguments, calls one library function, reports.

Exit status: 0 no error recorded (warnings allowed); 1 a document or row failed;
2 usage error; 3 the database or environment failed (nothing half-written);
4 a bug in the pipeline (rerun with --debug for the traceback).
Heavy modules are imported inside the commands so that `pipeline --help` stays quick.
"""

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from pipeline import DEFAULT_URL
from pipeline.budgets import MIB, Budget, parse_size

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

    from pipeline.builds import DocumentReport
    from pipeline.history import ChangeRow

EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C

db_option = click.option(
    "--db", "url", metavar="URL", envvar="DATABASE_URL", show_envvar=True,
    default=DEFAULT_URL, show_default=True,
    help="SQLAlchemy URL: sqlite:///file.db or postgresql://user@host/db.")
debug_option = click.option("--debug", is_flag=True, help="Show tracebacks.")
force_option = click.option("--force", is_flag=True, help="Reload documents even when unchanged.")
shrink_option = click.option(
    "--accept-shrink", is_flag=True,
    help="Let a new version empty a list or lose more than half of its duties.")
published_option = click.option(
    "--published", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
    help="Publication date of documents that do not state one (else the file's date).")
list_choice = click.Choice(["basic", "cooperative", "withdrawn"])


def size(value: str | int) -> int:
    try:
        return value if isinstance(value, int) else parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# Limits per document (pipeline/budgets.py); a document over one is an error naming its flag.
DEFAULT_BUDGET = Budget()
budget_options = [
    click.option("--max-bytes", type=click.IntRange(1), default=DEFAULT_BUDGET.max_bytes,
                 show_default=True,
                 help="Largest input file to accept, in bytes (an xlsx/docx may unpack to 4×)."),
    click.option("--max-cells", type=click.IntRange(1), default=DEFAULT_BUDGET.max_cells,
                 show_default=True,
                 help="Largest table or sheet to fill, in cells (rows × columns, spans filled)."),
    click.option("--max-memory", type=size, default=f"{DEFAULT_BUDGET.max_memory // MIB}M",
                 show_default=True, metavar="SIZE",
                 help="Memory a worker may use to parse one document (512M, 2G; 0: no limit)."),
    click.option("--timeout", type=click.FloatRange(0), default=DEFAULT_BUDGET.timeout,
                 show_default=True,
                 help="Seconds a worker may take to parse one document (0: no limit)."),
]


def with_budget(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(budget_options):
        command = option(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dutylists")
def cli() -> None:
    """Turn township duty lists (履行职责事项清单) into a clean database."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@db_option
@click.option("-j", "--jobs", type=click.IntRange(1), default=lambda: min(4, os.cpu_count() or 1),
              show_default="the CPU count, at most 4",
              help="Worker processes that read and normalize (one process loads; past a few, "
                   "more workers only wait for it).")
@force_option
@shrink_option
@published_option
@click.option("--normalized", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write each document's normalized JSON into DIR, atomically. A JSON "
                   "there made from the same bytes by the same parser is read instead of "
                   "normalizing again (not with --force).")
@with_budget
@debug_option
def build(paths: tuple[Path, ...], url: str, jobs: int, force: bool, accept_shrink: bool,
          published: "datetime | None", normalized: Path | None, max_bytes: int, max_cells: int,
          max_memory: int, timeout: float, debug: bool) -> None:
    """Read, normalize and load documents or folders (default raw/)."""
    budget = Budget(max_bytes, max_cells, max_memory, timeout)
    if budget.isolated or jobs > 1:  # the workers' server gets ready while this process does
        from pipeline.pool import start_fork_server

        start_fork_server()
    from pipeline.builds import LoadOptions, discover, load_outcomes, prepare_changed
    from pipeline.errors import UsageError, escape

    try:
        files = discover(paths or [Path("raw")])
    except OSError as exc:  # a folder named that cannot be listed
        fail(UsageError(f"cannot read {escape(os.fsdecode(exc.filename))}: {exc.strerror}"))
    try:
        if normalized is not None:
            normalized.mkdir(parents=True, exist_ok=True)  # fail before any work, not after
    except OSError as exc:
        fail(exc)
    outcomes = prepare_changed(url, files, jobs, budget, debug, normalized, force)
    options = LoadOptions(force, accept_shrink, published.date() if published else None)
    run_and_report(lambda tick: load_outcomes(url, outcomes, sys.argv[1:], options, tick),
                   len(files), debug)


@cli.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), default=Path("normalized"),
              show_default=True, help="Output folder, or a .json file for a single input.")
@click.option("--exit-zero", is_flag=True,
              help="Exit 0 when the JSON was written, even if rows were quarantined.")
@with_budget
def normalize(paths: tuple[Path, ...], out: Path, exit_zero: bool, max_bytes: int,
              max_cells: int, max_memory: int, timeout: float) -> None:
    """Normalize raw documents into normalized/<name>.json without loading them."""
    from pipeline.builds import normalize_to_json

    if out.suffix == ".json" and len(paths) > 1:
        raise click.BadParameter(f"{len(paths)} documents cannot share one file; give a folder",
                                 param_hint="'-o'")
    budget = Budget(max_bytes, max_cells, max_memory, timeout)
    run_and_report(lambda tick: normalize_to_json(list(paths), out, budget, tick),
                   len(paths), debug=False, exit_zero=exit_zero)


@cli.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@db_option
@force_option
@shrink_option
@published_option
@debug_option
def load(paths: tuple[Path, ...], url: str, force: bool, accept_shrink: bool,
         published: "datetime | None", debug: bool) -> None:
    """Load normalized JSON documents into the database."""
    from pipeline.builds import LoadOptions, load_outcomes, read_normalized

    outcomes = ((path, read_normalized(path)) for path in paths)
    options = LoadOptions(force, accept_shrink, published.date() if published else None)
    run_and_report(lambda tick: load_outcomes(url, outcomes, sys.argv[1:], options, tick),
                   len(paths), debug)


@cli.command()
@click.argument("place")
@click.option("--list", "kind", type=list_choice, help="Only this list.")
@click.option("--version", "number", type=click.IntRange(1),
              help="Print this version's duties (with --list) as JSON lines, exactly as loaded.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
def history(place: str, kind: str | None, number: int | None, url: str, as_json: bool) -> None:
    """List the versions of a place's lists (PLACE: its name, full name or id)."""
    import json

    from pipeline.errors import escape
    from pipeline.history import version_duties, versions_of

    with reading(url) as engine, reported():
        found, versions = versions_of(engine, place, kind)
        if number is not None:
            chosen = [v for v in versions if v.number == number]
            if len(chosen) != 1:
                raise usage(f"{found.name} has no version {number}"
                            f"{' of its ' + kind + ' list' if kind else '; add --list'}")
            for duty in version_duties(engine, chosen[0].id):
                click.echo(duty.model_dump_json())
            return
    for v in versions:
        if as_json:
            click.echo(json.dumps({"place": found.name, **vars(v)}, ensure_ascii=False,
                                  default=str))
            continue
        state = ("current" if v.is_current else
                 f"withdrawn {v.withdrawn_at:%Y-%m-%d}" if v.withdrawn_at else "superseded")
        published = f"{v.published} ({v.published_from})" if v.published else "unknown"
        click.echo(f"{escape(found.path)} {v.list} version {v.number}: {v.duties} duties, "
                   f"{state}; published {published}; loaded {v.loaded_at:%Y-%m-%d %H:%M} from "
                   f"{escape(v.path)} (sha256 {v.sha256[:12]}…)")


@cli.command()
@click.argument("place")
@click.option("--list", "kind", type=list_choice, help="Only this list.")
@click.option("--from", "old", type=click.IntRange(1), help="Version to compare from.")
@click.option("--to", "new", type=click.IntRange(1), help="Version to compare to.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per list.")
def diff(place: str, kind: str | None, old: int | None, new: int | None, url: str,
         as_json: bool) -> None:
    """Show what changed in a place's lists: by default, in each list's latest version."""
    import json

    from pipeline.history import diff_versions

    with reading(url) as engine, reported():
        diffs = diff_versions(engine, place, kind, old, new)
    for d in diffs:
        if as_json:
            click.echo(json.dumps(d.as_dict(), ensure_ascii=False))
            continue
        start = f"version {d.old.number}" if d.old else "nothing"
        click.echo(f"{place} {d.kind}: {start} → version {d.new.number} "
                   f"({len(d.changes)} changes)")
        for c in d.changes:
            click.echo("  " + describe_change(c))


def describe_change(c: "ChangeRow") -> str:
    """One line per change: describe_change(reworded 12 A → 12 B) -> "~ reworded  12 A → 12 B"."""
    old = f"{c.old_seq} {c.old_title}"
    new = f"{c.new_seq} {c.new_title}"
    text = {
        "added": f"+ added         {new}",
        "removed": f"- removed       {old}",
        "reworded": f"~ reworded      {old} → {new}",
        "steps_changed": f"# steps changed {new}",
        "renumbered": f"↕ renumbered    {c.old_seq} → {new}",
        "moved": f"> moved         {c.old_list} {old} → {c.list} {new}",
    }[c.change]
    return text + (f" ({c.detail})" if c.detail else "")


@cli.command()
@click.argument("path")
@db_option
def forget(path: str, url: str) -> None:
    """Remove the current lists that the file PATH provides (their versions stay in history)."""
    from pipeline.catalogue import collect_garbage
    from pipeline.db import writing
    from pipeline.errors import escape
    from pipeline.loads import forget_document

    with reading(url) as engine, writing(engine) as conn:
        removed = forget_document(conn, path)
        if removed:
            collect_garbage(conn)  # the catalogue lets go of the duties forgotten
    if not removed:
        click.echo(f"{escape(path)}: provides no current list; nothing to forget", err=True)
        sys.exit(EXIT_DATA)
    for what in removed:
        click.echo(f"{escape(path)}: removed the {what} (kept in its history)")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"),
              show_default=True)
@click.option("--check", is_flag=True, help="Exit 1 if the files differ from the code.")
def schemas(out: Path, check: bool) -> None:
    """Write the JSON Schema of normalized documents and the SQLite/PostgreSQL DDL."""
    from pipeline.contracts import write_contracts
    from pipeline.errors import escape

    try:
        stale = write_contracts(out, check=check)
    except OSError as exc:
        fail(exc)
    for name in stale:
        click.echo(f"{escape(str(out / name))}: {'stale; run make schemas' if check else 'written'}")
    if check and stale:
        sys.exit(EXIT_DATA)


@cli.group(invoke_without_command=True)
@db_option
@click.pass_context
def catalogue(ctx: click.Context, url: str) -> None:
    """Match every town's duties into the cross-town catalogue again (a full rebuild; every
    build already updates it for the lists it changed). Manual decisions and an imported
    reference catalogue are kept."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.catalogue import rebuild_catalogue

    with reading(url) as engine:
        outcome = rebuild_catalogue(engine, sys.argv[1:])
    click.echo(outcome.summary())


@catalogue.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--list", "kind", type=list_choice, default="basic", show_default=True,
              help="The list of rows when the file has no list column.")
@db_option
def catalogue_import(path: Path, kind: str, url: str) -> None:
    """Make a reference catalogue (CSV or xlsx: code, title[, category][, list]) the items of
    its lists, and match every town's duties to it."""
    from pipeline.references import import_reference

    with reading(url) as engine:
        imported = import_reference(engine, path, sys.argv[1:], kind)  # type: ignore[arg-type]
    for each, number in imported.items.items():
        click.echo(f"{each}: {number:,} reference items")
    click.echo(imported.matched.summary())


@catalogue.command("review")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per duty.")
def catalogue_review(url: str, as_json: bool) -> None:
    """List the duties kept apart though near another item, with the items they were near."""
    import json
    from dataclasses import asdict

    from pipeline.errors import escape
    from pipeline.reviews import list_reviews

    with reading(url) as engine:
        reviews = list_reviews(engine)
    for review in reviews:
        if as_json:
            click.echo(json.dumps(asdict(review), ensure_ascii=False))
            continue
        click.echo(escape(f"duty {review.duty_id}  {review.town} {review.list} {review.seq}  "
                          f"{review.title}  → item {review.item_id} ({review.reason})"))
        for item, title, score in review.candidates:
            click.echo(escape(f"    item {item}  {score:5.1f}  {title}"))
    click.echo(f"{len(reviews)} to review; `pipeline catalogue link DUTY ITEM` or `split DUTY` "
               "decides", err=True)


@catalogue.command("link")
@click.argument("duty", type=int)
@click.argument("item", type=int)
@db_option
def catalogue_link(duty: int, item: int, url: str) -> None:
    """Link DUTY to catalogue ITEM, by hand: kept across rebuilds and new versions."""
    decide_and_report(url, duty, item)


@catalogue.command("split")
@click.argument("duty", type=int)
@db_option
def catalogue_split(duty: int, url: str) -> None:
    """Give DUTY a catalogue item of its own, by hand: kept across rebuilds and new versions."""
    decide_and_report(url, duty, None)


@catalogue.command("export")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("coverage.xlsx"), show_default=True)
@db_option
def catalogue_export(out: Path, url: str) -> None:
    """Write the coverage matrix as xlsx: a sheet per county, a row per catalogue item, a
    column per place; 1 held, 0 not, and a red 0 where most of the county holds the item."""
    from pipeline.errors import escape
    from pipeline.exports import export_coverage

    with reading(url) as engine:
        click.echo(escape(str(export_coverage(engine, out))))


def decide_and_report(url: str, duty: int, item: int | None) -> None:
    from pipeline.errors import escape
    from pipeline.reviews import decide

    with reading(url) as engine:
        decided = decide(engine, duty, item, sys.argv[1:])
    click.echo(escape(f"{decided.town} {decided.list} duty {decided.duty_id} {decided.title} → "
                      f"item {decided.item_id} {decided.item_title} (manual)"))


def usage(message: str) -> Exception:
    from pipeline.errors import PipelineError

    return PipelineError(message)


@contextmanager
def reported() -> Iterator[None]:
    """A PipelineError inside (no such place, no such version) is one line and exit status 2
    (3 for the database)."""
    from pipeline.errors import DatabaseError, PipelineError, UsageError

    try:
        yield
    except PipelineError as exc:
        fail(exc if isinstance(exc, DatabaseError) else UsageError(str(exc)))


def fail(exc: BaseException, output: Path | None = None) -> NoReturn:
    """Print a deliberate error (or an unwritable output) as one line; exit with its status."""
    from pipeline.errors import UsageError, escape

    if isinstance(exc, OSError):  # an output folder read-only or full, a name in the way
        # a rename names its target second; a full disk often names no file at all
        name = exc.filename2 or exc.filename or output
        where = escape(os.fsdecode(name)) if name else "the output"
        reason = "a file is in the way of a folder of that name" \
            if isinstance(exc, FileExistsError | NotADirectoryError) else exc.strerror or exc
        message = f"cannot write {where}: {reason}"
    else:
        message = str(exc)
    click.echo(f"error: {escape(message)}", err=True)
    sys.exit(EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ENVIRONMENT)


@contextmanager
def reading(url: str) -> Iterator["Engine"]:
    """An engine on a built database; a problem is one line and exit status 2 or 3.

    Also turns what the command itself raises on purpose (a search too long, an output that
    cannot be written) into one line.
    """
    from pipeline.db import open_engine
    from pipeline.errors import PipelineError

    try:
        engine = open_engine(url, existing=True)
    except PipelineError as exc:
        fail(exc)
    try:
        yield engine
    except (PipelineError, OSError) as exc:
        fail(exc)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        engine.dispose()


@cli.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
def departments(url: str, as_json: bool) -> None:
    """List each department with its aliases and its duty counts per role."""
    import json

    from pipeline.db import department_summary

    with reading(url) as engine:
        rows = department_summary(engine)
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, ensure_ascii=False))
            continue
        click.echo(f"{row['name']}  counterpart {row['counterpart']}  receiver {row['receiver']}"
                   f"  mentioned {row['mentioned']}\n    aliases: {'、'.join(row['aliases'])}")


@cli.command()
@click.argument("query")
@click.option("--list", "lists", multiple=True, type=list_choice, help="Only this list (repeatable).")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1),
              help="Show at most this many duties.")
@click.option("--all", "show_all", is_flag=True, help="Show every duty that matches.")
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per duty.")
def search(query: str, lists: tuple[str, ...], limit: int, show_all: bool, url: str,
           as_json: bool) -> None:
    """Find duties whose title or steps contain every term of QUERY (Chinese substrings of any
    length; "a phrase" in double quotes is one term).

    At most 32 terms of at most 100 characters each; terms are folded as stored text is
    (full-width ＡＢＣ１２ finds ABC12).
    """
    import json
    from dataclasses import asdict

    from pipeline.errors import escape
    from pipeline.search import count_duties, search_duties, split_query

    if not split_query(query):
        raise click.UsageError("the query is empty: give a term to search for, e.g. 秸秆")
    with reading(url) as engine:
        hits = search_duties(engine, query, lists, None if show_all else limit)
        total = len(hits) if show_all or len(hits) < limit else count_duties(engine, query, lists)
    for hit in hits:
        if as_json:
            click.echo(json.dumps(asdict(hit), ensure_ascii=False))
        else:
            click.echo(escape(f"{hit.town} {hit.list} {hit.seq}  {hit.title}")
                       + f"\n    {hit.where}: {escape(hit.highlight)}")
    matching = "duty matches" if total == 1 else "duties match"
    if total > len(hits):
        click.echo(f"{len(hits)} of {total} {matching}; --limit N or --all shows more", err=True)
    else:
        click.echo(f"{total} {matching}", err=True)


@cli.command()
@click.option("--format", "form", type=click.Choice(["csv", "parquet", "xlsx"]), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("export"),
              show_default=True)
@db_option
def export(form: str, out: Path, url: str) -> None:
    """Write every table and view to OUT, one file each (CSV is UTF-8 with BOM).

    Characters a format cannot hold (control characters in xlsx) are removed and counted.
    """
    from pipeline.errors import escape
    from pipeline.exports import export as write

    with reading(url) as engine:
        for written in write(engine, out, form):
            click.echo(escape(str(written.path)))
            if written.removed:
                click.echo(f"{escape(str(written.path))}: warning: {written.removed:,} "
                           f"characters that {form} cannot hold were removed (control "
                           "characters; the database keeps them)", err=True)


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("report.html"), show_default=True)
@db_option
def report(out: Path, url: str) -> None:
    """Write a self-contained HTML report with charts and the quality findings."""
    from pipeline.errors import escape
    from pipeline.reports import write_report

    with reading(url) as engine:
        try:
            write_report(engine, out)
        except OSError as exc:
            fail(exc, out)
    click.echo(escape(str(out)))


def run_and_report(run: Callable[[Callable[[], None]], Iterable["DocumentReport"]],
                   total: int, debug: bool, exit_zero: bool = False) -> None:
    """Run a build, show progress, print findings as path:line: message, set the exit status.

    Each document's findings are printed as it is done (above the progress bar), and only its
    summary line is kept for the end: a build of ten thousand towns does not hold every
    finding it met."""
    from functools import partial

    from rich.console import Console
    from rich.progress import Progress

    from pipeline.errors import PipelineError, escape
    from pipeline.findings import fold_findings

    console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
    # Above a live progress bar through rich; elsewhere plainly (rich takes 67 µs a line,
    # click 11, and a town may have a hundred findings).
    say = (partial(console.print, markup=False) if console.is_terminal
           else partial(click.echo, err=True))
    summaries: list[str] = []
    failed = False
    try:
        with Progress(console=console, transient=True, disable=total < 2) as progress:
            task = progress.add_task("documents", total=total)
            for item in run(lambda: progress.advance(task)):
                # An unchanged document's findings were printed when it was loaded; its
                # summary counts them.
                if item.status != "skipped":
                    for line in fold_findings(sorted(
                            item.findings, key=lambda f: (f.path, f.sheet or "", f.line or 0))):
                        say(line)
                summaries.append(item.summary())
                if not item.reconciled:
                    summaries.append(f"{escape(item.path)}: error: rows read do not add up to "
                                     "duties + quarantined")
                failed = failed or item.errors > 0 or not item.reconciled
    except (PipelineError, OSError) as exc:
        if debug:
            raise
        fail(exc)
    except KeyboardInterrupt:
        click.echo("interrupted; what was written is complete, nothing is half-written",
                    err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:
        if debug:
            raise
        click.echo(escape(f"error: internal error ({type(exc).__name__}: {exc}); rerun with "
                          "--debug and report the traceback"), err=True)
        sys.exit(EXIT_BUG)
    for line in summaries:
        click.echo(line)
    if failed and not exit_zero:
        sys.exit(EXIT_DATA)


def main() -> None:
    import logging
    import signal

    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so no half-written file is left behind.
    signal.signal(signal.SIGTERM, terminated)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    logging.addLevelName(logging.WARNING, "warning")
    cli(prog_name="pipeline")


def terminated(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
