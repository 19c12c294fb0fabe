from datetime import date

import pytest

from pipeline.dates import date_line, find_published, parse_date


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
