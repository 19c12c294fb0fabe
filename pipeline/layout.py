"""Layout stage: which list a title names, which place, and which field each column holds."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from pipeline.records import ListKind, Town
from pipeline.tables import cell_words, header_field
from pipeline.vocabulary import headers, places_vocabulary, titles

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pipeline.divisions import Level, Reading

HEADERS_FILE = "pipeline/vocab/headers.toml"
PLACES_FILE = "pipeline/vocab/places.toml"


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


@dataclass(frozen=True)
class Place:
    """The place a title names, and why it is kept as written or only partly resolved."""

    town: Town | None
    problem: str | None = None


def parse_place(text: str) -> Town | None:
    """The town of resolve_place(text), for a caller that says its own problems."""
    return resolve_place(text).town


def resolve_place(text: str) -> Place:
    """Resolve a title's place against China's administrative divisions.

    resolve_place("昌吉州玛纳斯县凉州户镇").town -> Town(name="凉州户镇", kind="镇",
    county="玛纳斯县", prefecture="昌吉州", province="新疆维吾尔自治区", code="652324103")

    Levels the title leaves out are filled from the dataset. A place the dataset cannot
    resolve, or can resolve in more than one way, is kept as written, with the problem said.
    """
    from pipeline.divisions import edition, read_place

    text = "".join(text.split())
    readings = read_place(text)
    known = [r for r in readings if r.town_code]
    partial = [r for r in readings if not r.town_code]
    if known and len({r.town_code for r in known}) == 1:
        return Place(town_from(max(known, key=lambda r: len(r.parts))))
    if known:
        return Place(as_written(text), f"place {text!r} could be any of "
                     f"{describe(r.town_code for r in known)}; it is kept as written. "
                     "Name the county (or prefecture) in the title to tell them apart")
    if partial and len({r.innermost for r in partial}) == 1:
        reading = max(partial, key=lambda r: len(r.parts))
        town = town_from(reading)
        return Place(town, f"town {town.name!r} is not in the division dataset "
                     f"({edition()}) under {describe([reading.innermost])}; it is kept "
                     "as written. Check its spelling (renamed or new since?)")
    if partial:
        return Place(as_written(text), f"place {text!r} could lie in any of "
                     f"{describe(r.innermost for r in partial)}; it is kept as written")
    written = as_written(text)
    if written is None:
        return Place(None, f"no place kind (镇/乡/街道…) ends {text!r}; add the kind to "
                     f"{PLACES_FILE} if it is one")
    return Place(written, f"place {text!r} is not in the division dataset ({edition()}); "
                 "it is kept as written. Check its spelling, or write its county")


def town_from(reading: "Reading") -> Town:
    """A Town from one reading: each level as written, or the dataset's name when left out."""
    from pipeline.divisions import atlas

    above = atlas().ancestors(reading.innermost)
    written = {level: text for level, text, _ in reading.parts}

    def level(name: "Level") -> str | None:
        return written.get(name) or (above[name].name if name in above else None)

    name = written["town"]
    return Town(name=name, kind=town_kind(name) or "", county=level("county"),
                prefecture=level("prefecture"), province=level("province"),
                code=reading.town_code)


def as_written(text: str) -> Town | None:
    """The whole text as the town's name, when it ends with a place kind."""
    kind = town_kind(text)
    return Town(name=text, kind=kind) if kind else None


def town_kind(name: str) -> str | None:
    """The longest place kind the name ends with: town_kind("招宝山街道") -> "街道",
    town_kind("金竹畲族乡") -> "民族乡"."""
    vocab = places_vocabulary()
    for ending, kind in sorted(vocab.kinds.items(), key=lambda item: -len(item[0])):
        if name.endswith(ending) and len(name) > len(ending):
            return kind
    kinds = sorted(vocab.levels.town, key=len, reverse=True)
    return next((kind for kind in kinds if name.endswith(kind) and name != kind), None)


def describe(codes: "Iterable[str | None]") -> str:
    """Divisions by their full path: describe(["652324"]) -> "新疆维吾尔自治区昌吉回族自治州玛纳斯县"."""
    from pipeline.divisions import atlas

    paths = sorted({"".join(d.name for d in atlas().ancestors(code).values())
                    for code in codes if code})
    return "、".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


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
