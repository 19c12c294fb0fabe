"""How well the catalogue puts the same duty of different towns in one item (issue #19).

    python bench/placement.py [--towns 20] [--seed 19]

Towns with the truth known: the sample as published (the county's template), then each
other town a revision of each of its three lists made by bench/changes.py's reviser (the
edits of bench/revisions.toml: titles reworded, respelled, removed, new duties added), which
was written for issue #13 and not for the catalogue. The towns go through the catalogue's
own functions (pipeline.catalogue.place_titles and link_duties), with its TF-IDF scorer, or
with rapidfuzz's ratio put in its place, over a grid of SIMILAR (MARGIN as the pipeline's):

- precision: duties joined to an item by similarity whose item is founded on the same true
  duty ÷ all duties joined by similarity (a wrong join merges two duties: the costly error);
  two added duties joined are not judged, since the reviser's templates write one new duty
  several ways (森林草原防火, 负责本镇森林草原防火工作, 组织开展森林草原防火专项行动);
- recall: reworded duties that share the item of their original ÷ all reworded duties.
"""

import argparse
import random
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.changes import revise, sample_lists  # noqa: E402
from pipeline import catalogue  # noqa: E402
from pipeline.catalogue import DutyRow, Item, link_duties, place_titles  # noqa: E402
from pipeline.versions import title_key  # noqa: E402

SIMILAR_GRID = range(25, 75, 5)
Truth = int | str  # the original duty's index, or the added title's key


@dataclass
class Town:
    lists: dict[str, list[tuple[str, Truth, bool]]]  # kind → (title, truth, reworded)


def corpus(count: int, seed: int) -> list[Town]:
    lists = sample_lists()
    rng = random.Random(seed)
    towns = [Town({kind: [(t, i, False) for i, t in enumerate(titles)]
                   for kind, titles in lists.items()})]
    for _ in range(count - 1):
        town: dict[str, list[tuple[str, Truth, bool]]] = {}
        for kind, titles in lists.items():
            others = [t for other, ts in lists.items() if other != kind for t in ts]
            revision = revise(kind, titles, others, rng)
            town[kind] = [(title, truth if truth is not None else f"new:{title_key(title)}",
                           j in revision.reworded)
                          for j, (title, truth) in enumerate(zip(revision.new, revision.truth,
                                                                 strict=True))]
        towns.append(Town(town))
    return towns


@dataclass
class Result:
    joined: int = 0
    right: int = 0
    reworded: int = 0
    found: int = 0

    @property
    def precision(self) -> float:
        return self.right / self.joined if self.joined else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.reworded if self.reworded else 1.0


def judge(towns: list[Town]) -> Result:
    """Match every list of every town the way pipeline.catalogue does, and score it."""
    result = Result()
    for kind in towns[0].lists:
        rows: list[DutyRow] = []
        truth: dict[int, tuple[Truth, bool]] = {}
        for number, town in enumerate(towns):
            for seq, (title, label, reworded) in enumerate(town.lists[kind], start=1):
                duty_id = len(rows)
                rows.append(DutyRow(duty_id, number, seq, title, None, title_key(title), 0, 0, "", 0, None))
                truth[duty_id] = (label, reworded)
        new: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            new[row.key].add(row.town_id)
        items: dict[int, Item] = {}
        placed = place_titles(kind, {}, new, items)
        links = link_duties(kind, rows, placed, {}, items)
        founders: dict[int, Truth] = {}
        key_truth = {row.key: truth[row.id][0] for row in rows}
        for key, placement in placed.items():
            if placement.method == "exact":
                founders.setdefault(placement.item_id, key_truth[key])
        original = {truth[link.duty.id][0]: link.item_id for link in links
                    if link.duty.town_id == 0}
        for link in links:
            label, reworded = truth[link.duty.id]
            founder = founders.get(link.item_id)
            # Two added duties joined are not judged: the reviser's templates give the same
            # new duty in several wordings (森林草原防火 / 负责本镇森林草原防火工作).
            if link.method == "similar" and (isinstance(label, int) or isinstance(founder, int)):
                result.joined += 1
                result.right += founder == label
            if reworded:
                result.reworded += 1
                result.found += original.get(label) == link.item_id
    return result


class RatioPostings:
    """rapidfuzz's ratio in place of the TF-IDF cosine: `vector` is the title itself."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def scores(self, key: str) -> Any:
        from rapidfuzz import fuzz, process

        return process.cdist([key], self.keys, scorer=fuzz.ratio)[0].astype(float)


@contextmanager
def scorer(name: str, similar: float) -> Iterator[None]:
    saved = (catalogue.SIMILAR, catalogue.title_vectors, catalogue.TitlePostings)
    catalogue.SIMILAR = similar
    if name == "rapidfuzz ratio":
        catalogue.title_vectors = list  # type: ignore[assignment]
        catalogue.TitlePostings = RatioPostings  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        catalogue.SIMILAR, catalogue.title_vectors, catalogue.TitlePostings = saved


def report(count: int, seed: int, grid: bool = True) -> str:
    towns = corpus(count, seed)
    lines = [f"{count} towns (seed {seed}), MARGIN {catalogue.MARGIN:g}",
             "| scorer | SIMILAR | precision | recall | joined | wrong |", "|---|---|---|---|---|---|"]
    for name in ("TF-IDF 2–3-gram cosine", "rapidfuzz ratio"):
        for similar in (SIMILAR_GRID if grid else [catalogue.SIMILAR]):
            with scorer(name, similar):
                r = judge(towns)
            mark = "**" if similar == catalogue.SIMILAR and name.startswith("TF-IDF") else ""
            lines.append(f"| {mark}{name}{mark} | {similar} | {r.precision:.4f} | {r.recall:.4f} "
                         f"| {r.joined} | {r.joined - r.right} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--towns", type=int, default=20)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--short", action="store_true", help="the pipeline's SIMILAR only")
    args = parser.parse_args()
    print(report(args.towns, args.seed, not args.short))


if __name__ == "__main__":
    main()
