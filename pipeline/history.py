"""The history of each place's lists, for analysts: versions, and what changed between them.

Reads only; the loader (loads.load_document) writes versions and duty_changes.
"""

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, or_, select
from sqlalchemy.engine import Connection

from pipeline.errors import PipelineError
from pipeline.records import Duty
from pipeline.schema import documents, duty_changes, list_versions, towns
from pipeline.versions import diff_duties, unpack


@dataclass(frozen=True)
class Place:
    id: int
    name: str
    path: str  # 昌吉州玛纳斯县凉州户镇: every level the titles gave


@dataclass(frozen=True)
class Version:
    id: int
    list: str
    number: int
    is_current: bool
    duties: int
    published: date | None
    published_from: str
    loaded_at: datetime
    withdrawn_at: datetime | None
    path: str
    sha256: str


@dataclass(frozen=True)
class ChangeRow:
    change: str
    list: str
    old_list: str | None
    old_seq: int | None
    old_title: str | None
    new_seq: int | None
    new_title: str | None
    score: float | None
    detail: str | None


def find_place(conn: Connection, text: str) -> Place:
    """The one place whose name, full name (…县…镇) or id is `text`; a PipelineError lists the
    candidates when there is none or more than one."""
    rows = conn.execute(select(towns.c.id, towns.c.name, towns.c.province, towns.c.prefecture,
                               towns.c.county)).all()
    places = [Place(id, name, "".join(p for p in (province, prefecture, county, name) if p))
              for id, name, province, prefecture, county in rows]
    found = [p for p in places if text in (p.name, str(p.id)) or p.path.endswith(text)]
    if len(found) == 1:
        return found[0]
    if not found:
        known = "、".join(sorted(p.name for p in places)[:20]) or "none yet"
        raise PipelineError(f"no place named {text}; places in the database: {known}")
    choices = "; ".join(f"{p.path} (id {p.id})" for p in found)
    raise PipelineError(f"{text} names more than one place: {choices}; give the full name or the id")


def versions_of(engine: Engine, place_text: str, kind: str | None = None) -> tuple[Place, list[Version]]:
    """Every version of the place's lists, oldest first within each list."""
    with engine.connect() as conn:
        place = find_place(conn, place_text)
        query = (select(list_versions.c.id, list_versions.c.list, list_versions.c.number,
                        list_versions.c.is_current, list_versions.c.duties,
                        list_versions.c.published, list_versions.c.published_from,
                        list_versions.c.loaded_at, list_versions.c.withdrawn_at,
                        documents.c.path, list_versions.c.sha256)
                 .join(documents, documents.c.id == list_versions.c.document_id)
                 .where(list_versions.c.town_id == place.id)
                 .order_by(list_versions.c.list, list_versions.c.number))
        if kind:
            query = query.where(list_versions.c.list == kind)
        return place, [Version(*row) for row in conn.execute(query)]


def version_duties(engine: Engine, version_id: int) -> list[Duty]:
    """A version's duties exactly as they were loaded."""
    with engine.connect() as conn:
        content = conn.execute(select(list_versions.c.content)
                               .where(list_versions.c.id == version_id)).scalar()
    if content is None:
        raise PipelineError(f"no version {version_id}")
    return unpack(content)


@dataclass(frozen=True)
class ListDiff:
    kind: str
    old: Version | None
    new: Version
    changes: list[ChangeRow]

    def as_dict(self) -> dict[str, Any]:
        return {"list": self.kind, "from": self.old.number if self.old else None,
                "to": self.new.number, "changes": [asdict(c) for c in self.changes]}


def diff_versions(engine: Engine, place_text: str, kind: str | None = None,
                  old_number: int | None = None, new_number: int | None = None) -> list[ListDiff]:
    """What changed in each list (or one): by default from the version before the current one
    to the current one, as recorded at load (moves between lists included); between any two
    versions of a list, computed from their stored duties."""
    place, versions = versions_of(engine, place_text, kind)
    by_list: dict[str, list[Version]] = {}
    for version in versions:
        by_list.setdefault(version.list, []).append(version)
    if (old_number or new_number) and len(by_list) > 1:
        raise PipelineError("--from and --to number the versions of one list: add --list")
    diffs = []
    for name, history in by_list.items():
        numbered = {v.number: v for v in history}
        current = next((v for v in history if v.is_current), history[-1])
        new = numbered.get(new_number) if new_number else current
        if new is None:
            raise PipelineError(f"{place.name} has no version {new_number} of its {name} list")
        old = numbered.get(old_number if old_number else new.number - 1)
        if old_number and old is None:
            raise PipelineError(f"{place.name} has no version {old_number} of its {name} list")
        if old is None or old.number == new.number - 1:
            diffs.append(ListDiff(name, old, new, recorded_changes(engine, new.id)))
        else:
            diffs.append(ListDiff(name, old, new, computed_changes(engine, name, old, new)))
    return diffs


def recorded_changes(engine: Engine, version_id: int) -> list[ChangeRow]:
    columns = [getattr(duty_changes.c, name) for name in ChangeRow.__dataclass_fields__]
    with engine.connect() as conn:
        return [ChangeRow(*row) for row in conn.execute(
            select(*columns).where(duty_changes.c.version_id == version_id)
            .order_by(duty_changes.c.id))]


def computed_changes(engine: Engine, kind: str, old: Version, new: Version) -> list[ChangeRow]:
    found = diff_duties(version_duties(engine, old.id), version_duties(engine, new.id))
    return [ChangeRow(c.change, kind, None, c.old.seq if c.old else None,
                      c.old.title if c.old else None, c.new.seq if c.new else None,
                      c.new.title if c.new else None, c.score, c.detail)
            for c in found.changes]


def recent_changes(engine: Engine, limit: int = 200) -> list[tuple[str, str, int, ChangeRow]]:
    """The latest recorded changes of versions after a list's first: (place, list, version, change)."""
    columns = [getattr(duty_changes.c, name) for name in ChangeRow.__dataclass_fields__]
    with engine.connect() as conn:
        rows = conn.execute(
            select(towns.c.name, list_versions.c.number, *columns)
            .join(list_versions, list_versions.c.id == duty_changes.c.version_id)
            .join(towns, towns.c.id == duty_changes.c.town_id)
            .where(or_(duty_changes.c.previous_version_id.is_not(None),
                       duty_changes.c.change == "moved"))
            .order_by(duty_changes.c.id.desc()).limit(limit)).all()
    return [(town, change.list, number, change)
            for town, number, *rest in rows for change in [ChangeRow(*rest)]]
