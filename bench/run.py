"""make bench: ours against the baseline and a bare floor, on one corpus, in one run.

    python bench/run.py [--towns 100] [--large 1000] [--postgres URL]

Prints a table of wall time, MB/s and peak RSS, then the target ratios, the stage costs and
the precision and recall of matching reworded duties (bench/changes.py). Every figure comes
from this one run on this machine; nothing is compared across runs.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
from bench.changes import bench_summary  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from bench.ocr import print_ocr_accuracy  # noqa: E402
from bench.pdf import print_pdf_costs  # noqa: E402
from bench.stages import stage_costs  # noqa: E402


def measure(command: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of the largest process in one child's tree."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: the warnings can be many
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                                   stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed ({code}):\n"
                             f"{errors.read().decode()[-2000:]}")
    # wait4's usage covers the child and the workers it waited for: the tree's largest process
    return wall, usage.ru_maxrss / 1024


def pipeline(*args: str) -> list[str]:
    return [str(BIN / "pipeline"), *args]


def row(name: str, wall: float, megabytes: float, rss: float) -> str:
    return f"| {name:<34} | {wall:8.2f} s | {megabytes / wall:7.2f} MB/s | {rss:7.0f} MB |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--towns", type=int, default=100)
    parser.add_argument("--large", type=int, default=1000, help="towns for the RSS run; 0 skips")
    parser.add_argument("--postgres", help="PostgreSQL URL for COPY against executemany")
    parser.add_argument("--no-make", action="store_true", help="skip timing make (smoke runs)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF reader (smoke runs)")
    parser.add_argument("--catalogue-towns", type=int, default=0,
                        help="towns for the catalogue's scale run (bench/catalogue.py); 0 skips")
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR accuracy (smoke runs)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dutylists-bench-"))
    try:
        corpus = work / "corpus"
        files = write_corpus(args.towns, corpus)
        megabytes = sum(f.stat().st_size for f in files) / 1e6
        print(f"corpus: {len(files)} text documents, {megabytes:.1f} MB; "
              f"{os.cpu_count()} cores; Python {sys.version.split()[0]}\n")
        results = {
            "ours -j 1": measure(pipeline("build", str(corpus), "--db",
                                          f"sqlite:///{work / 'ours1.db'}", "-j", "1")),
            "ours -j 2": measure(pipeline("build", str(corpus), "--db",
                                          f"sqlite:///{work / 'ours2.db'}", "-j", "2")),
            "baseline (pandas + BeautifulSoup)": measure(
                [sys.executable, str(ROOT / "bench" / "baseline.py"), str(corpus),
                 str(work / "baseline.db")]),
            "floor (read + split + INSERT)": measure(
                [sys.executable, str(ROOT / "bench" / "floor.py"), str(corpus),
                 str(work / "floor.db")]),
        }
        print("| run                                |     wall   |   throughput |  peak RSS |")
        print("|------------------------------------|------------|--------------|-----------|")
        for name, (wall, rss) in results.items():
            print(row(name, wall, megabytes, rss))
        ours, ours2 = results["ours -j 1"][0], results["ours -j 2"][0]
        baseline, floor = results["baseline (pandas + BeautifulSoup)"][0], results[
            "floor (read + split + INSERT)"][0]
        print()
        targets = [
            ("baseline ÷ ours -j 1 (target ≥ 10)", baseline / ours),
            ("baseline ÷ ours -j 2", baseline / ours2),
            ("ours -j 1 ÷ floor (target ≤ 5)", ours / floor),
            ("ours -j 2 ÷ floor", ours2 / floor),
            ("-j 1 ÷ -j 2 (target ≥ 1.6)", ours / ours2),
        ]
        if args.large:
            large = work / "large"
            write_corpus(args.large, large)
            _, rss = measure(pipeline("build", str(large), "--db",
                                      f"sqlite:///{work / 'large.db'}", "-j", "2"))
            targets.append((f"peak RSS of a {args.large}-town build, MB (target < 500)", rss))
        if not args.no_make:
            targets.append(("make with nothing changed, s (target < 1)", noop_make()))
            targets.append(("make after touching one raw file, s", touched_make()))
        targets.append(("pipeline --help, s (target < 0.3)",
                        min(measure(pipeline("--help"))[0] for _ in range(5))))
        if args.postgres:
            targets.append(("COPY ÷ executemany on PostgreSQL (target ≥ 4)",
                            copy_speedup(args.postgres, files[:20])))
        for name, value in targets:
            print(f"{name:<58} {value:8.2f}")
        print(f"\nWhere a town's time goes (first {min(20, len(files))} towns, one process; "
              f"the whole floor is {floor / len(files) * 1000:.1f} ms/town):")
        for name, ms in stage_costs(files[:20]).items():
            print(f"{name:<58} {ms:8.1f} ms/town")
        print("\nMatching reworded duties to the previous version (bench/changes.py for the "
              "full grids):\n")
        print(bench_summary())
        if not args.no_pdf:
            print_pdf_costs()
        if args.catalogue_towns:
            from bench.catalogue import scale

            print("\nThe catalogue at scale (#19.6, bench/catalogue.py --scale):\n")
            print(scale(args.catalogue_towns))
        if not args.no_ocr:
            print_ocr_accuracy()  # says it skipped when the extra is not installed
    finally:
        shutil.rmtree(work, ignore_errors=True)


def noop_make() -> float:
    """`make` in the repository right after a `make`: it must find nothing to do."""
    subprocess.run(["make", "-s"], cwd=ROOT, check=True, capture_output=True)
    return min(measure(["make", "-s"])[0] for _ in range(3))


def touched_make() -> float:
    """`make` after one raw file's time changes: one build reads raw/, finds each document's
    normalized JSON current (same bytes, same parser) and the load unchanged."""
    raw = min(p for p in (ROOT / "raw").iterdir() if not p.name.startswith("."))
    subprocess.run(["make", "-s"], cwd=ROOT, check=True, capture_output=True)
    walls = []
    for _ in range(3):
        raw.touch()
        walls.append(measure(["make", "-s"])[0])
    return min(walls)


def copy_speedup(url: str, files: list[Path]) -> float:
    """Load the same normalized rows by COPY and by SQLAlchemy Core executemany INSERT."""
    from sqlalchemy import delete

    from pipeline import db, rows, schema
    from pipeline.builds import normalize_path
    from pipeline.records import NormalizedDocument

    documents = [d for d in map(normalize_path, files) if isinstance(d, NormalizedDocument)]
    prepared = [part.steps for d in documents for part in rows.prepare(d).lists.values()]
    rows = db.Rows(prepared[0].columns, [value for p in prepared for value in p.values])
    engine = db.open_engine(url)
    schema.ensure_schema(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM steps")  # rows rolled back by earlier runs slow the index
    timings = {}
    for method in ("copy", "executemany"):
        with engine.begin() as conn:
            conn.exec_driver_sql("SET session_replication_role = replica")  # no FK checks
            conn.execute(delete(schema.steps))
            start = time.perf_counter()
            if method == "copy":
                db.copy_rows(conn, schema.steps, rows)
            else:
                conn.execute(schema.steps.insert(), rows.dicts())
            timings[method] = time.perf_counter() - start
            conn.rollback()
    engine.dispose()
    print(f"PostgreSQL: {len(rows.values)} step rows, COPY {timings['copy']:.2f} s, "
          f"executemany {timings['executemany']:.2f} s")
    return timings["executemany"] / timings["copy"]


if __name__ == "__main__":
    main()
