"""Where a town's time goes, stage by stage, in one process: bench/stages.py CORPUS [N].

Times the first N documents (default 20) through normalize, prepare and load into a fresh
SQLite database, then the FTS5 trigram index alone on the same rows with the same settings,
so that the load's share that no other choice of ours can remove is measured, not guessed.
Within normalize, the two conservation checks are timed as they run.
"""

import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stage_costs(files: list[Path]) -> dict[str, float]:
    """Milliseconds per town for each stage."""
    from pipeline import search
    from pipeline.builds import load_outcomes, normalize_path
    from pipeline.records import NormalizedDocument
    from pipeline.rows import Prepared, prepare

    checks = timing_checks()
    start = time.perf_counter()
    documents = [d for d in map(normalize_path, files) if isinstance(d, NormalizedDocument)]
    normalized = time.perf_counter()
    checks.restore()
    prepared: list[Prepared] = [prepare(d) for d in documents]
    ready = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        reports = list(load_outcomes(f"sqlite:///{work}/stages.db",
                                     [(Path(p.path), p) for p in prepared], ["bench"]))
        loaded = time.perf_counter()
        assert all(r.status == "loaded" for r in reports), [r.summary() for r in reports]
        conn = sqlite3.connect(f"{work}/fts.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(search.FTS_DDL)
        conn.execute(search.FTS_MERGE)
        fts_start = time.perf_counter()
        for p in prepared:
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO {search.FTS_TABLE} (rowid, title, steps) "
                             "VALUES (?, ?, ?)", [row for part in p.lists.values()
                                                  for row in part.search])
            conn.execute("COMMIT")
        fts = time.perf_counter() - fts_start
        conn.close()
    towns = len(prepared) / 1000
    return {
        "normalize (read, tables, steps, departments, records)": (normalized - start) / towns,
        "  of which the conservation check of rows": checks.spent["check_rows"] / towns,
        "  of which the conservation check of text": checks.spent["check_text"] / towns,
        "prepare (ids and rows)": (ready - normalized) / towns,
        "load into SQLite, all indexes": (loaded - ready) / towns,
        "  of which the FTS5 trigram index alone": fts / towns,
    }


@dataclass
class Timed:
    """Functions of pipeline.documents wrapped, from here, to add up the time they take."""

    originals: dict[str, Callable[..., Any]]
    spent: dict[str, float] = field(default_factory=dict)

    def restore(self) -> None:
        from pipeline import documents

        for name, function in self.originals.items():
            setattr(documents, name, function)


def timing_checks() -> Timed:
    """Time the two conservation checks (documents.check_rows, check_text) as they run."""
    from pipeline import documents

    timed = Timed({name: getattr(documents, name) for name in ("check_rows", "check_text")})
    for name, function in timed.originals.items():
        timed.spent[name] = 0.0

        def wrapper(*args: Any, _name: str = name, _function: Callable[..., Any] = function) -> Any:
            start = time.perf_counter()
            try:
                return _function(*args)
            finally:
                timed.spent[_name] += time.perf_counter() - start

        setattr(documents, name, wrapper)
    return timed


def main() -> None:
    corpus = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for name, ms in stage_costs(sorted(corpus.glob("*.txt"))[:count]).items():
        print(f"{name:<58} {ms:8.1f} ms/town")


if __name__ == "__main__":
    main()
