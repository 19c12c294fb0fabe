import pytest

from pipeline.layout import parse_header, parse_list_kind, parse_place
from pipeline.records import Town


@pytest.mark.parametrize(("title", "kind", "place"), [
    ("昌吉州玛纳斯县凉州户镇基本履职事项清单", "basic", "昌吉州玛纳斯县凉州户镇"),
    ("昌吉州玛纳斯县凉州户镇配合履职事项清单", "cooperative", "昌吉州玛纳斯县凉州户镇"),
    ("昌吉州玛纳斯县凉州户镇上级部门收回事项清单", "withdrawn", "昌吉州玛纳斯县凉州户镇"),
    ("东城街道上收事项清单", "withdrawn", "东城街道"),
    ("某乡配合事项清单", "cooperative", "某乡"),
])
def test_list_kind_from_title(title: str, kind: str, place: str) -> None:
    assert parse_list_kind(title) == (kind, place)


def test_unknown_title_names_no_list() -> None:
    assert parse_list_kind("昌吉州玛纳斯县凉州户镇配合履职事项清") is None


@pytest.mark.parametrize(("text", "town"), [
    ("昌吉州玛纳斯县凉州户镇",
     Town(name="凉州户镇", kind="镇", county="玛纳斯县", prefecture="昌吉州")),
    ("玛纳斯县凉州户镇", Town(name="凉州户镇", kind="镇", county="玛纳斯县")),
    ("新疆维吾尔自治区昌吉回族自治州玛纳斯县凉州户镇",
     Town(name="凉州户镇", kind="镇", county="玛纳斯县", prefecture="昌吉回族自治州",
          province="新疆维吾尔自治区")),
    ("浙江省杭州市西湖区北山街道",
     Town(name="北山街道", kind="街道", county="西湖区", prefecture="杭州市", province="浙江省")),
    ("锡林郭勒盟正蓝旗桑根达来苏木",
     Town(name="桑根达来苏木", kind="苏木", county="正蓝旗", prefecture="锡林郭勒盟")),
    ("某县某某民族乡", Town(name="某某民族乡", kind="民族乡", county="某县")),
    ("凉州户镇", Town(name="凉州户镇", kind="镇")),
])
def test_place_levels(text: str, town: Town) -> None:
    assert parse_place(text) == town


def test_no_place_kind_is_none() -> None:
    assert parse_place("某某单位") is None


def test_header_synonyms_and_globs() -> None:
    layout = parse_header(["序号", "事项名称", "对应县级部门", "县级部门职责", "街道配合职责", "备注"])
    assert layout.fields == ["seq", "title", "counterpart", "upper_duties", "town_duties", None]
    assert layout.extras == ["备注"]
    assert layout.missing("cooperative") == []
    assert layout.guess_kind() == "cooperative"


def test_unknown_and_missing_headers() -> None:
    layout = parse_header(["序号", "事项名称", "奇怪的列"])
    assert layout.unknown == ["奇怪的列"]
    assert layout.missing("withdrawn") == ["receiver|receiver_department"]


def test_two_column_receiver_satisfies_withdrawn() -> None:
    layout = parse_header(["序号", "事项名称", "承接部门", "工作方式"])
    assert layout.missing("withdrawn") == []
    assert layout.guess_kind() == "withdrawn"
