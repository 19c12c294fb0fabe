"""The catalogue across towns: every current duty linked to one item of its own list
(catalogue_items, duty_catalogue), the same duty of different towns sharing one item.

Matching runs on distinct normalized titles (versions.title_key, the folding search uses),
one list at a time, and remembers where each title went (catalogue_titles):

1. a title seen before goes where it went before; one equal to a reference item's title
   (pipeline catalogue import) goes to that item;
2. the other titles, most widespread first (then by title), are scored against every title
   placed so far (cosine of character 2–3-gram TF-IDF, versions.title_vectors). The best
   item must score ≥ SIMILAR and beat the runner-up item by ≥ MARGIN, the rule of
   versions.match_similar with its margin (bench/placement.py measured both here). A title
   below SIMILAR founds an item of its own; one that is near but not surely (under the
   margin) also founds its own item and each of its duties is a review (catalogue-unsure),
   never a guess; so does one that some town lists beside the item it is near (there they
   are two duties), with a review only in the towns that do not hold that item too;
3. a duty then takes its title's item, unless a manual decision (pipeline catalogue link /
   split, catalogue_decisions) says otherwise; within one town two duties never share an
   item: the weaker (not manual, lower score, later 序号) gets an item of its own and a review.

An item's canonical title is the reference's, else the wording most of its duties use (ties:
the smallest normalized title, then the smallest title); its category likewise. Ids come from
(list, founding title) — or (list, code) for a reference item, (list, title, town) for a
duty split off — so a rebuild gives the same ids.

update_catalogue() runs after the loads of every build, in a transaction of its own: only
lists whose current version is not the one matched are matched again (a new town's titles
against the items there are); rebuild=True (pipeline catalogue) matches everything again.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Engine, bindparam, delete, exists, func, select, text, update
from sqlalchemy.engine import Connection

from pipeline.db import Rows, insert_all, stable_id, writing
from pipeline.records import Finding
from pipeline.schema import (
    catalogue_decisions,
    catalogue_items,
    catalogue_reviews,
    catalogue_titles,
    documents,
    duties,
    duty_catalogue,
    list_versions,
    quality_issues,
)
from pipeline.versions import MARGIN, TitlePostings, title_key, title_vectors

if TYPE_CHECKING:
    import numpy as np

# Across towns a title is matched against items, each known by all its wordings; the margin
# over the runner-up item is versions.MARGIN (20). bench/placement.py measured SIMILAR on 20
# towns revised by bench/changes.py's reviser: at 40, precision 1.0 / 0.9985 and recall
# 0.983 / 0.980 (seeds 19 / 23), against 1.0 / 0.9985 and 0.980 / 0.973 at versions.SIMILAR's
# 50; at 35, two more wrong joins (残疾人证管理 into 残疾人服务保障).
SIMILAR = 40.0
CATALOGUE_LOCK = 0x636174616C6F67  # any constant bigint: "catalog"
LISTS = ("basic", "cooperative", "withdrawn")
CHUNK = 500  # ids per IN (…) list
# Places whose duties are linked at a time (their titles are placed all together first).
TOWNS_AT_ONCE = 100


@dataclass
class Item:
    id: int
    list: str
    title_key: str  # the title it was founded on
    source: str  # towns / reference
    code: str | None = None
    title: str | None = None  # a reference item's own title and category
    category: str | None = None
    towns: set[int] = field(default_factory=set)  # towns being matched that hold it
    elsewhere: bool = False  # held by a town not being matched (so not an empty item)


@dataclass(frozen=True)
class Placement:
    """Where a distinct title went."""

    item_id: int
    score: float
    method: str  # exact (its own item) / similar / reference
    reason: str | None = None  # unsure / same-town: near an item but given its own
    candidates: tuple[tuple[int, float], ...] = ()


class DutyRow(NamedTuple):  # a tuple: a list's duties are read by the hundred thousand
    id: int
    town_id: int
    seq: int
    title: str
    category: str | None
    key: str
    version_id: int
    document_id: int
    path: str
    line: int
    sheet: str | None


class Link(NamedTuple):
    duty: DutyRow
    item_id: int
    score: float | None
    method: str
    reason: str | None = None
    candidates: tuple[tuple[int, float], ...] = ()


# Matching, without a database ---------------------------------------------------------------

def place_titles(kind: str, known: dict[str, int], new: dict[str, set[int]],
                 items: dict[int, Item]) -> dict[str, Placement]:
    """Place each title of `new` (title key → towns holding it) among `items`, next to the
    titles of `known` (title key → item); new items are added to `items`.

    Holds every title of the list at once: one row of scores per title, against all.
    """
    import numpy as np

    if not new:
        return {}
    # Every order here is by title, not by the database's row order: SQLite and PostgreSQL
    # must break ties alike.
    references = {item.title_key: item.id for item in sorted(items.values(), key=lambda i: i.id)
                  if item.source == "reference"}
    known = dict(sorted(known.items()))
    order = sorted(new, key=lambda key: (-len(new[key]), key))
    anchors = sorted(key for key in references if key not in known and key not in new)
    columns = [*known, *anchors, *order]
    labels = np.array([*known.values(), *(references[k] for k in anchors), *[-1] * len(order)],
                      dtype=np.int64)
    vectors = title_vectors(columns)
    postings = TitlePostings(vectors)
    start = len(columns) - len(order)
    placed: dict[str, Placement] = {}
    for offset, key in enumerate(order):
        towns = new[key]
        if key in references:
            placement = Placement(references[key], 100.0, "reference")
        else:
            ranked = rank_items(postings.scores(vectors[start + offset]), labels)
            placement = nearest(kind, key, towns, ranked, items)
        labels[start + offset] = placement.item_id
        items[placement.item_id].towns |= towns
        placed[key] = placement
    return placed


def rank_items(scores: "np.ndarray[Any, Any]", labels: "np.ndarray[Any, Any]",
               count: int = 3) -> list[tuple[int, float]]:
    """The `count` items nearest by their nearest placed title: [(item id, score)], best first.

    rank_items(array([90., 80., 10.]), array([7, 7, 8])) -> [(7, 90.0), (8, 10.0)]
    """
    import numpy as np

    placed = np.flatnonzero(labels >= 0)
    if not len(placed):
        return []
    values = scores[placed]
    top = min(len(values), 64)
    nearest_columns = np.argpartition(-values, top - 1)[:top]
    nearest_columns = nearest_columns[np.lexsort((nearest_columns, -values[nearest_columns]))]
    ranked: list[tuple[int, float]] = []
    for column in nearest_columns:
        item = int(labels[placed[column]])
        if all(item != seen for seen, _ in ranked):
            ranked.append((item, float(values[column])))
        if len(ranked) == count:
            return ranked
    others = labels[placed] != ranked[0][0]  # the top 64 all of one item: look further
    if len(ranked) == 1 and others.any():
        column = int(np.flatnonzero(others)[np.argmax(values[others])])
        ranked.append((int(labels[placed[column]]), float(values[column])))
    return ranked


def nearest(kind: str, key: str, towns: set[int], ranked: list[tuple[int, float]],
            items: dict[int, Item]) -> Placement:
    """The item a new title joins, or an item of its own (with why, when it was near one)."""
    best_id, best = ranked[0] if ranked else (0, 0.0)
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    candidates = tuple((item, round(score, 1)) for item, score in ranked)
    if best < SIMILAR:
        return Placement(own_item(kind, key, items), 100.0, "exact")
    if best - runner_up < MARGIN:
        return Placement(own_item(kind, key, items), 100.0, "exact", "unsure", candidates)
    if towns & items[best_id].towns:  # a town holding both is two duties, not one
        return Placement(own_item(kind, key, items), 100.0, "exact", "same-town", candidates)
    method = "reference" if items[best_id].source == "reference" else "similar"
    return Placement(best_id, round(best, 1), method)


def own_item(kind: str, key: str, items: dict[int, Item], *town: int) -> int:
    """A new item founded on `key` (and `town`, for a duty split off): its id from them, the
    next free one when taken; an empty item of the same title is taken back (a reloaded list)."""
    for attempt in range(1000):
        item_id = stable_id("catalogue", kind, key, *town, *([attempt] if attempt else []))
        found = items.get(item_id)
        if found is None:
            items[item_id] = Item(item_id, kind, key, "towns")
            return item_id
        if (found.title_key == key and found.source == "towns" and not found.towns
                and not found.elsewhere):
            return item_id
    raise RuntimeError(f"no free catalogue id for {key!r}")  # a thousand collisions: a bug


def link_duties(kind: str, rows: Sequence[DutyRow], titles: dict[str, Placement],
                decisions: dict[tuple[int, str], int | None],
                items: dict[int, Item]) -> list[Link]:
    """Each duty's link: a manual decision, else its title's item; then no two duties of one
    town in one item (the weaker gets its own item and a review)."""
    links: list[Link] = []
    for row in rows:
        placement = titles[row.key]
        decided = (row.town_id, row.key)
        if decided in decisions:
            target = decisions[decided]
            if target is None:
                links.append(Link(row, own_item(kind, row.key, items, row.town_id), None,
                                  "manual"))
                continue
            if target in items:
                links.append(Link(row, target, None, "manual"))
                continue
            links.append(Link(row, placement.item_id, placement.score, placement.method,
                              "stale", ((target, 0.0),)))
            continue
        links.append(Link(row, placement.item_id, placement.score, placement.method,
                          placement.reason, placement.candidates))
    held: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, link in enumerate(links):
        held[(link.duty.town_id, link.item_id)].append(index)
    for (town, item_id), indexes in held.items():
        if len(indexes) == 1:
            continue
        ranked = sorted(indexes, key=lambda i: (links[i].method != "manual",
                                                -(links[i].score or 100.0), links[i].duty.seq))
        for index in ranked[1:]:
            link = links[index]
            links[index] = Link(link.duty, own_item(kind, link.duty.key, items, town), 100.0,
                                "exact", "same-town", ((item_id, link.score or 100.0),))
    for link in links:
        items[link.item_id].towns.add(link.duty.town_id)
    # A title kept apart because some town holds it beside the item it is near is no question
    # in the towns that hold both: there they are two duties.
    holding = {(link.duty.town_id, link.item_id) for link in links}
    return [Link(link.duty, link.item_id, link.score, link.method)
            if link.reason == "same-town" and settled_apart(link, titles[link.duty.key], holding)
            else link for link in links]


def settled_apart(link: Link, placement: Placement, held: set[tuple[int, int]]) -> bool:
    """True for a duty whose title was kept apart from an item its own town also holds."""
    return (link.reason == "same-town" and placement.reason == "same-town"
            and link.item_id == placement.item_id
            and (link.duty.town_id, placement.candidates[0][0]) in held)


def canonical(wordings: Iterable[tuple[str | None, int]]) -> str | None:
    """The wording most duties use; ties by the smallest normalized form, then the smallest.

    canonical([("加强宣传", 2), ("加强 宣传", 2), ("强化宣传", 1)]) -> "加强 宣传"
    """
    counts: Counter[str | None] = Counter()
    for wording, number in wordings:
        counts[wording] += number
    if not counts:
        return None
    return min(counts, key=lambda w: (-counts[w], w is None, title_key(w or ""), w or ""))


# The database ------------------------------------------------------------------------------

@dataclass
class CatalogueOutcome:
    """What one update did: the lists matched, and the reviews it made (as findings)."""

    lists: int = 0  # (place, list) pairs matched
    duties: int = 0
    items: dict[str, int] = field(default_factory=dict)  # items per list afterwards
    findings: list[Finding] = field(default_factory=list)

    def summary(self) -> str:
        per_list = ", ".join(f"{kind} {n:,}" for kind, n in self.items.items())
        reviews = (f"; {len(self.findings)} to review (pipeline catalogue review)"
                   if self.findings else "")
        return (f"catalogue: {self.duties:,} duties of {self.lists:,} lists matched; "
                f"items {per_list}{reviews}")


def update_catalogue(engine: Engine, run_id: int, rebuild: bool = False,
                     lists: Sequence[str] = LISTS) -> CatalogueOutcome:
    """Match the lists whose current version is not matched yet (all of `lists` with
    rebuild=True), in one transaction; manual decisions and reference items are kept."""
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOGUE_LOCK})
        return match_lists(conn, run_id, rebuild, lists)


def rebuild_catalogue(engine: Engine, arguments: list[str]) -> CatalogueOutcome:
    """pipeline catalogue: every list matched again, as a run of its own."""
    from pipeline.db import finish_run, start_run
    from pipeline.schema import ensure_schema

    ensure_schema(engine)
    run_id = start_run(engine, arguments)
    outcome = update_catalogue(engine, run_id, rebuild=True)
    finish_run(engine, run_id, {})
    return outcome


def match_lists(conn: Connection, run_id: int, rebuild: bool = False,
                lists: Sequence[str] = LISTS,
                only: set[tuple[int, str]] | None = None) -> CatalogueOutcome:
    """update_catalogue inside a transaction; `only` forces those (place, list) pairs."""
    if rebuild:
        clear(conn, lists)
    stale = unmatched(conn) | (only or set())
    outcome = CatalogueOutcome()
    touched = Touched()
    for kind in lists:
        towns = sorted(town for town, each in stale if each == kind)
        if towns:
            outcome.lists += len(towns)
            matched, findings = match_list(conn, run_id, kind, towns, touched)
            outcome.duties += matched
            outcome.findings += findings
    collect_garbage(conn, None if rebuild else touched)
    if outcome.lists:
        outcome.items = {kind: int(n) for kind, n in conn.execute(text(
            "SELECT list, count(*) FROM catalogue_items GROUP BY list ORDER BY list"))}
    return outcome


def clear(conn: Connection, lists: Sequence[str]) -> None:
    """Forget every match of these lists (not the decisions, not the reference items)."""
    reviews = select(duty_catalogue.c.duty_id).where(duty_catalogue.c.list.in_(lists))
    conn.execute(delete(catalogue_reviews).where(catalogue_reviews.c.duty_id.in_(reviews)))
    conn.execute(delete(duty_catalogue).where(duty_catalogue.c.list.in_(lists)))
    conn.execute(delete(catalogue_titles).where(catalogue_titles.c.list.in_(lists)))
    conn.execute(delete(catalogue_items).where(catalogue_items.c.list.in_(lists),
                                               catalogue_items.c.source == "towns"))


def unmatched(conn: Connection) -> set[tuple[int, str]]:
    """(place, list) pairs whose current version is not the one their links were made for:
    a list with duties and no link of its current version, or an emptied list with links
    left. A list's links are written all at once (match_list), so one link of the current
    version means all of them; a probe per current version, not a scan of every duty."""
    query = text("""
SELECT v.town_id, v.list FROM list_versions v
WHERE v.is_current AND NOT EXISTS (
  SELECT 1 FROM duty_catalogue c
  WHERE c.town_id = v.town_id AND c.list = v.list AND c.version_id = v.id)
AND (v.duties > 0 OR EXISTS (
  SELECT 1 FROM duty_catalogue c WHERE c.town_id = v.town_id AND c.list = v.list))""")
    return {(town, kind) for town, kind in conn.execute(query)}


@dataclass
class Touched:
    """What an incremental match changed: the items and distinct titles whose links it
    forgot or made (only these can be left empty), and for each (item, title, category) the
    links made less those forgotten: only an item whose count changed is named again. A link
    made before links kept their wording counts as (item, None, None), so its item is named."""

    items: set[int] = field(default_factory=set)
    titles: set[int] = field(default_factory=set)
    wordings: Counter[tuple[int, str | None, str | None]] = field(default_factory=Counter)

    def renamed(self, named: dict[int, tuple[str | None, str | None]]) -> set[int]:
        """The items to name again, given their names now (`named`): those whose wordings
        changed, except where every change adds duties worded as the item is named (the
        commonest wording and category only grow)."""
        changed: dict[int, bool] = {}
        for (item, title, category), change in self.wordings.items():
            if change:
                grows = change > 0 and named.get(item) == (title, category)
                changed[item] = changed.get(item, True) and grows
        return {item for item, only_grows in changed.items() if not only_grows}


def match_list(conn: Connection, run_id: int, kind: str, towns: list[int],
               touched: Touched) -> tuple[int, list[Finding]]:
    """Match the current duties of one list of these places again; returns how many, and the
    reviews made. The items and titles whose links change are added to `touched`.

    The distinct titles are placed all at once (which places hold each is all they need);
    the duties are then linked TOWNS_AT_ONCE places at a time, so that memory holds one
    batch's duties, not a whole list's (ten thousand towns are 2.5 million duties)."""
    forget_links(conn, kind, towns, touched)
    keys: dict[str, str] = {}  # title → title_key: most titles recur in many towns
    items = read_items(conn, kind)
    known = {key: Placement(item, score, method, reason, tuple(map(tuple, json.loads(c or "[]"))))
             for key, item, score, method, reason, c in conn.execute(
                 select(catalogue_titles.c.title_key, catalogue_titles.c.item_id,
                        catalogue_titles.c.score, catalogue_titles.c.method,
                        catalogue_titles.c.reason, catalogue_titles.c.candidates)
                 .where(catalogue_titles.c.list == kind))}
    new: dict[str, set[int]] = defaultdict(set)
    for key, holders in read_titles(conn, kind, towns, keys).items():
        if key in known:
            items[known[key].item_id].towns |= holders
        else:
            new[key] = holders
    placed = place_titles(kind, {key: p.item_id for key, p in known.items()}, new, items)
    known |= placed
    ids = {key: title_id(kind, key) for key in set(keys.values())}
    touched.items |= save_items(conn, kind, items)
    if placed:
        conn.execute(catalogue_titles.insert(), [
            {"title_id": ids[key], "list": kind, "title_key": key,
             "item_id": p.item_id, "score": p.score,
             "method": p.method, "reason": p.reason,
             "candidates": json.dumps(p.candidates) if p.candidates else None}
            for key, p in placed.items()])
    decisions = {(town, key): item for town, key, item in conn.execute(
        select(catalogue_decisions.c.town_id, catalogue_decisions.c.title_key,
               catalogue_decisions.c.item_id).where(catalogue_decisions.c.list == kind))}
    touched.titles |= set(ids.values())
    matched, findings = 0, []
    for batch in chunks(towns, TOWNS_AT_ONCE):
        rows = read_duties(conn, kind, batch, keys)
        links = link_duties(kind, rows, known, decisions, items)
        touched.items |= save_items(conn, kind, items) | {link.item_id for link in links}
        touched.wordings.update((link.item_id, link.duty.title, link.duty.category)
                                for link in links)
        insert_all(conn, duty_catalogue, Rows(LINK_COLUMNS, [
            (link.duty.id, link.item_id, link.score, link.method, link.duty.town_id, kind,
             link.duty.key, ids[link.duty.key], link.duty.version_id, link.duty.title,
             link.duty.category) for link in links]))
        matched += len(links)
        findings += save_reviews(conn, run_id, kind, [link for link in links if link.reason],
                                 items)
    return matched, findings


LINK_COLUMNS = ("duty_id", "item_id", "score", "method", "town_id", "list", "title_key",
                "title_id", "version_id", "title", "category")


def forget_links(conn: Connection, kind: str, towns: list[int], touched: Touched) -> None:
    for chunk in chunks(towns):
        where = (duty_catalogue.c.list == kind, duty_catalogue.c.town_id.in_(chunk))
        for item_id, title, wording, category in conn.execute(
                select(duty_catalogue.c.item_id, duty_catalogue.c.title_id,
                       duty_catalogue.c.title, duty_catalogue.c.category).where(*where)):
            touched.items.add(item_id)
            touched.titles.add(title)
            touched.wordings[(item_id, wording, category)] -= 1
        linked = select(duty_catalogue.c.duty_id).where(*where)
        conn.execute(delete(catalogue_reviews).where(catalogue_reviews.c.duty_id.in_(linked)))
        conn.execute(delete(duty_catalogue).where(duty_catalogue.c.list == kind,
                                                  duty_catalogue.c.town_id.in_(chunk)))


def current_duties(kind: str, towns: list[int], *columns: Any) -> Any:
    """The current duties of one list of these places: a query of `columns`."""
    return (select(*columns)
            .join(list_versions, (list_versions.c.town_id == duties.c.town_id)
                  & (list_versions.c.list == duties.c.list) & list_versions.c.is_current)
            .where(duties.c.list == kind, duties.c.town_id.in_(towns)))


def read_titles(conn: Connection, kind: str, towns: list[int],
                keys: dict[str, str]) -> dict[str, set[int]]:
    """Each distinct normalized title of the list's current duties → the places holding it;
    `keys` (title → title_key) is filled as titles are seen."""
    holders: dict[str, set[int]] = defaultdict(set)
    for chunk in chunks(towns):
        for town, title in conn.execute(current_duties(kind, chunk, duties.c.town_id,
                                                       duties.c.title).distinct()).all():
            holders[keys.get(title) or keys.setdefault(title, title_key(title))].add(town)
    return holders


def read_duties(conn: Connection, kind: str, towns: list[int],
                keys: dict[str, str]) -> list[DutyRow]:
    found: list[DutyRow] = []
    for chunk in chunks(towns):
        query = current_duties(kind, chunk, duties.c.id, duties.c.town_id, duties.c.seq,
                               duties.c.title, duties.c.category, list_versions.c.id,
                               duties.c.document_id, documents.c.path, duties.c.source_line,
                               duties.c.source_sheet).join(
            documents, documents.c.id == duties.c.document_id)
        found += [DutyRow(duty, town, seq, title, category,
                          keys.get(title) or keys.setdefault(title, title_key(title)), version,
                          document, path, line, sheet)
                  for duty, town, seq, title, category, version, document, path, line, sheet
                  in conn.execute(query).all()]
    return sorted(found, key=lambda row: (row.town_id, row.seq, row.id))


def read_items(conn: Connection, kind: str) -> dict[int, Item]:
    """The list's items, each marked when a duty of a town not being matched holds it (the
    towns being matched have had their links forgotten): a probe per item, not a scan."""
    held = exists().where(duty_catalogue.c.item_id == catalogue_items.c.id)
    return {row.id: Item(row.id, kind, row.title_key, row.source, row.code,
                         row.title if row.source == "reference" else None,
                         row.category if row.source == "reference" else None,
                         elsewhere=row.held)
            for row in conn.execute(select(catalogue_items, held.label("held"))
                                    .where(catalogue_items.c.list == kind))}


def save_items(conn: Connection, kind: str, items: dict[int, Item]) -> set[int]:
    """Insert the items made by this match (name_items gives them their titles); their ids."""
    present = set(conn.execute(select(catalogue_items.c.id).where(
        catalogue_items.c.list == kind)).scalars())
    fresh = [item for item in items.values() if item.id not in present]
    if fresh:
        conn.execute(catalogue_items.insert(), [
            {"id": item.id, "list": item.list, "title": item.title_key,
             "title_key": item.title_key, "category": None, "code": None, "source": item.source}
            for item in fresh])
    return {item.id for item in fresh}


def save_reviews(conn: Connection, run_id: int, kind: str, links: list[Link],
                 items: dict[int, Item]) -> list[Finding]:
    """A review row and a warning finding for each duty given an item of its own though near
    another (or whose manual link points to an item that is gone)."""
    if not links:
        return []
    titles = dict(conn.execute(select(catalogue_items.c.id, catalogue_items.c.title).where(
        catalogue_items.c.id.in_(sorted({i for link in links for i, _ in link.candidates})))
        ).all())
    findings = [review_finding(kind, link, titles) for link in links]
    ids = conn.execute(quality_issues.insert().returning(quality_issues.c.id,
                                                         sort_by_parameter_order=True),
                       [{"run_id": run_id, "document_id": link.duty.document_id,
                         **finding.model_dump()} for link, finding in zip(links, findings,
                                                                         strict=True)]
                       ).scalars().all()
    conn.execute(catalogue_reviews.insert(), [
        {"duty_id": link.duty.id, "item_id": link.item_id, "reason": link.reason,
         "candidates": json.dumps([[i, titles.get(i), score] for i, score in link.candidates],
                                  ensure_ascii=False),
         "finding_id": finding_id}
        for link, finding_id in zip(links, ids, strict=True)])
    return findings


WHY = {
    "unsure": "is near more than one catalogue item, none surely",
    "same-town": "is near an item its town already holds through another duty",
    "stale": "was linked by hand to an item that no longer exists",
}


def review_finding(kind: str, link: Link, titles: dict[int, str]) -> Finding:
    near = "; ".join(f"item {item} {titles.get(item, '?')} ({score:.0f}%)"
                     for item, score in link.candidates)
    return Finding(path=link.duty.path, sheet=link.duty.sheet, line=link.duty.line,
                   field="title", code="catalogue-unsure", severity="warning",
                   message=f"{kind} duty {link.duty.seq} {link.duty.title!r} {WHY[link.reason or 'unsure']}: "
                           f"{near}; kept as item {link.item_id} (pipeline catalogue review; "
                           f"link DUTY ITEM or split DUTY decides)", raw=link.duty.title)


def collect_garbage(conn: Connection, touched: Touched | None = None) -> None:
    """Drop items left without a duty (reference items stay) and titles no duty has, and give
    items their canonical title and category: every item, or with `touched` (an incremental
    match, whose forgotten links it has dropped itself) only those whose links changed. With
    every item, links of duties gone (a place forgotten) are dropped first."""
    if touched is None:
        conn.execute(delete(duty_catalogue).where(
            ~duty_catalogue.c.duty_id.in_(select(duties.c.id))))
        conn.execute(delete(catalogue_reviews).where(~catalogue_reviews.c.duty_id.in_(
            select(duty_catalogue.c.duty_id))))
    for chunk in [None] if touched is None else chunks(sorted(touched.items)):
        empty = select(catalogue_items.c.id).where(
            catalogue_items.c.source == "towns",
            ~exists().where(duty_catalogue.c.item_id == catalogue_items.c.id),
            *([] if chunk is None else [catalogue_items.c.id.in_(chunk)]))
        conn.execute(delete(catalogue_titles).where(catalogue_titles.c.item_id.in_(empty)))
        conn.execute(delete(catalogue_items).where(catalogue_items.c.id.in_(empty)))
    unlinked = ~exists().where(duty_catalogue.c.title_id == catalogue_titles.c.title_id)
    for chunk in [None] if touched is None else chunks(sorted(touched.titles)):
        conn.execute(delete(catalogue_titles).where(
            unlinked, *([] if chunk is None else [catalogue_titles.c.title_id.in_(chunk)])))
    if touched is None:
        name_items(conn)
        return
    named: dict[int, tuple[str | None, str | None]] = {}
    for chunk in chunks(sorted(touched.items)):
        named.update((item, (title, category)) for item, title, category in conn.execute(
            select(catalogue_items.c.id, catalogue_items.c.title, catalogue_items.c.category)
            .where(catalogue_items.c.id.in_(chunk))))
    name_items(conn, touched.renamed(named))


def name_items(conn: Connection, only: set[int] | None = None) -> None:
    """Each item's canonical title and category from its duties (a reference item keeps its
    own): of every item, or of those `only` names. The wordings are the links' own; a link
    made before links kept them reads its duty's."""
    wordings: dict[int, list[tuple[str | None, int]]] = defaultdict(list)
    categories: dict[int, list[tuple[str | None, int]]] = defaultdict(list)
    current: dict[int, tuple[str, str | None]] = {}
    link = duty_catalogue.c
    for chunk in [None] if only is None else chunks(sorted(only)):
        mine = [catalogue_items.c.source == "towns",
                *([] if chunk is None else [catalogue_items.c.id.in_(chunk)])]
        kept = (select(link.item_id, link.title, link.category, func.count())
                .join(catalogue_items, catalogue_items.c.id == link.item_id)
                .where(link.title.is_not(None), *mine)
                .group_by(link.item_id, link.title, link.category))
        older = (select(link.item_id, duties.c.title, duties.c.category, func.count())
                 .join(duties, duties.c.id == link.duty_id)
                 .join(catalogue_items, catalogue_items.c.id == link.item_id)
                 .where(link.title.is_(None), *mine)
                 .group_by(link.item_id, duties.c.title, duties.c.category))
        for item_id, title, category, number in conn.execute(kept.union_all(older)):
            wordings[item_id].append((title, number))
            categories[item_id].append((category, number))
        current.update((row.id, (row.title, row.category)) for row in conn.execute(
            select(catalogue_items.c.id, catalogue_items.c.title, catalogue_items.c.category)
            .where(catalogue_items.c.source == "towns", *mine)))
    changed = [{"item": item_id, "new_title": title, "new_category": category}
               for item_id, found in wordings.items()
               if (title := canonical(found), category := canonical(categories[item_id]))
               != current.get(item_id)]
    if changed:
        conn.execute(update(catalogue_items).where(catalogue_items.c.id == bindparam("item"))
                     .values(title=bindparam("new_title"), category=bindparam("new_category")),
                     changed)


def title_id(kind: str, key: str) -> int:
    """The id of a distinct title of a list (catalogue_titles), from the title itself."""
    return stable_id("title", kind, key)


def chunks(values: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]
