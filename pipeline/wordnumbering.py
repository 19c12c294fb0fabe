"""Word's automatic numbering: the number Word shows before a paragraph, which its text lacks.

A paragraph numbered by Word carries <w:numPr> (a list instance and a level), directly or
through its style; numbering.xml says each level's format (1. 一、 （1） ①) and where it starts.
Counters run in document order, one set per abstract list: its instances (<w:num>) continue
each other, and an instance with a <w:startOverride> restarts the count where its first
paragraph stands, as Word shows them (LibreOffice writes a cell's list so: the first paragraph
under a restarting instance, the rest under the plain one). A level counting up resets the
levels below it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
CHINESE_DIGITS = "零一二三四五六七八九"
LEGAL = str.maketrans("零一二三四五六七八九十", "零壹贰叁肆伍陆柒捌玖拾")


def chinese_counting(n: int) -> str:
    """chinese_counting(12) -> "十二"; chinese_counting(20) -> "二十"; up to 99."""
    if n < 10:
        return CHINESE_DIGITS[n]
    tens, ones = divmod(n, 10)
    return (CHINESE_DIGITS[tens] if tens > 1 else "") + "十" + (CHINESE_DIGITS[ones] if ones else "")


def letters(n: int) -> str:
    """letters(1) -> "a"; letters(27) -> "aa" (Word repeats the letter)."""
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def roman(n: int) -> str:
    """roman(14) -> "xiv"."""
    out = ""
    for value, numeral in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"),
                           (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"),
                           (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out += numeral * count
    return out


def circled(n: int) -> str:
    return chr(ord("①") + n - 1) if 1 <= n <= 20 else f"({n})"


FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),
    "decimalHalfWidth": str,
    "chineseCounting": chinese_counting,
    "chineseCountingThousand": chinese_counting,
    "taiwaneseCounting": chinese_counting,
    "taiwaneseCountingThousand": chinese_counting,  # what LibreOffice writes for 一、二、
    "japaneseCounting": chinese_counting,
    "chineseLegalSimplified": lambda n: chinese_counting(n).translate(LEGAL),
    "ideographDigital": lambda n: "".join(CHINESE_DIGITS[int(d)] for d in str(n)),
    "decimalEnclosedCircle": circled,
    "decimalEnclosedCircleChinese": circled,
    "lowerLetter": letters,
    "upperLetter": lambda n: letters(n).upper(),
    "lowerRoman": roman,
    "upperRoman": lambda n: roman(n).upper(),
}


@dataclass(frozen=True)
class Level:
    start: int
    format: str
    text: str  # lvlText: "%1." "%1、" "（%2）"


@dataclass
class WordNumbering:
    """The labels of one document's numbered paragraphs, counted in the order asked."""

    levels: dict[str, dict[int, Level]] = field(default_factory=dict)  # abstractNumId → ilvl →
    instances: dict[str, tuple[str, dict[int, int]]] = field(default_factory=dict)  # numId →
    counters: dict[str, dict[int, int]] = field(default_factory=dict)
    labels: dict[Any, str] = field(default_factory=dict)  # paragraph element → its label
    styles: dict[str, Any] = field(default_factory=dict)  # style id → its <w:numPr> or None
    used: set[str] = field(default_factory=set)  # numIds met so far

    @classmethod
    def of(cls, document: Any) -> "WordNumbering":
        """The numbering of a python-docx Document (none when it has no numbering part)."""
        numbering = cls()
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return numbering
        for abstract in root.iterfind(f"{W}abstractNum"):
            levels = {}
            for level in abstract.iterfind(f"{W}lvl"):
                levels[int(value(level, "ilvl", "0"))] = Level(
                    int(child_value(level, "start", "1")), child_value(level, "numFmt", "decimal"),
                    child_value(level, "lvlText", ""))
            numbering.levels[value(abstract, "abstractNumId", "")] = levels
        for instance in root.iterfind(f"{W}num"):
            starts = {int(value(override, "ilvl", "0")): int(child_value(override, "startOverride",
                                                                          "1"))
                      for override in instance.iterfind(f"{W}lvlOverride")
                      if override.find(f"{W}startOverride") is not None}
            numbering.instances[value(instance, "numId", "")] = (
                child_value(instance, "abstractNumId", ""), starts)
        return numbering

    def label(self, paragraph: Any) -> str:
        """The number Word shows before `paragraph` (a python-docx Paragraph), or ""."""
        element = paragraph._p
        if element in self.labels:  # a merged cell is met once per column it spans
            return self.labels[element]
        label = self.count(*self.list_of(paragraph)) if self.instances else ""
        self.labels[element] = label
        return label

    def text(self, paragraph: Any) -> str:
        """The paragraph's text as Word shows it: text("制定方案" numbered 1.) -> "1.制定方案"."""
        return self.label(paragraph) + str(paragraph.text)

    def list_of(self, paragraph: Any) -> tuple[str, int]:
        """(numId, ilvl) of the paragraph, from itself or its style; ("", 0) when unnumbered."""
        own = paragraph._p.pPr
        numbered = own.find(f"{W}numPr") if own is not None else None
        if numbered is None and paragraph._p.style is not None:
            numbered = self.style_list(paragraph)
        if numbered is None:
            return "", 0
        return child_value(numbered, "numId", ""), int(child_value(numbered, "ilvl", "0"))

    def style_list(self, paragraph: Any) -> Any:
        """The <w:numPr> of the paragraph's style, looked up once per style."""
        style_id = paragraph._p.style
        if style_id not in self.styles:
            properties = style_properties(paragraph)
            self.styles[style_id] = None if properties is None else properties.find(f"{W}numPr")
        return self.styles[style_id]

    def count(self, num_id: str, ilvl: int) -> str:
        if num_id in ("", "0") or num_id not in self.instances:
            return ""
        abstract, starts = self.instances[num_id]
        levels = self.levels.get(abstract, {})
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(abstract, {})
        if num_id not in self.used:  # an instance that restarts does so where it is first used
            self.used.add(num_id)
            for restarted, start in starts.items():
                counters[restarted] = start - 1
                for deeper in [other for other in counters if other > restarted]:
                    del counters[deeper]
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else levels[ilvl].start
        for deeper in [other for other in counters if other > ilvl]:
            del counters[deeper]
        if levels[ilvl].format in ("bullet", "none"):
            return ""
        label = levels[ilvl].text
        for shown in range(ilvl + 1):
            number = counters.get(shown, levels[shown].start if shown in levels else 1)
            fmt = levels[shown].format if shown in levels else "decimal"
            label = label.replace(f"%{shown + 1}", FORMATS.get(fmt, str)(number))
        return label


def value(element: Any, name: str, default: str) -> str:
    return str(element.get(f"{W}{name}", default))


def child_value(element: Any, tag: str, default: str) -> str:
    child = element.find(f"{W}{tag}")
    return default if child is None else value(child, "val", default)


def style_properties(paragraph: Any) -> Any:
    """The paragraph properties of the paragraph's style, or None."""
    try:
        style = paragraph.style
    except (KeyError, ValueError):
        return None
    return None if style is None else style.element.pPr
