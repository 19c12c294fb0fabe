"""How well reworded duties are matched to the previous version of their list (issue #13.3).

    python bench/changes.py [--revisions 40] [--seed 13] [--large 2000]

Revised lists with the truth known are made from the sample's real titles (its three
lists, 250 titles), the way county offices revise them (bench/revisions.toml): titles
reworded, respelled, removed, new duties added (from the other lists, or from templates),
a few moved. Each scorer is then run through the same rule as pipeline.versions — the
best old title must score ≥ SIMILAR, beat the runner-up by ≥ MARGIN and be a mutual
best — and judged on the reworded duties:

- precision: matched pairs that are the true pair ÷ all pairs made by similarity (a wrong
  pair invents a change: the costly error);
- recall: reworded duties matched to their true old duty ÷ all reworded duties (a miss is
  only removed + added with a warning).

The current rule is also run through pipeline.versions.diff_duties itself, so the table
measures the code, not a copy of it.
"""

import argparse
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.edits import VOCAB, respell, reword  # noqa: E402
from pipeline.records import Duty  # noqa: E402
from pipeline.versions import title_key  # noqa: E402

SAMPLE = ROOT / "raw" / "changji-manas-liangzhouhu.txt"
SIMILAR_GRID = range(30, 90, 5)
MARGIN_GRID = range(0, 25, 5)

Matrix = Any  # a numpy array of scores 0–100, one row per new title, one column per old title
Scorer = Callable[[list[str], list[str]], Matrix]


# The corpus ---------------------------------------------------------------------------------

@dataclass
class Revision:
    """Two versions of one list, and which old duty each new one is (None: added)."""

    kind: str
    old: list[str]
    new: list[str]
    truth: list[int | None]
    reworded: set[int] = field(default_factory=set)  # new indexes whose normalized title changed


def sample_lists() -> dict[str, list[str]]:
    """The sample's titles per list, read through the pipeline."""
    from pipeline.documents import normalize_document
    from pipeline.sources import read_source

    document = normalize_document(read_source(SAMPLE))
    lists: dict[str, list[str]] = {}
    for duty in document.duties:
        lists.setdefault(duty.list, []).append(duty.title)
    return lists


def new_duties(count: int, others: list[str], taken: set[str], rng: random.Random) -> list[str]:
    """Duties not in the old list: half from the sample's other lists, half from templates."""
    from_others = [t for t in others if title_key(t) not in taken]
    made = [template.format(topic) for template in VOCAB["templates"] for topic in VOCAB["topics"]]
    pool = [t for t in made if title_key(t) not in taken]
    picked = rng.sample(from_others, min(len(from_others), count // 2))
    picked += rng.sample(pool, count - len(picked))
    return picked


def revise(kind: str, titles: list[str], others: list[str], rng: random.Random) -> Revision:
    """One re-publication of a list: duties reworded, respelled, removed, added and moved."""
    rates = VOCAB["rates"]
    new: list[tuple[str, int | None]] = []
    for i, title in enumerate(titles):
        draw = rng.random()
        if draw < rates["remove"]:
            continue
        draw -= rates["remove"]
        if draw < rates["reword"]:
            title = reword(title, rng)
        elif draw - rates["reword"] < rates["respell"]:
            title = respell(title, rng)
        new.append((title, i))
    taken = {title_key(t) for t in titles} | {title_key(t) for t, _ in new}
    for title in new_duties(max(1, round(len(titles) * rates["add"])), others, taken, rng):
        new.insert(rng.randrange(len(new) + 1), (title, None))
    for _ in range(rates["moves"]):
        new.insert(rng.randrange(len(new)), new.pop(rng.randrange(len(new))))
    revision = Revision(kind, list(titles), [t for t, _ in new], [i for _, i in new])
    revision.reworded = {j for j, (t, i) in enumerate(new)
                         if i is not None and title_key(t) != title_key(titles[i])}
    return revision


def revisions(count: int, seed: int = 13,
              lists: dict[str, list[str]] | None = None) -> list[Revision]:
    """`count` revisions of each list, from a fixed seed."""
    lists = lists or sample_lists()
    rng = random.Random(seed)
    out = []
    for kind, titles in lists.items():
        others = [t for other, ts in lists.items() if other != kind for t in ts]
        out += [revise(kind, titles, others, rng) for _ in range(count)]
    return out


# The scorers ----------------------------------------------------------------------------------

def rapidfuzz_scorer(name: str) -> Scorer:
    def score(new: list[str], old: list[str]) -> Matrix:
        from rapidfuzz import fuzz, process

        return process.cdist(new, old, scorer=getattr(fuzz, name))
    return score


def clause_tokens(new: list[str], old: list[str]) -> Matrix:
    """token_set_ratio over clauses: a title's clauses (split at its punctuation) as tokens."""
    from rapidfuzz import fuzz, process

    return process.cdist([clauses_of(t) for t in new], [clauses_of(t) for t in old],
                         scorer=fuzz.token_set_ratio)


def clauses_of(title: str) -> str:
    return " ".join(title_key(part) for part in re.split(r"[，；。、,;]", title) if title_key(part))


def grams(key: str, sizes: Sequence[int]) -> Counter[str]:
    """grams("防汛工作", [2]) -> Counter({"防汛": 1, "汛工": 1, "工作": 1}); a short key is its own gram."""
    found = Counter(key[i:i + n] for n in sizes for i in range(len(key) - n + 1))
    return found or Counter([key])


def bigram_jaccard(new: list[str], old: list[str]) -> Matrix:
    left = [set(grams(title_key(t), [2])) for t in new]
    right = [set(grams(title_key(t), [2])) for t in old]
    return np.array([[100 * len(a & b) / len(a | b) if a | b else 0.0 for b in right]
                     for a in left])


def tfidf_cosine(new: list[str], old: list[str]) -> Matrix:
    """Cosine of TF-IDF vectors of character 2–3-grams, 0–100: the pipeline's own."""
    from pipeline.versions import title_similarity

    return title_similarity(new, old)


SCORERS: dict[str, Scorer] = {
    "rapidfuzz ratio": rapidfuzz_scorer("ratio"),
    "rapidfuzz partial_ratio": rapidfuzz_scorer("partial_ratio"),
    "rapidfuzz token_set_ratio, clauses": clause_tokens,
    "bigram Jaccard": bigram_jaccard,
    "TF-IDF 2–3-gram cosine": tfidf_cosine,
}


# The rule and its measurement -----------------------------------------------------------------

@dataclass
class Candidates:
    """Per revision, per new duty left after exact matching: its best old duty and the margins."""

    revision: Revision
    right: list[int]  # new indexes
    best: list[int]  # old index of each one's best
    score: Any
    runner_up: Any
    mutual: Any


def exact_pairs(revision: Revision) -> dict[int, int]:
    from pipeline.versions import match_exact

    return match_exact(duties(revision.old), duties(revision.new))


def duties(titles: list[str]) -> list[Duty]:
    return [Duty(list="basic", seq=i, category=None, title=t, source_line=i, raw=[t])
            for i, t in enumerate(titles, start=1)]


def candidates(revision: Revision, scorer: Scorer, pairs: dict[int, int]) -> Candidates:
    """What the rule needs, whatever the thresholds: as pipeline.versions.match_similar."""
    left = [i for i in range(len(revision.old)) if i not in pairs]
    right = [j for j in range(len(revision.new)) if j not in pairs.values()]
    if not left or not right:
        empty = np.zeros(0)
        return Candidates(revision, [], [], empty, empty, empty.astype(bool))
    use_key = scorer is not clause_tokens  # it splits the raw titles itself
    prepare = title_key if use_key else str
    scores = np.asarray(scorer([prepare(revision.new[j]) for j in right],
                               [prepare(revision.old[i]) for i in left]), dtype=float)
    best = scores.argmax(axis=1)  # the first of equals, as sorted() and max() pick
    top = scores[np.arange(len(right)), best]
    runner_up = (np.sort(scores, axis=1)[:, -2] if len(left) > 1 else np.zeros(len(right)))
    mutual = scores.argmax(axis=0)[best] == np.arange(len(right))
    return Candidates(revision, right, [left[b] for b in best], top, runner_up, mutual)


@dataclass
class Result:
    pairs: int = 0
    correct: int = 0
    wrong_added: int = 0  # pairs whose new duty was added, not reworded
    reworded: int = 0
    found: int = 0
    unsure: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.pairs if self.pairs else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.reworded if self.reworded else 1.0


def judge(found: list[Candidates], exact: list[dict[int, int]], similar: float,
          margin: float) -> Result:
    result = Result()
    for c, pairs in zip(found, exact, strict=True):
        revision = c.revision
        result.reworded += len(revision.reworded)
        matched = {j: i for i, j in pairs.items()}
        if len(c.right):
            over = c.score >= similar
            sure = over & (c.score - c.runner_up >= margin) & c.mutual
            result.unsure += int((over & ~sure).sum())
            for row in np.flatnonzero(sure):
                j, i = c.right[row], c.best[row]
                matched[j] = i
                result.pairs += 1
                result.correct += revision.truth[j] == i
                result.wrong_added += revision.truth[j] is None
        result.found += sum(matched.get(j) == revision.truth[j] for j in revision.reworded)
    return result


def pipeline_result(corpus: list[Revision]) -> Result:
    """The current rule as the pipeline runs it: pipeline.versions.diff_duties."""
    from pipeline.versions import diff_duties

    result = Result()
    for revision in corpus:
        old, new = duties(revision.old), duties(revision.new)
        diff = diff_duties(old, new)
        result.unsure += len(diff.unsure)
        result.reworded += len(revision.reworded)
        for change in diff.changes:
            if change.change != "reworded" or change.old is None or change.new is None:
                continue
            i, j = change.old.seq - 1, change.new.seq - 1
            result.pairs += 1
            result.correct += revision.truth[j] == i
            result.wrong_added += revision.truth[j] is None
            result.found += j in revision.reworded and revision.truth[j] == i
    return result


def measure(corpus: list[Revision], scorers: dict[str, Scorer] | None = None,
            ) -> dict[str, dict[tuple[int, int], Result]]:
    """Every scorer × (SIMILAR, MARGIN) of the grid on one corpus."""
    exact = [exact_pairs(r) for r in corpus]
    table = {}
    for name, scorer in (scorers or SCORERS).items():
        found = [candidates(r, scorer, pairs) for r, pairs in zip(corpus, exact, strict=True)]
        table[name] = {(s, m): judge(found, exact, s, m) for s in SIMILAR_GRID for m in MARGIN_GRID}
    return table


def best_rule(grid: dict[tuple[int, int], Result]) -> tuple[tuple[int, int], Result]:
    """Precision first (a wrong pair invents a change), then recall, then the stricter rule."""
    return max(grid.items(), key=lambda item: (round(item[1].precision, 4), item[1].recall,
                                               item[0]))


def large_pair(size: int, seed: int = 13) -> tuple[list[str], list[str]]:
    """`size` distinct old titles (the sample's, with a topic each) and each of them reworded."""
    rng = random.Random(seed)
    titles = [t for ts in sample_lists().values() for t in ts]
    topics = VOCAB["topics"]
    old = [f"{titles[k % len(titles)]}（{topics[k // len(titles) % len(topics)]}）{k}"
           for k in range(size)]
    new = []
    for title in old:
        changed = reword(title, rng)
        new.append(changed if title_key(changed) != title_key(title) else title + "工作")
    return old, new


def time_large(size: int, scorers: dict[str, Scorer]) -> dict[str, float]:
    """Seconds to score and decide a list of `size` titles against `size` reworded ones."""
    from pipeline.versions import match_similar

    old, new = large_pair(size)
    revision = Revision("basic", old, new, list(range(size)), set(range(size)))
    seconds = {}
    for name, scorer in scorers.items():
        start = time.perf_counter()
        candidates(revision, scorer, {})
        seconds[name] = time.perf_counter() - start
    start = time.perf_counter()
    match_similar(duties(old), duties(new), {})
    seconds["pipeline.versions.match_similar"] = time.perf_counter() - start
    return seconds


# The report -----------------------------------------------------------------------------------

def report(revisions_per_list: int = 40, seed: int = 13, large: int = 2000,
           grids: bool = True, scorers: dict[str, Scorer] | None = None,
           best: bool = True) -> str:
    """The table; `best` adds each scorer's best rule of the grid, `grids` the whole grids."""
    corpus = revisions(revisions_per_list, seed)
    reworded = sum(len(r.reworded) for r in corpus)
    added = sum(t is None for r in corpus for t in r.truth)
    lines = [f"{len(corpus)} revisions ({revisions_per_list} of each list, seed {seed}): "
             f"{reworded} reworded duties, {added} added, "
             f"{sum(len(r.old) - sum(t is not None for t in r.truth) for r in corpus)} removed",
             "",
             "| scorer | SIMILAR | MARGIN | precision | recall | wrong pairs (of added) | unsure |",
             "|---|---|---|---|---|---|---|"]
    table = measure(corpus, scorers)

    def row(name: str, rule: tuple[int, int], r: Result) -> str:
        return (f"| {name} | {rule[0]} | {rule[1]} | {r.precision:.4f} | {r.recall:.4f} | "
                f"{r.pairs - r.correct} ({r.wrong_added}) | {r.unsure} |")

    current = pipeline_result(corpus)
    from pipeline.versions import MARGIN, SIMILAR

    lines.append(row("**pipeline.versions** (diff_duties: TF-IDF cosine)",
                     (int(SIMILAR), int(MARGIN)), current))
    lines.append(row("rapidfuzz ratio, the rule before", (60, 10), table["rapidfuzz ratio"][60, 10]))
    for name, grid in table.items() if best else ():
        rule, result = best_rule(grid)
        lines.append(row(f"{name}, best of grid", rule, result))
    if grids:
        for name, grid in table.items():
            lines += ["", f"{name}: precision / recall by SIMILAR (rows) and MARGIN (columns)", "",
                      "| SIMILAR | " + " | ".join(f"M={m}" for m in MARGIN_GRID) + " |",
                      "|---" * (len(MARGIN_GRID) + 1) + "|"]
            for s in SIMILAR_GRID:
                cells = [f"{grid[s, m].precision:.3f} / {grid[s, m].recall:.3f}" for m in MARGIN_GRID]
                lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if large:
        lines += ["", f"time to score and decide {large} × {large} titles (all reworded):", ""]
        lines += [f"| {name} | {s:.2f} s |" for name, s in time_large(large, scorers or SCORERS).items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--revisions", type=int, default=40, help="revisions of each list")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--large", type=int, default=2000, help="titles for the timing; 0 skips")
    parser.add_argument("--short", action="store_true", help="no per-threshold grids")
    args = parser.parse_args()
    print(report(args.revisions, args.seed, args.large, grids=not args.short))


def bench_summary() -> str:
    """The short version `make bench` prints: the rule now and the rule before, a few seconds."""
    return report(10, large=500, grids=False, best=False,
                  scorers={name: SCORERS[name] for name in ("rapidfuzz ratio", "TF-IDF 2–3-gram cosine")})


if __name__ == "__main__":
    main()
