"""Hostile and broken input: records and findings, never an unexpected exception.

Run longer with `make fuzz` (HYPOTHESIS_PROFILE=fuzz).
"""

from hypothesis import given
from hypothesis import strategies as st

from pipeline.documents import normalize_document
from pipeline.errors import SourceError
from pipeline.findings import Collector
from pipeline.records import NormalizedDocument
from pipeline.sources import parse_source
from pipeline.steps import Context, parse_steps
from tests.conftest import SAMPLE

SAMPLE_TEXT = SAMPLE.read_text(encoding="utf-8")
LINES = SAMPLE_TEXT.split("\n")
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
