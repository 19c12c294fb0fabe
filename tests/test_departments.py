from collections import Counter

import pytest

from pipeline.departments import (
    canonicalize,
    cut_catch_all,
    department_heading,
    mention_finder,
    split_departments,
    split_receiver,
)
from pipeline.documents import normalize_document
from pipeline.records import NormalizedDocument, Town
from pipeline.sources import parse_source
from tests.conftest import duty

MANAS = Town(name="凉州户镇", kind="镇", county="玛纳斯县", prefecture="昌吉州")
HUTUBI = Town(name="大丰镇", kind="镇", county="呼图壁县", prefecture="昌吉州")

# Every department of the sample's 对应上级部门 and 承接部门 columns, read off the source by hand.
COLUMN_DEPARTMENTS = {
    "昌吉州生态环境局玛纳斯县分局", "玛纳斯县交通运输局", "玛纳斯县人力资源和社会保障局",
    "玛纳斯县人大", "玛纳斯县人民政府办公室", "玛纳斯县住房和城乡建设局", "玛纳斯县公安局",
    "玛纳斯县农业农村局", "玛纳斯县医疗保障局", "玛纳斯县卫生健康委员会",
    "玛纳斯县发展和改革委员会", "玛纳斯县司法局", "玛纳斯县商务和工业信息化局",
    "玛纳斯县委党史和文献研究室", "玛纳斯县委宣传部", "玛纳斯县委政法委员会",
    "玛纳斯县委社会工作部", "玛纳斯县委组织部", "玛纳斯县委统战部",
    "玛纳斯县委机构编制委员会办公室", "玛纳斯县市场监督管理局", "玛纳斯县应急管理局",
    "玛纳斯县总工会", "玛纳斯县政协", "玛纳斯县教育局", "玛纳斯县文化体育广播电视和旅游局",
    "玛纳斯县林业和草原局", "玛纳斯县残疾人联合会", "玛纳斯县民政局", "玛纳斯县水利局",
    "玛纳斯县消防救援局", "玛纳斯县科学技术局", "玛纳斯县税务局", "玛纳斯县红十字会",
    "玛纳斯县统计局", "玛纳斯县自然资源局", "玛纳斯县财政局", "玛纳斯县退役军人事务局",
}


def test_every_column_department_is_one_row(sample: NormalizedDocument) -> None:
    names = Counter(d.name for d in sample.departments)
    assert all(count == 1 for count in names.values())
    linked = {link.department for d in sample.duties for link in d.departments
              if link.role in ("counterpart", "receiver")}
    assert linked == COLUMN_DEPARTMENTS
    by_name = {d.name: d for d in sample.departments}
    assert set(by_name["玛纳斯县委机构编制委员会办公室"].aliases) >= {"玛纳斯县委编办", "县委编办"}
    assert set(by_name["玛纳斯县残疾人联合会"].aliases) >= {"玛纳斯县残联", "县残联"}
    assert set(by_name["玛纳斯县委政法委员会"].aliases) >= {"县委政法委", "玛纳斯县委政法委员会"}
    assert by_name["玛纳斯县委组织部"].short_name == "县委组织部"
    assert by_name["玛纳斯县委组织部"].jurisdiction == "玛纳斯县"


def test_prose_mentions_are_linked(sample: NormalizedDocument) -> None:
    mentioned = {link.department for link in duty(sample, "cooperative", 15).departments
                 if link.role == "mentioned"}
    assert "玛纳斯县城市管理局" in mentioned  # appears only in prose
    assert "玛纳斯县城市管理局" not in COLUMN_DEPARTMENTS
    by_name = {d.name: d for d in sample.departments}
    assert by_name["昌吉州委组织部"].jurisdiction == "昌吉州"  # 州党委组织部 in cooperative 6
    assert "州党委组织部" in by_name["昌吉州委组织部"].aliases
    assert not any("户镇" in name for name in by_name)  # 凉州户镇 holds a 州 that is no prefix


def test_sub_headings_link_steps(sample: NormalizedDocument) -> None:
    d = duty(sample, "cooperative", 53)
    assert [s.department for s in d.steps if s.party == "upper"] == [
        "玛纳斯县自然资源局", "玛纳斯县自然资源局", "玛纳斯县农业农村局"]
    assert [s.section for s in d.steps if s.party == "upper"] == [
        "县自然资源局", "县自然资源局", "县农业农村局"]


def test_catch_all_links_the_named_department(sample: NormalizedDocument) -> None:
    [link] = [link for d in sample.duties for link in d.departments if link.note]
    assert link.department == "玛纳斯县应急管理局"
    assert link.note == "及其他负有安全生产监督管理职责的部门"
    assert link.written == "玛纳斯县应急管理局及其他负有安全生产监督管理职责的部门"


@pytest.mark.parametrize(("cell", "parts"), [
    ("县委宣传部（县文明办、县网信办）、县公安局", ["县委宣传部（县文明办、县网信办）", "县公安局"]),
    ("玛纳斯县民政局、玛纳斯县公安局，县财政局,县税务局",
     ["玛纳斯县民政局", "玛纳斯县公安局", "县财政局", "县税务局"]),
    ("", []),
])
def test_split_only_outside_brackets(cell: str, parts: list[str]) -> None:
    assert split_departments(cell) == parts


@pytest.mark.parametrize(("written", "name", "rest"), [
    ("玛纳斯县应急管理局及其他负有安全生产监督管理职责的部门", "玛纳斯县应急管理局",
     "及其他负有安全生产监督管理职责的部门"),
    ("县农业农村局等部门", "县农业农村局", "等部门"),
    ("县公安局相关部门", "县公安局", "相关部门"),
    ("县公安局", "县公安局", None),
])
def test_catch_all(written: str, name: str, rest: str | None) -> None:
    assert cut_catch_all(written) == (name, rest)


@pytest.mark.parametrize(("written", "name", "short", "jurisdiction"), [
    ("玛纳斯县委组织部", "玛纳斯县委组织部", "县委组织部", "玛纳斯县"),
    ("县委组织部", "玛纳斯县委组织部", "县委组织部", "玛纳斯县"),
    ("公安局", "玛纳斯县公安局", "县公安局", "玛纳斯县"),  # bare X局 in a county's row
    ("州生态环境局玛纳斯县分局", "昌吉州生态环境局玛纳斯县分局", "州生态环境局玛纳斯县分局", "玛纳斯县"),
    ("昌吉州生态环境局玛纳斯县分局", "昌吉州生态环境局玛纳斯县分局", "州生态环境局玛纳斯县分局",
     "玛纳斯县"),
    ("州党委组织部", "昌吉州委组织部", "州委组织部", "昌吉州"),
    ("县政府办", "玛纳斯县人民政府办公室", "县人民政府办公室", "玛纳斯县"),
    ("县应急局", "玛纳斯县应急管理局", "县应急管理局", "玛纳斯县"),
    ("县委宣传部（县文明办、县网信办）", "玛纳斯县委宣传部（县文明办、县网信办）",
     "县委宣传部（县文明办、县网信办）", "玛纳斯县"),
])
def test_canonical_names(written: str, name: str, short: str, jurisdiction: str) -> None:
    resolved = canonicalize(written, MANAS)
    assert (resolved.name, resolved.short_name, resolved.jurisdiction) == (name, short, jurisdiction)
    assert resolved.known


def test_unknown_name_is_kept_as_written() -> None:
    resolved = canonicalize("新华书店", MANAS)
    assert (resolved.name, resolved.jurisdiction, resolved.known) == ("新华书店", None, False)


def test_short_forms_of_two_counties_do_not_collide() -> None:
    assert canonicalize("县农业农村局", MANAS).name == "玛纳斯县农业农村局"
    assert canonicalize("县农业农村局", HUTUBI).name == "呼图壁县农业农村局"
    assert canonicalize("州生态环境局", HUTUBI).name == canonicalize("州生态环境局", MANAS).name


def test_unknown_department_is_a_warning_with_suggestions() -> None:
    text = ("昌吉州玛纳斯县凉州户镇配合履职事项清单\n"
            "序号\t事项名称\t对应上级部门\t上级部门职责\t凉州户镇配合职责\n"
            "1\t甲\t玛纳斯县农业农村局\t县农业农村局负责\t配合\n"
            "2\t乙\t农业农村\t负责\t配合\n")
    doc = normalize_document(parse_source("t.txt", text.encode()))
    [warning] = [f for f in doc.findings if f.code == "department-unknown"]
    assert warning.line == 4
    assert "'农业农村'" in warning.message and "closest known: 玛纳斯县农业农村局" in warning.message
    assert "农业农村" in {d.name for d in doc.departments}


def test_receiver_before_either_colon() -> None:
    assert split_receiver("玛纳斯县民政局： 由县民政局负责") == ("玛纳斯县民政局", "由县民政局负责")
    assert split_receiver("玛纳斯县农业农村局: 1.甲; 2.乙") == ("玛纳斯县农业农村局", "1.甲; 2.乙")
    assert split_receiver("由县民政局负责：办理") == (None, "由县民政局负责：办理")


def test_department_heading_needs_a_prefix_and_a_suffix() -> None:
    assert department_heading("县人力资源和社会保障局 负责审核", ()) == ("县人力资源和社会保障局", "负责审核")
    assert department_heading("玛纳斯县水利局", ("玛纳斯县",)) == ("玛纳斯县水利局", "")
    assert department_heading("收到申请后核实", ()) is None
    assert department_heading("县委组织部、统战部和政协党组共同协商", ()) is None


def test_mentions_skip_the_town_name_and_non_departments() -> None:
    text = "凉州户镇和涉灾部门报告；县相关部门；县委管理领导干部；县城市管理局负责"
    assert mention_finder(MANAS, ())(text) == ["县城市管理局"]
