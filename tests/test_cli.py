"""End to end: the installed CLI on the sample, as a user runs it."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, SAMPLE


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUTF8": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_build_sample_end_to_end(tmp_path: Path) -> None:
    database = tmp_path / "duties.db"
    result = run("build", str(SAMPLE), "--db", f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert "rows read 250 = 250 duties + 0 quarantined" in result.stdout
    conn = sqlite3.connect(database)
    assert conn.execute("select list, count(*) from duties group by list order by list").fetchall() \
        == [("basic", 106), ("cooperative", 107), ("withdrawn", 37)]
    assert conn.execute("select name, kind, county, prefecture, province, code from towns") \
        .fetchall() == [("凉州户镇", "镇", "玛纳斯县", "昌吉州", "新疆维吾尔自治区", "652324103")]
    assert conn.execute("select format, encoding from documents").fetchall() == [("tsv", "utf-8")]
    assert conn.execute(
        "select category, title, source_line from duties where list='cooperative' and seq=20"
    ).fetchall() == [("平安法治", "司法所规范化建设与管理工作", 165)]
    assert conn.execute(
        "select seq, category, source_line from duties where list='withdrawn' and title=?",
        ("出具婚姻状况证明（婚姻关系证明、分居证明）",)).fetchall() == [(1, "民生服务", 315)]
    steps = conn.execute(
        "select s.party, s.position, s.number, s.section, s.text from steps s join duties d "
        "on d.id = s.duty_id where d.list = 'cooperative' and d.seq = 35 order by s.party desc, "
        "s.position").fetchall()
    assert steps[0] == ("upper", 1, None, "分户工作", "收到申请后，指派相关责任民警核实申请人宅基地"
                        "基本情况，无误后指派相关户籍民警为申请人办理分户工作。")
    assert [row[:4] for row in steps] == [("upper", 1, None, "分户工作"), ("upper", 2, None, "落户工作"),
                                          ("town", 1, None, "分户工作"), ("town", 2, None, "落户工作")]
    assert conn.execute(
        "select p.name from duty_departments l join departments p on p.id = l.department_id "
        "join duties d on d.id = l.duty_id where d.list = 'withdrawn' and d.seq = 11 "
        "and l.role = 'receiver'").fetchall() == [("玛纳斯县残疾人联合会",)]  # 玛纳斯县残联
    assert conn.execute(
        "select count(*) from steps where department_id is not null").fetchone()[0] > 0
    again = run("build", str(SAMPLE), "--db", f"sqlite:///{database}")
    assert "unchanged, skipped" in again.stdout
    forced = run("build", str(SAMPLE), "--db", f"sqlite:///{database}", "--force")
    assert ": loaded;" in forced.stdout


def test_bad_document_is_reported_and_others_still_load(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a-empty.txt").write_bytes(b"")
    (raw / "b-sample.txt").write_bytes(SAMPLE.read_bytes())
    lost_tab = SAMPLE.read_text(encoding="utf-8").replace("3\t党的建设\t组织开展基层理论宣讲",
                                                          "3\t党的建设组织开展基层理论宣讲")
    (raw / "c-lost-tab.txt").write_text(lost_tab.replace("凉州户镇", "兰州湾镇"), encoding="utf-8")
    database = tmp_path / "duties.db"
    result = run("build", "--db", f"sqlite:///{database}", cwd=tmp_path)
    assert result.returncode == 1
    assert f"{Path('raw/a-empty.txt')}: error: file is empty" in result.stderr
    assert (f"{Path('raw/c-lost-tab.txt')}:8: error: expected 3 tab-separated cells, found 2"
            in result.stderr)
    assert "Traceback" not in result.stderr
    assert "rows read 250 = 249 duties + 1 quarantined" in result.stdout
    conn = sqlite3.connect(database)
    assert conn.execute("select count(*) from duties").fetchone() == (499,)
    quarantined = conn.execute("select line, raw from quality_issues where code='row-cells'")
    line_8 = "3\t党的建设组织开展基层理论宣讲，深化习近平新时代中国特色社会主义思想进万家活动"
    assert quarantined.fetchall() == [(8, line_8)]


def test_database_error_is_one_line_and_exit_3(tmp_path: Path) -> None:
    result = run("build", str(SAMPLE), "--db", "postgresql://u:secret@127.0.0.1:1/x")
    assert result.returncode == 3
    assert "secret" not in result.stderr
    assert result.stderr.startswith("error: cannot connect to postgresql://u:***@127.0.0.1:1/x")
    assert "Traceback" not in result.stderr


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("build", "normalize", "load", "schemas"):
        assert command in result.stdout


def test_normalize_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("normalize", str(SAMPLE), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = (out / "changji-manas-liangzhouhu.json").read_text(encoding="utf-8")
    assert '"name": "凉州户镇"' in text


def test_analyst_commands(tmp_path: Path) -> None:
    import json

    url = f"sqlite:///{tmp_path / 'duties.db'}"
    assert run("build", str(SAMPLE), "--db", url).returncode == 0
    found = run("search", "秸秆禁烧", "--json", "--db", url)
    assert found.returncode == 0, found.stderr
    [hit] = [json.loads(line) for line in found.stdout.splitlines()]
    assert (hit["list"], hit["seq"], hit["highlight"]) == (
        "cooperative", 64, "农作物【秸秆禁烧】、综合利用工作")
    departments = run("departments", "--db", url, "--json")
    rows = [json.loads(line) for line in departments.stdout.splitlines()]
    busiest = rows[0]
    assert busiest["name"] in ("玛纳斯县农业农村局", "玛纳斯县住房和城乡建设局")
    assert busiest["counterpart"] == 13
    exported = run("export", "--format", "csv", "--out", str(tmp_path / "csv"), "--db", url)
    assert exported.returncode == 0 and (tmp_path / "csv" / "duty_overview.csv").exists()
    report = run("report", "--out", str(tmp_path / "r.html"), "--db", url)
    assert report.returncode == 0 and (tmp_path / "r.html").stat().st_size > 10_000


def test_reading_commands_on_a_missing_database(tmp_path: Path) -> None:
    result = run("search", "秸秆", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.returncode == 3
    assert result.stderr.startswith("error: no database at")
    assert not (tmp_path / "none.db").exists()
