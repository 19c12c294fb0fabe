"""The catalogue seen across towns (issue #19.5): the report's matrix and each town's lacks
and local duties, and `pipeline catalogue export`, on the three towns of the issue — where
what each town lacks is known from how the towns were made, not from the code."""

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from pipeline.db import open_engine
from pipeline.reports import render_report
from tests.test_catalogue import (
    COOPERATIVE_REMOVED,
    LOCAL,
    REMOVED,
    SAMPLE,
    load,
    normalized,
    second,
    third,
    town_text,
)
from tests.test_cli import run

COUNTY = "昌吉州玛纳斯县"
# What each town lacks that the other two hold (the report's and the export's gaps).
GAPS = {"凉州户镇": 0, "乐土驿镇": len(REMOVED), "包家店镇": len(COOPERATIVE_REMOVED)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("coverage")
    towns = [normalized(folder, "凉州户镇", SAMPLE.read_text(encoding="utf-8")),
             normalized(folder, "乐土驿镇", town_text("乐土驿镇", second, LOCAL)),
             normalized(folder, "包家店镇", town_text("包家店镇", third))]
    url = f"sqlite:///{folder / 'duties.db'}"
    load(url, towns)
    return url


def test_the_report_shows_each_county_matrix_with_its_gaps_and_each_towns_lacks(built: str) -> None:
    engine = open_engine(built)
    page = render_report(engine)
    engine.dispose()
    section = page[page.index('id="across-towns"'):page.index("当前质量问题")]
    assert f"<h3>新疆维吾尔自治区{COUNTY} · 3 places, 251 items</h3>" in section
    assert section.count('<th class="town">') == 3
    # The matrix marks a gap where a town lacks what the two others hold: 6 + 5 of them.
    assert section.count('<td class="gap"') == sum(GAPS.values())
    lacks = dict(re.findall(r"<tr><td>(\S+镇)</td><td>(\d+) ", section))
    assert {town: int(n) for town, n in lacks.items()} == GAPS
    local = re.search(r"<tr><td>乐土驿镇</td><td>.*?</td><td>(\d+) (.*?)</td></tr>", section)
    assert local is not None and local.groups() == ("1", LOCAL[1])


def sheet_cells(path: Path) -> dict[str, list[list[Any]]]:
    workbook = load_workbook(path)
    found = {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()]
             for sheet in workbook.worksheets}
    reds = {sheet.title: sum(c.fill.fgColor.rgb == "00FDE2E1" for row in sheet.iter_rows()
                             for c in row) for sheet in workbook.worksheets}
    workbook.close()
    return found | {f"{title} reds": [[n]] for title, n in reds.items()}


def test_catalogue_export_writes_the_matrix_a_sheet_per_county(built: str, pg_url: str,
                                                                 tmp_path: Path) -> None:
    done = run("catalogue", "export", "--out", str(tmp_path / "coverage.xlsx"), "--db", built)
    assert done.returncode == 0, done.stderr
    cells = sheet_cells(tmp_path / "coverage.xlsx")
    assert [title for title in cells if not title.endswith(" reds")] == [f"新疆维吾尔自治区{COUNTY}"]
    header, *items = cells[f"新疆维吾尔自治区{COUNTY}"]
    towns = header[4:]
    assert sorted(towns) == sorted(GAPS) and len(items) == 251
    for column, town in enumerate(towns, start=4):
        missing = [row for row in items if row[column] == 0]
        # Each lacks its gaps; the two without the local duty also lack that one item.
        assert len(missing) == GAPS[town] + (town != "乐土驿镇"), town
    assert all(row[3] == sum(row[4:]) for row in items)  # 乡镇数 counts the 1s
    assert cells[f"新疆维吾尔自治区{COUNTY} reds"] == [[sum(GAPS.values())]]
    # The same towns in PostgreSQL give the same workbook.
    folder = Path(built.removeprefix("sqlite:///")).parent
    load(pg_url, [normalized(tmp_path, path.stem, path.read_text(encoding="utf-8"))
                  for path in sorted(folder.glob("*.txt"))])
    done = run("catalogue", "export", "--out", str(tmp_path / "pg.xlsx"), "--db", pg_url)
    assert done.returncode == 0, done.stderr
    assert sheet_cells(tmp_path / "pg.xlsx") == cells


def test_catalogue_export_of_an_empty_database_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    load(url, [])
    done = run("catalogue", "export", "--out", str(tmp_path / "coverage.xlsx"), "--db", url)
    assert done.returncode == 0, done.stderr
    assert sheet_cells(tmp_path / "coverage.xlsx")["coverage"] == [
        ["No duty is in the catalogue yet."]]
