"""Text normalization: the fixes applied to every title and step, each one named.

Callers keep the original (Duty.raw, Step.raw) and record the named fixes as a warning.
"""

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from pipeline import vocabulary

# Han characters plus CJK and full-width punctuation: what counts as "Chinese" around a fix.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK = f"{HAN}\u3000-\u303f\uff01-\uff0f\uff1a-\uff20\u2018-\u201d"

FULL_WIDTH = {",": "，", ";": "；", ":": "：", "(": "（", ")": "）"}
FOLD = str.maketrans(
    {chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
)

SPACE_BETWEEN_HAN = re.compile(f"(?<=[{CJK}])\\s+(?=[{CJK}])")
PUNCT_BETWEEN_HAN = re.compile(f"(?<=[{CJK}）)])\\s*([,;:])\\s*(?=[{CJK}（(])")
PARENTHESES = re.compile(f"\\(([^()]*[{HAN}][^()]*)\\)")
LATIN_WORD = re.compile(f"(?<=[{HAN}])\\s*([A-Za-z]+)\\s*(?=[{HAN}])")
WHITESPACE = re.compile(r"\s+")
# C0 controls other than tab and line ends: junk from copy-paste, and poison to XML parsers.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A character at least one fix below looks at; text without any is already clean (most is).
ATTENTION = re.compile(r"[\s,;:(\x00-\x1f\x7fA-Za-z\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


@dataclass(frozen=True)
class Cleaned:
    text: str
    fixes: tuple[str, ...]
    latin: tuple[str, ...]  # Latin words inside Chinese text: flagged, never fixed


# Titles and steps recur from town to town of a county: the same text is cleaned once.
@lru_cache(maxsize=8192)  # about 0.3 KB an entry
def normalize_text(raw: str) -> Cleaned:
    """Clean one piece of text and say what changed.

    normalize_text("管理 工作,完成(一)").text -> "管理工作，完成（一）"
    """
    # isprintable() is False for whitespace but " ", controls and format characters (Cf)
    if not ATTENTION.search(raw) and raw.isprintable():
        return Cleaned(raw, (), ())
    return apply_fixes(raw)


def apply_fixes(raw: str) -> Cleaned:
    """normalize_text without the shortcut for clean text; the two always agree."""
    fixes = []
    text = CONTROL.sub("", raw)
    if text != raw:
        fixes.append("control characters removed")
    if not printable(text):  # rare: a Cf (or Co, Cn) character
        text, removed = strip_format(text)
        if removed:
            fixes.append(f"invisible format characters removed ({', '.join(removed)})")
    collapsed = WHITESPACE.sub(" ", text).strip()
    if collapsed != text.strip():
        fixes.append("whitespace collapsed")
    text = collapsed
    steps = [
        (SPACE_BETWEEN_HAN, "", "space between Chinese characters removed"),
        (PUNCT_BETWEEN_HAN, lambda m: FULL_WIDTH[m[1]], ", ; : made full-width"),
        (PARENTHESES, lambda m: f"（{m[1]}）", "( ) made full-width"),
    ]
    for pattern, replacement, fix in steps:
        text, count = pattern.subn(replacement, text)  # type: ignore[call-overload]
        if count:
            fixes.append(fix)
    folded = text.translate(FOLD)
    if folded != text:
        fixes.append("full-width digits and letters folded")
    return Cleaned(folded, tuple(fixes), tuple(LATIN_WORD.findall(folded)))


def printable(text: str) -> bool:
    """Printable once each run of whitespace is one space: no control or format character.

    printable("甲\\n乙") -> True; printable("乡村\\u202e振兴") -> False
    """
    # A printable text holds no whitespace but " " (the usual case, at C speed).
    return text.isprintable() or WHITESPACE.sub(" ", text).isprintable()


def strip_format(text: str) -> tuple[str, list[str]]:
    """Remove invisible format characters (Unicode category Cf) but those vocab/text.toml keeps.

    strip_format("乡村\u202e振兴") -> ("乡村振兴", ["U+202E"])
    """
    if printable(text):  # the common case
        return text, []
    keep = kept_format_characters()
    removed = sorted({f"U+{ord(c):04X}" for c in text
                      if unicodedata.category(c) == "Cf" and c not in keep})
    if not removed:
        return text, []
    return "".join(c for c in text if unicodedata.category(c) != "Cf" or c in keep), removed


@cache
def kept_format_characters() -> frozenset[str]:
    """keep_format_characters of vocab/text.toml: ["U+200D"] -> {"\u200d"}."""
    return vocabulary.text().kept()
