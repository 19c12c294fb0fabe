"""Where a town's time goes, stage by stage, in one process: bench/stages.py CORPUS [N].

Times the first N documents (default 20) through normalize, prepare and load into a fresh
SQLite database, then the FTS5 trigram index alone on the same rows with the same settings,
so that the load's share that no other choice of ours can remove is measured, not guessed.
"""

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stage_costs(files: list[Path]) -> dict[str, float]:
    """Milliseconds per town for each stage."""
    from pipeline import search
    from pipeline.builds import load_outcomes, normalize_path
    from pipeline.db import Prepared, prepare
    from pipeline.records import NormalizedDocument

    unchecked = normalize_without_checks(files)
    start = time.perf_counter()
    documents = [d for d in map(normalize_path, files) if isinstance(d, NormalizedDocument)]
    normalized = time.perf_counter()
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
        "  of which the conservation checks (rows and text)":
            max(0.0, (normalized - start) - unchecked) / towns,
        "prepare (ids and rows)": (ready - normalized) / towns,
        "load into SQLite, all indexes": (loaded - ready) / towns,
        "  of which the FTS5 trigram index alone": fts / towns,
    }


def normalize_without_checks(files: list[Path]) -> float:
    """Seconds to normalize `files` with both conservation checks replaced by no-ops (swapped
    in from here, not switched in the pipeline), after one warm-up run of each document."""
    from pipeline import documents
    from pipeline.builds import normalize_path

    for path in files:
        normalize_path(path)
    rows, text = documents.check_rows, documents.check_text
    documents.check_rows = lambda *args: None  # type: ignore[assignment]
    documents.check_text = lambda *args: None  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        for path in files:
            normalize_path(path)
        return time.perf_counter() - start
    finally:
        documents.check_rows, documents.check_text = rows, text


def main() -> None:
    corpus = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for name, ms in stage_costs(sorted(corpus.glob("*.txt"))[:count]).items():
        print(f"{name:<58} {ms:8.1f} ms/town")


if __name__ == "__main__":
    main()
