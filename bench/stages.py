"""Where a town's time goes, stage by stage, in one process: bench/stages.py CORPUS [N].

Times the first N documents (default 20) through normalize, prepare and load into a fresh
SQLite database, then the search index's rebuild alone on the same rows, and one town
loaded again into that database (the index kept per document, as on a small build).
Within normalize, the two conservation checks are timed as they run; within the load, the
catalogue step.
"""

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def stage_costs(files: list[Path]) -> dict[str, float]:
    """CPU milliseconds per town for each stage (time.process_time: all of it runs in this
    process, and CPU time holds steady on a busy machine where wall time does not)."""
    from sqlalchemy import create_engine

    from pipeline import builds, documents, search
    from pipeline.builds import LoadOptions, load_outcomes, normalize_path
    from pipeline.records import NormalizedDocument
    from pipeline.rows import Prepared, prepare

    checks = timing(documents, "check_rows", "check_text")
    start = time.process_time()
    documents = [d for d in map(normalize_path, files) if isinstance(d, NormalizedDocument)]
    normalized = time.process_time()
    checks.restore()
    prepared: list[Prepared] = [prepare(d) for d in documents]
    ready = time.process_time()
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/stages.db"
        catalogue = timing(builds, "catalogue_step")
        reports = list(load_outcomes(url, [(Path(p.path), p) for p in prepared], ["bench"]))
        loaded = time.process_time()
        catalogue.restore()
        assert all(r.status == "loaded" for r in reports), [r.summary() for r in reports]
        engine = create_engine(url)
        with engine.begin() as conn:  # the fresh build's own last step, once more
            index_start = time.process_time()
            search.rebuild_index(conn)
            index = time.process_time() - index_start
        engine.dispose()
        reload_start = time.process_time()  # one town of many: the index kept per document
        list(load_outcomes(url, [(Path(prepared[0].path), prepared[0])], ["bench"],
                           LoadOptions(force=True)))
        reload = time.process_time() - reload_start
    towns = len(prepared) / 1000
    return {
        "normalize (read, tables, steps, departments, records)": (normalized - start) / towns,
        "  of which the conservation check of rows": checks.spent["check_rows"] / towns,
        "  of which the conservation check of text": checks.spent["check_text"] / towns,
        "prepare (ids and rows)": (ready - normalized) / towns,
        "load into a fresh SQLite database, search index included": (loaded - ready) / towns,
        "  of which the search index, rebuilt once at the end": index / towns,
        "  of which the catalogue, every list matched": catalogue.spent["catalogue_step"] / towns,
        "load one town again, search index kept per document": reload * 1000,
    }


@dataclass
class Timed:
    """Functions of a module wrapped, from here, to add up the time they take."""

    module: ModuleType
    originals: dict[str, Callable[..., Any]]
    spent: dict[str, float] = field(default_factory=dict)

    def restore(self) -> None:
        for name, function in self.originals.items():
            setattr(self.module, name, function)


def timing(module: ModuleType, *names: str) -> Timed:
    """Time these functions of `module` as they run, until restore()."""
    timed = Timed(module, {name: getattr(module, name) for name in names})
    for name, function in timed.originals.items():
        timed.spent[name] = 0.0

        def wrapper(*args: Any, _name: str = name, _function: Callable[..., Any] = function) -> Any:
            start = time.process_time()
            try:
                return _function(*args)
            finally:
                timed.spent[_name] += time.process_time() - start

        setattr(module, name, wrapper)
    return timed


def main() -> None:
    corpus = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    for name, ms in stage_costs(sorted(corpus.glob("*.txt"))[:count]).items():
        print(f"{name:<58} {ms:8.1f} ms/town")


if __name__ == "__main__":
    main()
