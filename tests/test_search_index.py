"""The SQLite search index is derived data: maintained per document on small builds, rebuilt
once on large or fresh ones, and never trusted while stale (a build killed before its
rebuild); a search or the next build repairs it. Every answer is checked against LIKE on
the base tables, which holds the truth."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bench.corpus import write_corpus
from pipeline import search
from pipeline.builds import load_outcomes, prepare_paths
from pipeline.db import open_engine
from tests.conftest import ROOT

# Terms of three characters or more (the index's), in every town, some towns, or none.
TERMS = ["秸秆禁烧", "推荐县级以上党代表工作", "推荐党代表工作", "安全生产", "农业农村局",
         "新增一项职责", "不存在的词语"]


def build(url: str, paths: list[Path]) -> None:
    reports = list(load_outcomes(url, prepare_paths(paths), ["test"]))
    assert all(r.status in ("loaded", "skipped") for r in reports), [r.summary() for r in reports]


def truth(url: str, term: str) -> list[int]:
    """The duties holding `term` in their title or a step, from the base tables."""
    engine = open_engine(url)
    with engine.connect() as conn:
        found = sorted(conn.execute(text(
            "SELECT d.id FROM duties d WHERE d.title LIKE :p OR EXISTS (SELECT 1 FROM steps s "
            "WHERE s.duty_id = d.id AND s.text LIKE :p)"), {"p": f"%{term}%"}).scalars())
    engine.dispose()
    return found


def indexed(url: str, term: str) -> list[int]:
    """The duties the trigram index itself finds, whatever the marker says."""
    engine = open_engine(url)
    with engine.connect() as conn:
        found = sorted(conn.execute(text(f"SELECT rowid FROM {search.FTS_TABLE} WHERE "
                                         f"{search.FTS_TABLE} MATCH :m"), {"m": f'"{term}"'}).scalars())
    engine.dispose()
    return found


def searched(url: str, term: str) -> list[int]:
    engine = open_engine(url, existing=True)
    found = sorted(hit.duty_id for hit in search.search_duties(engine, term, limit=None))
    engine.dispose()
    return found


def stale(url: str) -> bool:
    engine = open_engine(url)
    with engine.connect() as conn:
        answer = search.is_stale(conn)
    engine.dispose()
    return answer


def republish(path: Path, index: int) -> None:
    """One title changed and one duty's steps reworded: a new version of that town's list."""
    body = path.read_text(encoding="utf-8")
    body = body.replace("推荐县级以上党代表工作", "推荐党代表工作", 1)
    body = body.replace("秸秆禁烧", f"新增一项职责{index}", 1)
    path.write_text(body, encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_corpus(4, tmp_path_factory.mktemp("towns"))


pytestmark = pytest.mark.skipif(not search.sqlite_capabilities().trigram,
                                reason="this SQLite has no FTS5 trigram tokenizer")


def test_fresh_then_small_builds_keep_the_index_exact(corpus: list[Path], tmp_path: Path) -> None:
    towns = [shutil.copy(p, tmp_path / p.name) for p in corpus]
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    build(url, [Path(t) for t in towns])  # fresh: one rebuild at the end
    assert not stale(url)
    for term in TERMS:
        assert indexed(url, term) == truth(url, term), term
    # One town of four changed: maintained per document (below BULK_SHARE of the places).
    republish(Path(towns[2]), 1)
    engine = open_engine(url)
    with engine.connect() as conn:
        assert search.bulk_after(conn) >= 1
    engine.dispose()
    build(url, [Path(towns[2])])
    assert not stale(url)
    for term in TERMS:
        assert indexed(url, term) == truth(url, term) == searched(url, term), term
    # Half the towns changed in one build: past the share, the rest waits for the rebuild.
    for index, town in enumerate(towns[3:], start=2):
        republish(Path(town), index)
    build(url, [Path(t) for t in towns])
    assert not stale(url)
    for term in TERMS:
        assert indexed(url, term) == truth(url, term) == searched(url, term), term


def test_a_build_killed_before_its_rebuild_never_leaves_search_wrong(
        corpus: list[Path], tmp_path: Path) -> None:
    towns = [Path(shutil.copy(p, tmp_path / p.name)) for p in corpus[:3]]
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    build(url, towns[:1])
    republish(towns[0], 9)
    marker = tmp_path / "paused"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PAUSE_AFTER_LOADS"] = "2"  # two documents commit unindexed, the third is killed
    process = subprocess.Popen([sys.executable, "-m", "tests.faults", str(marker), "build",
                                *map(str, towns), "--db", url, "-j", "1"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the build never reached its third document"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert stale(url)  # the two loaded documents are not in the index, and it says so
    assert indexed(url, "新增一项职责9") != truth(url, "新增一项职责9")
    # A search that cannot write (read-only) answers from the base tables instead.
    readonly = f"sqlite:///file:{tmp_path / 'duties.db'}?mode=ro&uri=true"
    for term in TERMS[:3]:
        assert searched(readonly, term) == truth(url, term), term
    assert stale(url)
    # A search that can write repairs the index first.
    assert searched(url, "新增一项职责9") == truth(url, "新增一项职责9") != []
    assert not stale(url)
    for term in TERMS:
        assert indexed(url, term) == truth(url, term), term


def test_the_next_build_repairs_a_stale_index(corpus: list[Path], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    build(url, corpus[:2])
    engine = open_engine(url)
    with engine.begin() as conn:  # as a killed build leaves it: rows in, index behind
        search.mark_stale(conn)
        conn.execute(text(f"INSERT INTO {search.FTS_TABLE} ({search.FTS_TABLE}) "
                          "VALUES ('delete-all')"))
    engine.dispose()
    assert indexed(url, "秸秆禁烧") == []
    build(url, corpus[:2])  # nothing to load: the documents are unchanged
    assert not stale(url)
    assert indexed(url, "秸秆禁烧") == truth(url, "秸秆禁烧") != []


def test_an_index_made_the_old_way_is_replaced(corpus: list[Path], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    build(url, corpus[:1])
    engine = open_engine(url)
    with engine.begin() as conn:  # a database from before: the index held its own copy
        conn.execute(text(f"DROP TABLE {search.FTS_TABLE}"))
        conn.execute(text(f"CREATE VIRTUAL TABLE {search.FTS_TABLE} USING fts5(title, steps, "
                          "tokenize='trigram')"))
        conn.execute(text("UPDATE schema_state SET digest = 'old' WHERE name = 'schema'"))
    engine.dispose()
    build(url, corpus[:1])
    assert not stale(url)
    assert indexed(url, "秸秆禁烧") == truth(url, "秸秆禁烧") != []


def test_postgres_fresh_load_builds_its_trigram_indexes_once(
        corpus: list[Path], pg_url: str) -> None:
    """A fresh PostgreSQL load goes without the GIN indexes and builds them at the end; a
    crash that leaves them missing is repaired by the next build."""
    from pipeline.schema import TRIGRAM_INDEXES

    def present() -> set[str]:
        engine = open_engine(pg_url)
        with engine.connect() as conn:
            found = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexname "
                                          "LIKE '%trgm'")).scalars())
        engine.dispose()
        return found

    build(pg_url, corpus[:2])
    assert present() == set(TRIGRAM_INDEXES) and not stale(pg_url)
    assert searched(pg_url, "推荐县级以上党代表工作") == truth(pg_url, "推荐县级以上党代表工作") != []
    engine = open_engine(pg_url)
    with engine.begin() as conn:  # as a build killed mid-load into an empty database leaves it
        conn.execute(text("INSERT INTO schema_state (name, digest) VALUES ('search_index', "
                          "'stale')"))
        conn.execute(text("DROP INDEX steps_text_trgm"))
    engine.dispose()
    assert searched(pg_url, "秸秆禁烧") == truth(pg_url, "秸秆禁烧") != []  # slower, still right
    build(pg_url, corpus[:2])  # nothing to load; the indexes come back
    assert present() == set(TRIGRAM_INDEXES) and not stale(pg_url)
