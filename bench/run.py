"""make bench: every speed target of issue #20 in one table, from one run on one machine.

    python bench/run.py [--towns 100] [--large 1000] [--rounds 3] [--huge] [--postgres URL]

On each corpus (100 and 1,000 sample-like towns) it runs, round after round in turn, ours
(`pipeline build` at the default -j), the baseline (bench/baseline.py: pandas +
BeautifulSoup) and the limit (bench/limit.py: the same rows with keys and a bulk FTS5
index); a ratio is taken within each round and the median of the rounds is printed, so a
machine that slows down half-way moves all three alike. Then the one-town rebuild in the
1,000-town database, a no-op `make`, the 10,000-town run (--huge: 1.25 GB), a fresh
PostgreSQL load (--postgres), the table of targets, the stage costs and the other benches.
Nothing is compared across runs.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
from bench.changes import bench_summary  # noqa: E402
from bench.corpus import write_corpus  # noqa: E402
from bench.ocr import print_ocr_accuracy  # noqa: E402
from bench.pdf import print_pdf_costs  # noqa: E402
from bench.stages import stage_costs  # noqa: E402


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    rss: float  # MB, the largest process in the tree


@dataclass(frozen=True)
class Target:
    name: str
    value: float | None  # None: not measured in this run
    goal: str  # "≥ 3", "≤ 0.3 s"…
    met: bool
    measurement: str  # how the value was measured


def measure(command: list[str], cwd: Path = ROOT) -> Run:
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
    return Run(wall, usage.ru_maxrss / 1024)


def pipeline(*args: str) -> list[str]:
    return [str(BIN / "pipeline"), *args]


def fresh(path: Path) -> Path:
    """`path` with no database left there by an earlier round."""
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return path


# The three contenders, each writing a fresh SQLite database at `db` from `corpus`.
CONTENDERS: dict[str, Callable[[Path, Path], list[str]]] = {
    "ours": lambda corpus, db: pipeline("build", str(corpus), "--db", f"sqlite:///{db}"),
    "baseline": lambda corpus, db: [sys.executable, str(ROOT / "bench" / "baseline.py"),
                                    str(corpus), str(db)],
    "limit": lambda corpus, db: [sys.executable, str(ROOT / "bench" / "limit.py"),
                                 str(corpus), str(db)],
}


def interleaved(corpus: Path, work: Path, rounds: int) -> dict[str, list[Run]]:
    """Each contender once per round, in turn; ours' last database is kept (work/ours.db)."""
    runs: dict[str, list[Run]] = {name: [] for name in CONTENDERS}
    for _ in range(rounds):
        for name, command in CONTENDERS.items():
            runs[name].append(measure(command(corpus, fresh(work / f"{name}.db"))))
    return runs


def median_ratio(top: list[Run], bottom: list[Run]) -> float:
    """The median over rounds of top ÷ bottom, each ratio within one round."""
    return statistics.median(a.wall / b.wall for a, b in zip(top, bottom, strict=True))


def corpus_targets(towns: int, runs: dict[str, list[Run]], rounds: int) -> list[Target]:
    ours, baseline, limit = runs["ours"], runs["baseline"], runs["limit"]
    walls = {name: statistics.median(r.wall for r in rs) for name, rs in runs.items()}
    how = (f"median of {rounds} rounds (ours {walls['ours']:.2f} s, baseline "
           f"{walls['baseline']:.2f} s, limit {walls['limit']:.2f} s)")
    faster = median_ratio(baseline, ours)
    over_limit = median_ratio(ours, limit)
    # The most any build that writes these rows and their search index can score here: the
    # limit's own. Below 3, the first target is out of reach of the limit itself.
    ceiling = median_ratio(baseline, limit)
    return [Target(f"baseline ÷ ours, {towns:,} towns", faster, "≥ 3", faster >= 3,
                   f"{how}; the limit's own baseline ÷ limit is {ceiling:.2f}"),
            Target(f"ours ÷ limit, {towns:,} towns", over_limit, "≤ 2", over_limit <= 2, how)]


def one_town_change(corpus: Path, database: Path, rounds: int) -> list[Target]:
    """One town's list re-published (one title changed), built into the 1,000-town database,
    two ways: `pipeline build FILE --db …` (the file alone), and `pipeline build CORPUS --db …`
    (the folder, as make does: the other files are skipped unread); medians of `rounds`."""
    town = sorted(corpus.glob("*.txt"))[len(list(corpus.glob("*.txt"))) // 2]
    original = town.read_text(encoding="utf-8")
    targets = []
    for offset, (what, built) in enumerate((("the file", town), ("the folder", corpus))):
        walls = []
        for index in range(rounds):
            town.write_text(original.replace("推荐县级以上党代表工作",
                                             f"推荐党代表工作{offset * rounds + index}"),
                            encoding="utf-8")
            walls.append(measure(pipeline("build", str(built), "--db",
                                          f"sqlite:///{database}")).wall)
        wall = statistics.median(walls)
        targets.append(Target(f"one-town change in a 1,000-town database ({what} built), s",
                              wall, "≤ 0.3", wall <= 0.3,
                              f"`pipeline build {'TOWN' if built == town else 'CORPUS'} --db` "
                              f"with one title changed, median of {rounds}"))
    town.write_text(original, encoding="utf-8")
    return targets


def noop_make() -> Target:
    """`make` in the repository right after a `make`: it must find nothing to do."""
    subprocess.run(["make", "-s"], cwd=ROOT, check=True, capture_output=True)
    wall = statistics.median(measure(["make", "-s"]).wall for _ in range(5))
    return Target("no-op make, s", wall, "< 1", wall < 1, "`make` after `make`, median of 5")


def huge_targets(towns: int, large: int, large_wall: float, work: Path) -> list[Target]:
    """The huge corpus once, against the median of the large one from this run."""
    corpus = work / "huge"
    write_corpus(towns, corpus)
    run = measure(CONTENDERS["ours"](corpus, fresh(work / "huge.db")))
    shutil.rmtree(corpus, ignore_errors=True)
    ratio = run.wall / large_wall
    return [Target(f"{towns:,} towns ÷ {large:,} towns, time", ratio, f"≤ {towns / large * 1.1:g}",
                   ratio <= towns / large * 1.1,
                   f"one run ({run.wall:.1f} s) ÷ the {large:,}-town median"),
            Target(f"peak RSS of the {towns:,}-town build, MB", run.rss, "< 300", run.rss < 300,
                   "largest process of the tree (wait4)")]


def postgres_target(url: str, corpus: Path, rounds: int) -> Target:
    """A fresh load (empty schema) of the corpus into PostgreSQL: rows written ÷ wall time."""
    from sqlalchemy import create_engine, text

    from pipeline.schema import metadata

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    rates, counts = [], 0
    for _ in range(rounds):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        run = measure(pipeline("build", str(corpus), "--db", url))
        with engine.connect() as conn:
            counts = sum(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                         for name in metadata.tables)
        rates.append(counts / run.wall)
    engine.dispose()
    rate = statistics.median(rates)
    return Target(f"PostgreSQL fresh {len(list(corpus.iterdir())):,}-town load, rows/s", rate,
                  "≥ 60,000", rate >= 60_000,
                  f"{counts:,} rows in all tables ÷ wall, median of {rounds}")


def print_runs(towns: int, megabytes: float, runs: dict[str, list[Run]]) -> None:
    print(f"{towns:,} towns ({megabytes:.1f} MB), medians of {len(runs['ours'])} rounds:")
    print("| run      |     wall   |   throughput |  peak RSS |")
    print("|----------|------------|--------------|-----------|")
    for name, rs in runs.items():
        wall = statistics.median(r.wall for r in rs)
        print(f"| {name:<8} | {wall:8.2f} s | {megabytes / wall:7.2f} MB/s | "
              f"{max(r.rss for r in rs):7.0f} MB |")
    print()


def print_targets(targets: list[Target]) -> None:
    print("| target | goal | value | met | measured as |")
    print("|---|---|---|---|---|")
    for t in targets:
        value = "not run" if t.value is None else f"{t.value:,.2f}"
        met = "–" if t.value is None else ("yes" if t.met else "**no**")
        print(f"| {t.name} | {t.goal} | {value} | {met} | {t.measurement} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--towns", type=int, default=100)
    parser.add_argument("--large", type=int, default=1000, help="the large corpus; 0 skips")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of ours/baseline/limit")
    parser.add_argument("--huge", type=int, nargs="?", const=10000, default=0,
                        help="also build 10,000 towns (1.25 GB of text; make bench-huge)")
    parser.add_argument("--postgres", help="PostgreSQL URL of a scratch database (emptied)")
    parser.add_argument("--no-make", action="store_true", help="skip timing make (smoke runs)")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF reader (smoke runs)")
    parser.add_argument("--catalogue-towns", type=int, default=0,
                        help="towns for the catalogue's scale run (bench/catalogue.py); 0 skips")
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR accuracy (smoke runs)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dutylists-bench-"))
    try:
        print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}; ours at the default -j\n")
        targets: list[Target] = []
        corpora = [args.towns, *([args.large] if args.large else [])]
        large_wall = 0.0
        for towns in corpora:
            corpus = work / f"corpus-{towns}"
            files = write_corpus(towns, corpus)
            runs = interleaved(corpus, work, args.rounds)
            print_runs(towns, sum(f.stat().st_size for f in files) / 1e6, runs)
            targets += corpus_targets(towns, runs, args.rounds)
            if towns == args.large:
                large_wall = statistics.median(r.wall for r in runs["ours"])
                targets += one_town_change(corpus, work / "ours.db", args.rounds + 2)
                if args.postgres:
                    targets.append(postgres_target(args.postgres, corpus, 1))  # minutes each
        if not args.no_make:
            targets.append(noop_make())
        if args.huge and args.large:
            targets += huge_targets(args.huge, args.large, large_wall, work)
        print_targets(targets)
        sample = sorted((work / f"corpus-{args.towns}").glob("*.txt"))[:20]
        print(f"Where a town's time goes (first {len(sample)} towns, one process):")
        for name, ms in stage_costs(sample).items():
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


if __name__ == "__main__":
    main()
