"""A build killed with SIGKILL mid-load leaves the previous complete state, and a rerun converges."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from pipeline import db, schema
from tests.conftest import ROOT, SAMPLE
from tests.dbutil import dump


def build(url: str, source: Path, *extra: str, pause_at: Path | None = None) -> subprocess.Popen[str]:
    """A real build in its own process; with pause_at, one that stops mid-load (tests/faults.py)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    runner = ["tests.faults", str(pause_at)] if pause_at else ["pipeline"]
    return subprocess.Popen([sys.executable, "-m", *runner, "build", str(source), "--db", url,
                             *extra], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def killed_mid_load(url: str, source: Path, tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    process = build(url, source, "--force", pause_at=marker)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the build never reached the middle of its load"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def changed_sample(tmp_path: Path) -> Path:
    """The sample with one title changed: a new version of the same place."""
    text = SAMPLE.read_text(encoding="utf-8").replace("推荐县级以上党代表工作", "推荐党代表工作")
    path = tmp_path / "changji-manas-liangzhouhu.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_mid_load_keeps_the_previous_state(backend: str, tmp_path: Path,
                                                   request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'duties.db'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    first = build(url, SAMPLE)
    first.communicate(timeout=120)
    assert first.returncode == 0
    before = dump(url)
    newer = changed_sample(tmp_path)
    killed_mid_load(url, newer, tmp_path)
    assert dump(url) == before  # opens, and holds exactly the previous complete state
    rerun = build(url, newer)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    after = dump(url)
    assert len(after["duties"]) == 250
    titles = {row[6] for row in after["duties"]}
    assert "推荐党代表工作" in titles and "推荐县级以上党代表工作" not in titles
    # The version change happened once: version 2 of the cooperative list is current.
    versions = sorted((row[2], row[3], bool(row[10])) for row in after["list_versions"])
    assert versions == [("basic", 1, True), ("cooperative", 1, False), ("cooperative", 2, True),
                        ("withdrawn", 1, True)]


def foreign_keys(url: str) -> dict[str, bool]:
    """The bulk tables' foreign keys in the database: name → validated."""
    engine = db.open_engine(url)
    with engine.connect() as conn:
        present = schema.foreign_keys_present(conn)
    engine.dispose()
    return present


def test_foreign_keys_a_killed_fresh_load_went_without_come_back(pg_url: str,
                                                                   tmp_path: Path) -> None:
    """A fresh PostgreSQL load drops the bulk tables' foreign keys until its end; killed
    before it, it leaves them missing, and the next build adds them back, checked."""
    every = {name: True for _, name, _ in schema.bulk_foreign_keys()}
    engine = db.open_engine(pg_url)
    schema.ensure_schema(engine)
    engine.dispose()
    assert foreign_keys(pg_url) == every  # named as PostgreSQL names them
    killed_mid_load(pg_url, SAMPLE, tmp_path)
    assert foreign_keys(pg_url) == {}
    rerun = build(pg_url, SAMPLE)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert foreign_keys(pg_url) == every
    engine = db.open_engine(pg_url)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO steps (id, duty_id, party, position, text, raw) "
                          "VALUES (1, 1, 'town', 1, 'x', 'x')"))  # a step of no duty
    engine.dispose()


def test_a_row_that_breaks_a_dropped_key_stops_it_coming_back_valid(pg_url: str) -> None:
    """A key comes back checked: a row written without it that breaks it is an error, and the
    key stays, marked not valid, for the next build to check again."""
    engine = db.open_engine(pg_url)
    schema.ensure_schema(engine)
    schema.drop_foreign_keys(engine)  # an empty database: a fresh load's start
    assert foreign_keys(pg_url) == {}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO steps (id, duty_id, party, position, text, raw) "
                          "VALUES (1, 1, 'town', 1, 'x', 'x')"))  # a step of no duty
    with pytest.raises(IntegrityError):
        schema.restore_foreign_keys(engine)
    engine.dispose()
    present = foreign_keys(pg_url)
    assert present.pop("steps_duty_id_fkey") is False
    assert present == {name: True for _, name, _ in schema.bulk_foreign_keys()
                       if name != "steps_duty_id_fkey"}
