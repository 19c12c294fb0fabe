import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.findings import Collector
from pipeline.records import NormalizedDocument, Step
from pipeline.steps import Context, parse_step_marker, parse_steps, read_blocks
from tests.conftest import DATA, duty

GOLDEN = DATA / "golden" / "sample-steps.json"
# Cells checked by hand against raw/changji-manas-liangzhouhu.txt, one or more per structure:
# <ol> never closed (1, 2, 3, 16, 22), <p>1.</p> (13, 14), plain text (2's town cell, 35),
# two lists under 一、/二、 headings (30, 64), headings over paragraphs (35), department
# sub-headings (53, 81, 82, 88, 95, 96, 98), inline department (93, 95), and the withdrawn
# list's 部门： text with either colon (1, 8, 10, 11, 16, 27, 31, 33).
CELLS = [("cooperative", n) for n in (1, 2, 3, 13, 14, 16, 20, 22, 30, 35, 53, 64, 81, 82, 88,
                                      93, 95, 96, 98)]
CELLS += [("withdrawn", n) for n in (1, 8, 10, 11, 16, 27, 31, 33)]


def steps_of(doc: NormalizedDocument) -> dict[str, list[dict[str, object]]]:
    return {
        f"{kind} {seq}": [s.model_dump(exclude={"raw"}) for s in duty(doc, kind, seq).steps]
        for kind, seq in CELLS
    }


def test_golden_steps_of_the_sample(sample: NormalizedDocument, update_golden: bool) -> None:
    actual = steps_of(sample)
    if update_golden:
        GOLDEN.write_text(json.dumps(actual, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert actual == json.loads(GOLDEN.read_text(encoding="utf-8"))


def parse(raw: str, party: str = "town") -> tuple[list[Step], Collector]:
    found = Collector("t.txt")
    return parse_steps(raw, party, Context(found, 1, "town_duties")), found  # type: ignore[arg-type]


def texts(raw: str) -> list[tuple[int | None, str]]:
    return [(s.number, s.text) for s in parse(raw)[0]]


@pytest.mark.parametrize("raw", [
    "1.甲；2.乙；3.丙",
    "1、甲； 2、乙； 3、丙",
    "1．甲；\n2．乙；\n3．丙",
    "１．甲； ２．乙； ３．丙",
    "（1）甲；（2）乙；（3）丙",
    "(1)甲; (2)乙; (3)丙",
    "①甲；②乙；③丙",
    "⑴甲；⑵乙；⑶丙",
    "<p>1.甲；</p><p>2.乙；</p><p>3.丙</p>",
    '<ol style="list-style-type: none"> 1.甲； 2.乙； 3.丙',
    "<ol><li>甲；</li><li>乙；</li><li>丙</li></ol>",
    "1.甲<br>2.乙<br/>3.丙",
])
def test_every_numbering_style(raw: str) -> None:
    assert texts(raw) == [(1, "甲"), (2, "乙"), (3, "丙")]


@pytest.mark.parametrize("raw", [
    "在收到材料前20日内完成审核",
    "5个工作日内办结",
    "每年12月底前完成统计年报",
    "依据国务院令第711号执行",
    "补贴标准为1.5倍",
    "收到申请后核实；无误后办理；报县局备案。",
])
def test_numbers_in_prose_are_not_markers(raw: str) -> None:
    steps = texts(raw)
    assert len(steps) == 1
    assert steps[0][0] is None


def test_semicolons_do_not_split_plain_text() -> None:
    assert texts("负责检查；开展审查；完成归档。") == [(None, "负责检查；开展审查；完成归档。")]


@pytest.mark.parametrize(("raw", "section"), [
    ("一、分户工作\n1.甲\n2.乙", "分户工作"),
    ("（一）分户工作\n1.甲\n2.乙", "分户工作"),
    ("<p>一、分户工作</p><ol> 1.甲； 2.乙", "分户工作"),
])
def test_section_headings(raw: str, section: str) -> None:
    steps, _ = parse(raw)
    assert [(s.section, s.number, s.text) for s in steps] == [(section, 1, "甲"), (section, 2, "乙")]


def test_department_sub_headings_and_inline_form() -> None:
    steps, _ = parse("<p>县自然资源局</p><p>1.制定方案；</p><p>县应急管理局 指导制定预案。</p>")
    assert [(s.position, s.number, s.section, s.department, s.text) for s in steps] == [
        (1, 1, "县自然资源局", "县自然资源局", "制定方案"),
        (2, None, "县应急管理局", "县应急管理局", "指导制定预案。"),
    ]


def test_skipped_and_repeated_numbers_are_kept_with_a_warning() -> None:
    steps, found = parse("1.甲；3.乙；3.丙")
    assert [s.number for s in steps] == [1, 3, 3]
    assert [f.message.split(": ", 1)[1] for f in found.findings] == [
        "numbering skips to 3 where 2 was expected; steps kept as written",
        "numbering repeats 3 where 4 was expected; steps kept as written",
    ]


def test_text_is_normalized_and_the_original_kept() -> None:
    steps, found = parse("1.司法所规范化建设与管理 工作,完成(一)项; 2.做好 and 协助１２项；")
    assert [s.text for s in steps] == ["司法所规范化建设与管理工作，完成（一）项", "做好 and 协助12项"]
    assert steps[0].raw == "1.司法所规范化建设与管理 工作,完成(一)项;"
    assert {f.code for f in found.findings} == {"text-fixed", "latin-word"}


def test_html_is_dropped_and_entities_decoded() -> None:
    assert texts("<p><strong>1.</strong>甲&amp;乙</p>") == [(1, "甲&乙")]


def test_a_stray_end_of_document_tag_loses_nothing() -> None:
    cell = "<p>1.甲</p></body>2.乙</html><p>3.丙</p>"
    assert texts(cell) == [(1, "甲"), (2, "乙"), (3, "丙")]


def test_angle_brackets_used_as_chinese_brackets_are_text() -> None:
    assert read_blocks("乡<镇>村公共设施")[0].text == "乡<镇>村公共设施"


@pytest.mark.parametrize(("mark", "number"), [("1.", 1), ("12、", 12), ("（12）", 12), ("(3)", 3),
                                              ("１２．", 12), ("③", 3), ("⑿", 12), ("前", None)])
def test_parse_step_marker(mark: str, number: int | None) -> None:
    assert parse_step_marker(mark) == number


STYLES = [
    lambda n: f"{n}.", lambda n: f"{n}、", lambda n: f"{n}．",
    lambda n: "".join(chr(ord("０") + int(d)) for d in str(n)) + "．",
    lambda n: f"（{n}）", lambda n: f"({n})",
    lambda n: chr(ord("①") + n - 1), lambda n: chr(ord("⑴") + n - 1),
]
STEP_TEXT = st.text(alphabet="甲乙丙丁农业检查审核宣传，、“”", min_size=1, max_size=12)


@given(st.lists(STEP_TEXT, min_size=1, max_size=12), st.sampled_from(STYLES),
       st.sampled_from(["；", "; ", "\n", "；\n"]))
def test_renumbering_in_any_style_gives_the_same_steps(items: list[str], style, separator) -> None:  # type: ignore[no-untyped-def]
    reference = "；".join(f"{i}.{text}" for i, text in enumerate(items, start=1))
    renumbered = separator.join(f"{style(i)}{text}" for i, text in enumerate(items, start=1))
    assert texts(renumbered) == texts(reference)
    assert [n for n, _ in texts(renumbered)] == list(range(1, len(items) + 1))


def test_a_mark_without_text_is_reported() -> None:
    steps, found = parse("1.甲； 2.； 3.丙")
    assert [(s.number, s.text) for s in steps] == [(1, "甲"), (3, "丙")]
    assert [f.code for f in found.findings] == ["step-empty"]


def test_a_heading_with_no_step_under_it_is_said() -> None:
    steps, found = parse("<p>一、宣传工作</p><p>二、监管工作</p><p>1.组织检查</p>")
    assert [(s.section, s.text) for s in steps] == [("监管工作", "组织检查")]
    assert [(f.code, f.raw) for f in found.findings] == [("heading-empty", "一、宣传工作")]


def test_a_cell_read_again_gives_its_findings_at_its_own_line_and_sheet() -> None:
    """A cell seen before (in this town or another of the county) is not parsed again: its
    steps are shared, and its findings are said again where this copy of it stands."""
    raw = "1.核实 情况；3.上报,材料"  # a space and a comma fixed, a number skipped
    first, second = Collector("a.txt"), Collector("b.txt")
    steps_a = parse_steps(raw, "town", Context(first, 7, "town_duties"))
    steps_b = parse_steps(raw, "town", Context(second, 40, "town_duties", sheet="Sheet2"))
    assert steps_a == steps_b and [s.text for s in steps_a] == ["核实情况", "上报，材料"]
    assert [(f.path, f.line, f.sheet) for f in second.findings] == [("b.txt", 40, "Sheet2")] * 3
    assert [(f.code, f.message, f.raw) for f in first.findings] == \
        [(f.code, f.message, f.raw) for f in second.findings]
    # said once per line and field, as when the cell was first read
    parse_steps(raw, "town", Context(second, 40, "town_duties", sheet="Sheet2"))
    assert len(second.findings) == 3
