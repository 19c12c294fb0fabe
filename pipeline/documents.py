"""Records stage: a read source → one NormalizedDocument, with every problem as a finding.

Nothing is lost: each data row becomes a Duty, or an error Finding whose code starts
with "row-" and which carries the row's raw text (a quarantined row).
"""

import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import PurePath

from pipeline import parser_version
from pipeline.budgets import INT32_MAX
from pipeline.conservation import count_rows, is_numbered, lost_text
from pipeline.dates import date_line, find_published
from pipeline.departments import resolve_departments, split_departments, split_receiver
from pipeline.errors import SourceError
from pipeline.findings import Collector
from pipeline.layout import (
    HEADERS_FILE,
    Layout,
    parse_header,
    parse_list_kind,
    parse_place,
    resolve_place,
)
from pipeline.markup import plain_text
from pipeline.records import Duty, DutyDepartment, ListKind, NormalizedDocument, Step, Town
from pipeline.sources import Source
from pipeline.steps import Context, parse_steps
from pipeline.tables import Heading, Row, Section, Tables, parse_tables
from pipeline.vocabulary import numbering, titles

FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# Responsibility columns and the party (上级部门 / 镇 / 承接部门) whose steps they hold.
PARTIES = {"upper_duties": "upper", "town_duties": "town", "receiver_method": "receiver"}
# Findings that carry text the steps stage set aside: the text check counts them as kept.
HOLDING = {"step-empty", "heading-empty"}


def normalize_document(source: Source) -> NormalizedDocument:
    """Turn a decoded source into duties and findings; raise SourceError if it holds no list."""
    found = Collector(source.path)
    dates: list[tuple[int, str]] = []  # lines where the document dates itself: not rows
    tables = document_headings(parse_tables(without_dates(source.rows, dates)))
    if not tables.sections:
        raise SourceError(source.path, "no list title found: expected a line ending in "
                          "基本履职事项清单, 配合履职事项清单 or 上级部门收回事项清单 "
                          "(another ending? add it to pipeline/vocab/titles.toml)", "no-list")
    for row in tables.orphans:
        found.quarantine(row, "outside-list", "row comes before any list title; "
                         "add the title line above it or delete the row")
    identities = [section_identity(section, found) for section in tables.sections]
    sheets = [Heading(s.sheet, s.title_line) for s in tables.sections if s.sheet]  # xlsx tabs
    town = next((place for _, place in identities if place is not None), None) \
        or document_place(tables.headings + sheets) or file_place(source.path, found)
    if town is None:
        raise SourceError(source.path, "no list title names a place (…县…镇 or …街道), nor "
                          "the document's heading or file name; check the titles, or add the "
                          "place kind to pipeline/vocab/places.toml", "no-place")
    duties: list[Duty] = []
    lists: list[ListKind] = []
    for section, (kind, place) in zip(tables.sections, identities, strict=True):
        if place is not None and place.key != town.key:
            found.add("warning", "title-place", f"title names {place.name}, earlier titles "
                      f"named {town.name}; rows are filed under the first",
                      section.title_line, "title", section.title, section.sheet)
        check_not_empty(section, found)
        section_duties = list(parse_section(section, kind, place or town, found))
        duties.extend(section_duties)
        named = kind or next((d.list for d in section_duties), None)
        if named is not None and named not in lists:
            lists.append(named)
    check_sequences(duties, found)
    check_rows(source, duties, found)
    duties, departments = resolve_departments(duties, town, found)
    published = find_published(dates)
    return NormalizedDocument(
        parser_version=parser_version(),
        path=source.path,
        sha256=source.sha256,
        format=source.format,
        encoding=source.encoding,
        town=town,
        rows_read=sum(len(section.rows) for section in tables.sections) + len(tables.orphans),
        lists=lists,
        published=published[0] if published else None,
        published_from=published[1] if published else None,
        duties=duties,
        departments=departments,
        findings=found.findings,
    )


def without_dates(rows: Iterable[Row], dates: list[tuple[int, str]]) -> Iterator[Row]:
    """Pass rows through, but keep aside a line that only dates the document (发布日期：…,
    or the date under the seal): it becomes the document's publication date, not a row."""
    for row in rows:
        if row.single is not None and date_line(row.single) is not None:
            dates.append((row.line, row.single))
            continue
        yield row


def check_not_empty(section: Section, found: Collector) -> None:
    """A list title with no table under it, or a header with no rows, is an error: a page
    whose table did not download must not read as an empty list."""
    if section.rows:
        return
    what = (f"has a header on line {section.header.line} and no rows" if section.header
            else "has no table under it")
    found.add("error", "empty-list", f"list {section.title!r} {what}; the file looks cut short "
              "or its table did not download — fetch it again (its list in the database is "
              "kept)", section.title_line, "title", section.title, section.sheet)


def document_headings(tables: Tables) -> Tables:
    """A title naming no list, with no header or rows before the next title, heads the
    document (株洲市攸县皇图岭镇履行职责事项清单 over 一、基本履职事项清单…)."""
    sections = []
    for section in tables.sections:
        if section.header is None and not section.rows and parse_list_kind(section.title) is None:
            tables.headings.append(Heading(section.title, section.title_line, section.sheet))
        else:
            sections.append(section)
    tables.sections = sections
    return tables


def document_place(headings: list[Heading]) -> Town | None:
    """The place a heading names: 株洲市攸县皇图岭镇履行职责事项清单 or 皇图岭镇 alone."""
    endings = sorted(titles().document, key=len, reverse=True)
    for heading in headings:
        text = "".join(heading.text.split())
        text = next((text[: -len(e)] for e in endings if text.endswith(e)), text)
        if text and (place := parse_place(text)) is not None:
            return place
    return None


def file_place(path: str, found: Collector) -> Town | None:
    """The place in the file's name, the last resort: 遵义市湄潭县永兴镇.txt -> 永兴镇."""
    stem = PurePath(path).stem
    endings = sorted([*titles().document, *titles().basic, *titles().cooperative,
                      *titles().withdrawn], key=len, reverse=True)
    stem = next((stem[: -len(e)] for e in endings if stem.endswith(e)), stem)
    place = parse_place(stem) if stem else None
    if place is not None:
        found.add("warning", "place-from-file-name", f"no title or heading names the place; "
                  f"took {place.name} from the file name. Add the place to the first title "
                  "if that is wrong", None, "title", stem)
    return place


def section_identity(section: Section, found: Collector) -> tuple[ListKind | None, Town | None]:
    """The list kind and the place a section's title names; findings where it names neither."""
    title = found.visible(section.title, section.title_line, "list title", section.sheet)
    named = parse_list_kind(title)
    if named is None:
        found.add("warning", "title-kind", f"title {section.title!r} ends with no known list "
                  "name (cut short?); the list is taken from its columns. If the title is "
                  "right, add its ending to pipeline/vocab/titles.toml",
                  section.title_line, "title", section.title, section.sheet)
        return None, None
    kind, place_text = named
    place_text = heading_mark().sub("", "".join(place_text.split()))
    if not place_text:
        return kind, None  # 一、基本履职事项清单 under a heading that names the place
    place = resolve_place(place_text)
    if place.problem:
        found.add("warning", "title-place", f"title {section.title!r}: {place.problem}",
                  section.title_line, "title", section.title, section.sheet)
    return kind, place.town


def parse_section(section: Section, kind: ListKind | None, town: Town | None,
                  found: Collector) -> Iterator[Duty]:
    """Duties of one list; when the header is unusable every row is quarantined, with one
    error for the list that says why."""
    for note in section.notes:
        found.add("warning", "note-row", f"a note under list {section.title!r} is not a duty; "
                  "kept here", note.line, None, note.raw, note.sheet)
    if section.header is None:
        if section.rows:
            quarantine_all(section, found, "no-header", f"list {section.title!r} has no 序号 "
                           f"header row before its {len(section.rows)} rows; add the header line",
                           section.title_line, section.title)
        return
    header = section.header
    for row in section.header_rows:
        for code, doubt in row.notes:  # what the reader doubts (a header word read by OCR)
            found.add("warning", code, doubt, row.line, None, row.raw, row.sheet)
    layout = parse_header(header.filled)
    kind = kind or layout.guess_kind()
    raw_header = "\n".join(row.raw for row in section.header_rows)
    if layout.extras:
        found.add("warning", "extra-columns", f"columns kept only in raw: {'、'.join(layout.extras)}",
                  header.line, None, raw_header, header.sheet)
    problem = header_problem(kind, layout)
    if problem:
        quarantine_all(section, found, "bad-header", f"{problem}; its {len(section.rows)} rows "
                       "are not loaded until the header is understood", header.line, raw_header)
        return
    places = tuple(p for p in (town.county, town.prefecture, town.province) if p) if town else ()
    starts = [index for index, _ in section.categories]
    under = [0] * len(starts)  # rows under each category heading
    heading = -1  # the category heading in force: its position in section.categories
    category: str | None = None
    for index, row in enumerate(section.rows):
        while heading + 1 < len(starts) and starts[heading + 1] <= index:
            heading += 1
            category = section.categories[heading][1].name
        for line in row.continued:
            found.add("warning", "continued-row", f"row continues the row on line {row.line} "
                      "(cut by a page break?); its cells are joined to that row", line.line,
                      None, line.raw, line.sheet)
        for part in (row, *row.continued):
            for code, doubt in part.notes:  # what the reader doubts (an OCR score)
                found.add("warning", code, doubt, part.line, None, part.raw, part.sheet)
        duty = parse_duty(row, kind, layout, category, found, places)
        if heading >= 0:
            under[heading] += 1
        if duty is not None and (heading < 0 or "category" in layout.fields):
            category = duty.category
        if duty is not None:
            yield duty
    check_category_counts(section, under, found)


def quarantine_all(section: Section, found: Collector, code: str, message: str, line: int,
                   raw: str) -> None:
    """One error for the list, then each row quarantined with the same short message, which
    the report folds into one line: one finding per cause."""
    found.add("error", "header" if code == "bad-header" else code, message, line, None, raw,
              section.sheet)
    for row in section.rows:
        found.quarantine(row, code, f"not loaded: see the error on line {line} "
                         f"({len(section.rows)} rows of list {section.title!r})")


def check_category_counts(section: Section, under: list[int], found: Collector) -> None:
    """一、党的建设（共22项）: a warning when the rows under the heading are not 22."""
    for (_, category), rows in zip(section.categories, under, strict=True):
        if category.stated is not None and category.stated != rows:
            found.add("warning", "category-count", f"category {category.name} states "
                      f"{category.stated} duties, {rows} rows are under it",
                      category.row.line, "category", category.row.raw, category.row.sheet)
        elif rows == 0:
            found.add("warning", "category-empty", f"category heading {category.name} has no "
                      "rows under it", category.row.line, "category", category.row.raw,
                      category.row.sheet)


def header_problem(kind: ListKind, layout: Layout) -> str | None:
    if layout.unknown:
        return (f"header {'、'.join(layout.unknown)} matches no field; add it as a synonym "
                f"in {HEADERS_FILE}")
    if missing := layout.missing(kind):
        return f"the {kind} list needs columns for {', '.join(missing)} (see {HEADERS_FILE})"
    return None


def parse_duty(row: Row, kind: ListKind, layout: Layout, category: str | None,
               found: Collector, places: tuple[str, ...] = ()) -> Duty | None:
    """One row → a Duty, or None with the row quarantined and the reason recorded.

    A row shorter than the header whose missing cells are only kept-in-raw columns (an empty
    备注 at the end) is ragged, not broken: it is read as if they were there, empty.
    """
    width = len(layout.fields)
    cells = row.filled if len(row.cells) > width else row.cells
    if len(cells) < width and all(f is None for f in layout.fields[len(cells):]):
        cells = cells + [""] * (width - len(cells))
    if len(cells) != width:
        hint = "a tab inside a cell?" if len(cells) > width else "a lost tab or a cut-off line?"
        cells_are = "cells" if row.sheet or "\t" not in row.raw else "tab-separated cells"
        found.quarantine(row, "cells", f"expected {width} {cells_are}, found {len(cells)} ({hint})")
        return None
    # Responsibility cells keep their markup for the steps stage; the others become plain text.
    values = {f: found.visible(cells[i].strip() if f in PARTIES else plain_text(cells[i]),
                               row.line, f, row.sheet)
              for i, f in enumerate(layout.fields) if f is not None}
    seq = parse_seq(values["seq"])
    if seq is None:
        what = "a second header row that differs from the first" if values["seq"] == "序号" \
            else f"序号 {values['seq']!r} is not a whole number"
        if seq_digits(values["seq"]) is not None:
            what = f"序号 {values['seq']!r} is larger than the {INT32_MAX:,} a database column holds"
        found.quarantine(row, "seq", f"{what}; fix the 序号 cell", "seq")
        return None
    if not values.get("title"):
        found.quarantine(row, "title", f"duty {seq} has an empty 事项名称; fill it in", "title")
        return None
    if values.get("category"):
        category = found.clean(values["category"], row.line, "category", row.sheet)
    # else: a blank under a filled one is a flattened merged cell, or the heading row's
    title = found.clean(values["title"], row.line, "title", row.sheet)
    context = Context(found, row.line, "", places, row.sheet)
    since = len(found.findings)
    steps, links = parse_responsibilities(values, context)
    check_text(values, steps, links, context, since)
    return Duty(list=kind, seq=seq, category=category, title=title, source_line=row.line,
                source_sheet=row.sheet, raw=row.cells, steps=steps, departments=links)


def parse_responsibilities(values: dict[str, str],
                           context: Context) -> tuple[list[Step], list[DutyDepartment]]:
    """Steps of each party, and the departments the columns name (as written for now)."""
    links = [DutyDepartment(department=name, role="counterpart", written=name)
             for name in split_departments(values.get("counterpart", ""))]
    links += [DutyDepartment(department=name, role="receiver", written=name)
              for name in split_departments(values.get("receiver_department", ""))]
    cells = {field: values[field] for field in PARTIES if field in values}
    if "receiver" in values:  # 承接部门及工作方式 in one cell: 玛纳斯县民政局： 由县民政局…
        receiver, cells["receiver"] = split_receiver(values["receiver"])
        if receiver:
            links.append(DutyDepartment(department=receiver, role="receiver", written=receiver))
        else:
            context.found.add("warning", "receiver-missing", "承接部门及工作方式 names no "
                              "department before a colon (玛纳斯县民政局： …); the text is kept "
                              "as the receiver's steps", context.line, "receiver",
                              values["receiver"], context.sheet)
    steps: list[Step] = []
    for field, cell in cells.items():
        party = PARTIES.get(field, "receiver")
        steps += parse_steps(cell, party, context.at(field))  # type: ignore[arg-type]
    return steps, links


@cache
def heading_mark() -> re.Pattern[str]:
    """A section heading's mark at the start of a text: 一、 （一）."""
    return re.compile("|".join(f"^(?:{mark})" for mark in numbering().headings))


def parse_seq(text: str) -> int | None:
    """parse_seq("１２") -> 12; parse_seq("12.") -> 12; parse_seq("十二") -> None;
    parse_seq("3000000000") -> None: over INT32_MAX, the most an INTEGER column holds."""
    digits = seq_digits(text)
    if digits is None or len(digits) > len(str(INT32_MAX)):  # int() refuses 4,300 digits
        return None
    number = int(digits)
    return number if number <= INT32_MAX else None


def seq_digits(text: str) -> str | None:
    """seq_digits("０１２.") -> "12"; seq_digits("十二") -> None."""
    text = text.translate(FULL_WIDTH_DIGITS).rstrip(".、．")
    return (text.lstrip("0") or "0") if text.isascii() and text.isdigit() else None


def check_sequences(duties: list[Duty], found: Collector) -> None:
    """Warn about a repeated or skipped 序号 within a list; both rows stay. 序号 starting
    again at 1 in a new category is how many towns number, and is no finding."""
    last: dict[str, tuple[int, str | None]] = {}
    seen: set[tuple[str, int]] = set()
    for duty in duties:
        before, category = last.get(duty.list, (0, duty.category))
        if duty.seq == 1 and before and category != duty.category:
            seen = {key for key in seen if key[0] != duty.list}  # numbering restarts
            before = 0
        key = (duty.list, duty.seq)
        if key in seen:
            found.add("warning", "seq-repeat", f"{duty.list} list repeats 序号 {duty.seq}; "
                      "both rows are kept", duty.source_line, "seq", "\t".join(duty.raw),
                      duty.source_sheet)
        elif duty.seq != before + 1:
            found.add("warning", "seq-gap", f"{duty.list} list goes from 序号 "
                      f"{before} to {duty.seq}", duty.source_line, "seq",
                      "\t".join(duty.raw), duty.source_sheet)
        seen.add(key)
        last[duty.list] = (duty.seq, duty.category)


def check_rows(source: Source, duties: list[Duty], found: Collector) -> None:
    """Rows counted from the container itself (count_rows) against duties + quarantined rows:
    an error when a numbered row of the source became neither."""
    try:
        counted = count_rows(source.format, source.data, source.encoding)
    except Exception as exc:  # the readers read it; a counter's own failure must not stop them
        found.add("warning", "rows-not-counted", f"the independent row count could not read "
                  f"the file ({type(exc).__name__}: {exc}); rows were not checked against it")
        return
    if counted is None:
        return
    quarantined = sum(1 for f in found.findings if f.code.startswith("row-") and f.raw is not None
                      and is_numbered(f.raw.split("\t", 1)[0]))
    if counted != len(duties) + quarantined:
        found.add("error", "rows-uncounted", f"the file holds {counted} numbered rows, counted "
                  f"from the {source.format} itself, but {len(duties)} duties + {quarantined} "
                  "quarantined rows account for "
                  f"{len(duties) + quarantined}; please report this with the file attached")


def check_text(values: dict[str, str], steps: list[Step], links: list[DutyDepartment],
               context: Context, since: int = 0) -> None:
    """An error when letters of a responsibility cell reached no step, heading, department or
    finding (conservation.lost_text); `since` is where the row's findings start."""
    kept: dict[str, list[str]] = {}
    sections: dict[str, str | None] = {}
    for step in steps:
        texts = kept.setdefault(step.party, [])
        if step.section != sections.get(step.party):  # a heading once, before its steps
            sections[step.party] = step.section
            texts.append(step.section or "")
        texts.append(step.text)
    held = [f for f in context.found.findings[since:] if f.code in HOLDING]
    for field in ("upper_duties", "town_duties", "receiver_method", "receiver"):
        if not values.get(field):
            continue
        party = PARTIES.get(field, "receiver")
        texts = kept.get(party, [])
        if field == "receiver":
            texts = [link.written for link in links if link.role == "receiver"] + texts
        texts += [f.raw or "" for f in held if f.field == field]
        if lost := lost_text(values[field], texts):
            context.found.add("error", "text-lost", f"{field}: {len(lost)} characters of the "
                              f"cell reached no step or heading ({lost[:40]!r}); please report "
                              "this with the file attached", context.line, field, values[field],
                              context.sheet)
