import pytest

from pipeline.layout import parse_header, parse_list_kind


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


# Places: tests/test_divisions.py.


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


@pytest.mark.parametrize(("cells", "fields"), [
    (["序号", "事项名称", "对应区级部门", "区级部门职责", "街道配合职责"],
     ["seq", "title", "counterpart", "upper_duties", "town_duties"]),
    (["序号", "事项名称", "对应市级部门", "市级部门职责", "乡镇（街道）职责"],
     ["seq", "title", "counterpart", "upper_duties", "town_duties"]),
    (["序号", "事项名称", "对应旗级部门", "旗级部门职责", "苏木配合职责"],
     ["seq", "title", "counterpart", "upper_duties", "town_duties"]),
    (["序号", "事项名称", "对应地区级部门", "地区级部门职责", "乡配合职责"],
     ["seq", "title", "counterpart", "upper_duties", "town_duties"]),
    (["序号", "事项名称", "主责部门", "配合部门", "主责部门职责", "配合部门职责"],
     ["seq", "title", "counterpart", None, "upper_duties", "town_duties"]),
    (["序号", "事项名称", "县直部门", "县直部门职责", "镇职责"],
     ["seq", "title", "counterpart", "upper_duties", "town_duties"]),
])
def test_headers_at_every_level(cells: list[str], fields: list[str | None]) -> None:
    layout = parse_header(cells)
    assert layout.fields == fields
    assert layout.unknown == []
    assert layout.missing("cooperative") == []
