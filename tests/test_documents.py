from collections import Counter

import pytest

from pipeline.documents import normalize_document, parse_seq
from pipeline.errors import SourceError
from pipeline.records import NormalizedDocument, Town
from pipeline.sources import parse_source
from tests.conftest import duty


def normalize(text: str) -> NormalizedDocument:
    return normalize_document(parse_source("raw/t.txt", text.encode()))


def test_sample_counts_and_place(sample: NormalizedDocument) -> None:
    assert Counter(d.list for d in sample.duties) == {"basic": 106, "cooperative": 107,
                                                      "withdrawn": 37}
    assert sample.town == Town(name="凉州户镇", kind="镇", county="玛纳斯县", prefecture="昌吉州",
                               province="新疆维吾尔自治区", code="652324103")
    assert sample.rows_read == 250
    assert sample.quarantined == 0
    assert sample.encoding == "utf-8"
    assert [f for f in sample.findings if f.severity == "error"] == []
    latin = [(f.line, f.field) for f in sample.findings if f.code == "latin-word"]
    assert (327, "title") in latin and (357, "title") in latin  # 单位 and 个人 in the source


def test_sample_rows_checked_by_hand(sample: NormalizedDocument) -> None:
    first = duty(sample, "basic", 1)
    assert (first.category, first.source_line) == ("党的建设", 6)
    assert first.title.startswith("深入学习贯彻习近平新时代中国特色社会主义思想")
    last = duty(sample, "basic", 106)
    assert (last.category, last.source_line) == ("综合政务", 129)
    assert last.title.startswith("负责本镇便民服务中心建设，推进政务服务标准化")  # "," in the source
    cooperative = duty(sample, "cooperative", 1)
    assert (cooperative.title, cooperative.source_line) == ("推荐县级以上党代表工作", 134)
    assert cooperative.raw[3] == "玛纳斯县委组织部"
    assert len(cooperative.raw) == 6
    withdrawn = duty(sample, "withdrawn", 37)
    assert (withdrawn.category, withdrawn.title, withdrawn.source_line) == (
        "市场监管", "对从事无照经营的处罚", 359)
    assert withdrawn.raw[3].startswith("玛纳斯县市场监督管理局： 负责执法检查")


def test_raw_cells_are_lossless(sample: NormalizedDocument, sample_text: str) -> None:
    lines = sample_text.split("\n")
    for d in sample.duties:
        assert "\t".join(d.raw) == lines[d.source_line - 1]


@pytest.mark.parametrize(("text", "seq"), [("12", 12), ("１２", 12), ("12.", 12), ("十二", None),
                                           ("", None), ("1a", None)])
def test_parse_seq(text: str, seq: int | None) -> None:
    assert parse_seq(text) == seq


HEADER = "玛纳斯县乐土驿镇基本履职事项清单\n序号\t事项类别\t事项名称\n"


def test_bad_rows_are_quarantined_with_line_and_raw() -> None:
    doc = normalize(HEADER + "1\t党建\t一\n2\t党建二\nx\t党建\t三\n4\t党建\t\n"
                             "5\t党建\t五\t多余\n6\t党建\t六\n")
    assert [d.seq for d in doc.duties] == [1, 6]
    quarantined = {f.line: f for f in doc.findings if f.code.startswith("row-")}
    assert sorted(quarantined) == [4, 5, 6, 7]
    assert "expected 3 tab-separated cells, found 2" in quarantined[4].message
    assert quarantined[4].raw == "2\t党建二"
    assert "序号 'x' is not a whole number" in quarantined[5].message
    assert "empty 事项名称" in quarantined[6].message
    assert "a tab inside a cell?" in quarantined[7].message
    assert doc.rows_read == len(doc.duties) + doc.quarantined == 6


def test_blank_category_means_same_as_above_and_duplicates_are_kept() -> None:
    doc = normalize(HEADER + "1\t党建\t一\n2\t\t二\n2\t民生\t三\n")
    assert [(d.seq, d.category) for d in doc.duties] == [(1, "党建"), (2, "党建"), (2, "民生")]
    assert [f.code for f in doc.findings] == ["seq-repeat"]


def test_a_list_without_category_column() -> None:
    doc = normalize("玛纳斯县乐土驿镇基本履职事项清单\n序号\t事项名称\t备注\n1\t一\t见文件\n")
    assert doc.duties[0].category is None
    assert doc.duties[0].raw == ["1", "一", "见文件"]
    assert [f.code for f in doc.findings] == ["extra-columns"]


def test_unknown_header_quarantines_its_rows_and_names_the_vocabulary() -> None:
    doc = normalize("玛纳斯县乐土驿镇基本履职事项清单\n序号\t事项名称\t奇怪\n1\t一\t二\n")
    assert doc.duties == []
    header = next(f for f in doc.findings if f.code == "header")
    assert header.line == 2 and "奇怪" in header.message
    assert "pipeline/vocab/headers.toml" in header.message
    assert doc.quarantined == 1


def test_cut_short_title_guesses_list_from_columns() -> None:
    doc = normalize("玛纳斯县乐土驿镇基本履职事项清单\n序号\t事项名称\n1\t一\n"
                    "玛纳斯县乐土驿镇上级部门收回事项清\n"
                    "序号\t事项名称\t承接部门及工作方式\n1\t二\t县局： 办理\n")
    assert [(d.list, d.seq) for d in doc.duties] == [("basic", 1), ("withdrawn", 1)]
    warning = next(f for f in doc.findings if f.code == "title-kind")
    assert warning.line == 4 and "cut short?" in warning.message


def test_rows_before_a_title_are_quarantined() -> None:
    doc = normalize("1\t党建\t一\n" + HEADER + "1\t党建\t一\n")
    assert [f.code for f in doc.findings] == ["row-outside-list"]
    assert doc.rows_read == 2


def test_document_without_lists_is_a_source_error() -> None:
    with pytest.raises(SourceError, match="no list title found"):
        normalize("hello\tworld\n")
