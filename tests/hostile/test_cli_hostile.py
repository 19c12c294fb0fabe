"""The real CLI against hostile requests: URLs it must refuse or mask, outputs it cannot
write, searches too large, interrupted writes. Each failure is one line with its status."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, ROOT, SAMPLE


def run(*args: str, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONUTF8": "1", **(env or {})}
    if env is None or "DATABASE_URL" not in env:
        environment.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)


def one_line_error(result: subprocess.CompletedProcess[str], status: int) -> str:
    assert result.returncode == status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('built') / 'duties.db'}"
    assert run("build", str(SAMPLE), "--db", url).returncode == 0
    return url


@pytest.mark.parametrize("url", [
    "mysql://root:hunter2@localhost/duties",
    "mysql+pymysql://root:hunter2@localhost/duties",
    "oracle://scott:hunter2@localhost/orcl",
    "mssql+pyodbc://sa:hunter2@dsn",
    "sqlite:///", "sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?cache=shared",
    "sqlite:///x.db?mode=memory",
    "postgresql://u:hunter2@127.0.0.1:notaport/db", "postgresql://u:hunter2@[::1/db",
])
def test_databases_we_do_not_serve_are_refused_before_connecting(url: str) -> None:
    from pipeline.db import check_url
    from pipeline.errors import UsageError

    with pytest.raises(UsageError) as refused:
        check_url(url)
    assert "hunter2" not in str(refused.value)


@pytest.mark.parametrize("command", ["build", "search"])
def test_unsupported_database_is_one_line_and_exit_2(command: str) -> None:
    args = [str(SAMPLE)] if command == "build" else ["秸秆"]
    line = one_line_error(run(command, *args, "--db", "mysql://root:hunter2@localhost/d"), 2)
    assert "mysql databases are not supported" in line
    assert "hunter2" not in line and "root:***@" in line


def test_in_memory_sqlite_is_refused_for_build_and_load(tmp_path: Path) -> None:
    line = one_line_error(run("build", str(SAMPLE), "--db", "sqlite:///"), 2)
    assert "names no database file" in line
    normalized = ROOT / "normalized" / "changji-manas-liangzhouhu.json"  # committed
    one_line_error(run("load", str(normalized), "--db", "sqlite://"), 2)


def test_in_memory_sqlite_from_the_environment_is_refused() -> None:
    result = run("build", str(SAMPLE), env={"DATABASE_URL": "sqlite://"})
    assert "names no database file" in one_line_error(result, 2)


@pytest.fixture
def sql_ascii_url() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    name = f"dutylists_ascii_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'SQL_ASCII' "
                              "LC_COLLATE 'C' LC_CTYPE 'C'"))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is not reachable: {exc.orig}")
        pytest.skip(f"PostgreSQL is not reachable: {exc.orig}")
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_sql_ascii_database_is_refused_in_one_line(sql_ascii_url: str) -> None:
    line = one_line_error(run("build", str(SAMPLE), "--db", sql_ascii_url), 3)
    assert "uses encoding SQL_ASCII" in line and "ENCODING 'UTF8'" in line


def test_passwords_are_masked_in_runs_and_messages(pg_url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    # The test server trusts local connections, so any password gets in: a safe secret.
    secret = make_url(pg_url).set(password="pa:ss/w@rd").render_as_string(hide_password=False)
    assert run("build", str(SAMPLE), "--db", secret).returncode == 0
    assert run("build", str(SAMPLE), f"--db={secret}", "--force").returncode == 0
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        stored = [json.loads(a) for (a,) in conn.execute(text("select arguments from runs"))]
    engine.dispose()
    assert len(stored) == 2
    assert "ss/w" not in json.dumps(stored)
    assert any(a.startswith("--db=postgresql") and ":***@" in a for a in stored[1])
    failed = run("build", str(SAMPLE), "--db", "postgresql://u:pa:ss/w@rd@127.0.0.1:1/x")
    assert "ss/w" not in failed.stderr and ":***@" in failed.stderr


def test_database_folder_blocked_by_a_file(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("")
    line = one_line_error(run("build", str(SAMPLE), "--db",
                              f"sqlite:///{tmp_path / 'blocker' / 'duties.db'}"), 3)
    assert "blocker" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_output_folders(tmp_path: Path, built: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        one_line_error(run("build", str(SAMPLE), "--db", f"sqlite:///{locked / 'duties.db'}"), 3)
        one_line_error(run("normalize", str(SAMPLE), "-o", str(locked)), 3)
        one_line_error(run("export", "--out", str(locked / "x"), "--db", built), 3)
        one_line_error(run("report", "--out", str(locked / "r.html"), "--db", built), 3)
    finally:
        locked.chmod(0o700)


def test_outputs_that_cannot_be_written_are_one_line(tmp_path: Path, built: str) -> None:
    (tmp_path / "blocker").write_text("")
    one_line_error(run("normalize", str(SAMPLE), "-o", str(tmp_path / "blocker" / "out")), 3)
    one_line_error(run("export", "--out", str(tmp_path / "blocker" / "x"), "--db", built), 3)
    if Path("/dev/full").exists():  # a full disk
        line = one_line_error(run("report", "--out", "/dev/full", "--db", built), 3)
        assert "/dev/full" in line
    usage = run("build", str(SAMPLE), "--db", built, "--normalized", str(tmp_path / "blocker"))
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_normalize_leaves_no_partial_file_when_it_fails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "changji-manas-liangzhouhu.json").mkdir(parents=True)  # the target is in the way
    line = one_line_error(run("normalize", str(SAMPLE), "-o", str(out)), 3)
    assert "changji-manas-liangzhouhu.json" in line
    assert sorted(p.name for p in out.iterdir()) == ["changji-manas-liangzhouhu.json"]


def test_normalize_leaves_no_partial_file_when_interrupted(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for index in range(40):
        (raw / f"town-{index:02d}.txt").write_bytes(SAMPLE.read_bytes())
    env = {**os.environ, "PYTHONUTF8": "1"}
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = tmp_path / f"out-{sig.name}"
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "normalize", *map(str, sorted(raw.iterdir())),
             "-o", str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while process.poll() is None and not (out.exists() and any(out.iterdir())):
            time.sleep(0.005)  # until it has begun writing
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode in (0, 130), stderr
        assert "Traceback" not in stderr
        assert not [p.name for p in out.iterdir() if "partial" in p.name]


@pytest.mark.parametrize("url, masked", [
    ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
    ("--db=postgresql+psycopg://u:p@ss/w@h:5432/db", "--db=postgresql+psycopg://u:***@h:5432/db"),
    ("postgresql://h/db?user=u&password=pw&sslmode=require",
     "postgresql://h/db?user=u&password=***&sslmode=require"),
    ("sqlite:///normalized/duties.db", "sqlite:///normalized/duties.db"),
])
def test_mask_url(url: str, masked: str) -> None:
    from pipeline.errors import mask_url

    assert mask_url(url) == masked


def test_search_terms_are_capped(built: str) -> None:
    from pipeline.errors import UsageError
    from pipeline.search import parse_terms

    many = one_line_error(run("search", " ".join(["秸秆"] * 2000), "--db", built), 2)
    assert "at most 32 terms" in many and "2,000" in many
    with pytest.raises(UsageError, match="at most 100 characters"):
        parse_terms("秸" * 5000)
    assert len(parse_terms(" ".join(["秸秆"] * 32))) == 32
    assert run("search", "秸秆", "--all", "--db", built).returncode == 0


def test_arguments_stored_for_sqlite_keep_the_command(built: str) -> None:
    conn = sqlite3.connect(built.removeprefix("sqlite:///"))
    [(arguments,)] = conn.execute("select arguments from runs order by id desc limit 1")
    assert json.loads(arguments)[0] == "build"


def test_read_only_database_is_one_line_and_exit_3(tmp_path: Path) -> None:
    database = tmp_path / "duties.db"
    assert run("build", str(SAMPLE), "--db", f"sqlite:///{database}").returncode == 0
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"  # works as root too
    line = one_line_error(run("build", str(SAMPLE), "--force", "--db", read_only), 3)
    assert "readonly database" in line
    assert not (tmp_path / "file:").exists()


def test_a_full_database_is_told_from_a_bad_document() -> None:
    from sqlalchemy.exc import IntegrityError, OperationalError

    from pipeline.db import cannot_write

    conn = sqlite3.connect(":memory:")
    conn.execute("create table t (x blob)")
    conn.execute("pragma max_page_count = 4")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("insert into t values (zeroblob(100000))")
    assert cannot_write(OperationalError("insert", {}, full.value))
    with pytest.raises(sqlite3.IntegrityError) as duplicate:
        conn.execute("create table k (x primary key)")
        conn.execute("insert into k values (1), (1)")
    assert not cannot_write(IntegrityError("insert", {}, duplicate.value))


def test_passwords_stored_by_earlier_builds_are_masked(tmp_path: Path) -> None:
    database = tmp_path / "duties.db"
    url = f"sqlite:///{database}"
    assert run("build", str(SAMPLE), "--db", url).returncode == 0
    with sqlite3.connect(database) as conn:  # as a build before masking stored it
        conn.execute("update runs set arguments = ?",
                     (json.dumps(["build", "--db", "postgresql://u:old-secret@h/db"]),))
    assert run("build", str(SAMPLE), "--db", url).returncode == 0
    with sqlite3.connect(database) as conn:
        stored = [a for (a,) in conn.execute("select arguments from runs order by id")]
    assert json.loads(stored[0]) == ["build", "--db", "postgresql://u:***@h/db"]


def test_documents_of_one_name_write_separate_json(tmp_path: Path) -> None:
    from pipeline.builds import normalized_names

    names = normalized_names([Path("raw/a.txt"), Path("raw/a.xlsx"), Path("raw/b.txt")])
    assert names == {Path("raw/a.txt"): "a.txt.json", Path("raw/a.xlsx"): "a.xlsx.json",
                     Path("raw/b.txt"): "b.json"}
