"""The conservation checks' own rules (pipeline/conservation.py)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.conservation import is_duty_row, is_numbered


def duty_row_by_the_rule(cells: list[str]) -> bool:
    """is_duty_row as its docstring states it, every cell read."""
    filled = [re.sub(r"\s+", "", cell).strip('"') for cell in cells]
    while filled and not filled[-1]:
        filled.pop()
    first = next((cell for cell in filled if cell), "")
    if not is_numbered(first):
        return False
    return len(filled) < 3 or filled != [str(n) for n in range(1, len(filled) + 1)]


@pytest.mark.parametrize(("cells", "expected"), [
    (["3", "党建", "宣传"], True),
    (["1", "2", "3"], False),  # numbers the columns
    (["1", "2", "3", "", ""], False),
    (["", " 1 ", "2", "3"], True),  # a first filled cell other than the first cell
    (['"1"', "2"], True),
    (["一、党的建设"], False),
    ([" ", ""], False),
])
def test_duty_rows(cells: list[str], expected: bool) -> None:
    assert is_duty_row(cells) is expected


@given(st.lists(st.sampled_from(["", " ", "1", "2", "3", " 1", '"1"', "１", "4.", "甲", "\u3000"]),
                max_size=6))
def test_duty_row_shortcut_agrees_with_the_rule(cells: list[str]) -> None:
    assert is_duty_row(cells) == duty_row_by_the_rule(cells)
