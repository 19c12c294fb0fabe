"""Records stage: a read source → one NormalizedDocument, with every problem as a finding.

Nothing is lost: each data row becomes a Duty, or an error Finding whose code starts
with "row-" and which carries the row's raw text (a quarantined row).
"""

from collections.abc import Iterable, Iterator

from pipeline import parser_version
from pipeline.dates import date_line, find_published
from pipeline.departments import resolve_departments, split_departments, split_receiver
from pipeline.errors import SourceError
from pipeline.findings import Collector
from pipeline.layout import HEADERS_FILE, Layout, parse_header, parse_list_kind, resolve_place
from pipeline.records import Duty, DutyDepartment, ListKind, NormalizedDocument, Step, Town
from pipeline.sources import Source
from pipeline.steps import Context, parse_steps, plain_text
from pipeline.tables import Row, Section, parse_tables

FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# Responsibility columns and the party (上级部门 / 镇 / 承接部门) whose steps they hold.
PARTIES = {"upper_duties": "upper", "town_duties": "town", "receiver_method": "receiver"}


def normalize_document(source: Source) -> NormalizedDocument:
    """Turn a decoded source into duties and findings; raise SourceError if it holds no list."""
    found = Collector(source.path)
    dates: list[tuple[int, str]] = []  # lines where the document dates itself: not rows
    tables = parse_tables(without_dates(source.rows, dates))
    if not tables.sections:
        raise SourceError(source.path, "no list title found: expected a line ending in "
                          "基本履职事项清单, 配合履职事项清单 or 上级部门收回事项清单 "
                          "(another ending? add it to pipeline/vocab/titles.toml)", "no-list")
    for row in tables.orphans:
        found.quarantine(row, "outside-list", "row comes before any list title; "
                         "add the title line above it or delete the row")
    town: Town | None = None
    duties: list[Duty] = []
    lists: list[ListKind] = []
    for section in tables.sections:
        kind, place = section_identity(section, found)
        if place is not None and town is None:
            town = place
        elif place is not None and town is not None and place.key != town.key:
            found.add("warning", "title-place", f"title names {place.name}, earlier titles "
                      f"named {town.name if town else '?'}; rows are filed under the first",
                      section.title_line, "title", section.title, section.sheet)
        check_not_empty(section, found)
        section_duties = list(parse_section(section, kind, place or town, found))
        duties.extend(section_duties)
        named = kind or next((d.list for d in section_duties), None)
        if named is not None and named not in lists:
            lists.append(named)
    if town is None:
        raise SourceError(source.path, "no list title names a place (…县…镇 or …街道); "
                          "check the titles, or add the place kind to pipeline/vocab/places.toml",
                          "no-place")
    check_sequences(duties, found)
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


def section_identity(section: Section, found: Collector) -> tuple[ListKind | None, Town | None]:
    """The list kind and the place a section's title names; findings where it names neither."""
    named = parse_list_kind(section.title)
    if named is None:
        found.add("warning", "title-kind", f"title {section.title!r} ends with no known list "
                  "name (cut short?); the list is taken from its columns. If the title is "
                  "right, add its ending to pipeline/vocab/titles.toml",
                  section.title_line, "title", section.title, section.sheet)
        return None, None
    kind, place_text = named
    place = resolve_place(place_text)
    if place.problem:
        found.add("warning", "title-place", f"title {section.title!r}: {place.problem}",
                  section.title_line, "title", section.title, section.sheet)
    return kind, place.town


def parse_section(section: Section, kind: ListKind | None, town: Town | None,
                  found: Collector) -> Iterator[Duty]:
    """Duties of one list; when the header is unusable every row is quarantined."""
    if section.header is None:
        for row in section.rows:
            found.quarantine(row, "no-header", f"list {section.title!r} has no 序号 header row "
                             "before its rows; add the header line")
        return
    layout = parse_header(section.header.filled)
    kind = kind or layout.guess_kind()
    header = section.header
    if layout.extras:
        found.add("warning", "extra-columns", f"columns kept only in raw: {'、'.join(layout.extras)}",
                  header.line, None, header.raw, header.sheet)
    problem = header_problem(kind, layout)
    if problem:
        found.add("error", "header", problem, header.line, None, header.raw, header.sheet)
        for row in section.rows:
            found.quarantine(row, "bad-header", f"not loaded: the header on line {header.line} "
                             "is not understood")
        return
    places = tuple(p for p in (town.county, town.prefecture, town.province) if p) if town else ()
    category: str | None = None
    for row in section.rows:
        duty = parse_duty(row, kind, layout, category, found, places)
        if duty is not None:
            category = duty.category
            yield duty


def header_problem(kind: ListKind, layout: Layout) -> str | None:
    if layout.unknown:
        return (f"header {'、'.join(layout.unknown)} matches no field; add it as a synonym "
                f"in {HEADERS_FILE}")
    if missing := layout.missing(kind):
        return f"the {kind} list needs columns for {', '.join(missing)} (see {HEADERS_FILE})"
    return None


def parse_duty(row: Row, kind: ListKind, layout: Layout, category: str | None,
               found: Collector, places: tuple[str, ...] = ()) -> Duty | None:
    """One row → a Duty, or None with the row quarantined and the reason recorded."""
    width = len(layout.fields)
    cells = row.filled if len(row.cells) > width else row.cells
    if len(cells) != width:
        hint = "a tab inside a cell?" if len(cells) > width else "a lost tab or a cut-off line?"
        cells_are = "cells" if row.sheet else "tab-separated cells"
        found.quarantine(row, "cells", f"expected {width} {cells_are}, found {len(cells)} ({hint})")
        return None
    # Responsibility cells keep their markup for the steps stage; the others become plain text.
    values = {f: cells[i].strip() if f in PARTIES else plain_text(cells[i])
              for i, f in enumerate(layout.fields) if f is not None}
    seq = parse_seq(values["seq"])
    if seq is None:
        what = "a second header row that differs from the first" if values["seq"] == "序号" \
            else f"序号 {values['seq']!r} is not a whole number"
        found.quarantine(row, "seq", f"{what}; fix the 序号 cell", "seq")
        return None
    if not values.get("title"):
        found.quarantine(row, "title", f"duty {seq} has an empty 事项名称; fill it in", "title")
        return None
    if "category" in values:
        # A blank under a filled one is a flattened merged cell: same as above.
        category = found.clean(values["category"], row.line, "category", row.sheet) or category
    else:
        category = None
    title = found.clean(values["title"], row.line, "title", row.sheet)
    steps, links = parse_responsibilities(values, Context(found, row.line, "", places, row.sheet))
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


def parse_seq(text: str) -> int | None:
    """parse_seq("１２") -> 12; parse_seq("12.") -> 12; parse_seq("十二") -> None."""
    text = text.translate(FULL_WIDTH_DIGITS).rstrip(".、．")
    return int(text) if text.isascii() and text.isdigit() else None


def check_sequences(duties: list[Duty], found: Collector) -> None:
    """Warn about a repeated or skipped 序号 within a list; both rows stay."""
    last: dict[str, int] = {}
    seen: set[tuple[str, int]] = set()
    for duty in duties:
        if (duty.list, duty.seq) in seen:
            found.add("warning", "seq-repeat", f"{duty.list} list repeats 序号 {duty.seq}; "
                      "both rows are kept", duty.source_line, "seq", "\t".join(duty.raw),
                      duty.source_sheet)
        elif duty.seq != last.get(duty.list, 0) + 1:
            found.add("warning", "seq-gap", f"{duty.list} list goes from 序号 "
                      f"{last.get(duty.list, 0)} to {duty.seq}", duty.source_line, "seq",
                      "\t".join(duty.raw), duty.source_sheet)
        seen.add((duty.list, duty.seq))
        last[duty.list] = duty.seq
