"""The fast path for the two common cell shapes gives exactly the blocks lxml gives."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.markup import CONTROL, lxml_blocks, simple_blocks

# Text as cells hold it, with what could trip a hand-written reader: Unicode spaces, quotes,
# ">" alone, newlines and tabs, full-width marks.
TEXT = st.text(alphabet=st.sampled_from([*"甲乙丙镇县局 \u3000\xa0\t\n>\"'、.1２（）；;-", "\u200b",
                                         "\ufeff"]), max_size=30)
ATTRIBUTES = st.sampled_from(["", ' style="list-style-type: none"', " start='3'",
                              ' class="x"  type=a', ' STYLE = "a:b" '])
SPACE = st.sampled_from(["", " ", "\n", "\u3000", "\t "])


@given(SPACE, ATTRIBUTES, TEXT)
def test_an_open_list_reads_as_lxml_reads_it(lead: str, attributes: str, body: str) -> None:
    cell = CONTROL.sub("", f"{lead}<ol{attributes}>{body}")
    fast = simple_blocks(cell)
    assert fast is not None
    assert fast == lxml_blocks(cell)


@given(st.lists(st.tuples(SPACE, TEXT), min_size=1, max_size=5), SPACE)
def test_bare_paragraphs_read_as_lxml_reads_them(parts: list[tuple[str, str]], tail: str) -> None:
    cell = CONTROL.sub("", "".join(f"{space}<p>{body}</p>" for space, body in parts) + tail)
    fast = simple_blocks(cell)
    assert fast is not None
    assert fast == lxml_blocks(cell)


@pytest.mark.parametrize("cell", ["<p>甲</p>乙<p>丙</p>", "<ol><li>甲<li>乙", "<p>a&amp;b</p>",
                                  "<ol> a<br>b", "<P>甲</P>", "前<ol> 1.甲", "<p>甲\r乙</p>"])
def test_other_shapes_go_to_lxml(cell: str) -> None:
    assert simple_blocks(cell) is None
