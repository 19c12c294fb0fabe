"""China's administrative divisions (行政区划), and the place a list title names among them.

The divisions are read from data/divisions.tsv (国家统计局 statistical division codes, down to
towns; tools/divisions.py generates it) the first time a place is resolved, not at import,
so that `pipeline --help` stays quick. How names are written and shortened (昌吉回族自治州 →
昌吉州) is vocabulary in vocab/places.toml.
"""

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Literal

from pipeline.vocabulary import PlacesVocabulary, places_vocabulary

DATA_FILE = "pipeline/data/divisions.tsv"
Level = Literal["province", "prefecture", "county", "town"]
LEVELS: tuple[Level, ...] = ("province", "prefecture", "county", "town")
CODE_LENGTH: dict[int, Level] = {2: "province", 4: "prefecture", 6: "county", 9: "town"}
LONGEST_PLACE = 80  # characters; the longest full path in the dataset has 37


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: Level


@dataclass
class Atlas:
    """Every division by code, and by every way a title may write it, per level."""

    divisions: dict[str, Division] = field(default_factory=dict)
    names: dict[Level, dict[str, list[str]]] = field(
        default_factory=lambda: {level: defaultdict(list) for level in LEVELS})
    longest: dict[Level, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    parents: set[str] = field(default_factory=set)  # codes that have towns directly below

    def ancestors(self, code: str) -> dict[Level, Division]:
        """The division and those above it that exist: a 直辖市 district has no prefecture."""
        found = {}
        for length, level in CODE_LENGTH.items():
            if len(code) >= length and (division := self.divisions.get(code[:length])):
                found[level] = division
        return found

    def parent_of_town(self, code: str) -> str:
        """The code of the county, or the county-less prefecture (儋州市), a town lies in."""
        return code[:6] if code[:6] in self.divisions else code[:4]


@cache
def edition() -> str:
    """The dataset's source and edition, from its first line: "国家统计局 2023年统计用区划代码 (…)"."""
    with files("pipeline").joinpath("data", "divisions.tsv").open(encoding="utf-8") as file:
        return file.readline().removeprefix("#").strip()


@cache
def atlas() -> Atlas:
    """The divisions, read once per process."""
    vocab = places_vocabulary()
    text = files("pipeline").joinpath("data", "divisions.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines()[3:] if line]
    names = dict(rows)
    found = Atlas()
    groupings = tuple(vocab.levels.prefecture)
    for code, name in rows:
        level = CODE_LENGTH[len(code)]
        if level == "prefecture" and not name.endswith(groupings):
            continue  # 市辖区 of a 直辖市, 省直辖县级行政区划: a grouping, not a prefecture
        if level == "county" and name == names.get(code[:4]):
            continue  # 儋州市 under 儋州市: a prefecture without counties
        found.divisions[code] = Division(code, name, level)
        forms = spellings(name, level, vocab)
        if level == "town":  # 济源市沁园街道 in the dataset is 沁园街道 in 济源市
            for parent in (names.get(code[:6]), names.get(code[:4])):
                if parent and name.startswith(parent) and len(name) > len(parent):
                    forms |= spellings(name[len(parent):], level, vocab)
        by_name = found.names[level]
        for alias in forms:
            by_name[alias].append(code)
    for level in LEVELS:
        found.longest[level] = max(map(len, found.names[level]))
    found.parents = {found.parent_of_town(code) for code in found.divisions if len(code) == 9}
    return found


def spellings(name: str, level: Level, vocab: PlacesVocabulary) -> set[str]:
    """The ways a title writes a division's name.

    spellings("昌吉回族自治州", "prefecture", vocab) -> {"昌吉回族自治州", "昌吉州", "昌州", "昌吉"}
    """
    forms = {name}
    if level == "town":
        for ending, same in town_endings():
            if name.endswith(ending):
                forms.update(name[: -len(ending)] + other for other in same)
                break
        return forms
    suffix = next((s for s in level_suffixes(level) if name.endswith(s)), "")
    body = name[: len(name) - len(suffix)]
    if suffix in vocab.autonomous.short:
        base = autonomous_base(body, vocab)
        short = vocab.autonomous.short[suffix]
        forms.add(base + short)
        if suffix in vocab.autonomous.initials:
            forms.update(base[:n] + short for n in range(1, len(base)))
        body = base
    if level in vocab.bare.levels and len(body) >= vocab.bare.shortest:
        forms.add(body)
    return forms


@cache
def town_endings() -> tuple[tuple[str, list[str]], ...]:
    """Each ending of places.toml's [town_forms], longest first, with the endings it equals."""
    pairs = [(ending, same) for same in places_vocabulary().town_forms.same for ending in same]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


@cache
def level_suffixes(level: Level) -> tuple[str, ...]:
    """A level's suffixes in places.toml, longest first."""
    return tuple(sorted(getattr(places_vocabulary().levels, level), key=len, reverse=True))


def autonomous_base(body: str, vocab: PlacesVocabulary) -> str:
    """The name before its nationalities: autonomous_base("黔东南苗族侗族", vocab) -> "黔东南".

    A name that starts with its nationality keeps it (鄂温克族 -> 鄂温克); a base has at
    least two characters, so that 西藏 and 内蒙古 are not cut.
    """
    based, alone, first = nationality_patterns(tuple(vocab.autonomous.nationalities))
    if match := based.fullmatch(body):
        return match[1]
    if alone.fullmatch(body) and (match := first.match(body)):
        return match[1]
    return body


@cache
def nationality_patterns(names: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    nationalities = "|".join(sorted(names, key=len, reverse=True))
    tail = f"(?:(?:{nationalities})族?)+"
    return (re.compile(f"(.{{2,}}?){tail}"), re.compile(tail), re.compile(f"({nationalities})族?"))


@dataclass(frozen=True)
class Reading:
    """One way to read a place's text: the written part and the division of each level.

    A town the dataset lacks has code None; it is read only below a division that has towns.
    """

    parts: tuple[tuple[Level, str, str | None], ...]  # (level, as written, code)

    @property
    def town_code(self) -> str | None:
        return self.parts[-1][2]

    @property
    def innermost(self) -> str:
        """The code of the innermost division the dataset knows."""
        return next(code for _, _, code in reversed(self.parts) if code)


def read_place(text: str) -> list[Reading]:
    """Every consistent reading of `text` as [province][prefecture][county]town.

    read_place("昌吉州玛纳斯县凉州户镇") -> [Reading(("prefecture", "昌吉州", "6523"),
    ("county", "玛纳斯县", "652324"), ("town", "凉州户镇", "652324103"))]
    """
    if len(text) > LONGEST_PLACE:
        return []
    found = atlas()
    town_kinds = tuple(places_vocabulary().levels.town)

    def walk(start: int, level_at: int, parts: tuple[tuple[Level, str, str | None], ...],
             ) -> Iterator[Reading]:
        for index in range(level_at, len(LEVELS)):
            level = LEVELS[index]
            for end in range(start + 1, min(len(text), start + found.longest[level]) + 1):
                written = text[start:end]
                for code in found.names[level].get(written, ()):
                    if consistent(code, parts) and (level != "town" or end == len(text)):
                        step = (*parts, (level, written, code))
                        yield from (walk(end, index + 1, step) if level != "town"
                                    else [Reading(step)])
        rest = text[start:]
        if parts and parts[-1][2] in found.parents and rest.endswith(town_kinds) \
                and rest not in town_kinds:
            yield Reading((*parts, ("town", rest, None)))

    return list(dict.fromkeys(walk(0, 0, ())))


def consistent(code: str, parts: tuple[tuple[Level, str, str | None], ...]) -> bool:
    """A division lies within every division already read."""
    return all(above is None or code.startswith(above) for _, _, above in parts)
