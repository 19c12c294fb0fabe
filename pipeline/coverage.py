"""The catalogue seen across towns: a matrix of towns × catalogue items, per county.

Reads only (the view catalogue_coverage); the HTML report and `pipeline catalogue export`
show it. Items are sorted by how many towns hold them and towns by how many items they
hold, so that a gap — an item most of the county holds and one town lacks — stands out.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Item:
    id: int
    list: str
    title: str
    code: str | None


@dataclass(frozen=True)
class Town:
    id: int
    name: str


@dataclass
class Matrix:
    """One county's towns × the items any of them holds, with the views' verdicts: an item a
    town lacks that most of its county has (catalogue_lacks), an item only one town holds
    (catalogue_local)."""

    group: str  # 昌吉州玛纳斯县, or "" when the towns name no county
    towns: list[Town]
    items: list[Item]
    present: set[tuple[int, int]] = field(default_factory=set)  # (item id, town id)
    gaps: set[tuple[int, int]] = field(default_factory=set)
    only: set[tuple[int, int]] = field(default_factory=set)
    holding: dict[int, int] = field(default_factory=dict)  # item id → towns holding it

    def holders(self, item: Item) -> int:
        return self.holding.get(item.id, 0)

    def is_gap(self, item: Item, town: Town) -> bool:
        return (item.id, town.id) in self.gaps

    def lacks(self, town: Town) -> list[Item]:
        return [item for item in self.items if (item.id, town.id) in self.gaps]

    def local(self, town: Town) -> list[Item]:
        return [item for item in self.items if (item.id, town.id) in self.only]


COVERAGE = """
SELECT c.item_id, c.town_id, c.present, t.name, t.province, t.prefecture, t.county,
       i.list, i.title, i.code
FROM catalogue_coverage c
JOIN towns t ON t.id = c.town_id
JOIN catalogue_items i ON i.id = c.item_id
"""
LIST_ORDER = {"basic": 0, "cooperative": 1, "withdrawn": 2}


def read_matrices(engine: Engine) -> list[Matrix]:
    """Every county's matrix, counties in name order; sorted so that gaps stand out."""
    groups: dict[str, tuple[dict[int, Town], dict[int, Item], set[tuple[int, int]]]] = \
        defaultdict(lambda: ({}, {}, set()))
    with engine.connect() as conn:
        gaps = {(i, t) for i, t in conn.execute(text("SELECT item_id, town_id FROM catalogue_lacks"))}
        only = {(i, t) for i, t in conn.execute(text("SELECT item_id, town_id FROM catalogue_local"))}
        for (item_id, town_id, present, name, province, prefecture, county, kind, title,
             code) in conn.execute(text(COVERAGE)):
            group = "".join(p for p in (province, prefecture, county) if p) if county else ""
            towns, items, held = groups[group]
            towns[town_id] = Town(town_id, name)
            items[item_id] = Item(item_id, kind, title, code)
            if present:
                held.add((item_id, town_id))
    matrices = []
    for group in sorted(groups):
        towns, items, held = groups[group]
        per_town: dict[int, int] = defaultdict(int)
        per_item: dict[int, int] = defaultdict(int)
        for item_id, town_id in held:
            per_town[town_id] += 1
            per_item[item_id] += 1
        matrices.append(Matrix(
            group,
            sorted(towns.values(), key=lambda t: (-per_town[t.id], t.name, t.id)),
            sorted(items.values(), key=lambda i: (-per_item[i.id], LIST_ORDER.get(i.list, 3),
                                                  i.code or "", i.title, i.id)),
            held, gaps, only, dict(per_item)))
    return matrices
