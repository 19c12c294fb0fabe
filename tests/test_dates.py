from datetime import date
from pathlib import Path

import pytest

from pipeline.dates import date_line, find_published, parse_date
from pipeline.documents import normalize_document
from pipeline.sources import read_source
from tests.publish import export, write_docx


@pytest.mark.parametrize(("text", "expected"), [
    ("2024年5月10日", date(2024, 5, 10)),
    ("2024-05-10", date(2024, 5, 10)),
    ("２０２４年０５月１０日", date(2024, 5, 10)),
    ("二〇二四年五月十日", date(2024, 5, 10)),
    ("二〇二三年十二月三十一日", date(2023, 12, 31)),
    ("二○二五年一月二十日", date(2025, 1, 20)),
    ("2024年13月1日", None),  # no such month
    ("2024年第5号", None),
])
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("发布日期：2024-05-10", (date(2024, 5, 10), True)),
    ("（发布时间：2024年5月10日）", (date(2024, 5, 10), True)),
    ("二〇二四年五月十日", (date(2024, 5, 10), False)),
    ("2024年5月10日前完成全部整改工作", None),  # prose that holds a date is a row, not a date line
    ("按照2024年5月10日会议要求", None),
])
def test_date_line(text: str, expected: tuple[date, bool] | None) -> None:
    assert date_line(text) == expected


def test_a_labelled_date_wins_over_the_date_under_the_seal() -> None:
    lines = [(2, "发布时间：2024-03-01"), (300, "二〇二四年二月二十日")]
    assert find_published(lines) == (date(2024, 3, 1), "line 2: 发布时间：2024-03-01")
    assert find_published(lines[1:]) == (date(2024, 2, 20), "line 300: 二〇二四年二月二十日")
    assert find_published([]) is None


# A list as a county office lays it out, dated only by the line under the seal.
SECTIONS = [("漳州市龙海区角美镇基本履职事项清单", ["序号", "事项类别", "事项名称"],
             [["1", "党的建设", "加强镇党委自身建设"], ["2", "平安建设", "组织开展矛盾纠纷排查化解"]])]
SEAL = "二〇二四年五月十日"


def test_the_date_under_the_seal_is_read_from_html_prose(tmp_path: Path) -> None:
    title, header, rows = SECTIONS[0]
    cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    page = tmp_path / "jiaomei.html"
    page.write_text(f'<html><body><p style="text-align:center"><strong>{title}</strong></p>'
                    f'<table border="1"><tr>{"".join(f"<th>{w}</th>" for w in header)}</tr>'
                    f'{cells}</table><p>角美镇人民政府</p><p style="text-align:right">{SEAL}</p>'
                    "</body></html>", encoding="utf-8")
    document = normalize_document(read_source(page))
    assert (document.published, len(document.duties)) == (date(2024, 5, 10), 2)
    assert document.published_from is not None and SEAL in document.published_from


@pytest.mark.parametrize("exported", [None, "pdf"])
def test_the_date_under_the_seal_is_read_from_word_prose(tmp_path: Path,
                                                         exported: str | None) -> None:
    path = write_docx(tmp_path / "jiaomei.docx", SECTIONS, "角美镇履行职责事项清单",
                      SEAL)
    if exported:
        path = export(path, exported, tmp_path / "out")
    document = normalize_document(read_source(path))
    assert (document.published, len(document.duties)) == (date(2024, 5, 10), 2)
