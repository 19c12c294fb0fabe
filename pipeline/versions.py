"""Versions of a list: what identifies one, and what changed between two (duty_changes).

A version is one content of a (place, list). Its identity is the list's source content —
each row's raw cells and category, in order — so a new parser re-reading the same file
refreshes the current version instead of inventing a new one, and a file re-published with
only one list changed gives a new version of that list alone.

Changes are found by matching duties: the same normalized title first, then text
similarity with a margin over the runner-up (rapidfuzz's ratio, mutual best); a match that
is not sure is recorded as removed + added with a warning, never guessed.
"""

import hashlib
import json
import unicodedata
import zlib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import TypeAdapter

from pipeline.records import Duty

ChangeKind = Literal["added", "removed", "reworded", "steps_changed", "renumbered", "moved"]

# A reworded title must be this similar (rapidfuzz ratio, 0–100) to its old form, and this
# much more similar than to any other duty; bench/changes.py measures both on rewordings.
SIMILAR = 60.0
MARGIN = 10.0


def content_sha256(duties: Iterable[Duty]) -> str:
    """The identity of a list's content: each duty's category and raw cells, in order.

    Line numbers are left out: a longer list above it in the same file is not a change.
    """
    digest = hashlib.sha256()
    for duty in duties:
        digest.update(json.dumps([duty.category, duty.raw], ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


@cache
def duty_list() -> TypeAdapter[list[Duty]]:
    return TypeAdapter(list[Duty])


def pack(duties: Sequence[Duty]) -> bytes:
    """A version's duties as compressed JSON: enough to rebuild them exactly (unpack).

    pydantic's own serializer and zlib's fastest level: a fifth of the size, and about a
    twentieth of the time that level 6 and model_dump took.
    """
    return zlib.compress(duty_list().dump_json(list(duties)), 1)


def unpack(content: bytes) -> list[Duty]:
    return duty_list().validate_json(zlib.decompress(content))


def title_key(title: str) -> str:
    """What two spellings of one title share: title_key("加强 宣传（教育）") -> "加强宣传教育"."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return "".join(ch for ch in folded if not ch.isspace()
                   and not unicodedata.category(ch).startswith("P"))


@dataclass(frozen=True)
class Change:
    change: ChangeKind
    old: Duty | None
    new: Duty | None
    score: float | None = None  # similarity of a reworded title, 0–100
    detail: str | None = None


@dataclass(frozen=True)
class Unsure:
    """A duty that looked like a rewording but not surely enough to be matched."""

    new: Duty
    candidates: list[tuple[Duty, float]]


@dataclass(frozen=True)
class Diff:
    changes: list[Change]
    unsure: list[Unsure]


def diff_duties(old: Sequence[Duty], new: Sequence[Duty]) -> Diff:
    """What changed from one version of a list to the next, one Change per changed duty.

    A duty's 序号 moving because duties before it were added or removed (or because the
    list restarts its 序号 per category) is not a change; `renumbered` is a duty whose order
    among the duties kept changed.
    """
    pairs = match_exact(old, new)
    unsure = match_similar(old, new, pairs)
    changes = [Change("added", None, new[j]) for j in range(len(new)) if j not in pairs.values()]
    changes += [Change("removed", old[i], None) for i in range(len(old)) if i not in pairs]
    in_order = longest_increasing(sorted(pairs.items(), key=lambda pair: pair[1]))
    for i, j in sorted(pairs.items(), key=lambda pair: pair[1]):
        before, after = old[i], new[j]
        if title_key(before.title) != title_key(after.title) or before.category != after.category:
            changes.append(Change("reworded", before, after, similarity(before.title, after.title),
                                  reworded_detail(before, after)))
        elif responsibilities(before) != responsibilities(after):
            changes.append(Change("steps_changed", before, after, None, steps_detail(before, after)))
        elif (i, j) not in in_order:
            changes.append(Change("renumbered", before, after))
    position = {id(duty): index for index, duty in enumerate(new)}
    old_position = {id(duty): index for index, duty in enumerate(old)}
    changes.sort(key=lambda c: (position[id(c.new)] if c.new is not None else len(new),
                                old_position[id(c.old)] if c.old is not None else -1))
    return Diff(changes, unsure)


def match_exact(old: Sequence[Duty], new: Sequence[Duty]) -> dict[int, int]:
    """old index → new index for titles that normalize alike, in order when repeated."""
    waiting: dict[str, list[int]] = defaultdict(list)
    for i, duty in enumerate(old):
        waiting[title_key(duty.title)].append(i)
    pairs: dict[int, int] = {}
    for j, duty in enumerate(new):
        queue = waiting.get(title_key(duty.title))
        if queue:
            pairs[queue.pop(0)] = j
    return pairs


def match_similar(old: Sequence[Duty], new: Sequence[Duty], pairs: dict[int, int]) -> list[Unsure]:
    """Add to `pairs` the rewordings that are sure; return those that are not."""
    from rapidfuzz import fuzz, process

    left = [i for i in range(len(old)) if i not in pairs]
    right = [j for j in range(len(new)) if j not in pairs.values()]
    if not left or not right:
        return []
    scores = process.cdist([title_key(new[j].title) for j in right],
                           [title_key(old[i].title) for i in left], scorer=fuzz.ratio)
    unsure: list[Unsure] = []
    for row, j in enumerate(right):
        ranked = sorted(range(len(left)), key=lambda col: -scores[row][col])
        best = ranked[0]
        score = float(scores[row][best])
        if score < SIMILAR:
            continue
        runner_up = max((float(scores[row][col]) for col in ranked[1:2]), default=0.0)
        # The old duty's own best new duty must be this one: a mutual best.
        column_best = max(range(len(right)), key=lambda r: scores[r][best])
        if score - runner_up >= MARGIN and column_best == row:
            pairs[left[best]] = j
        else:
            unsure.append(Unsure(new[j], [(old[left[col]], float(scores[row][col]))
                                          for col in ranked[:3]]))
    return unsure


def similarity(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    return round(float(fuzz.ratio(title_key(a), title_key(b))), 1)


def responsibilities(duty: Duty) -> tuple[Any, ...]:
    """What steps_changed compares: the steps as read, and the departments named in columns."""
    return (tuple((s.party, s.number, s.section, s.text) for s in duty.steps),
            tuple(sorted((link.department, link.role) for link in duty.departments
                         if link.role != "mentioned")))


def reworded_detail(before: Duty, after: Duty) -> str | None:
    if before.category != after.category:
        return f"事项类别 {before.category or '—'} → {after.category or '—'}"
    return None


def steps_detail(before: Duty, after: Duty) -> str:
    counts = [f"{party} {sum(s.party == party for s in before.steps)} → "
              f"{sum(s.party == party for s in after.steps)}"
              for party in ("upper", "town", "receiver")
              if any(s.party == party for s in (*before.steps, *after.steps))]
    return "steps " + ", ".join(counts) if counts else "departments changed"


def longest_increasing(pairs: list[tuple[int, int]]) -> set[tuple[int, int]]:
    """The largest set of (old, new) pairs, sorted by new, whose old indexes also increase."""
    tails: list[int] = []  # tails[k]: the pair ending the best run of length k + 1
    values: list[int] = []  # the old index of each tail, increasing
    back: list[int] = []
    for index, (old, _) in enumerate(pairs):
        position = bisect_left(values, old)
        back.append(tails[position - 1] if position else -1)
        if position == len(tails):
            tails.append(index)
            values.append(old)
        else:
            tails[position] = index
            values[position] = old
    kept: set[tuple[int, int]] = set()
    index = tails[-1] if tails else -1
    while index != -1:
        kept.add(pairs[index])
        index = back[index]
    return kept
