"""Reviewing the catalogue: the unsure matches with their candidates (read), and the
decisions that settle them (pipeline catalogue link / split, written to catalogue_decisions).

A decision is keyed on (place, list, normalized title), not on the duty's id: it holds for
every later version of the list in which the duty keeps its title (a respelling that folds
to the same title included), and a rebuild (pipeline catalogue) applies it again. A duty
whose title changes is a new duty to the catalogue, and is matched afresh.
"""

import json
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select, text
from sqlalchemy.engine import Connection

from pipeline.catalogue import CATALOGUE_LOCK, CatalogueOutcome, match_lists
from pipeline.db import finish_run, now, start_run, writing
from pipeline.errors import UsageError
from pipeline.schema import (
    catalogue_decisions,
    catalogue_items,
    catalogue_reviews,
    duties,
    duty_catalogue,
    towns,
)
from pipeline.versions import title_key

Candidates = list[tuple[int, str | None, float]]  # (item id, title, score), nearest first


@dataclass(frozen=True)
class Review:
    duty_id: int
    town: str
    list: str
    seq: int
    title: str
    item_id: int  # the item it was given
    reason: str  # unsure / same-town / stale
    candidates: Candidates


def list_reviews(engine: Engine) -> list[Review]:
    """Every duty the catalogue kept apart though it was near another item, by town and list."""
    from pipeline.schema import ensure_schema

    ensure_schema(engine)  # a database built before the catalogue existed has none to list
    query = (select(catalogue_reviews.c.duty_id, towns.c.name, duties.c.list, duties.c.seq,
                    duties.c.title, catalogue_reviews.c.item_id, catalogue_reviews.c.reason,
                    catalogue_reviews.c.candidates)
             .join(duties, duties.c.id == catalogue_reviews.c.duty_id)
             .join(towns, towns.c.id == duties.c.town_id)
             .order_by(towns.c.name, duties.c.list, duties.c.seq))
    with engine.connect() as conn:
        return [Review(duty_id, town, kind, seq, title, item, reason,
                       [(int(i), name, float(score)) for i, name, score in json.loads(candidates)])
                for duty_id, town, kind, seq, title, item, reason, candidates
                in conn.execute(query)]


@dataclass(frozen=True)
class Decided:
    duty_id: int
    town: str
    list: str
    title: str
    item_id: int  # the item the duty is now linked to
    item_title: str
    outcome: CatalogueOutcome


def decide(engine: Engine, duty_id: int, item_id: int | None, arguments: list[str]) -> Decided:
    """Link the duty to `item_id` (None: split it into an item of its own), as a manual
    decision kept across rebuilds and new versions; its list of its place is matched again."""
    from pipeline.schema import ensure_schema

    ensure_schema(engine)
    run_id = start_run(engine, arguments)
    with writing(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CATALOGUE_LOCK})
        duty = conn.execute(select(duties.c.town_id, duties.c.list, duties.c.title, towns.c.name)
                            .join(towns, towns.c.id == duties.c.town_id)
                            .where(duties.c.id == duty_id)).first()
        if duty is None:
            raise UsageError(f"no current duty {duty_id}; pipeline catalogue review lists the "
                             "duties to decide (the duty_id column)")
        town, kind, title, name = duty
        if item_id is not None:
            check_target(conn, duty_id, town, kind, item_id)
        key = title_key(title)
        conn.execute(delete(catalogue_decisions).where(
            catalogue_decisions.c.town_id == town, catalogue_decisions.c.list == kind,
            catalogue_decisions.c.title_key == key))
        conn.execute(catalogue_decisions.insert().values(
            town_id=town, list=kind, title_key=key, decision="split" if item_id is None else "link",
            item_id=item_id, title=title, decided_at=now()))
        outcome = match_lists(conn, run_id, only={(town, kind)})
        linked, item_title = conn.execute(
            select(duty_catalogue.c.item_id, catalogue_items.c.title)
            .join(catalogue_items, catalogue_items.c.id == duty_catalogue.c.item_id)
            .where(duty_catalogue.c.duty_id == duty_id)).one()
    finish_run(engine, run_id, {})
    return Decided(duty_id, name, kind, title, linked, item_title, outcome)


def check_target(conn: Connection, duty_id: int, town: int, kind: str, item_id: int) -> None:
    """Refuse a link to an item that is not there, of another list, or that the duty's town
    holds through another duty already (two duties of a town are never one item)."""
    item = conn.execute(select(catalogue_items.c.list).where(
        catalogue_items.c.id == item_id)).scalar()
    if item is None:
        raise UsageError(f"no catalogue item {item_id}; see catalogue_items (or the candidates "
                         "pipeline catalogue review shows)")
    if item != kind:
        raise UsageError(f"item {item_id} is of the {item} list and duty {duty_id} of the {kind} "
                         "list; a duty is linked to an item of its own list")
    other = conn.execute(select(duty_catalogue.c.duty_id).where(
        duty_catalogue.c.item_id == item_id, duty_catalogue.c.town_id == town,
        duty_catalogue.c.duty_id != duty_id)).scalar()
    if other is not None:
        raise UsageError(f"item {item_id} already holds duty {other} of the same place; two "
                         f"duties of one place are never one item (split {other} first, or link "
                         "it elsewhere)")
