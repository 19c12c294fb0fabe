"""`make` on hostile raw/ folders: the real Makefile, in a copy of the project.

The copy holds the Makefile, pyproject.toml and raw/; it reuses this checkout's virtual
environment (VENV=…, and -o so make never reinstalls it), whose editable install runs
this checkout's code.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE

VENV = Path(sys.executable).parent.parent
PIPELINE = VENV / "bin" / "pipeline"

pytestmark = pytest.mark.skipif(
    shutil.which("make") is None or not PIPELINE.exists(),
    reason="needs make and the project's virtual environment with the pipeline installed")


def town(name: str) -> str:
    """The sample's lists, published by another town (凉州户镇 → name)."""
    return SAMPLE.read_text(encoding="utf-8").replace("凉州户镇", name).replace("凉州户", name[:-1])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, root / name)
    (root / "raw").mkdir()
    (root / "normalized").mkdir()
    return root


def make(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUTF8": "1"}
    env.pop("DATABASE_URL", None)
    env.pop("MAKEFLAGS", None)
    return subprocess.run(
        ["make", f"VENV={VENV}", "-o", f"{VENV}/bin/.installed", *args], cwd=project, env=env,
        capture_output=True, text=True, timeout=300)


def database(project: Path) -> sqlite3.Connection:
    return sqlite3.connect(project / "normalized" / "duties.db")


HOSTILE_NAMES = ["x`id>PWNED`.txt", "a b;c$(touch PWNED2)'q\".txt", "new\nline.txt", "$HOME.txt"]


def test_any_file_name_is_safe_and_every_file_is_loaded_or_reported(project: Path) -> None:
    raw = project / "raw"
    for index, name in enumerate(HOSTILE_NAMES):
        (raw / name).write_text(town(f"{'东西南北'[index]}安镇"), encoding="utf-8")
    (raw / "empty.txt").write_bytes(b"")
    (raw / "list.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (raw / "list.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (raw / "folder.txt").mkdir()
    os.mkfifo(raw / "fifo.txt")  # reading it would wait for ever
    (raw / "loop.txt").symlink_to("loop.txt")
    (raw / "gone.txt").symlink_to("nowhere.txt")
    result = make(project)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out  # errors were found: make says so
    assert not list(project.rglob("PWNED*")), "a file name ran as a command"
    assert "Traceback" not in out
    for name in ("raw/empty.txt: error", "raw/list.pdf: error", "raw/list.xls: error",
                 "raw/folder.txt: error", "raw/fifo.txt: error", "raw/loop.txt: error",
                 "raw/gone.txt: error"):
        assert name in out
    assert "raw/new\\nline.txt: loaded" in out  # escaped: one name, one line
    with database(project) as conn:
        towns = {name for (name,) in conn.execute("select name from towns")}
    assert towns == {"东安镇", "西安镇", "南安镇", "北安镇"}
    written = sorted(p.name for p in (project / "normalized").glob("*.json"))
    assert written == sorted(Path(name).stem + ".json" for name in HOSTILE_NAMES)
    assert not [p for p in (project / "normalized").iterdir() if "partial" in p.name]


def test_each_warning_is_printed_once(project: Path) -> None:
    (project / "raw" / "town.txt").write_text(town("东安镇"), encoding="utf-8")
    result = make(project)
    assert result.returncode == 0, result.stderr
    warning = "raw/town.txt:357: warning: receiver: Latin word 'and'"
    assert result.stderr.count(warning) == 1


def age(path: Path, seconds: float) -> None:
    """Date `path` back: file times within one clock tick compare equal, as make sees them."""
    when = time.time() - seconds
    os.utime(path, (when, when))


def test_make_twice_is_a_no_op_and_a_touched_file_is_rebuilt(project: Path) -> None:
    raw, built = project / "raw", project / "normalized" / "duties.db"
    (raw / "a.txt").write_text(town("东安镇"), encoding="utf-8")
    age(raw / "a.txt", 200)
    age(raw, 200)
    assert make(project).returncode == 0
    before = built.stat().st_mtime_ns
    again = make(project)
    assert "Nothing to be done" in again.stdout
    assert built.stat().st_mtime_ns == before
    age(built, 100)
    age(raw / "a.txt", 50)  # touched after the build
    touched = make(project)
    assert touched.returncode == 0
    assert "raw/a.txt: unchanged, skipped" in touched.stdout  # the loader skips it
    (raw / "b.txt").write_text(town("西安镇"), encoding="utf-8")
    for path in (raw / "b.txt", raw):
        age(path, 50)
    age(built, 100)
    added = make(project)
    assert "raw/b.txt: loaded" in added.stdout
    assert "Nothing to be done" in make(project).stdout


def test_a_failed_make_tries_again(project: Path) -> None:
    raw = project / "raw"
    (raw / "a.txt").write_text(town("东安镇"), encoding="utf-8")
    (raw / "b.txt").write_bytes(b"")
    first = make(project)
    assert first.returncode != 0
    assert "raw/a.txt: loaded" in first.stdout  # the bad file stopped nothing
    second = make(project)
    assert second.returncode != 0
    assert "raw/b.txt: error: file is empty" in second.stderr  # tried again, said again
    (raw / "b.txt").unlink()
    assert make(project).returncode == 0
    assert "Nothing to be done" in make(project).stdout


def test_make_into_postgresql_never_shows_the_password(project: Path, pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    # The test server trusts local connections: the password is checked by nobody, which
    # makes it a safe secret to look for in everything make prints and the database keeps.
    url = make_url(pg_url).set(drivername="postgresql", password="s3cret-pw")
    (project / "raw" / "a.txt").write_text(town("东安镇"), encoding="utf-8")
    result = make(project, f"DATABASE_URL={url.render_as_string(hide_password=False)}")
    assert result.returncode == 0, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from duties")).scalar() == 250
        arguments = [a for (a,) in conn.execute(text("select arguments from runs"))]
    engine.dispose()
    assert arguments and not any("s3cret-pw" in a for a in arguments)
    assert not (project / "normalized" / "duties.db").exists()
