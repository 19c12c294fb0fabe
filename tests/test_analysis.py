"""Views, search, exports, the report and the pandas API, on the sample built into SQLite."""

import csv
import re
import sqlite3
from pathlib import Path

import pytest

import pipeline
from pipeline import db, schema
from pipeline.builds import load_outcomes
from pipeline.documents import normalize_document
from pipeline.exports import export, neutralize
from pipeline.reports import render_report
from pipeline.search import highlight, search_duties, split_query, sqlite_capabilities
from pipeline.sources import parse_source
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample, plus a hostile little town whose titles look like formulas and markup."""
    url = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'duties.db'}"
    hostile = ("某县恶意镇基本履职事项清单\n序号\t事项类别\t事项名称\n"
               "1\t测试\t=HYPERLINK(\"http://x\",\"点我\")\n2\t测试\t<script>alert(1)</script>\n"
               "3\t测试\t100%_完成\n4\t<img src=x onerror=alert(1)>\t类别是标记\n")
    documents = [normalize_document(parse_source(str(SAMPLE), SAMPLE.read_bytes())),
                 normalize_document(parse_source("raw/evil.txt", hostile.encode()))]
    reports = list(load_outcomes(url, [(Path(d.path), d) for d in documents], ["test"]))
    # raw/evil.txt exists only in memory: the build says that its file is gone.
    assert [(r.path, r.status) for r in reports] == [
        (str(SAMPLE), "loaded"), ("raw/evil.txt", "loaded"), ("catalogue", "loaded"),
        ("raw/evil.txt", "missing")]
    return url


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_duty_overview(built: str) -> None:
    assert query(built, "SELECT count(*) FROM duty_overview WHERE town = '凉州户镇'") == [(250,)]
    assert query(built, "SELECT departments, upper_steps, town_steps, receiver_steps FROM "
                 "duty_overview WHERE list = 'cooperative' AND seq = 64") == [
        ("昌吉州生态环境局玛纳斯县分局、玛纳斯县公安局、玛纳斯县农业农村局", 7, 6, 0)]
    assert query(built, "SELECT departments, receiver_steps FROM duty_overview "
                 "WHERE list = 'withdrawn' AND seq = 27") == [("玛纳斯县自然资源局", 8)]


def test_department_workload(built: str) -> None:
    assert query(built, "SELECT cooperative_duties, withdrawn_duties FROM department_workload "
                 "WHERE department = '玛纳斯县农业农村局'") == [(13, 6)]
    # cooperative 93: the town carries 4 steps for each of its two counterparts
    steps = query(built, "SELECT town_steps FROM department_workload "
                  "WHERE department = '玛纳斯县水利局'")[0][0]
    assert isinstance(steps, int) and steps >= 4


def test_category_summary(built: str) -> None:
    assert query(built, "SELECT sum(duties) FROM category_summary WHERE town = '凉州户镇'") == [(250,)]
    assert query(built, "SELECT duties FROM category_summary WHERE town = '凉州户镇' "
                 "AND list = 'basic' AND category = '党的建设'") == [(22,)]  # counted in the source


def test_views_are_recreated_idempotently(built: str) -> None:
    engine = db.open_engine(built)
    schema.ensure_schema(engine)
    schema.ensure_schema(engine)
    engine.dispose()
    assert query(built, "SELECT count(*) FROM duty_overview") == [(254,)]


def hits(url: str, text: str, *lists: str) -> list[tuple[str, int]]:
    engine = db.open_engine(url)
    try:
        return [(h.list, h.seq) for h in search_duties(engine, text, lists)]
    finally:
        engine.dispose()


def test_search_long_and_short_terms(built: str) -> None:
    assert hits(built, "秸秆禁烧") == [("cooperative", 64)]
    # two characters: below the trigram length, answered by LIKE on the base tables
    assert hits(built, "秸秆") == [("cooperative", 37), ("cooperative", 64)]
    assert hits(built, "秸秆", "basic") == []
    assert hits(built, "宣传 秸秆") == [("cooperative", 37), ("cooperative", 64)]
    assert hits(built, "不存在的词") == []


@pytest.mark.parametrize(("query", "terms"), [
    ("宣传 秸秆", ["宣传", "秸秆"]),
    ('"秸秆禁烧"', ["秸秆禁烧"]),
    ('宣传 "综合 利用" 秸秆', ["宣传", "综合 利用", "秸秆"]),
    ('"', ['"']),  # an open quote is a character
    ('a"b c', ['a"b', 'c']),  # the same, inside a word
    ('a"b"c', ['a', 'b', 'c']),
    ('""', []),
    ("   ", []),
])
def test_split_query(query: str, terms: list[str]) -> None:
    assert split_query(query) == terms


def test_quotes_group_a_phrase(built: str) -> None:
    assert hits(built, '"秸秆禁烧"') == [("cooperative", 64)]
    assert hits(built, '"禁烧 秸秆"') == []  # one term, which no text holds


def test_search_says_how_many_match_and_how_to_see_them(built: str) -> None:
    from tests.test_cli import run

    shown = run("search", "工作", "--limit", "5", "--db", built)
    everything = run("search", "工作", "--all", "--db", built)
    total = len(everything.stdout.splitlines()) // 2
    assert total > 100  # more than the default --limit
    assert f"5 of {total} duties match; --limit N or --all shows more" in shown.stderr
    assert len(shown.stdout.splitlines()) == 10
    assert f"{total} duties match" in everything.stderr
    empty = run("search", " ", "--db", built)
    assert empty.returncode == 2 and "the query is empty" in empty.stderr


def test_search_treats_like_wildcards_as_text(built: str) -> None:
    assert hits(built, "%") == [("basic", 3)]  # only 100%_完成 holds a percent sign
    assert hits(built, "_") == [("basic", 3)]


def test_sqlite_self_test_knows_the_short_like_bug() -> None:
    capabilities = sqlite_capabilities()
    assert capabilities.trigram
    if sqlite3.sqlite_version == "3.40.1":  # Debian 12: a short non-ASCII LIKE finds nothing
        assert not capabilities.short_like_on_trigram


def test_highlight() -> None:
    assert highlight("农作物秸秆禁烧工作", ["禁烧"]) == "农作物秸秆【禁烧】工作"
    assert highlight("甲" * 40 + "禁烧" + "乙" * 40, ["禁烧"]).startswith("…")


def test_csv_export_is_excel_friendly_and_neutralizes_formulas(built: str, tmp_path: Path) -> None:
    engine = db.open_engine(built)
    files = [written.path for written in export(engine, tmp_path, "csv")]
    engine.dispose()
    names = {f.stem for f in files}
    assert {"duties", "steps", "departments", "duty_overview", "department_workload",
            "category_summary"} <= names
    data = (tmp_path / "duties.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "duties.csv").open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 254
    titles = {row["title"] for row in rows}
    assert "'=HYPERLINK（\"http://x\",\"点我\"）" in titles  # brackets around Chinese: full-width
    assert not any(t.startswith(("=", "+", "-", "@")) for t in titles)


@pytest.mark.parametrize(("value", "safe"), [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"),
                                             ("@SUM(A1)", "'@SUM(A1)"), ("正常", "正常"), (-1, -1)])
def test_neutralize(value: object, safe: object) -> None:
    assert neutralize(value) == safe


def test_xlsx_and_parquet_exports(built: str, tmp_path: Path) -> None:
    import openpyxl
    import pyarrow.parquet as pq

    engine = db.open_engine(built)
    export(engine, tmp_path / "x", "xlsx")
    export(engine, tmp_path / "p", "parquet")
    engine.dispose()
    sheet = openpyxl.load_workbook(tmp_path / "x" / "duties.xlsx").active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)
             and "HYPERLINK" in c.value]
    assert len(cells) == 2  # the title, and the raw cells as JSON text
    assert all(c.data_type == "s" and not c.value.startswith("=") for c in cells)
    assert any(c.value.startswith("'=HYPERLINK") for c in cells)
    table = pq.read_table(tmp_path / "p" / "duty_overview.parquet")
    assert table.num_rows == 254
    assert "departments" in table.column_names


def test_pandas_api(built: str) -> None:
    with pipeline.open_db(built) as database:
        frame = database.frame("duty_overview")
        assert len(frame[frame.town == "凉州户镇"]) == 250
        withdrawn = database.query("SELECT count(*) AS n FROM duties WHERE list = :l", l="withdrawn")
        assert int(withdrawn.n[0]) == 37
        assert list(database.search("秸秆禁烧").seq) == [64]
        with pytest.raises(KeyError, match="no table or view"):
            database.frame("nope")


def test_report_escapes_everything(built: str) -> None:
    engine = db.open_engine(built)
    page = render_report(engine)
    engine.dispose()
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # a category is shown, escaped
    assert "玛纳斯县农业农村局" in page and "各类别事项数" in page
    # Nothing is fetched: no attribute names an address (a title may show one, as text).
    assert re.search(r"""(src|href|url)\s*[=(]\s*["']?\s*(https?:)?//""", page) is None
    assert "HYPERLINK（&quot;http://x&quot;" in page  # shown as text, escaped
