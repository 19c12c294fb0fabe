"""Text hygiene through the real CLI: invisible format characters, full-width queries,
characters a format cannot hold, and file names that try to forge output lines."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.text import normalize_text

# A small list as a publisher might paste it: a right-to-left override inside a category
# (it looks like 党的建设 and would make a second category), zero-width spaces and a BOM,
# a full-width ＡＢＣ, a vertical tab, an ideographic variation sequence and a private-use
# character (both belong to the Han text and stay).
LIST = "\n".join([
    "昌吉州玛纳斯县东安镇基本履职事项清单",
    "序号\t事项类别\t事项名称",
    "1\t党的建设\t组织开展基层理论宣讲",
    "2\t党的\u202e建设\t加强党委\u200b自身建设",
    "3\t平安法治\tＡＢＣ台账管理工作",
    "4\t平安法治\t管理\x0b台账",
    "5\t平安法治\t葛\U000e0100氏宗祠保护与\ue000字整理",
    "6\t平安法治\t\ufeff乡村振兴工作\u2066",
]) + "\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUTF8": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("text")
    (folder / "dongan.txt").write_text(LIST, encoding="utf-8")
    url = f"sqlite:///{folder / 'duties.db'}"
    result = run("build", str(folder / "dongan.txt"), "--db", url)
    assert result.returncode == 0, result.stderr
    return url, result


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql).fetchall()


def test_format_characters_are_removed_with_a_warning_and_kept_in_raw(built) -> None:
    url, result = built
    assert rows(url, "select distinct category from duties order by 1") == [
        ("党的建设",), ("平安法治",)]
    titles = dict(rows(url, "select seq, title from duties"))
    assert titles[2] == "加强党委自身建设"
    assert titles[6] == "乡村振兴工作"
    [(raw,)] = rows(url, "select raw from duties where seq = 2")
    assert json.loads(raw)[1] == "党的\u202e建设"  # the original stays in raw
    assert "invisible format characters removed (U+202E)" in result.stderr
    assert "invisible format characters removed (U+2066, U+FEFF)" in result.stderr


def test_characters_han_text_needs_are_kept(built) -> None:
    url, _ = built
    [(title,)] = rows(url, "select title from duties where seq = 5")
    assert title == "葛\U000e0100氏宗祠保护与\ue000字整理"  # variation selector (Mn), private use (Co)


@pytest.mark.parametrize("raw, clean", [
    ("乡村\u202e振兴", "乡村振兴"),
    ("\u200b\u200c\u200d\u2060\u00ad村", "村"),
    ("a\u200bb c", "ab c"),
    ("葛\U000e0100", "葛\U000e0100"),
    ("\U000e0041\U000e007f旗", "旗"),  # tag characters
])
def test_normalize_text_removes_every_format_character(raw: str, clean: str) -> None:
    assert normalize_text(raw).text == clean


@pytest.mark.parametrize("query", ["ＡＢＣ", "ａｂｃ", "ＡＢ", "abc台账", "ＡＢＣ台账管理", "台账\u200b管理"])
def test_search_terms_are_folded_as_stored_text_is(built, query: str) -> None:
    from pipeline.db import open_engine
    from pipeline.search import search_duties

    engine = open_engine(built[0], existing=True)
    assert [hit.seq for hit in search_duties(engine, query)] == [3]
    engine.dispose()


def test_a_full_width_query_on_the_command_line(built) -> None:
    result = run("search", "ＡＢＣ", "--json", "--db", built[0])
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [3]


def test_xlsx_export_strips_what_xlsx_cannot_hold_and_counts_it(built, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    url, _ = built
    out = tmp_path / "xlsx"
    result = run("export", "--format", "xlsx", "--out", str(out), "--db", url)
    assert result.returncode == 0, result.stderr
    assert "characters that xlsx cannot hold were removed" in result.stderr
    written = {Path(line).name for line in result.stdout.splitlines()}
    assert {"duties.xlsx", "quality_issues.xlsx", "duty_overview.xlsx"} <= written
    assert sorted(p.name for p in out.iterdir()) == sorted(written)  # no staging left
    workbook = load_workbook(out / "quality_issues.xlsx", read_only=True)
    sheet = workbook.active
    assert any("管理台账" in str(cell) for row in sheet.iter_rows(values_only=True)
               for cell in row)
    workbook.close()  # read-only workbooks keep their file open until closed
    csv = run("export", "--format", "csv", "--out", str(tmp_path / "csv"), "--db", url)
    assert csv.returncode == 0 and "cannot hold" not in csv.stderr
    assert "\x0b" in (tmp_path / "csv" / "quality_issues.csv").read_text(encoding="utf-8-sig")


FORGED = "forged.txt: loaded; rows read 999 = 999 duties + 0 quarantined; 0 errors, 0 warnings"


def test_file_names_are_printed_escaped(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"x\n{FORGED}").write_text(LIST, encoding="utf-8")
    (raw / "\u202etxt.exe").write_bytes(b"")
    gbk = os.fsencode(raw) + b"/" + "西安".encode("gbk") + b".txt"  # a name from a Windows zip
    with open(gbk, "wb") as file:
        file.write(LIST.replace("东安镇", "西安镇").encode("utf-8"))
    result = run("build", "--db", f"sqlite:///{tmp_path / 'd.db'}", "--normalized",
                 str(tmp_path / "normalized"), cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # the empty file
    assert "Traceback" not in result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    assert not [line for line in lines if line.startswith("forged.txt")]
    assert f"raw/x\\n{FORGED}: loaded; rows read 6 = 6 duties" in result.stdout
    assert "raw/\\u202etxt.exe: error: file is empty" in result.stderr
    assert "raw/\\xce\\xf7\\xb0\\xb2.txt: loaded" in result.stdout
    paths = {p for (p,) in rows(f"sqlite:///{tmp_path / 'd.db'}", "select path from documents")}
    assert "raw/\\xce\\xf7\\xb0\\xb2.txt" in paths


def test_a_look_alike_department_is_one_department(sample) -> None:
    from pipeline.documents import normalize_document
    from pipeline.sources import parse_source
    from tests.conftest import SAMPLE

    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    cells = lines[134].split("\t")  # line 135: 玛纳斯县委组织部 as counterpart
    cells[3] = "玛纳斯县委\u202e组织部\u200b"
    lines[134] = "\t".join(cells)
    doc = normalize_document(parse_source("raw/x.txt", "\n".join(lines).encode("utf-8")))
    assert sorted(d.name for d in doc.departments) == sorted(d.name for d in sample.departments)
    assert any(f.line == 135 and "U+200B, U+202E" in f.message for f in doc.findings)


def test_folded_search_finds_the_same_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    from pipeline.db import open_engine
    from pipeline.search import search_duties

    (tmp_path / "dongan.txt").write_text(LIST, encoding="utf-8")
    assert run("build", str(tmp_path / "dongan.txt"), "--db", pg_url).returncode == 0
    engine = open_engine(pg_url, existing=True)
    for query in ("ＡＢＣ", "ａｂ", "台账\u200b管理"):
        assert [hit.seq for hit in search_duties(engine, query)] == [3], query
    engine.dispose()


def test_a_look_alike_place_in_a_list_title_is_the_same_place() -> None:
    from pipeline.documents import normalize_document
    from pipeline.sources import parse_source

    text = LIST.replace("东安镇", "东\u202e安镇\u200b")
    doc = normalize_document(parse_source("raw/x.txt", text.encode("utf-8")))
    assert doc.town.name == "东安镇"
    assert any(f.line == 1 and "U+200B, U+202E" in f.message for f in doc.findings)
