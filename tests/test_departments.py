from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.departments import (
    canonicalize,
    cut_catch_all,
    department_heading,
    known_spellings,
    mention_finder,
    split_bracketed,
    split_departments,
    split_receiver,
)
from pipeline.documents import normalize_document
from pipeline.layout import parse_place
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


@given(st.text(alphabet=st.sampled_from("县公安局、，, \t（）()[]【】"), max_size=30))
def test_split_shortcut_agrees_with_the_bracket_count(cell: str) -> None:
    assert split_departments(cell) == split_bracketed(cell)


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


def town_of(text: str) -> Town:
    town = parse_place(text)
    assert town is not None
    return town


DONGCHENG = "北京市东城区东华门街道"  # a 直辖市 district
ZHENHAI = "浙江省宁波市镇海区招宝山街道"  # a 市辖区 of a 地级市
PIZHOU = "江苏省徐州市邳州市运河街道"  # a 县级市
ZHENGLAN = "内蒙古自治区锡林郭勒盟正蓝旗上都镇"  # a 旗 of a 盟
SHAWAN = "新疆塔城地区沙湾市四道河子镇"  # a 县级市 of a 地区
SHIZHU = "重庆市石柱县南宾街道"  # an autonomous county of a 直辖市, written short
DANZHOU = "海南省儋州市那大镇"  # a prefecture without counties
LIUZHI = "贵州省六盘水市六枝特区郎岱镇"  # a 特区


# (place, written, canonical name, short name, jurisdiction), each written by hand.
@pytest.mark.parametrize(("place", "written", "name", "short", "jurisdiction"), [
    ("玛纳斯县凉州户镇", "县民政局", "玛纳斯县民政局", "县民政局", "玛纳斯县"),
    ("玛纳斯县凉州户镇", "自治区党委组织部", "新疆维吾尔自治区委组织部", "自治区委组织部",
     "新疆维吾尔自治区"),
    ("昌吉州玛纳斯县凉州户镇", "昌吉回族自治州生态环境局玛纳斯县分局",
     "昌吉州生态环境局玛纳斯县分局", "州生态环境局玛纳斯县分局", "玛纳斯县"),
    (DONGCHENG, "区民政局", "东城区民政局", "区民政局", "东城区"),
    (DONGCHENG, "市卫健委", "北京市卫生健康委员会", "市卫生健康委员会", "北京市"),
    (DONGCHENG, "东城区人社局", "东城区人力资源和社会保障局", "区人力资源和社会保障局", "东城区"),
    (ZHENHAI, "区应急管理局", "镇海区应急管理局", "区应急管理局", "镇海区"),
    (ZHENHAI, "市市场监督管理局", "宁波市市场监督管理局", "市市场监督管理局", "宁波市"),
    (ZHENHAI, "省发改委", "浙江省发展和改革委员会", "省发展和改革委员会", "浙江省"),
    (ZHENHAI, "住建局", "镇海区住房和城乡建设局", "区住房和城乡建设局", "镇海区"),
    (PIZHOU, "市卫健委", "邳州市卫生健康委员会", "市卫生健康委员会", "邳州市"),
    (PIZHOU, "市场监督管理局", "邳州市市场监督管理局", "市市场监督管理局", "邳州市"),
    (PIZHOU, "徐州市生态环境局", "徐州市生态环境局", "市生态环境局", "徐州市"),
    (ZHENGLAN, "旗农牧和科技局", "正蓝旗农牧和科技局", "旗农牧和科技局", "正蓝旗"),
    (ZHENGLAN, "盟生态环境局", "锡林郭勒盟生态环境局", "盟生态环境局", "锡林郭勒盟"),
    (SHAWAN, "塔城地区公安局", "塔城地区公安局", "地区公安局", "塔城地区"),
    (SHAWAN, "地区公安局", "塔城地区公安局", "地区公安局", "塔城地区"),
    (SHAWAN, "市民政局", "沙湾市民政局", "市民政局", "沙湾市"),
    (SHIZHU, "县民政局", "石柱县民政局", "县民政局", "石柱县"),
    (SHIZHU, "石柱土家族自治县民政局", "石柱县民政局", "县民政局", "石柱县"),
    (SHIZHU, "市交通运输委员会", "重庆市交通运输委员会", "市交通运输委员会", "重庆市"),
    (DANZHOU, "市医保局", "儋州市医疗保障局", "市医疗保障局", "儋州市"),
    (DANZHOU, "自然资源和规划局", "儋州市自然资源和规划局", "市自然资源和规划局", "儋州市"),
    (LIUZHI, "特区民政局", "六枝特区民政局", "特区民政局", "六枝特区"),
])
def test_departments_at_every_level(place: str, written: str, name: str, short: str,
                                    jurisdiction: str) -> None:
    resolved = canonicalize(written, town_of(place))
    assert (resolved.name, resolved.short_name, resolved.jurisdiction) == (name, short, jurisdiction)
    assert resolved.known


@pytest.mark.parametrize("body", ["社区居委会", "村委会", "村民小组", "网格员", "相关企业", "学校"])
def test_bodies_of_no_jurisdiction_get_no_prefix(body: str) -> None:
    resolved = canonicalize(body, town_of(DONGCHENG))
    assert (resolved.name, resolved.short_name, resolved.jurisdiction) == (body, None, None)


def test_a_mark_of_no_jurisdiction_resolves_nothing() -> None:
    assert not canonicalize("县民政局", town_of(DONGCHENG)).known  # 东城区 has no 县
    assert not canonicalize("州民政局", town_of(PIZHOU)).known


def test_mentions_use_every_level_mark() -> None:
    town = town_of(DONGCHENG)
    find = mention_finder(town, known_spellings([], town))
    assert find("由区民政局负责审核，报区应急管理局备案，市卫健委指导") == [
        "区民政局", "区应急管理局", "市卫健委"]
    assert find("社区居委会上报，社区卫生服务中心配合，市场监管部门检查") == []
    shawan = town_of(SHAWAN)
    assert mention_finder(shawan, ())("报塔城地区公安局和地区应急管理局") == [
        "塔城地区公安局", "地区应急管理局"]


def test_an_abbreviation_of_several_departments_is_linked_to_none() -> None:
    text = ("玛纳斯县乐土驿镇配合履职事项清单\n"
            "序号\t事项名称\t对应上级部门\t上级部门职责\t乐土驿镇配合职责\n"
            "1\t甲\t县文旅局\t县文旅局负责\t配合\n")
    doc = normalize_document(parse_source("t.txt", text.encode()))
    assert doc.duties[0].departments == []
    [warning] = [f for f in doc.findings if f.code == "department-ambiguous"]
    assert "玛纳斯县文化和旅游局" in warning.message
    assert "玛纳斯县文化体育广播电视和旅游局" in warning.message
    assert not any("文旅" in d.name for d in doc.departments)


def test_an_abbreviation_is_read_as_the_one_the_document_names() -> None:
    text = ("玛纳斯县乐土驿镇配合履职事项清单\n"
            "序号\t事项名称\t对应上级部门\t上级部门职责\t乐土驿镇配合职责\n"
            "1\t甲\t县文旅局\t负责\t配合\n"
            "2\t乙\t玛纳斯县文化体育广播电视和旅游局\t负责\t配合\n")
    doc = normalize_document(parse_source("t.txt", text.encode()))
    assert [link.department for link in doc.duties[0].departments] == [
        "玛纳斯县文化体育广播电视和旅游局"]
    assert not any(f.code == "department-ambiguous" for f in doc.findings)


def test_provincial_bodies_and_county_branches_in_prose() -> None:
    town = town_of(ZHENHAI)
    find = mention_finder(town, known_spellings([], town))
    found = find("报省应急管理厅、市应急管理局；配合市自然资源和规划局镇海分局；到市民服务大厅办理")
    assert found == ["省应急管理厅", "市应急管理局", "市自然资源和规划局镇海分局"]
    branch = canonicalize("市自然资源和规划局镇海分局", town)
    assert (branch.name, branch.jurisdiction) == ("宁波市自然资源和规划局镇海分局", "镇海区")
