"""Layout stage: which list a title names, which place, and which field each column holds."""

import re
from dataclasses import dataclass
from functools import cache
from typing import cast

from pipeline.records import ListKind, Town
from pipeline.tables import cell_words, header_field
from pipeline.vocabulary import headers, load_vocabulary, titles

HEADERS_FILE = "pipeline/vocab/headers.toml"


def parse_list_kind(title: str) -> tuple[ListKind, str] | None:
    """The list a title names and the place text before it.

    parse_list_kind("昌吉州玛纳斯县凉州户镇基本履职事项清单") -> ("basic", "昌吉州玛纳斯县凉州户镇")
    """
    vocabulary = titles()
    kinds = {"basic": vocabulary.basic, "cooperative": vocabulary.cooperative,
             "withdrawn": vocabulary.withdrawn}
    endings = sorted(((ending, kind) for kind, words in kinds.items() for ending in words),
                     key=lambda pair: -len(pair[0]))
    for ending, kind in endings:
        if title.endswith(ending):
            return cast(ListKind, kind), title[: -len(ending)].strip()
    return None


@cache
def place_pattern() -> re.Pattern[str]:
    """One regex over the levels in places.toml.

    A level's name holds no mark of another level, is not followed by another of its own
    suffixes (杭州|市 is cut short), and a prefecture counts only before a county, so that
    凉州户镇 alone is a town, not 凉州 + 户镇.
    """
    levels = load_vocabulary("places")

    def alternation(level: str) -> str:
        return "|".join(sorted(levels[level], key=len, reverse=True))

    def level(name: str, forbidden: str) -> str:
        suffix = alternation(name)
        return f"(?P<{name}>[^{forbidden}]+?(?:{suffix})(?!{suffix}))"

    return re.compile(
        f"(?:{level('province', '州县旗区镇乡')})?"
        f"(?:{level('prefecture', '省县旗区镇乡')}?{level('county', '省州盟镇乡')})?"
        f"(?P<town>.+?)(?P<kind>{alternation('town')})$"
    )


def parse_place(text: str) -> Town | None:
    """Split a place name into its levels.

    parse_place("昌吉州玛纳斯县凉州户镇") -> Town(name="凉州户镇", kind="镇", county="玛纳斯县",
    prefecture="昌吉州")
    """
    match = place_pattern().match(text)
    if match is None:
        return None
    return Town(
        name=match["town"] + match["kind"],
        kind=match["kind"],
        county=match["county"],
        prefecture=match["prefecture"],
        province=match["province"],
    )


@dataclass(frozen=True)
class Layout:
    """Column i of a list holds fields[i]; None for a column that only goes to `raw`."""

    fields: list[str | None]
    extras: list[str]  # header words of kept-but-unmapped columns (备注, 法律依据)
    unknown: list[str]  # header words no synonym matches

    def missing(self, kind: ListKind) -> list[str]:
        """Required fields of `kind` that no column holds."""
        required: list[str] = getattr(headers().required, kind)
        return [
            need for need in required
            if not any(option in self.fields for option in need.split("|"))
        ]

    def guess_kind(self) -> ListKind:
        """The list whose columns these are, for a title that names none."""
        if "town_duties" in self.fields or "upper_duties" in self.fields:
            return "cooperative"
        if "receiver" in self.fields or "receiver_department" in self.fields:
            return "withdrawn"
        return "basic"

    def index(self, field: str) -> int | None:
        return self.fields.index(field) if field in self.fields else None


def parse_header(cells: list[str]) -> Layout:
    """Map header words to our field names with the synonyms in headers.toml; a cell is read
    by its words alone (<strong>序号</strong>, 序&nbsp;号, 对应<br>上级部门 and 序　号 all count).
    """
    fields: list[str | None] = []
    extras: list[str] = []
    unknown: list[str] = []
    for cell in cells:
        word = cell_words(cell)
        field = header_field(word)
        if field == "extra":
            extras.append(word)
            field = None
        elif field is None:
            unknown.append(word)
        fields.append(field)
    return Layout(fields, extras, unknown)
