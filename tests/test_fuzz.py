"""Hostile and broken input: records and findings, never an unexpected exception.

Run longer with `make fuzz` (HYPOTHESIS_PROFILE=fuzz).
"""

import io
import zipfile
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.budgets import Budget
from pipeline.documents import normalize_document
from pipeline.errors import SourceError
from pipeline.findings import Collector
from pipeline.records import NormalizedDocument
from pipeline.sources import parse_source
from pipeline.steps import Context, parse_steps
from tests.conftest import SAMPLE

SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8")
LINES = SAMPLE_TEXT.split("\n")
TITLE = "昌吉州玛纳斯县凉州户镇基本履职事项清单"
TAGS = ["<p>", "</p>", '<ol style="list-style-type: none">', "</ol>", "<li>", "<br>", "<table>",
        "<tr><td>", "</td></tr>", "<strong>", "<!--", "-->", "<script>", "&amp;", "&#0;", "<镇>"]


def survives(data: bytes) -> NormalizedDocument | None:
    """Normalize; a document that cannot be read at all must say so as a SourceError."""
    try:
        doc = normalize_document(parse_source("fuzz.txt", data))
    except SourceError as exc:
        assert exc.message
        return None
    assert doc.rows_read == len(doc.duties) + doc.quarantined  # nothing lost, nothing invented
    for finding in doc.findings:
        assert finding.message and finding.path == "fuzz.txt"
    return doc


@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    survives(data)


@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    survives(text.encode("utf-8"))


LIST_ALPHABET = list("序号事项名称清单基本配合履职镇县州\t\n1.、（）<p>")


@given(st.text(alphabet=st.sampled_from(LIST_ALPHABET), max_size=600))
def test_list_shaped_text(text: str) -> None:
    survives(("昌吉州玛纳斯县凉州户镇基本履职事项清单\n" + text).encode("utf-8"))


@given(st.integers(0, len(SAMPLE_TEXT)))
def test_truncated_sample(cut: int) -> None:
    survives(SAMPLE_TEXT[:cut].encode("utf-8"))


@given(st.lists(st.integers(0, len(LINES) - 1), max_size=20))
def test_sample_with_tabs_dropped(lines: list[int]) -> None:
    mutated = list(LINES)
    for index in lines:
        mutated[index] = mutated[index].replace("\t", "", 1)
    doc = survives("\n".join(mutated).encode("utf-8"))
    assert doc is not None


@given(st.permutations(LINES))
def test_shuffled_sample(lines: list[str]) -> None:
    survives("\n".join(lines).encode("utf-8"))


@given(st.lists(st.tuples(st.integers(0, len(SAMPLE_TEXT)), st.sampled_from(TAGS)), max_size=30))
def test_sample_with_random_tags(insertions: list[tuple[int, str]]) -> None:
    text = SAMPLE_TEXT
    for position, tag in sorted(insertions, reverse=True):
        text = text[:position] + tag + text[position:]
    survives(text.encode("utf-8"))


@given(st.text(max_size=500) | st.lists(st.sampled_from(TAGS) | st.text(max_size=20)).map("".join))
def test_step_parser_never_fails(cell: str) -> None:
    found = Collector("fuzz.txt")
    steps = parse_steps(cell, "town", Context(found, 1, "town_duties"))
    assert [s.position for s in steps] == list(range(1, len(steps) + 1))
    assert all(s.text for s in steps)


# Structure-aware generators: tables with random spans, merges and sizes, in each container.
# The reader must read within the budget or refuse with a SourceError, never anything else.
BUDGET = Budget(max_bytes=1_000_000, max_cells=20_000)
SPANS = st.one_of(st.integers(-5, 3), st.integers(0, 70_000),
                  st.sampled_from(["", "x", "1e3", "0x10", "9" * 5000, " 2 ", "２"]))
WORDS = st.sampled_from(["序号", "事项类别", "事项名称", "1", "2", "党的建设", "组织工作", "", "<p>1.甲</p>"])


def within_budget(name: str, data: bytes) -> None:
    """Read every row: fine, or a SourceError; the rows read never exceed the cell budget."""
    try:
        source = parse_source(name, data, BUDGET)
        rows = list(source.rows)
    except SourceError as exc:
        assert exc.message
        return
    assert sum(len(row.cells) for row in rows) <= BUDGET.max_cells + len(rows)  # + title rows
    survives_source(source.path, data)


def survives_source(name: str, data: bytes) -> None:
    try:
        doc = normalize_document(parse_source(name, data, BUDGET))
    except SourceError:
        return
    assert doc.rows_read == len(doc.duties) + doc.quarantined


@given(st.lists(st.lists(st.tuples(WORDS, SPANS, SPANS), max_size=8), max_size=30))
def test_html_tables_with_random_spans(rows: list[list[tuple[str, object, object]]]) -> None:
    body = "".join("<tr>" + "".join(f'<td colspan="{across}" rowspan="{down}">{word}</td>'
                                    for word, across, down in row) + "</tr>" for row in rows)
    page = (f"<html><body><p>{TITLE}</p><table><tr><td>序号</td><td>事项类别</td>"
            f"<td>事项名称</td></tr>{body}</table></body></html>")
    within_budget("fuzz.html", page.encode("utf-8"))


COORDINATES = st.tuples(st.integers(1, 16384), st.integers(1, 1_048_576))


@settings(max_examples=int(settings().max_examples / 5) + 1)  # each example writes a workbook
@given(st.lists(st.lists(WORDS, max_size=6), max_size=12),
       st.lists(st.tuples(COORDINATES | st.tuples(st.integers(1, 8), st.integers(1, 20)),
                          st.tuples(st.integers(0, 20), st.integers(0, 300))), max_size=4),
       st.lists(COORDINATES, max_size=2))
def test_xlsx_with_random_merges_and_sizes(rows: list[list[str]],
                                            merges: list[tuple[tuple[int, int], tuple[int, int]]],
                                            far: list[tuple[int, int]]) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append([TITLE])
    sheet.append(["序号", "事项类别", "事项名称"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)

    def cell(column: int, row: int) -> str:
        return f"{get_column_letter(min(column, 16384))}{min(row, 1_048_576)}"

    refs = [f"{cell(c, r)}:{cell(c + dc, r + dr)}" for (c, r), (dc, dr) in merges]
    extra = "".join(f'<row r="{r}"><c r="{cell(c, r)}" t="inlineStr"><is><t>x</t></is></c></row>'
                    for c, r in sorted(far, key=lambda x: x[1]) if r > len(rows) + 2)

    def patch(xml: str) -> str:
        merged = "".join(f'<mergeCell ref="{ref}"/>' for ref in refs)
        xml = xml.replace("</sheetData>", f"{extra}</sheetData>", 1)
        return xml.replace("</sheetData>", f"</sheetData><mergeCells>{merged}</mergeCells>", 1) \
            if refs else xml

    within_budget("fuzz.xlsx", patched(buffer.getvalue(), "xl/worksheets/sheet1.xml", patch))


@settings(max_examples=int(settings().max_examples / 5) + 1)  # each example writes a document
@given(st.integers(1, 6), st.integers(1, 6), st.lists(WORDS, max_size=36),
       st.lists(st.tuples(st.integers(0, 35), SPANS, st.sampled_from([None, "restart", "continue"])),
                max_size=10))
def test_docx_with_random_grid_spans(rows: int, columns: int, words: list[str],
                                     spans: list[tuple[int, object, str | None]]) -> None:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=rows + 1, cols=columns)
    for column, word in enumerate(["序号", "事项类别", "事项名称"][:columns]):
        table.cell(0, column).text = word
    cells = [table.cell(r, c) for r in range(1, rows + 1) for c in range(columns)]
    for cell, word in zip(cells, words, strict=False):
        cell.text = word
    for index, across, merge in spans:
        properties = cells[index % len(cells)]._tc.get_or_add_tcPr()
        span = OxmlElement("w:gridSpan")
        span.set(qn("w:val"), str(across))
        properties.append(span)
        if merge is not None:
            vertical = OxmlElement("w:vMerge")
            if merge == "restart":
                vertical.set(qn("w:val"), merge)
            properties.append(vertical)
    buffer = io.BytesIO()
    document.save(buffer)
    within_budget("fuzz.docx", buffer.getvalue())


def patched(data: bytes, member: str, patch: Callable[[str], str]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[member] = patch(parts[member].decode("utf-8")).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    return buffer.getvalue()
