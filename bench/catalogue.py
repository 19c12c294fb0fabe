"""How well the cross-town catalogue groups duties, on towns whose truth is known (issue #19).

    python bench/catalogue.py [--towns 60] [--seed 19] [--counties K] [--corpus DIR]
                              [--db URL] [--no-scorers] [--no-database]
    python bench/catalogue.py --scale 2000      # issue #19.6: time and peak memory

The corpus is bench/towns.py's (real towns of real counties, their duties reworded, removed,
added, moved and renumbered, with OUT/truth.csv saying which duty is which). Two measures:

- **the database**: `pipeline build` of the corpus, then `pipeline catalogue` when the
  command exists, then the tables of the contract (duty_catalogue joined to duties and
  documents) against the truth;
- **the scorers**, without the database: the distinct normalized titles of each list
  clustered by each scorer (TF-IDF 2–3-gram cosine of pipeline.versions, rapidfuzz ratio,
  rapidfuzz token_set_ratio over a title's clauses) under one rule over a grid of thresholds.

Both are judged by pairs of duties from different towns: precision = pairs put in one item
that truly are one duty ÷ pairs put in one item; recall = the same ÷ pairs that truly are one
duty. A duty is truly another's when both derive from the same sample duty (or the same
county-wide duty) and both are in the same list: the catalogue's items are per list, so a
duty a town moved to another list is never paired with the original. Pairs within one town
are not counted (one town never carries one duty twice).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.towns import read_truth, write_towns  # noqa: E402
from pipeline.versions import title_key  # noqa: E402

BIN = Path(sys.executable).parent
SIMILAR_GRID = range(40, 90, 5)
MARGIN_GRID = range(0, 25, 5)
MIN_PRECISION = 0.995  # the best rule of a grid: the most recall at this precision or more
REVIEW_CODES = "catalogue%"  # the review findings' code, where no catalogue_reviews table

Matrix = Any  # numpy array of scores 0–100, one row and one column per distinct title
Scorer = Callable[[list[str], list[str]], Matrix]


# Pairs ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pairs:
    """Pairs of duties from different towns: put together, truly together, and both."""

    together: int
    truly: int
    right: int

    @property
    def precision(self) -> float:
        return self.right / self.together if self.together else 1.0

    @property
    def recall(self) -> float:
        return self.right / self.truly if self.truly else 1.0


def count_pairs(duties: Iterable[tuple[Hashable, ...]], apart: bool = False) -> Pairs:
    """Pairs across towns of (town, item, true item[, title]) rows, from group sizes alone;
    with `apart`, only pairs of different titles (those the exact step cannot decide).

    count_pairs([("A", 1, "x"), ("B", 1, "x"), ("C", 1, "y"), ("C", 2, "x")]) ->
    Pairs(together=3, truly=3, right=1): A–B, A–C and B–C share item 1; A–B, A–C and
    B–C (C's item 2) are truly one duty; only A–B is both.
    """
    sizes: dict[str, Counter[Hashable]] = defaultdict(Counter)
    for town, item, truth, *title in duties:
        groups: dict[str, Hashable] = {"item": item, "truth": truth, "both": (item, truth)}
        if apart:
            groups |= {name + " title": (key, *title) for name, key in list(groups.items())}
        for name, key in groups.items():
            sizes[name][key] += 1
            sizes[name + " in town"][(key, town)] += 1

    def across(name: str) -> int:
        found = pairs_of(sizes[name]) - pairs_of(sizes[name + " in town"])
        return found - across(name + " title") if apart and "title" not in name else found

    return Pairs(across("item"), across("truth"), across("both"))


def pairs_of(sizes: Counter[Hashable]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes.values())


def mixed(links: Iterable[tuple[Hashable, Hashable]]) -> tuple[int, int]:
    """(items holding more than one true duty, true duties spread over more than one item)
    of (item, true item) links: mixed([(1, "x"), (1, "y"), (2, "y")]) -> (1, 1)."""
    truths: dict[Hashable, set[Hashable]] = defaultdict(set)
    items: dict[Hashable, set[Hashable]] = defaultdict(set)
    for item, truth in links:
        truths[item].add(truth)
        items[truth].add(item)
    return sum(len(t) > 1 for t in truths.values()), sum(len(i) > 1 for i in items.values())


# The truth ------------------------------------------------------------------------------------

@dataclass
class Truth:
    """truth.csv by (document, list, seq), and what each list's distinct titles are."""

    items: dict[tuple[str, str, int], str] = field(default_factory=dict)
    edits: dict[tuple[str, str, int], str] = field(default_factory=dict)
    titles: dict[tuple[str, str, int], str] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "Truth":
        truth = cls()
        for row in read_truth(path):
            key = (row["document"], row["list"], int(row["seq"]))
            truth.items[key] = row["true_item"]
            truth.edits[key] = row["edit"]
            truth.titles[key] = row["title"]
        return truth

    def true_items(self) -> int:
        """Items a perfect catalogue makes: one per (list, true item)."""
        return len({(key[1], item) for key, item in self.items.items()})


# The database ---------------------------------------------------------------------------------

@dataclass
class Judged:
    pairs: Pairs
    apart: Pairs  # pairs of duties whose normalized titles differ
    items: int
    true_items: int
    merged: int  # items holding more than one true duty
    split: int  # true duties spread over more than one item
    findings: int
    unlinked: int  # duties with no item (the contract: exactly one each)
    linked_twice: int
    placed: dict[str, tuple[int, int]]  # edit → (duties in their true item's main item, duties)


LINKS = """
SELECT documents.path, duties.list, duties.seq, duty_catalogue.item_id
FROM duties JOIN documents ON documents.id = duties.document_id
LEFT JOIN duty_catalogue ON duty_catalogue.duty_id = duties.id
"""


def judge_database(url: str, truth: Truth) -> Judged | None:
    """The catalogue in `url` against the truth; None when the database has no catalogue."""
    from sqlalchemy import inspect, text

    from pipeline.db import open_engine

    engine = open_engine(url, existing=True)
    try:
        tables = inspect(engine).get_table_names()
        if "duty_catalogue" not in tables:
            return None
        with engine.connect() as conn:
            links = [(Path(path).name, kind, seq, item)
                     for path, kind, seq, item in conn.execute(text(LINKS))]
            findings = conn.execute(text(
                "SELECT count(*) FROM catalogue_reviews" if "catalogue_reviews" in tables else
                "SELECT count(*) FROM quality_issues WHERE code LIKE :c"),
                {"c": REVIEW_CODES}).scalar_one()
    finally:
        engine.dispose()
    if not any(item is not None for *_, item in links):
        return None
    return judge_links(links, truth, findings)


def judge_links(links: Sequence[tuple[str, str, int, Any]], truth: Truth,
                findings: int = 0) -> Judged:
    """(document, list, seq, item or None) of every duty, against the truth."""
    per_duty: dict[tuple[str, str, int], list[Any]] = defaultdict(list)
    for document, kind, seq, item in links:
        per_duty[document, kind, seq].append(item)
    missing = sorted(set(per_duty) - set(truth.items))
    if missing:
        raise SystemExit(f"{len(missing)} duties of the database are not in truth.csv, "
                         f"e.g. {missing[0]}: was the database built from another corpus?")
    rows = []
    unlinked = linked_twice = 0
    for key, items in per_duty.items():
        found = [i for i in items if i is not None]
        unlinked += not found
        linked_twice += len(found) > 1
        # an unlinked duty counts as an item of its own, so it pairs with nothing
        rows.append((key, found[0] if found else ("unlinked", key), truth.items[key]))
    pairs = count_pairs((key[0], item, (key[1], true)) for key, item, true in rows)
    apart = count_pairs(((key[0], item, (key[1], true), title_key(truth.titles[key]))
                         for key, item, true in rows), apart=True)
    return Judged(pairs, apart, len({item for _, item, _ in rows}), truth.true_items(),
                  *mixed((item, (key[1], true)) for key, item, true in rows), findings,
                  unlinked, linked_twice, placed_by_edit(rows, truth))


def placed_by_edit(rows: list[tuple[tuple[str, str, int], Any, str]],
                   truth: Truth) -> dict[str, tuple[int, int]]:
    """Per kind of edit, duties in the item that holds most of their true item's duties."""
    votes: dict[tuple[str, str], Counter[Any]] = defaultdict(Counter)
    for key, item, true in rows:
        votes[key[1], true][item] += 1
    main = {klass: count.most_common(1)[0][0] for klass, count in votes.items()}
    placed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for key, item, true in rows:
        for edit in truth.edits[key].split("+"):
            placed[edit][0] += item == main[key[1], true]
            placed[edit][1] += 1
    return {edit: (right, total) for edit, (right, total) in sorted(placed.items())}


def build_database(towns: Path, url: str) -> str:
    """`pipeline build`, then `pipeline catalogue` where it exists; what was run."""
    run = [str(BIN / "pipeline"), "build", str(towns), "--db", url, "-j", "2"]
    result = subprocess.run(run, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(run)} failed:\n{result.stderr[-2000:]}")
    if has_catalogue_command():
        subprocess.run([str(BIN / "pipeline"), "catalogue", "--db", url], check=True,
                       capture_output=True)
        return "pipeline build, pipeline catalogue"
    return "pipeline build (no `pipeline catalogue` command yet)"


def has_catalogue_command() -> bool:
    result = subprocess.run([str(BIN / "pipeline"), "catalogue", "--help"], capture_output=True)
    return result.returncode == 0


# The scorers, on distinct titles --------------------------------------------------------------

def tfidf_cosine(titles: list[str], representatives: list[str]) -> Matrix:
    from pipeline.versions import title_similarity

    return title_similarity(titles, titles)


def rapidfuzz_ratio(titles: list[str], representatives: list[str]) -> Matrix:
    from rapidfuzz import fuzz, process

    return process.cdist(titles, titles, scorer=fuzz.ratio, workers=-1)


def clause_token_set(titles: list[str], representatives: list[str]) -> Matrix:
    """token_set_ratio with a title's clauses (split at its punctuation) as tokens."""
    from rapidfuzz import fuzz, process

    from bench.changes import clauses_of

    clauses = [clauses_of(t) for t in representatives]
    return process.cdist(clauses, clauses, scorer=fuzz.token_set_ratio, workers=-1)


SCORERS: dict[str, Scorer] = {
    "TF-IDF 2–3-gram cosine (pipeline.versions)": tfidf_cosine,
    "rapidfuzz ratio": rapidfuzz_ratio,
    "rapidfuzz token_set_ratio over clauses": clause_token_set,
}


@dataclass
class Distinct:
    """One list's distinct normalized titles, most carried first, and the duties of each."""

    kind: str
    keys: list[str]
    representatives: list[str]  # the spelling most duties use
    duties: list[list[tuple[str, str]]]  # per key: (document, true item) of each duty


def distinct_titles(truth: Truth) -> list[Distinct]:
    spellings: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    duties: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for (document, kind, seq), title in truth.titles.items():
        key = title_key(title)
        spellings[kind][key][title] += 1
        duties[kind][key].append((document, truth.items[document, kind, seq]))
    out = []
    for kind, by_key in duties.items():
        keys = sorted(by_key, key=lambda k: (-len(by_key[k]), k))
        out.append(Distinct(kind, keys, [spellings[kind][k].most_common(1)[0][0] for k in keys],
                            [by_key[k] for k in keys]))
    return out


def cluster(scores: Matrix, similar: float, margin: float) -> tuple[list[int], int]:
    """Each title's item (the index of its first title) and the count of unsure titles.

    Titles come most carried first; each joins the item whose first title it scores best,
    when that score is ≥ `similar` and ≥ `margin` over the next item's; otherwise it starts
    an item of its own, and is unsure (a review finding) when it reached `similar`.
    """
    import numpy as np

    leaders: list[int] = []
    items = []
    unsure = 0
    for row in range(len(scores)):
        if leaders:
            found = scores[row, leaders]
            best = int(found.argmax())
            top = float(found[best])
            runner_up = float(np.partition(found, -2)[-2]) if len(leaders) > 1 else 0.0
            if top >= similar and top - runner_up >= margin:
                items.append(leaders[best])
                continue
            unsure += top >= similar
        leaders.append(row)
        items.append(row)
    return items, unsure


@dataclass
class Clustered:
    duties: Pairs  # pairs across towns of duties whose normalized titles differ
    titles: Pairs  # pairs of distinct titles
    items: int
    merged: int
    split: int
    unsure: int


def judge_scorer(lists: list[Distinct], matrices: list[Matrix], similar: float,
                 margin: float) -> Clustered:
    duty_rows: list[tuple[str, Any, Any, int]] = []
    title_rows: list[tuple[Any, Any, Any]] = []
    items = unsure = 0
    for distinct, scores in zip(lists, matrices, strict=True):
        found, doubtful = cluster(scores, similar, margin)
        items += len(set(found))
        unsure += doubtful
        for index, (item, carried) in enumerate(zip(found, distinct.duties, strict=True)):
            for document, true in carried:
                duty_rows.append((document, (distinct.kind, item), (distinct.kind, true), index))
            true_title = Counter(t for _, t in carried).most_common(1)[0][0]
            title_rows.append((index, (distinct.kind, item), (distinct.kind, true_title)))
    return Clustered(count_pairs(duty_rows, apart=True), count_pairs(title_rows), items,
                     *mixed((item, true) for _, item, true, _ in duty_rows), unsure)


def compare_scorers(truth: Truth, scorers: dict[str, Scorer] | None = None,
                    ) -> dict[str, dict[tuple[int, int], Clustered]]:
    """Every scorer × (SIMILAR, MARGIN) of the grid, on the corpus's distinct titles."""
    lists = distinct_titles(truth)
    table = {}
    for name, scorer in (scorers or SCORERS).items():
        matrices = []
        for distinct in lists:
            scores = scorer(distinct.keys, distinct.representatives)
            scores[range(len(scores)), range(len(scores))] = 0  # a title is not its own match
            matrices.append(scores)
        table[name] = {(s, m): judge_scorer(lists, matrices, s, m)
                       for s in SIMILAR_GRID for m in MARGIN_GRID}
    return table


def best_rule(grid: dict[tuple[int, int], Clustered]) -> tuple[tuple[int, int], Clustered]:
    """The most recall of distinct titles at a title precision ≥ MIN_PRECISION (then the
    stricter rule); failing that, the most precision. Titles, not duties: a wrong merge of
    two towns' own duties costs one pair of duties but hides a lack all the same."""
    good = {rule: r for rule, r in grid.items() if r.titles.precision >= MIN_PRECISION}
    if good:
        return max(good.items(), key=lambda item: (item[1].titles.recall, item[0]))
    return max(grid.items(), key=lambda item: (item[1].titles.precision, item[0]))


# The report -----------------------------------------------------------------------------------

def catalogue_rule() -> tuple[int, int]:
    """pipeline.catalogue's SIMILAR and MARGIN, where that module exists (else versions')."""
    from pipeline import versions

    try:
        from pipeline import catalogue
    except ImportError:
        catalogue = versions  # type: ignore[assignment]
    similar = getattr(catalogue, "SIMILAR", versions.SIMILAR)
    margin = getattr(catalogue, "MARGIN", versions.MARGIN)
    return int(similar), int(margin)


def scorer_table(truth: Truth, scorers: dict[str, Scorer] | None = None) -> str:
    from pipeline.versions import MARGIN, SIMILAR

    table = compare_scorers(truth, scorers)
    lists = distinct_titles(truth)
    lines = [f"Distinct normalized titles: {sum(len(d.keys) for d in lists)} "
             f"({', '.join(f'{d.kind} {len(d.keys)}' for d in lists)}); "
             f"true items: {truth.true_items()}. Pairs across towns of duties whose "
             "normalized titles differ (what the exact step leaves to the scorer), and pairs "
             "of distinct titles; merged: items holding more than one true duty; split: true "
             "duties spread over more than one item; unsure: titles that reached SIMILAR but "
             "not the margin (review findings):", "",
             "| scorer | SIMILAR | MARGIN | precision | recall | titles: precision | recall "
             "| items | merged | split | unsure |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, grid in table.items():
        rules = [(f"{name}, the catalogue's rule", catalogue_rule()),
                 (f"{name}, the versions rule", (int(SIMILAR), int(MARGIN))),
                 (f"{name}, best of grid", best_rule(grid)[0])]
        for label, rule in rules:
            if rule not in grid:
                lines.append(f"| {label} | {rule[0]} | {rule[1]} | (off the grid) | | | | | | | |")
                continue
            r = grid[rule]
            lines.append(f"| {label} | {rule[0]} | {rule[1]} | {r.duties.precision:.4f} | "
                         f"{r.duties.recall:.4f} | {r.titles.precision:.4f} | "
                         f"{r.titles.recall:.4f} | {r.items} | {r.merged} | {r.split} | "
                         f"{r.unsure} |")
    return "\n".join(lines)


def database_table(judged: Judged) -> str:
    p = judged.pairs
    lines = ["| measure | value |", "|---|---|",
             f"| pair precision | {p.precision:.4f} ({p.right} of {p.together}) |",
             f"| pair recall | {p.recall:.4f} ({p.right} of {p.truly}) |",
             f"| pairs of different titles: precision | {judged.apart.precision:.4f} "
             f"({judged.apart.right} of {judged.apart.together}) |",
             f"| pairs of different titles: recall | {judged.apart.recall:.4f} "
             f"({judged.apart.right} of {judged.apart.truly}) |",
             f"| items / true items | {judged.items} / {judged.true_items} |",
             f"| items holding more than one true duty (merged) | {judged.merged} |",
             f"| true duties spread over more than one item (split) | {judged.split} |",
             f"| duties to review (catalogue_reviews) | {judged.findings} |",
             f"| duties with no item / with more than one | {judged.unlinked} / "
             f"{judged.linked_twice} |"]
    lines += ["", "Duties in the item that holds most of their true duty, by edit:", "",
              "| edit | placed | of |", "|---|---|---|"]
    lines += [f"| {edit} | {right} | {total} |" for edit, (right, total) in judged.placed.items()]
    return "\n".join(lines)


def evaluate(towns: int = 60, seed: int = 19, counties: int | None = None,
             corpus: Path | None = None, url: str | None = None, scorers: bool = True,
             database: bool = True) -> str:
    """The report: the catalogue in a database built from the corpus, and the scorers."""
    work = Path(tempfile.mkdtemp(prefix="dutylists-catalogue-"))
    try:
        if corpus is None:
            corpus = work / "corpus"
            written = write_towns(towns, corpus, seed, counties)
            described = (f"{len(written.documents)} towns (seed {seed}), "
                         f"{written.duties} duties")
        else:
            described = str(corpus)
        truth = Truth.read(corpus / "truth.csv")
        out = [f"corpus: {described}; {truth.true_items()} true items", ""]
        if database:
            url = url or f"sqlite:///{work / 'catalogue.db'}"
            steps = build_database(corpus / "towns", url)
            judged = judge_database(url, truth)
            out += [f"The database ({steps}):", ""]
            out += [database_table(judged) if judged else
                    "no catalogue in the database (no duty_catalogue rows): nothing to judge"]
            out.append("")
        if scorers:
            out.append(scorer_table(truth))
        return "\n".join(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--towns", type=int, default=60)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--counties", type=int, help="default: towns / 8")
    parser.add_argument("--corpus", type=Path, help="an existing bench/towns.py corpus")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--no-scorers", action="store_true")
    parser.add_argument("--no-database", action="store_true")
    parser.add_argument("--scale", type=int, metavar="TOWNS",
                        help="only the scale measurement (#19.6) on this many towns")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="with --scale: keep the corpus and database in DIR, and reuse them")
    parser.add_argument("--match-distinct", metavar="SQLITE_FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.match_distinct:
        print(match_distinct(args.match_distinct))
    elif args.scale:
        print(scale(args.scale, args.seed, args.keep))
    else:
        print(evaluate(args.towns, args.seed, args.counties, args.corpus, args.db,
                       not args.no_scorers, not args.no_database))


# Scale (#19.6) --------------------------------------------------------------------------------

GROUP_BY = """
CREATE TABLE exact_items AS
    SELECT row_number() OVER (ORDER BY list, title) AS id, list, title, count(*) AS duties
    FROM duties GROUP BY list, title;
CREATE TABLE exact_links AS
    SELECT duties.id AS duty_id, exact_items.id AS item_id
    FROM duties JOIN exact_items USING (list, title);
"""


def group_by(path: str) -> str:
    """The floor: items by exact title, and every duty linked to one; in one transaction."""
    import sqlite3

    conn = sqlite3.connect(path)
    with conn:
        conn.executescript("DROP TABLE IF EXISTS exact_items; DROP TABLE IF EXISTS exact_links;")
        conn.executescript(GROUP_BY)
    items = conn.execute("SELECT count(*) FROM exact_items").fetchone()[0]
    conn.close()
    return f"{items} exact-title items"


def match_distinct(path: str, block: int = 1000) -> str:
    """Distinct normalized titles per list, each scored against all others by
    pipeline.versions.title_similarity (in blocks of `block` rows), and the versions rule
    applied to its best and runner-up: the scoring any exhaustive similar step pays."""
    import sqlite3

    import numpy as np

    from pipeline.versions import MARGIN, SIMILAR, title_similarity

    conn = sqlite3.connect(path)
    keys: dict[str, set[str]] = defaultdict(set)
    for kind, title in conn.execute("SELECT DISTINCT list, title FROM duties"):
        keys[kind].add(title_key(title))
    conn.close()
    counts = []
    for kind, found in sorted(keys.items()):
        titles = sorted(found)
        sure = 0
        for start in range(0, len(titles), block):
            scores = title_similarity(titles[start:start + block], titles)
            rows = np.arange(len(scores))
            scores[rows, rows + start] = 0  # not itself
            ordered = np.sort(scores, axis=1)
            best, runner_up = ordered[:, -1], ordered[:, -2]
            sure += int(((best >= SIMILAR) & (best - runner_up >= MARGIN)).sum())
        counts.append(f"{kind} {len(titles)} titles ({sure} with a sure best)")
    return "; ".join(counts)


def scale(towns: int = 2000, seed: int = 19, keep: Path | None = None) -> str:
    """Wall time and peak RSS of the catalogue step against an exact-title GROUP BY, on
    one database built from a `towns`-town corpus; every figure from this one run.

    With `keep`, the corpus and database stay there, and a later run reuses them (the build
    is not measured again).
    """
    from bench.run import measure

    work = keep or Path(tempfile.mkdtemp(prefix="dutylists-scale-"))
    try:
        db = work / "scale.db"
        url = f"sqlite:///{db}"
        runs = {}
        if not (db.exists() and (work / "corpus" / "truth.csv").exists()):
            shutil.rmtree(work / "corpus", ignore_errors=True)
            db.unlink(missing_ok=True)
            start = time.perf_counter()
            write_towns(towns, work / "corpus", seed)
            print(f"{towns} towns written in {time.perf_counter() - start:.1f} s", file=sys.stderr)
            runs[f"pipeline build -j 2 ({towns} towns)"] = measure(
                [str(BIN / "pipeline"), "build", str(work / "corpus" / "towns"), "--db", url,
                 "-j", "2"])
        python = [sys.executable, "-c"]
        runs |= {
            "exact-title GROUP BY (items + links)": measure(
                [*python, f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                 f"from bench.catalogue import group_by; print(group_by({str(db)!r}))"]),
            "distinct titles scored (versions TF-IDF)": measure(
                [sys.executable, str(Path(__file__)), "--match-distinct", str(db)]),
        }
        if has_catalogue_command():
            runs["pipeline catalogue"] = measure([str(BIN / "pipeline"), "catalogue", "--db", url])
        truth = Truth.read(work / "corpus" / "truth.csv")
        lists = distinct_titles(truth)
        lines = [f"{len({key[0] for key in truth.items})} towns, {len(truth.items)} duties, "
                 f"{sum(len(d.keys) for d in lists)} distinct normalized titles "
                 f"({', '.join(f'{d.kind} {len(d.keys)}' for d in lists)}); "
                 f"{os.cpu_count()} cores", "",
                 "| step | wall | peak RSS |", "|---|---|---|"]
        lines += [f"| {name} | {run.wall:.1f} s | {run.rss:.0f} MB |" for name, run in runs.items()]
        if "pipeline catalogue" not in runs:
            lines.append("| pipeline catalogue | (no such command yet) | |")
        return "\n".join(lines)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
