"""PostgreSQL against the real server: same schema, same answers as SQLite, safe under load."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pipeline import db
from pipeline.exports import export
from pipeline.search import search_duties
from pipeline.views import VIEWS
from tests.conftest import PG_ADMIN_URL, ROOT, SAMPLE
from tests.dbutil import dump

README_QUERIES = re.findall(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"),
                            re.S)


def pipeline(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = [tuple(row) for row in conn.execute(text(query))]
    engine.dispose()
    return result


def test_build_into_postgres_twice(pg_url: str) -> None:
    first = pipeline("build", str(SAMPLE), "--db", pg_url)
    assert first.returncode == 0, first.stderr
    assert rows(pg_url, "select list, count(*) from duties group by list order by list") == [
        ("basic", 106), ("cooperative", 107), ("withdrawn", 37)]
    before = dump(pg_url)
    again = pipeline("build", str(SAMPLE), "--db", pg_url)
    assert "unchanged, skipped" in again.stdout
    forced = pipeline("build", str(SAMPLE), "--db", pg_url, "--force")
    assert ": loaded;" in forced.stdout
    assert dump(pg_url) == before
    indexes = {name for (name,) in rows(pg_url, "select indexname from pg_indexes")}
    assert {"duties_title_trgm", "steps_text_trgm"} <= indexes


def test_parity_with_sqlite(pg_url: str, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'duties.db'}"
    for url in (sqlite_url, pg_url):
        result = pipeline("build", str(SAMPLE), "--db", url)
        assert result.returncode == 0, result.stderr
    assert dump(pg_url) == dump(sqlite_url)
    assert len(README_QUERIES) >= 5
    # One town lacks nothing its county has: tests/test_catalogue.py compares catalogue_lacks
    # on towns that differ.
    for query in README_QUERIES:
        answer = rows(sqlite_url, query)
        assert answer or "catalogue_lacks" in query, f"README query returns nothing: {query}"
        assert rows(pg_url, query) == answer, query
    for view in VIEWS:
        ordered = f"SELECT * FROM {view} ORDER BY 1, 2, 3, 4, 5"
        answer = rows(sqlite_url, ordered)
        assert answer or view == "catalogue_lacks", view
        assert rows(pg_url, ordered) == answer, view
    engines = [db.open_engine(url) for url in (sqlite_url, pg_url)]
    for terms in ["秸秆禁烧", "秸秆", "宣传 秸秆", "县", "AND", "玛纳斯县农业农村局", "不存在"]:
        on_sqlite, on_postgres = (search_duties(engine, terms) for engine in engines)
        assert on_postgres == on_sqlite, terms
    assert [h.seq for h in search_duties(engines[1], "秸秆禁烧")] == [64]
    # Exports of the same data are byte-identical from either database (issue #18).
    for engine, folder in zip(engines, ("sqlite", "postgres"), strict=True):
        export(engine, tmp_path / folder, "csv")
    for name in ["towns", "duties", "steps", "departments", "department_aliases",
                 "duty_departments", *VIEWS]:
        if name == "current_findings":
            continue  # findings carry their run's id and the time
        sqlite_bytes, postgres_bytes = ((tmp_path / f / f"{name}.csv").read_bytes()
                                        for f in ("sqlite", "postgres"))
        assert sqlite_bytes == postgres_bytes, name
    for engine in engines:
        engine.dispose()


def test_two_builds_of_one_place_at_once_leave_one_copy(pg_url: str) -> None:
    assert pipeline("build", str(SAMPLE), "--db", pg_url).returncode == 0  # schema in place
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    command = [sys.executable, "-m", "pipeline", "build", str(SAMPLE), "--db", pg_url, "--force"]
    racers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [racer.communicate(timeout=300) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outputs
    assert rows(pg_url, "select count(*) from duties") == [(250,)]
    assert rows(pg_url, "select count(*) from (select distinct id from duties) d") == [(250,)]
    assert rows(pg_url, "select count(*) from documents") == [(1,)]


def test_missing_database_is_one_clear_line() -> None:
    url = PG_ADMIN_URL.replace("postgres@", "postgres:hunter2@").rsplit("/", 1)[0] + "/no_such_db"
    result = pipeline("build", str(SAMPLE), "--db", url)
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot connect to postgresql")
    assert "hunter2" not in result.stderr and "***" in result.stderr
    assert "no_such_db" in result.stderr


def test_server_down_is_one_clear_line() -> None:
    result = pipeline("build", str(SAMPLE), "--db", "postgresql://u:pw@127.0.0.1:9/db")
    assert result.returncode == 3
    assert result.stderr.startswith("error: cannot connect to postgresql://u:***@127.0.0.1:9/db: ")
    assert "Traceback" not in result.stderr


@pytest.fixture
def c_locale_url(pg_server_url: str) -> str:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = pg_server_url.rsplit("/", 1)[1] + "_c"
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                          "LC_COLLATE 'C' LC_CTYPE 'C'"))
    yield pg_server_url.rsplit("/", 1)[0] + "/" + name  # type: ignore[misc]
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_c_locale_warns_that_trigram_search_is_blind(c_locale_url: str) -> None:
    result = pipeline("build", str(SAMPLE), "--db", c_locale_url)
    assert result.returncode == 0, result.stderr
    assert "has LC_CTYPE C: pg_trgm will ignore Chinese characters" in result.stderr
    assert "TEMPLATE template0 ENCODING 'UTF8'" in result.stderr
