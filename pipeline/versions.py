"""Versions of a list: what identifies one, and what changed between two (duty_changes).

A version is one content of a (place, list). Its identity is the list's source content —
each row's raw cells and category, in order — so a new parser re-reading the same file
refreshes the current version instead of inventing a new one, and a file re-published with
only one list changed gives a new version of that list alone.

Changes are found by matching duties: the same normalized title first, then text
similarity with a margin over the runner-up (cosine of character 2–3-gram TF-IDF, mutual
best); a match that is not sure is recorded as removed + added with a warning, never guessed.
"""

import hashlib
import json
import math
import unicodedata
import zlib
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import TypeAdapter

from pipeline.records import Duty

if TYPE_CHECKING:
    import numpy as np

ChangeKind = Literal["added", "removed", "reworded", "steps_changed", "renumbered", "moved"]

# A reworded title must be this similar (TF-IDF cosine, 0–100) to its old form, and this
# much more similar than to any other duty. bench/changes.py measured them on 1,382 generated
# rewordings: precision 1.0, recall 0.973 (rapidfuzz's ratio at 60/10: 0.995, 0.947). Margins
# 0–20 measured alike at 50; the strictest is kept against what the corpus lacks (merges).
SIMILAR = 50.0
MARGIN = 20.0
GRAMS = (2, 3)  # character n-gram sizes


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
    scores: dict[int, float] = {}
    unsure = match_similar(old, new, pairs, scores)
    changes = [Change("added", None, new[j]) for j in range(len(new)) if j not in pairs.values()]
    changes += [Change("removed", old[i], None) for i in range(len(old)) if i not in pairs]
    in_order = longest_increasing(sorted(pairs.items(), key=lambda pair: pair[1]))
    for i, j in sorted(pairs.items(), key=lambda pair: pair[1]):
        before, after = old[i], new[j]
        if title_key(before.title) != title_key(after.title) or before.category != after.category:
            changes.append(Change("reworded", before, after, scores.get(j, 100.0),
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


def match_similar(old: Sequence[Duty], new: Sequence[Duty], pairs: dict[int, int],
                  scores: dict[int, float] | None = None) -> list[Unsure]:
    """Add to `pairs` the rewordings that are sure (their score to `scores`, by new index);
    return those that are not."""
    left = [i for i in range(len(old)) if i not in pairs]
    paired = set(pairs.values())
    right = [j for j in range(len(new)) if j not in paired]
    if not left or not right:
        return []
    matrix = title_similarity([title_key(new[j].title) for j in right],
                              [title_key(old[i].title) for i in left])
    best = matrix.argmax(axis=1)  # the first of equals
    column_best = matrix.argmax(axis=0)
    ordered = matrix.copy()
    ordered.sort(axis=1)
    unsure: list[Unsure] = []
    for row, j in enumerate(right):
        col = int(best[row])
        score = float(matrix[row, col])
        if score < SIMILAR:
            continue
        runner_up = float(ordered[row, -2]) if len(left) > 1 else 0.0
        # The old duty's own best new duty must be this one: a mutual best.
        if score - runner_up >= MARGIN and int(column_best[col]) == row:
            pairs[left[col]] = j
            if scores is not None:
                scores[j] = round(score, 1)
        else:
            ranked = (-matrix[row]).argsort(kind="stable")[:3]
            unsure.append(Unsure(new[j], [(old[left[int(c)]], round(float(matrix[row, c]), 1))
                                          for c in ranked]))
    return unsure


def title_similarity(new: list[str], old: list[str]) -> "np.ndarray[Any, np.dtype[np.float64]]":
    """Cosine (0–100) of each new title's TF-IDF vector of character 2–3-grams with each old one's.

    The IDF is fitted on the titles compared, so that words every duty shares (负责, 本镇, 工作)
    weigh little. Summed gram by gram over shared grams: a 2,000 × 2,000 pair takes seconds.
    """
    import numpy as np

    vectors = title_vectors([*new, *old])
    postings: dict[str, tuple[list[int], list[float], list[int], list[float]]] = {}
    for index, vector in enumerate(vectors):
        for gram, weight in vector.items():
            rows, row_weights, cols, col_weights = postings.setdefault(gram, ([], [], [], []))
            if index < len(new):
                rows.append(index)
                row_weights.append(weight)
            else:
                cols.append(index - len(new))
                col_weights.append(weight)
    matrix = np.zeros((len(new), len(old)))
    for rows, row_weights, cols, col_weights in postings.values():
        if rows and cols:
            matrix[np.ix_(rows, cols)] += np.outer(row_weights, col_weights)
    return np.minimum(100 * matrix, 100.0)


def title_vectors(keys: Sequence[str]) -> list[dict[str, float]]:
    """Each key's TF-IDF vector of character 2–3-grams, unit length, the IDF fitted on `keys`."""
    counts = [title_grams(key) for key in keys]
    frequency = Counter(gram for count in counts for gram in count)
    vectors = []
    for count in counts:
        weights = {g: n * (math.log((1 + len(counts)) / (1 + frequency[g])) + 1)
                   for g, n in count.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({g: w / norm for g, w in weights.items()})
    return vectors


class TitlePostings:
    """Title vectors indexed by gram, to score one title against all of them at once.

    The catalogue scores each distinct title against every title placed before it: one row
    at a time keeps memory at one row of scores, where title_similarity's matrix is n × m.
    """

    def __init__(self, vectors: Sequence[dict[str, float]]) -> None:
        import numpy as np

        lists: dict[str, tuple[list[int], list[float]]] = {}
        for index, vector in enumerate(vectors):
            for gram, weight in vector.items():
                columns, weights = lists.setdefault(gram, ([], []))
                columns.append(index)
                weights.append(weight)
        self.size = len(vectors)
        self.postings = {gram: (np.array(columns), np.array(weights))
                         for gram, (columns, weights) in lists.items()}

    def scores(self, vector: dict[str, float]) -> "np.ndarray[Any, np.dtype[np.float64]]":
        """Cosine (0–100) of `vector` with every indexed vector."""
        import numpy as np

        row = np.zeros(self.size)
        for gram, weight in vector.items():
            if (found := self.postings.get(gram)) is not None:
                row[found[0]] += weight * found[1]  # a gram occurs once per vector
        return np.minimum(100 * row, 100.0)


def title_grams(key: str) -> Counter[str]:
    """title_grams("防汛工作") -> 防汛, 汛工, 工作, 防汛工, 汛工作; a one-character key is its own gram."""
    found = Counter(key[i:i + n] for n in GRAMS for i in range(len(key) - n + 1))
    return found or Counter([key])


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
