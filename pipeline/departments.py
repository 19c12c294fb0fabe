"""Departments stage: the many spellings of a department → one canonical name.

In a 玛纳斯县 document 县X means 玛纳斯县X, 州X means 昌吉州X, and a bare X局 means the
county's X局. Prefixes, suffixes, catch-alls and abbreviations live in vocab/departments.toml.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

from pipeline.findings import Collector
from pipeline.records import Department, Duty, DutyDepartment, Town
from pipeline.vocabulary import load_vocabulary

VOCABULARY_FILE = "pipeline/vocab/departments.toml"
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
OPENING, CLOSING = "（([【", "）)]】"


@dataclass(frozen=True)
class Canonical:
    """What one spelling resolves to."""

    name: str
    short_name: str | None
    jurisdiction: str | None
    written: str
    note: str | None = None  # the catch-all cut off the end (及其他…部门)
    known: bool = True  # False: matched no rule; kept as written


Resolver = Callable[[str], "Canonical"]


def vocabulary() -> dict[str, dict[str, list[str] | str]]:
    return load_vocabulary("departments")


@cache
def suffix_pattern() -> str:
    suffixes = vocabulary()["names"]["suffixes"]
    return "|".join(sorted(suffixes, key=len, reverse=True))


@cache
def prefix_pattern() -> str:
    prefixes = {p for level in vocabulary()["prefixes"].values() for p in level}
    return "|".join(sorted(prefixes, key=len, reverse=True))


def split_departments(cell: str) -> list[str]:
    """Split on 、，, outside brackets.

    split_departments("县委宣传部（县文明办、县网信办）、县公安局")
    -> ["县委宣传部（县文明办、县网信办）", "县公安局"]
    """
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in cell:
        depth += (char in OPENING) - (char in CLOSING)
        if char in "、，," and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def cut_catch_all(name: str) -> tuple[str, str | None]:
    """Separate a catch-all ending from the named department.

    cut_catch_all("县应急管理局及其他负有安全生产监督管理职责的部门")
    -> ("县应急管理局", "及其他负有安全生产监督管理职责的部门")
    """
    for pattern in catch_all_patterns():
        match = pattern.search(name)
        if match and match.start() > 0:
            return name[: match.start()], match.group()
    return name, None


@cache
def catch_all_patterns() -> list[re.Pattern[str]]:
    """vocab's catch-alls, `*` standing for any text, each anchored at the end of a name."""
    return [re.compile("(?:" + ".*?".join(map(re.escape, pattern.split("*"))) + ")$")
            for pattern in vocabulary()["names"]["catch_all"]]


def expand(rest: str) -> str:
    """Full form of a known abbreviation: expand("委编办") -> "委机构编制委员会办公室"."""
    abbreviations: dict[str, str] = vocabulary()["abbreviations"]  # type: ignore[assignment]
    return abbreviations.get(rest, rest)


def looks_like_department(name: str) -> bool:
    """A Han name ending in a department suffix, maybe with co-names in brackets after it."""
    pattern = f"[{HAN}（）()]+(?:{suffix_pattern()})(?:[（(][^（()）]*[）)])?"
    return re.fullmatch(pattern, name) is not None


def split_receiver(cell: str) -> tuple[str | None, str]:
    """The receiving department before the colon, and its way of working after it.

    split_receiver("玛纳斯县民政局： 由县民政局负责") -> ("玛纳斯县民政局", "由县民政局负责")
    """
    match = re.match(f"\\s*([{HAN}（）()]{{2,40}})\\s*[：:]\\s*(.*)", cell, re.S)
    if match is None or not looks_like_department(cut_catch_all(match[1])[0]):
        return None, cell.strip()
    return match[1], match[2].strip()


def canonicalize(written: str, town: Town) -> Canonical:
    """Resolve one spelling against the document's jurisdictions.

    canonicalize("县委组织部", 玛纳斯县's town).name -> "玛纳斯县委组织部"
    """
    spelled = "".join(written.split())
    name, note = cut_catch_all(spelled)
    levels = [(town.county, "county"), (town.prefecture, "prefecture"), (town.province, "province")]
    prefixes: dict[str, list[str]] = vocabulary()["prefixes"]  # type: ignore[assignment]
    for full, _ in levels:
        if full and name.startswith(full):
            return canonical_from(full, name[len(full):], town, written, note)
    for full, level in levels:
        marks = [m for m in prefixes[level] if full and full.endswith(m)]
        for mark in sorted(marks, key=len, reverse=True):
            if name.startswith(mark) and full:
                return canonical_from(full, name[len(mark):], town, written, note)
    if town.county and looks_like_department(name) and not re.match(prefix_pattern(), name):
        return canonical_from(town.county, name, town, written, note)  # bare X局: the county's
    return Canonical(name, None, None, written, note, known=False)


def canonical_from(full: str, rest: str, town: Town, written: str,
                   note: str | None) -> Canonical:
    """Build the canonical name from a jurisdiction's full name and what follows it."""
    rest = expand(rest)
    mark = full[-1]
    inner = innermost(rest, town)
    jurisdiction = inner or full
    known = looks_like_department(rest) or looks_like_department(full + rest)
    return Canonical(full + rest, mark + rest, jurisdiction, written, note, known)


def innermost(rest: str, town: Town) -> str | None:
    """A county named inside a prefecture body's name: 生态环境局玛纳斯县分局 → 玛纳斯县."""
    return town.county if town.county and town.county in rest else None


def department_heading(text: str, places: Iterable[str]) -> tuple[str, str] | None:
    """A department sub-heading, alone or leading its text.

    department_heading("县应急管理局 指导制定预案。", ()) -> ("县应急管理局", "指导制定预案。")
    department_heading("县自然资源局", ()) -> ("县自然资源局", "")
    """
    match = heading_pattern(tuple(places)).fullmatch(text)
    if match is None:
        return None
    return match["name"], (match["rest"] or "").strip()


@cache
def heading_pattern(places: tuple[str, ...]) -> re.Pattern[str]:
    lead = "|".join([*map(re.escape, places), prefix_pattern()])
    return re.compile(
        f"(?P<name>(?:{lead})[{HAN}（）()]{{1,25}}?(?:{suffix_pattern()}))(?:\\s+(?P<rest>.+))?")


@cache
def mention_pattern(places: tuple[str, ...], known: tuple[str, ...]) -> re.Pattern[str]:
    """Known spellings first (longest first), then any prefixed name with a firm suffix.

    The lookahead on the first character lets the engine skip most positions at once.
    """
    spelled = "|".join(map(re.escape, sorted(known, key=len, reverse=True)))
    lead = "|".join([*map(re.escape, places), "县", "州"])
    firm = "局|部|委员会|办公室|中心|分局"
    loose = f"(?:{lead})委?[{HAN}]{{1,12}}?(?:{firm})(?!门)"
    starts = "".join(sorted({name[0] for name in (*known, *places, "县", "州")}))
    body = f"{spelled}|{loose}" if spelled else loose
    return re.compile(f"(?=[{re.escape(starts)}])(?:{body})")


def mention_finder(town: Town, known: Iterable[str]) -> Callable[[str], list[str]]:
    """A function giving the department names written in a step's text, compiled once per
    document: mention_finder(玛纳斯县's town, ())("由县城市管理局负责") -> ["县城市管理局"].

    `known` are the spellings the document's columns resolved; they are matched first.
    """
    places = tuple(p for p in (town.county, town.prefecture) if p)
    pattern = mention_pattern(places, tuple(sorted(known)))
    not_endings = tuple(vocabulary()["names"]["not_endings"])
    mask = "〇" * len(town.name)

    def find(text: str) -> list[str]:
        text = text.replace(town.name, mask)  # 凉州户镇 holds a 州 that is no prefix
        return [name for name in pattern.findall(text) if not name.endswith(not_endings)]

    return find


def collect_departments(resolved: Iterable[Canonical]) -> list[Department]:
    """One Department per canonical name, with every spelling as an alias (sorted, stable)."""
    by_name: dict[str, tuple[Canonical, set[str]]] = {}
    for item in resolved:
        _, aliases = by_name.setdefault(item.name, (item, set()))
        written = item.written.strip().removesuffix(item.note or "")
        aliases.update(a for a in (item.name, written, item.short_name) if a)
    return [
        Department(name=name, short_name=first.short_name, jurisdiction=first.jurisdiction,
                   aliases=sorted(aliases))
        for name, (first, aliases) in sorted(by_name.items())
    ]


def known_spellings(resolved: Iterable[Canonical], town: Town) -> set[str]:
    """Every form of the known departments, and each abbreviation under each prefix."""
    abbreviations: dict[str, str] = vocabulary()["abbreviations"]  # type: ignore[assignment]
    marks = [m for m in (town.county, town.prefecture) if m]
    marks += [m[-1] for m in marks]
    spellings = {form for c in resolved if c.known
                 for form in (c.name, c.short_name, c.written) if form}
    spellings.update(mark + short for mark in marks for short in abbreviations)
    return spellings


def resolve_departments(duties: list[Duty], town: Town,
                        found: Collector) -> tuple[list[Duty], list[Department]]:
    """Canonical names on every link and step, mentions from step text, one Department each.

    Holds the whole document: a spelling is resolved against every other spelling seen.
    """
    resolved: dict[str, Canonical] = {}

    def resolve(written: str) -> Canonical:
        if written not in resolved:
            resolved[written] = canonicalize(written, town)
        return resolved[written]

    for duty in duties:
        for link in duty.departments:
            resolve(link.written)
        for step in duty.steps:
            if step.department:
                resolve(step.department)
    find_mentions = mention_finder(town, known_spellings(resolved.values(), town))
    updated = [link_duty(duty, resolve, find_mentions) for duty in duties]
    warn_unknown(updated, resolved, found)
    return updated, collect_departments(resolved.values())


def link_duty(duty: Duty, resolve: "Resolver", find_mentions: Callable[[str], list[str]]) -> Duty:
    links = [
        link.model_copy(update={"department": (c := resolve(link.written)).name,
                                "note": c.note})
        for link in duty.departments
    ]
    steps = []
    for step in duty.steps:
        written = [step.department] if step.department else []  # a sub-heading, as written
        if step.department:
            step = step.model_copy(update={"department": resolve(step.department).name})
        steps.append(step)
        for name in [*written, *find_mentions(step.text)]:
            links.append(DutyDepartment(department=resolve(name).name, role="mentioned",
                                        written=name))
    return duty.model_copy(update={"steps": steps, "departments": unique(links)})


def unique(links: list[DutyDepartment]) -> list[DutyDepartment]:
    """The first link per department and role."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for link in links:
        if (link.department, link.role) not in seen:
            seen.add((link.department, link.role))
            kept.append(link)
    return kept


def warn_unknown(duties: list[Duty], resolved: dict[str, Canonical], found: Collector) -> None:
    """Each spelling that matched no rule, once, with the closest known names to confirm."""
    from rapidfuzz import process

    names = sorted({c.name for c in resolved.values() if c.known})
    unknown = {w for w, c in resolved.items() if not c.known}
    for duty in duties:
        for link in duty.departments:
            if link.written in unknown:
                unknown.discard(link.written)
                close = [m[0] for m in process.extract(link.written, names, limit=3,
                                                       score_cutoff=50)]
                hint = f"; closest known: {'、'.join(close)}" if close else ""
                found.add("warning", "department-unknown",
                          f"department {link.written!r} matches no rule in {VOCABULARY_FILE} "
                          f"and is kept as written{hint}. If it is one of these, add the "
                          "spelling to [abbreviations]", duty.source_line, link.role,
                          link.written)
