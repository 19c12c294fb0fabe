"""Departments stage: the many spellings of a department → one canonical name.

A document's jurisdictions are its town's county, prefecture and province, each named with
a mark (县, 区, 市, 州, 地区, 盟, 旗, 省, 自治区…). In a 玛纳斯县 document 县X means 玛纳斯县X,
州X means 昌吉州X, and a bare X局 means the innermost jurisdiction's X局. Marks, suffixes,
catch-alls and abbreviations live in vocab/departments.toml.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from pipeline.findings import Collector
from pipeline.records import Department, Duty, DutyDepartment, Town
from pipeline.vocabulary import DepartmentsVocabulary, departments_vocabulary

VOCABULARY_FILE = "pipeline/vocab/departments.toml"
HAN = "\u3400-\u4dbf\u4e00-\u9fff"
OPENING, CLOSING = "（([【", "）)]】"
SEPARATING = "、，,"  # between departments in one cell
SEPARATORS = re.compile(f"[{SEPARATING}]")
BRACKETS = re.compile(f"[{re.escape(OPENING + CLOSING)}]")


@dataclass(frozen=True)
class Canonical:
    """What one spelling resolves to."""

    name: str
    short_name: str | None
    jurisdiction: str | None
    written: str
    note: str | None = None  # the catch-all cut off the end (及其他…部门)
    known: bool = True  # False: matched no rule; kept as written
    candidates: tuple[str, ...] = ()  # an abbreviation that may stand for several of these


@dataclass(frozen=True)
class Jurisdiction:
    """One level above the town, as the document names it: 昌吉州, marked 州."""

    name: str
    mark: str
    aliases: tuple[str, ...] = ()  # its other full names: 昌吉回族自治州

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


Resolver = Callable[[str], "Canonical"]


def vocabulary() -> DepartmentsVocabulary:
    return departments_vocabulary()


@cache
def suffix_pattern() -> str:
    suffixes = vocabulary().names.suffixes
    return "|".join(sorted(suffixes, key=len, reverse=True))


def mark_pattern(marks: Iterable[str]) -> str:
    """The marks as one alternation, each guarded against the words that hold it without
    being a jurisdiction: mark_pattern(["区"]) -> "(?:(?!(?<=社)区)…区)"."""
    return "|".join(f"(?:{mark_guards(mark)}{re.escape(mark)})"
                    for mark in sorted(set(marks), key=len, reverse=True))


@cache
def mark_guards(mark: str) -> str:
    guards = []
    for word in vocabulary().jurisdictions.not_marks:
        at = word.find(mark)
        if word != mark and at >= 0:
            before = f"(?<={re.escape(word[:at])})" if at else ""
            guards.append(f"(?!{before}{re.escape(word[at:])})")
    return "".join(guards)


def mark_of(name: str) -> str | None:
    """The level word a jurisdiction's departments are written with: mark_of("塔城地区") -> "地区"."""
    words = vocabulary().jurisdictions
    for suffix, mark in sorted(words.mark_of.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return mark
    return next((m for m in sorted(words.marks, key=len, reverse=True) if name.endswith(m)), None)


@cache
def jurisdictions(town: Town) -> tuple[Jurisdiction, ...]:
    """The town's county, prefecture and province, innermost first, with their official
    names from the division dataset when the title shortened them (昌吉州 → 昌吉回族自治州)."""
    official = official_names(town.code) if town.code else {}
    found = []
    for level in ("county", "prefecture", "province"):
        name: str | None = getattr(town, level)
        mark = mark_of(name) if name else None
        if name and mark:
            other = official.get(level)
            found.append(Jurisdiction(name, mark, (other,) if other and other != name else ()))
    return tuple(found)


@cache
def official_names(code: str) -> dict[str, str]:
    from pipeline.divisions import atlas

    return {level: division.name for level, division in atlas().ancestors(code).items()}


def is_no_department(name: str) -> bool:
    """A body that belongs to no jurisdiction: is_no_department("社区居委会") -> True."""
    return name.endswith(tuple(vocabulary().names.not_departments))


def split_departments(cell: str) -> list[str]:
    """Split on 、，, outside brackets.

    split_departments("县委宣传部（县文明办、县网信办）、县公安局")
    -> ["县委宣传部（县文明办、县网信办）", "县公安局"]
    """
    if not BRACKETS.search(cell):  # most cells: a plain split
        return [part.strip() for part in SEPARATORS.split(cell) if part.strip()]
    return split_bracketed(cell)


def split_bracketed(cell: str) -> list[str]:
    """split_departments without the shortcut for a cell with no brackets; the two agree."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in cell:
        depth += (char in OPENING) - (char in CLOSING)
        if char in SEPARATING and depth <= 0:
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
            for pattern in vocabulary().names.catch_all]


def expand(rest: str) -> list[str]:
    """Full forms of an abbreviation: expand("委编办") -> ["委机构编制委员会办公室"];
    a name that is no abbreviation is its own: expand("公安局") -> ["公安局"]."""
    return vocabulary().expansions(rest) or [rest]


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


def canonicalize(written: str, town: Town, named: frozenset[str] = frozenset()) -> Canonical:
    """Resolve one spelling against the document's jurisdictions.

    canonicalize("县委组织部", 玛纳斯县's town).name -> "玛纳斯县委组织部"

    `named` are the full names the document itself gives; an abbreviation with several
    full forms is read as the one of them it names, if exactly one.
    """
    spelled = "".join(written.split())
    name, note = cut_catch_all(spelled)
    if is_no_department(name):
        return Canonical(name, None, None, written, note)
    levels = jurisdictions(town)
    spelled_in_full = sorted(((full, j) for j in levels for full in j.names),
                             key=lambda pair: -len(pair[0]))
    for full, jurisdiction in spelled_in_full:
        if name.startswith(full):
            return canonical_from(jurisdiction, name[len(full):], town, written, note, named)
    if levels and (mark := re.match(mark_pattern(j.mark for j in levels), name)):
        jurisdiction = next(j for j in levels if j.mark == mark[0])
        return canonical_from(jurisdiction, name[mark.end():], town, written, note, named)
    starts_marked = re.match(mark_pattern(vocabulary().jurisdictions.marks), name)
    if levels and looks_like_department(name) and not starts_marked:
        return canonical_from(levels[0], name, town, written, note, named)  # bare X局
    return Canonical(name, None, None, written, note, known=False)


def canonical_from(jurisdiction: Jurisdiction, rest: str, town: Town, written: str,
                   note: str | None, named: frozenset[str] = frozenset()) -> Canonical:
    """Build the canonical name from a jurisdiction and what follows its name or mark."""
    full = jurisdiction.name
    forms = expand(rest)
    if len(forms) > 1:
        candidates = tuple(full + form for form in forms)
        chosen = [form for form in forms if full + form in named]
        if len(chosen) != 1:
            return Canonical(full + rest, jurisdiction.mark + rest, full, written, note,
                             known=False, candidates=candidates)
        forms = chosen
    rest = forms[0]
    jurisdiction_name = innermost(rest, town) or full
    known = looks_like_department(rest) or looks_like_department(full + rest)
    return Canonical(full + rest, jurisdiction.mark + rest, jurisdiction_name, written, note, known)


def innermost(rest: str, town: Town) -> str | None:
    """A county named inside a prefecture body's name, with or without its mark:
    生态环境局玛纳斯县分局 → 玛纳斯县, 自然资源和规划局镇海分局 → 镇海区."""
    county = next((j for j in jurisdictions(town) if j.name == town.county), None)
    if county is None:
        return None
    stem = county.name.removesuffix(county.mark)  # 单县's 单 alone says nothing
    return county.name if county.name in rest or (len(stem) > 1 and stem in rest) else None


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
    lead = "|".join([*map(re.escape, places), mark_pattern(vocabulary().jurisdictions.marks)])
    return re.compile(
        f"(?P<name>(?:{lead})[{HAN}（）()]{{1,25}}?(?:{suffix_pattern()}))(?:\\s+(?P<rest>.+))?")


@cache
def mention_pattern(places: tuple[str, ...], marks: tuple[str, ...], known: tuple[str, ...],
                    branches: tuple[str, ...] = ()) -> re.Pattern[str]:
    """Known spellings first (longest first), then any name led by a jurisdiction's name or
    mark with a firm suffix, and the branch in one of `branches` that may follow it
    (市自然资源和规划局镇海分局).

    The lookahead on the first character lets the engine skip most positions at once.
    """
    spelled = "|".join(map(re.escape, sorted(known, key=len, reverse=True)))
    lead = "|".join([*map(re.escape, sorted(places, key=len, reverse=True)), mark_pattern(marks)])
    names = vocabulary().names
    # A firm suffix that starts a non-ending (部 of 部门) counts only when the rest does not follow.
    firm = "|".join(
        re.escape(suffix) + "".join(f"(?!{re.escape(ending[len(suffix):])})"
                                    for ending in names.not_endings
                                    if ending.startswith(suffix) and ending != suffix)
        for suffix in sorted(names.firm_suffixes, key=len, reverse=True))
    loose = f"(?:{lead})[{HAN}]{{1,12}}?(?:{firm})"
    if branches:
        where = "|".join(map(re.escape, sorted(branches, key=len, reverse=True)))
        kinds = "|".join(map(re.escape, sorted(names.branch_suffixes, key=len, reverse=True)))
        loose += f"(?:(?:{where})(?:{kinds}))?"
    starts = "".join(sorted({name[0] for name in (*known, *places, *marks)}))
    body = f"{spelled}|{loose}" if spelled else loose
    return re.compile(f"(?=[{re.escape(starts)}])(?:{body})")


def mention_finder(town: Town, known: Iterable[str]) -> Callable[[str], list[str]]:
    """A function giving the department names written in a step's text, compiled once per
    document: mention_finder(玛纳斯县's town, ())("由县城市管理局负责") -> ["县城市管理局"].

    `known` are the spellings the document's columns resolved; they are matched first. The
    town's own name and bodies of no jurisdiction (社区居委会) are masked first: 凉州户镇 holds
    a 州 and 社区居委会 a 区 that are no marks.
    """
    levels = jurisdictions(town)
    places = tuple(name for j in levels for name in j.names)
    # A branch is named for the innermost jurisdiction, with or without its mark (镇海分局).
    stems = {levels[0].name, levels[0].name.removesuffix(levels[0].mark)} if levels else set()
    branches = tuple(stem for stem in stems if len(stem) > 1)
    matcher = mention_matcher(places, tuple(j.mark for j in levels), tuple(sorted(known)),
                              tuple(sorted(branches)))

    def find(text: str) -> list[str]:
        # Where the town's name is not written, the masks of any town do the same.
        return mentions(matcher, town.name if town.name in text else "", text)

    return find


@dataclass(frozen=True, eq=False)
class Matcher:
    """A mention_pattern as a cache key: hashed by identity, where hashing the pattern itself
    hashes its compiled code (microseconds, for every step)."""

    pattern: re.Pattern[str]


@cache
def mention_matcher(places: tuple[str, ...], marks: tuple[str, ...], known: tuple[str, ...],
                    branches: tuple[str, ...]) -> Matcher:
    return Matcher(mention_pattern(places, marks, known, branches))


@lru_cache(maxsize=64)  # one per town: a county's worth, not every town of a build
def mask_pattern(town: str) -> re.Pattern[str]:
    """The town's own name and bodies of no jurisdiction, longest first."""
    masked = {town, *vocabulary().names.not_departments} - {""}
    return re.compile("|".join(map(re.escape, sorted(masked, key=len, reverse=True))))


# Step texts recur from town to town of a county, and the county's patterns with them.
@lru_cache(maxsize=8192)  # about 0.3 KB an entry
def mentions(matcher: Matcher, town: str, text: str) -> list[str]:
    """The names the matcher finds in `text` once `town` (unless "") and the bodies of no
    jurisdiction are blanked out. The list is shared: callers only read it."""
    text = mask_pattern(town).sub(lambda match: "〇" * len(match[0]), text)
    not_endings = tuple(vocabulary().names.not_endings)
    return [name for name in matcher.pattern.findall(text) if not name.endswith(not_endings)]


def collect_departments(resolved: Iterable[Canonical]) -> list[Department]:
    """One Department per canonical name, with every spelling as an alias (sorted, stable).

    An abbreviation left with several candidates is no department of its own.
    """
    by_name: dict[str, tuple[Canonical, set[str]]] = {}
    for item in resolved:
        if item.candidates:
            continue
        _, aliases = by_name.setdefault(item.name, (item, set()))
        written = item.written.strip().removesuffix(item.note or "")
        aliases.update(a for a in (item.name, written, item.short_name) if a)
    return [
        Department(name=name, short_name=first.short_name, jurisdiction=first.jurisdiction,
                   aliases=sorted(aliases))
        for name, (first, aliases) in sorted(by_name.items())
    ]


def known_spellings(resolved: Iterable[Canonical], town: Town) -> set[str]:
    """Every form of the known departments, and each abbreviation under each jurisdiction's
    name and mark (市卫健委, 东城区卫健委)."""
    levels = jurisdictions(town)
    marks = {form for j in levels for form in (*j.names, j.mark)}
    spellings = {form for c in resolved if c.known
                 for form in (c.name, c.short_name, c.written) if form}
    spellings.update(mark + short for mark in marks for short in vocabulary().abbreviations)
    return spellings


def resolve_departments(duties: list[Duty], town: Town,
                        found: Collector) -> tuple[list[Duty], list[Department]]:
    """Canonical names on every link and step, mentions from step text, one Department each.

    Holds the whole document: a spelling is resolved against every other spelling seen.
    """
    resolved: dict[str, Canonical] = {}
    named: frozenset[str] = frozenset()

    def resolve(written: str) -> Canonical:
        if written not in resolved:
            resolved[written] = canonicalize(written, town, named)
        return resolved[written]

    for duty in duties:
        for link in duty.departments:
            resolve(link.written)
        for step in duty.steps:
            if step.department:
                resolve(step.department)
    # An abbreviation with several full forms is read as the one the document names in full.
    named = frozenset(c.name for c in resolved.values() if c.known)
    for written, canonical in list(resolved.items()):
        if canonical.candidates:
            resolved[written] = canonicalize(written, town, named)
    find_mentions = mention_finder(town, known_spellings(resolved.values(), town))
    unlinked: list[tuple[Duty, str, str]] = []
    updated = [link_duty(duty, resolve, find_mentions, unlinked) for duty in duties]
    warn_ambiguous(unlinked, resolved, found)
    warn_unknown(updated, resolved, found)
    return updated, collect_departments(resolved.values())


def link_duty(duty: Duty, resolve: "Resolver", find_mentions: Callable[[str], list[str]],
              unlinked: list[tuple[Duty, str, str]]) -> Duty:
    """The duty with canonical names; a spelling that may stand for several departments is
    linked to none and put on `unlinked` as (duty, written, role).

    A duty keeps the first link per department and role. A mention becomes a record only
    once it is kept: step texts name the same department again and again.
    """
    links: dict[tuple[str, str], DutyDepartment | str] = {}  # a mention: its spelling
    for link in duty.departments:
        canonical = resolve(link.written)
        if canonical.candidates:
            unlinked.append((duty, link.written, link.role))
        elif (canonical.name, link.role) not in links:
            same = (link.department, link.note) == (canonical.name, canonical.note)
            links[canonical.name, link.role] = link if same else link.model_copy(
                update={"department": canonical.name, "note": canonical.note})
    steps = []
    for step in duty.steps:
        written = [step.department] if step.department else []  # a sub-heading, as written
        if step.department:
            heading = resolve(step.department)
            department = None if heading.candidates else heading.name
            if department != step.department:
                step = step.model_copy(update={"department": department})
        steps.append(step)
        for name in [*written, *find_mentions(step.text)]:
            canonical = resolve(name)
            if canonical.candidates:
                unlinked.append((duty, name, "mentioned"))
            else:
                links.setdefault((canonical.name, "mentioned"), name)
    kept = [link if isinstance(link, DutyDepartment) else mention(department, link)
            for (department, _), link in links.items()]
    return duty.model_copy(update={"steps": steps, "departments": kept})


@lru_cache(maxsize=4096)
def mention(department: str, written: str) -> DutyDepartment:
    """The link of a department named in step text: frozen, so one record serves every duty
    (and every town of a county) that names it so."""
    return DutyDepartment(department=department, role="mentioned", written=written)


def warn_ambiguous(unlinked: list[tuple[Duty, str, str]], resolved: dict[str, Canonical],
                   found: Collector) -> None:
    """Each spelling that may stand for several departments, once, with its candidates."""
    said: set[str] = set()
    for duty, written, role in unlinked:
        if written in said:
            continue
        said.add(written)
        candidates = "、".join(resolved[written].candidates)
        found.add("warning", "department-ambiguous",
                  f"department {written!r} may be any of {candidates} ([abbreviations] in "
                  f"{VOCABULARY_FILE}), so it is linked to none; write its full name once in "
                  "the list, and every short form is read as that one", duty.source_line, role,
                  written, duty.source_sheet)


def warn_unknown(duties: list[Duty], resolved: dict[str, Canonical], found: Collector) -> None:
    """Each spelling that matched no rule, once, with the closest known names to confirm."""
    from rapidfuzz import process

    names = sorted({c.name for c in resolved.values() if c.known})
    unknown = {w for w, c in resolved.items() if not c.known and not c.candidates}
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
