"""A tiny smoke run of the benchmark: it works; its figures are not checked here."""

import sqlite3
import subprocess
import sys
from pathlib import Path

from bench import baseline, floor
from bench.corpus import names, write_corpus
from tests.conftest import ROOT


def test_corpus_towns_are_distinct_places(tmp_path: Path) -> None:
    places = names(50)
    assert len(set(places)) == 50
    files = write_corpus(10, tmp_path, mix=True)
    assert sorted(f.suffix for f in files) == [".docx", ".html", ".txt", ".txt", ".txt", ".txt",
                                               ".txt", ".txt", ".txt", ".xlsx"]


def test_baseline_and_floor_load_the_text_corpus(tmp_path: Path) -> None:
    write_corpus(2, tmp_path / "corpus")
    baseline.main(tmp_path / "corpus", tmp_path / "baseline.db")
    floor.main(tmp_path / "corpus", tmp_path / "floor.db")
    conn = sqlite3.connect(tmp_path / "floor.db")
    assert conn.execute("SELECT count(*) FROM duties").fetchone() == (500,)
    conn.close()
    conn = sqlite3.connect(tmp_path / "baseline.db")
    assert conn.execute("SELECT count(*) FROM duties_cooperative").fetchone() == (214,)
    conn.close()


def test_bench_runs_end_to_end() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--towns", "3",
                             "--large", "0", "--no-make", "--no-pdf"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "baseline ÷ ours" in result.stdout and "ours -j 2" in result.stdout
    assert "FTS5 trigram index alone" in result.stdout
