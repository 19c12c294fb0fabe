"""A place's lists in several files and several versions: a load replaces only the lists it
holds, never shrinks one by accident, and records what changed (issue #13).

The files are the sample cut at its list titles, as county portals post the lists (附件1
基本…, 附件2 配合…, 附件3 上级部门收回…); the revisions are made by hand below.
"""

import os
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import SAMPLE
from tests.test_cli import run

if TYPE_CHECKING:
    from pipeline.records import Duty

LISTS = ["basic", "cooperative", "withdrawn"]


def split_sample(folder: Path) -> list[Path]:
    """The sample as three files, one per list, cut where a line ends with 清单."""
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip().endswith("事项清单")]
    assert len(starts) == 3
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, (start, end) in enumerate(zip(starts, [*starts[1:], len(lines)], strict=True), 1):
        path = folder / f"附件{number}-{LISTS[number - 1]}.txt"
        path.write_text("\n".join(lines[start:end]) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def revise_basic(path: Path) -> None:
    """One title reworded (3), one duty removed (50, later ones renumbered), one added at the end."""
    rows = path.read_text(encoding="utf-8").split("\n")
    out = []
    for line in rows:
        cells = line.split("\t")
        if not cells[0].isdigit():
            out.append(line)
            continue
        seq = int(cells[0])
        if seq == 50:
            continue
        if seq == 3:
            cells[2] = "组织开展基层理论宣讲，深入推进习近平新时代中国特色社会主义思想进万家活动"
        cells[0] = str(seq - 1 if seq > 50 else seq)
        out.append("\t".join(cells))
    last = max(i for i, line in enumerate(out) if line.split("\t")[0].isdigit())
    out.insert(last + 1, "106\t综合政务\t负责本镇数字乡村建设和基层数据共享工作")
    path.write_text("\n".join(out), encoding="utf-8")


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'duties.db'}"
    return str(request.getfixturevalue("pg_url"))


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        result = [tuple(row) for row in conn.execute(text(query))]
    engine.dispose()
    return result


def counts(url: str) -> list[tuple[object, ...]]:
    return rows(url, "SELECT list, count(*) FROM duties GROUP BY list ORDER BY list")


SAMPLE_COUNTS = [("basic", 106), ("cooperative", 107), ("withdrawn", 37)]


def test_three_files_of_one_place_build_into_one_place(url: str, tmp_path: Path) -> None:
    files = split_sample(tmp_path / "raw")
    first = run("build", str(tmp_path / "raw"), "--db", url)
    assert first.returncode == 0, first.stderr
    assert counts(url) == SAMPLE_COUNTS
    assert rows(url, "SELECT count(*) FROM towns") == [(1,)]
    again = run("build", str(tmp_path / "raw"), "--db", url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("unchanged, skipped") == 3
    assert counts(url) == SAMPLE_COUNTS
    versions = rows(url, "SELECT list, number, is_current, duties FROM list_versions ORDER BY list")
    assert [(kind, number, bool(current), n) for kind, number, current, n in versions] == [
        ("basic", 1, True, 106), ("cooperative", 1, True, 107), ("withdrawn", 1, True, 37)]
    # Each list came from its own file.
    sources = rows(url, "SELECT v.list, d.path FROM list_versions v JOIN documents d "
                        "ON d.id = v.document_id ORDER BY v.list")
    assert sources == [(kind, str(path)) for kind, path in zip(LISTS, files, strict=True)]


def test_loading_one_list_keeps_the_others(url: str, tmp_path: Path) -> None:
    assert run("build", str(SAMPLE), "--db", url).returncode == 0
    [_, _, withdrawn] = split_sample(tmp_path / "raw")
    result = run("build", str(withdrawn), "--db", url)
    assert result.returncode == 0, result.stderr
    assert counts(url) == SAMPLE_COUNTS  # the same content: nothing to replace


def test_a_header_only_copy_is_an_error_and_the_list_keeps_its_duties(url: str,
                                                                      tmp_path: Path) -> None:
    [basic, _, _] = split_sample(tmp_path / "raw")
    assert run("build", str(tmp_path / "raw"), "--db", url).returncode == 0
    header_only = "\n".join(basic.read_text(encoding="utf-8").split("\n")[:3]) + "\n"
    basic.write_text(header_only, encoding="utf-8")
    result = run("build", str(basic), "--db", url)
    assert result.returncode == 1
    assert "has a header on line 3 and no rows" in result.stderr
    assert "would go from 106 duties to 0" in result.stderr
    assert counts(url) == SAMPLE_COUNTS


def test_a_page_whose_table_did_not_download_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><h2>昌吉州玛纳斯县凉州户镇基本履职事项清单</h2>"
                    "<p>（附件加载失败）</p></body></html>", encoding="utf-8")
    result = run("build", str(page), "--db", f"sqlite:///{tmp_path / 'd.db'}")
    assert result.returncode == 1
    assert "has no table under it" in result.stderr
    assert "holds no list with a duty in it, so nothing was loaded" in result.stderr
    # What is wrong now says so, though no document of it is in the database.
    conn = sqlite3.connect(tmp_path / "d.db")
    assert {code for (code,) in conn.execute("SELECT code FROM current_findings")} == {
        "empty-list", "refused"}


def test_a_revised_list_becomes_a_new_version_with_exactly_its_changes(url: str,
                                                                      tmp_path: Path) -> None:
    [basic, _, _] = split_sample(tmp_path / "raw")
    assert run("build", str(tmp_path / "raw"), "--db", url).returncode == 0
    revise_basic(basic)
    result = run("build", str(tmp_path / "raw"), "--db", url)
    assert result.returncode == 0, result.stderr
    assert "basic version 2, 3 changes" in result.stdout
    assert result.stdout.count("unchanged, skipped") == 2
    assert counts(url) == SAMPLE_COUNTS  # 106 − 1 + 1
    changes = rows(url, "SELECT c.change, c.old_seq, c.new_seq, c.old_title, c.new_title "
                        "FROM duty_changes c JOIN list_versions v ON v.id = c.version_id "
                        "WHERE v.number = 2 ORDER BY c.change")
    assert changes == [
        ("added", None, 106, None, "负责本镇数字乡村建设和基层数据共享工作"),
        ("removed", 50, None, "负责本镇农村土地承包经营管理工作，指导和管理农村土地承包经营权流转，"
                              "调解农村土地承包经营纠纷", None),
        ("reworded", 3, 3, "组织开展基层理论宣讲，深化习近平新时代中国特色社会主义思想进万家活动",
         "组织开展基层理论宣讲，深入推进习近平新时代中国特色社会主义思想进万家活动"),
    ]
    previous = rows(url, "SELECT c.previous_version_id = p.id FROM duty_changes c "
                         "JOIN list_versions v ON v.id = c.version_id JOIN list_versions p "
                         "ON p.town_id = v.town_id AND p.list = v.list AND p.number = 1 "
                         "WHERE v.number = 2")
    assert {bool(same) for (same,) in previous} == {True}
    shown = run("diff", "凉州户镇", "--db", url)
    assert shown.returncode == 0, shown.stderr
    assert "basic: version 1 → version 2 (3 changes)" in shown.stdout
    assert "~ reworded      3 组织开展基层理论宣讲，深化" in shown.stdout
    assert "- removed       50 负责本镇农村土地承包经营管理工作" in shown.stdout
    assert "+ added         106 负责本镇数字乡村建设和基层数据共享工作" in shown.stdout
    history = run("history", "玛纳斯县凉州户镇", "--list", "basic", "--db", url)
    assert re.findall(r"basic version (\d): (\d+) duties, (\w+)", history.stdout) == [
        ("1", "106", "superseded"), ("2", "106", "current")]
    # The earlier version is rebuilt exactly from the history.
    old = run("history", "凉州户镇", "--list", "basic", "--version", "1", "--db", url)
    titles = [re.search(r'"title":"([^"]*)"', line).group(1)  # type: ignore[union-attr]
              for line in old.stdout.splitlines()]
    assert len(titles) == 106 and titles[49].startswith("负责本镇农村土地承包经营管理工作")
    report = tmp_path / "report.html"
    assert run("report", "--out", str(report), "--db", url).returncode == 0
    page = report.read_text(encoding="utf-8")
    assert "删除 removed</td><td>50 负责本镇农村土地承包经营管理工作" in page
    assert page.count("<td>凉州户镇</td><td>基本履职 basic v2</td>") == 3


def test_two_files_with_the_same_list_in_one_build_are_an_error(url: str, tmp_path: Path) -> None:
    [basic, _, _] = split_sample(tmp_path / "raw")
    copy = tmp_path / "raw" / "附件1-basic-copy.txt"
    revised = basic.read_text(encoding="utf-8").replace("加强宣传教育", "加强宣传")
    copy.write_text(revised, encoding="utf-8")
    result = run("build", str(tmp_path / "raw"), "--db", url)
    assert result.returncode == 1
    # The first file in name order (the copy: "-" sorts before ".") loaded; the other was
    # not loaded over it, and says why.
    assert f"{basic}: error: holds basic of 凉州户镇, as {copy} in this build does" in result.stderr
    assert rows(url, "SELECT count(*) FROM duties WHERE title LIKE '%加强宣传教育%'") == [(0,)]
    assert rows(url, "SELECT count(*) FROM duties WHERE title LIKE '%加强宣传%'") == [(1,)]


def test_shrinking_by_more_than_half_needs_accept_shrink(url: str, tmp_path: Path) -> None:
    [_, cooperative, _] = split_sample(tmp_path / "raw")
    assert run("build", str(tmp_path / "raw"), "--db", url).returncode == 0
    lines = cooperative.read_text(encoding="utf-8").split("\n")
    cooperative.write_text("\n".join(lines[:40]) + "\n", encoding="utf-8")  # a cut-off download
    left = sum(1 for line in lines[:40] if line.split("\t")[0].isdigit())
    assert left < 107 / 2
    refused = run("build", str(cooperative), "--db", url)
    assert refused.returncode == 1
    assert f"the cooperative list of 凉州户镇 would go from 107 duties to {left}" in refused.stderr
    assert counts(url) == SAMPLE_COUNTS
    accepted = run("build", str(cooperative), "--db", url, "--accept-shrink")
    assert accepted.returncode == 0, accepted.stderr
    assert counts(url) == [("basic", 106), ("cooperative", left), ("withdrawn", 37)]
    removed = rows(url, "SELECT count(*) FROM duty_changes WHERE change = 'removed'")
    assert removed == [(107 - left,)]


def test_a_file_whose_lists_all_moved_to_other_files_is_no_longer_held(url: str,
                                                                       tmp_path: Path) -> None:
    """The sample loaded as one file, then as three (one list each, same content): each list
    now comes from its own file, and the first file, which provides nothing, is gone."""
    whole = tmp_path / "whole" / "凉州户镇.txt"
    whole.parent.mkdir()
    whole.write_bytes(SAMPLE.read_bytes())
    assert run("build", str(whole), "--db", url).returncode == 0
    parts = split_sample(tmp_path / "parts")
    result = run("build", str(tmp_path / "parts"), "--db", url)
    assert result.returncode == 0, result.stderr
    assert sorted(path for (path,) in rows(url, "SELECT path FROM documents")) \
        == sorted(str(part) for part in parts)
    assert counts(url) == SAMPLE_COUNTS


def test_renamed_files_are_recognised_and_missing_ones_reported(url: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    [basic, cooperative, _] = split_sample(raw)
    assert run("build", str(raw), "--db", url).returncode == 0
    renamed = raw / "附件1-基本履职事项清单.txt"
    basic.rename(renamed)
    result = run("build", str(raw), "--db", url)
    assert result.returncode == 0, result.stderr
    assert f"{renamed}: unchanged, skipped (the file once loaded as {basic})" in result.stdout
    assert rows(url, "SELECT count(*) FROM documents WHERE path = :p".replace(":p", f"'{renamed}'")) \
        == [(1,)]
    cooperative.unlink()
    for _ in range(2):  # every build says so
        result = run("build", str(raw), "--db", url)
        assert result.returncode == 0, result.stderr
        assert f"{cooperative}: warning: no longer exists: its lists stay in the database; " \
               f"`pipeline forget {cooperative}` removes them" in result.stderr
    assert counts(url) == SAMPLE_COUNTS
    forgot = run("forget", str(cooperative), "--db", url)
    assert forgot.returncode == 0, forgot.stderr
    assert "removed the cooperative of 凉州户镇" in forgot.stdout
    assert counts(url) == [("basic", 106), ("withdrawn", 37)]
    assert rows(url, "SELECT count(*) FROM steps s JOIN duties d ON d.id = s.duty_id "
                     "WHERE d.list = 'cooperative'") == [(0,)]
    kept = rows(url, "SELECT is_current, withdrawn_at IS NOT NULL FROM list_versions "
                     "WHERE list = 'cooperative'")
    assert [(bool(a), bool(b)) for a, b in kept] == [(False, True)]
    assert "no longer exists" not in run("build", str(raw), "--db", url).stderr
    assert run("forget", str(cooperative), "--db", url).returncode == 1  # nothing left to forget


def test_a_duty_moved_to_another_list_is_one_moved_change(url: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    [basic, cooperative, _] = split_sample(raw)
    assert run("build", str(raw), "--db", url).returncode == 0
    # 推荐县级以上党代表工作 (cooperative 1) becomes basic 107; cooperative renumbers.
    lines = cooperative.read_text(encoding="utf-8").split("\n")
    moved = next(line for line in lines if line.startswith("1\t"))
    kept = [line for line in lines if line is not moved]
    cooperative.write_text("\n".join(
        "\t".join([str(int(c[0]) - 1), *c[1:]]) if c[0].isdigit() else line
        for line in kept for c in [line.split("\t")]), encoding="utf-8")
    basic.write_text(basic.read_text(encoding="utf-8").rstrip("\n")
                     + "\n107\t党的建设\t推荐县级以上党代表工作\n", encoding="utf-8")
    result = run("build", str(raw), "--db", url)
    assert result.returncode == 0, result.stderr
    changes = rows(url, "SELECT change, old_list, list, old_seq, new_seq, new_title "
                        "FROM duty_changes WHERE run_id = (SELECT max(id) FROM runs)")
    assert changes == [("moved", "cooperative", "basic", 1, 107, "推荐县级以上党代表工作")]


def test_current_findings_survive_a_build_that_skips_everything(url: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    split_sample(raw)
    (raw / "broken.txt").write_bytes(b"\xff\xfe\x00")
    assert run("build", str(raw), "--db", url).returncode == 1
    first = rows(url, "SELECT path, code FROM current_findings ORDER BY path, line, code")
    assert run("build", str(raw), "--db", url).returncode == 1
    assert rows(url, "SELECT path, code FROM current_findings ORDER BY path, line, code") == first
    codes = {code for _, code in first}
    assert {"text-fixed", "latin-word"} <= codes  # the sample's own warnings
    assert sum(1 for path, _ in first if path.endswith("broken.txt")) == 1
    # Findings of the first run only: the second skipped the documents.
    assert len(first) == len(rows(url, "SELECT * FROM quality_issues WHERE run_id = 1"))


def test_publication_date_from_the_document_the_flag_or_the_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    [basic, cooperative, withdrawn] = split_sample(tmp_path / "raw")
    basic.write_text(basic.read_text(encoding="utf-8") + "\n二〇二四年五月十日\n", encoding="utf-8")
    os.utime(withdrawn, (1_700_000_000, 1_700_000_000))  # 2023-11-14
    assert run("build", str(basic), str(withdrawn), "--db", url).returncode == 0
    assert run("build", str(cooperative), "--db", url, "--published", "2024-06-01").returncode == 0
    conn = sqlite3.connect(tmp_path / "d.db")
    assert conn.execute("SELECT list, published, published_from FROM list_versions "
                        "ORDER BY list").fetchall() == [
        ("basic", "2024-05-10", "document"), ("cooperative", "2024-06-01", "argument"),
        ("withdrawn", "2023-11-14", "file-modified")]


# diff_duties on small hand-made lists ------------------------------------------------------

def duties_of(*titles: str, kind: str = "basic") -> list["Duty"]:
    from pipeline.records import Duty

    return [Duty(list=kind, seq=i, category="党的建设", title=title, source_line=i, raw=[title])  # type: ignore[arg-type]
            for i, title in enumerate(titles, start=1)]


def kinds(old: list["Duty"], new: list["Duty"]) -> list[tuple[str, str | None, str | None]]:
    from pipeline.versions import diff_duties

    return [(c.change, c.old.title if c.old else None, c.new.title if c.new else None)
            for c in diff_duties(old, new).changes]


def test_same_titles_with_other_spacing_and_punctuation_are_no_change() -> None:
    old = duties_of("加强宣传教育，提高意识", "做好防汛工作")
    new = duties_of("加强宣传教育, 提高意识", "做好防汛工作 ")
    assert kinds(old, new) == []


def test_a_removal_shifts_later_numbers_without_renumbering_them() -> None:
    old = duties_of("甲项工作", "乙项工作", "丙项工作", "丁项工作")
    new = duties_of("甲项工作", "丙项工作", "丁项工作")  # 丙 goes from 3 to 2
    assert kinds(old, new) == [("removed", "乙项工作", None)]


def test_a_reordered_duty_is_renumbered() -> None:
    old = duties_of("甲项工作", "乙项工作", "丙项工作", "丁项工作")
    new = duties_of("甲项工作", "丙项工作", "丁项工作", "乙项工作")
    assert kinds(old, new) == [("renumbered", "乙项工作", "乙项工作")]


def test_a_sure_rewording_is_matched_and_an_unsure_one_is_not() -> None:
    from pipeline.versions import diff_duties

    old = duties_of("组织开展农村人居环境整治工作", "负责本镇档案收集整理工作")
    new = duties_of("组织开展农村人居环境整治提升工作", "负责本镇档案收集整理工作")
    assert kinds(old, new) == [("reworded", "组织开展农村人居环境整治工作",
                                "组织开展农村人居环境整治提升工作")]
    # Two old duties that the new title resembles equally: neither is guessed.
    old = duties_of("开展春季动物防疫工作", "开展秋季动物防疫工作")
    assert sorted(c.change for c in diff_duties(old, duties_of("开展动物防疫工作")).changes) == [
        "added", "removed", "removed"]
    # Merged into one, alike enough to both (TF-IDF cosine 60 each) to be listed as candidates.
    new = duties_of("开展春秋季动物防疫工作")
    found = diff_duties(old, new)
    assert sorted(c.change for c in found.changes) == ["added", "removed", "removed"]
    [unsure] = found.unsure
    assert {d.title for d, _ in unsure.candidates} == {"开展春季动物防疫工作", "开展秋季动物防疫工作"}


def test_changed_steps_are_steps_changed() -> None:
    from pipeline.records import Step

    old = duties_of("做好防汛工作")
    step = Step(party="town", position=1, number=1, text="组织巡查", raw="1.组织巡查")
    new = [old[0].model_copy(update={"steps": [step]})]
    assert kinds(old, new) == [("steps_changed", "做好防汛工作", "做好防汛工作")]


def test_a_repeated_title_is_matched_in_order() -> None:
    old = duties_of("开展巡查", "开展巡查", "做好宣传")
    new = duties_of("开展巡查", "做好宣传")
    assert kinds(old, new) == [("removed", "开展巡查", None)]
