import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.text import apply_fixes, normalize_text


@pytest.mark.parametrize(("raw", "text", "fixes"), [
    ("加强农田建设", "加强农田建设", []),
    ("管理 工作,完成(一)", "管理工作，完成（一）",
     ["space between Chinese characters removed", ", ; : made full-width", "( ) made full-width"]),
    ("前２０日", "前20日", ["full-width digits and letters folded"]),
    ("  监督\u3000检查 ", "监督检查",
     ["whitespace collapsed", "space between Chinese characters removed"]),
    ("上报\x07材料", "上报材料", ["control characters removed"]),
])
def test_fixes_are_applied_and_named(raw: str, text: str, fixes: list[str]) -> None:
    cleaned = normalize_text(raw)
    assert (cleaned.text, list(cleaned.fixes)) == (text, fixes)


def test_latin_word_inside_chinese_is_flagged_not_fixed() -> None:
    cleaned = normalize_text("安全生产 and 消防")
    assert cleaned.latin == ("and",)
    assert "and" in cleaned.text


# Every kind of character a fix looks at, among Chinese text that needs none.
TRICKY = "农业检查，。（）“”,;:() \t\n\u3000\xa0\x01\x7f０９ＡＺａｚAZaz19①"


@settings(max_examples=3000)  # cheap, and the rare mix is the point
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=30) | st.text(max_size=30))
def test_clean_text_shortcut_agrees_with_the_fixes(raw: str) -> None:
    assert normalize_text(raw) == apply_fixes(raw)
