"""Other containers and encodings of the sample must give the sample's duties, steps and departments."""

import codecs
from pathlib import Path

import pytest

from pipeline.documents import normalize_document
from pipeline.errors import SourceError
from pipeline.records import NormalizedDocument
from pipeline.sources import parse_source, read_source
from tests.conftest import SAMPLE
from tests.fixtures import write_docx, write_html, write_xlsx


def essence(doc: NormalizedDocument) -> dict[str, object]:
    """What must not depend on the container: everything but provenance and positions."""
    return {
        "town": doc.town,
        "duties": [
            (d.list, d.seq, d.category, d.title,
             [s.model_dump(exclude={"raw"}) for s in d.steps],
             sorted((link.department, link.role, link.note) for link in d.departments))
            for d in doc.duties
        ],
        "departments": [(d.name, d.short_name, d.jurisdiction) for d in doc.departments],
    }


@pytest.fixture(scope="module")
def expected(sample: NormalizedDocument) -> dict[str, object]:
    return essence(sample)


def normalized(path: Path) -> NormalizedDocument:
    return normalize_document(read_source(path))


@pytest.mark.parametrize(("writer", "kind"), [
    (write_xlsx, "xlsx"),
    (lambda p: write_xlsx(p, one_sheet=True), "xlsx"),
    (write_docx, "docx"),
    (write_html, "html"),
], ids=["xlsx-sheets", "xlsx-one-sheet", "docx", "html"])
def test_container_gives_the_sample(writer, kind: str, expected: dict[str, object],  # type: ignore[no-untyped-def]
                                    tmp_path: Path) -> None:
    path = writer(tmp_path / "liangzhouhu.bin")  # the extension says nothing: content decides
    doc = normalized(path)
    assert doc.format == kind
    assert [f for f in doc.findings if f.severity == "error"] == []
    assert doc.rows_read == 250
    assert essence(doc) == expected


def test_xlsx_rows_name_their_sheet(tmp_path: Path) -> None:
    doc = normalized(write_xlsx(tmp_path / "x.xlsx"))
    first = doc.duties[0]
    assert (first.source_sheet, first.source_line) == ("基本履职事项清单", 3)


@pytest.mark.parametrize(("encode", "encoding"), [
    (lambda t: t.encode("gb18030"), "gb18030"),
    (lambda t: t.replace("\n", "\r\n").encode("gb18030"), "gb18030"),
    (lambda t: codecs.BOM_UTF8 + t.replace("\n", "\r").encode("utf-8"), "utf-8-sig"),
    (lambda t: t.replace("\n", "\r\n").encode("utf-16"), "utf-16"),
], ids=["gb18030", "gb18030-crlf", "utf8-bom-cr", "utf16-crlf"])
def test_encodings_give_the_sample(encode, encoding: str, expected: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    data = encode(SAMPLE.read_text(encoding="utf-8"))
    doc = normalize_document(parse_source("liangzhouhu.txt", data))
    assert doc.encoding == encoding
    assert essence(doc) == expected


def test_page_chrome_is_ignored(tmp_path: Path) -> None:
    doc = normalized(write_html(tmp_path / "page.html"))
    assert not [f for f in doc.findings if f.code.startswith(("row-", "title-"))]
    assert doc.town.name == "凉州户镇"


def test_html_page_without_lists(tmp_path: Path) -> None:
    page = tmp_path / "x.html"
    page.write_text("<!DOCTYPE html><html><body><table><tr><td>首页</td></tr></table>", "utf-8")
    with pytest.raises(SourceError, match="no list title found"):
        normalized(page)


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    from pipeline.budgets import Budget

    path = write_xlsx(tmp_path / "x.xlsx")
    with pytest.raises(SourceError, match=r"zip bomb\?\), over the 10,000-byte unpacked"):
        parse_source(str(path), path.read_bytes(), Budget(max_bytes=2_500))


def test_zip_that_is_not_office(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "lists.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "序号")
    with pytest.raises(SourceError, match=r"neither \.xlsx nor \.docx"):
        read_source(path)


def test_xml_entities_are_not_expanded(tmp_path: Path) -> None:
    import re
    import zipfile

    path = write_xlsx(tmp_path / "x.xlsx")
    hostile = tmp_path / "hostile.xlsx"
    entities = ('<!DOCTYPE worksheet [<!ENTITY lol "lol">'
                '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename).decode()
            if item.filename == "xl/worksheets/sheet1.xml":
                data = entities + data
                data = re.sub(r"<t>[^<]*</t>", "<t>&lol2;</t>", data, count=1)
                assert "&lol2;" in data and "<!ENTITY" in data
            target.writestr(item, data)
    with pytest.raises(SourceError, match=r"cannot open the workbook.*EntitiesForbidden"):
        normalized(hostile)


def test_street_office_with_other_headers_and_numbering() -> None:
    """tests/data/beishan-street.txt: hand-written, UTF-8 with BOM and CRLF, 区级 headers, no
    事项类别 in the basic list, 承接部门 and 工作方式 as two columns, （1） ① ⑴ numbering."""
    from tests.conftest import DATA

    doc = normalized(DATA / "beishan-street.txt")
    assert (doc.encoding, doc.town.name, doc.town.kind, doc.town.county, doc.town.prefecture) == (
        "utf-8-sig", "北山街道", "街道", "西湖区", "杭州市")
    assert [(d.list, d.seq, d.category) for d in doc.duties] == [
        ("basic", 1, None), ("basic", 2, None),
        ("cooperative", 1, "民生服务"), ("cooperative", 2, "民生服务"),  # blank: same as above
        ("withdrawn", 1, None)]
    assert [f.code for f in doc.findings if f.severity == "error"] == []
    assert "备注" in next(f.message for f in doc.findings if f.code == "extra-columns")
    first, second = doc.duties[2], doc.duties[3]
    assert [(s.party, s.number, s.text) for s in first.steps] == [
        ("upper", 1, "制定发放标准"), ("upper", 2, "审核发放名单。"),
        ("town", 1, "摸排辖区老年人信息"), ("town", 2, "公示并上报区民政局"), ("town", 3, "做好政策宣传。")]
    assert [(s.party, s.number) for s in second.steps] == [
        ("upper", 1), ("upper", 2), ("town", 1), ("town", 2)]
    assert sorted((link.department, link.role) for link in first.departments) == [
        ("西湖区民政局", "counterpart"), ("西湖区民政局", "mentioned")]
    assert sorted(link.department for link in second.departments) == [
        "西湖区城市管理局", "西湖区生态环境分局"]
    withdrawn = doc.duties[4]
    assert [(link.department, link.role) for link in withdrawn.departments] == [
        ("西湖区城市管理局", "receiver")]
    assert [(s.party, s.number, s.text) for s in withdrawn.steps] == [
        ("receiver", 1, "巡查发现"), ("receiver", 2, "立案查处"), ("receiver", 3, "结案归档。")]
    assert {d.name: d.short_name for d in doc.departments} == {
        "西湖区民政局": "区民政局", "西湖区城市管理局": "区城市管理局",
        "西湖区生态环境分局": "区生态环境分局"}
