"""bench/towns.py (towns that differ, with the truth known) and bench/catalogue.py's arithmetic.

The truth is checked against the sample read by the pipeline's own table parser, and the
documents against what `pipeline build` loads from them.
"""

import csv
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bench.catalogue import Pairs, Truth, count_pairs, evaluate, judge_links
from bench.towns import issue_towns, save, write_towns
from pipeline.versions import title_key
from tests.conftest import ROOT
from tests.fixtures import sample_sections

LISTS = {"基本履职事项清单": "basic", "配合履职事项清单": "cooperative",
         "上级部门收回事项清单": "withdrawn"}
SAMPLE_PLACE = ("凉州户镇", "玛纳斯县", "昌吉州")


@pytest.fixture(scope="module")
def sample_items() -> dict[str, tuple[str, str, str]]:
    """basic-001 … → (list, category, title), read by pipeline.tables."""
    items = {}
    for title, header, rows in sample_sections():
        kind = next(k for ending, k in LISTS.items() if title.endswith(ending))
        for cells in rows:
            items[f"{kind}-{int(cells[0]):03d}"] = (kind, cells[header.index("事项类别")],
                                                    cells[header.index("事项名称")])
    return items


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def localized(title: str, row: dict[str, str]) -> str:
    for old, new in zip(SAMPLE_PLACE, (row["town"], row["county"], row["prefecture"]), strict=True):
        title = title.replace(old, new)
    return title


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    for out, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_towns(6, tmp_path / out, seed=seed, counties=2)

    def contents(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert contents(tmp_path / "a") == contents(tmp_path / "b")
    assert contents(tmp_path / "a")["truth.csv"] != contents(tmp_path / "c")["truth.csv"]


def test_the_truth_says_what_was_done(tmp_path: Path,
                                      sample_items: dict[str, tuple[str, str, str]]) -> None:
    written = write_towns(40, tmp_path, seed=5, counties=5)
    rows = read_rows(tmp_path / "truth.csv")
    assert len(rows) == written.duties
    edits: Counter[str] = Counter()
    for row in rows:
        edit = set(row["edit"].split("+"))
        edits.update(edit)
        if row["true_item"] not in sample_items:
            continue
        kind, category, title = sample_items[row["true_item"]]
        title = localized(title, row)
        assert ("list" in edit) == (row["list"] != kind)
        assert ("category" in edit) == (row["list"] == kind and row["category"] != category)
        assert ("reworded" in edit) == (title_key(row["title"]) != title_key(title))
        assert ("respelled" in edit) == (row["title"] != title
                                          and title_key(row["title"]) == title_key(title))
        assert ("same" in edit) == (edit == {"same"}) == (
            (row["list"], row["category"], row["title"]) == (kind, category, title))
    assert min(edits[e] for e in ("reworded", "respelled", "category", "list", "local",
                                  "county", "same")) > 10, edits
    # Every sample duty survives somewhere, and some are removed in some towns.
    towns = {row["document"] for row in rows}
    carried = Counter(row["true_item"] for row in rows if row["true_item"] in sample_items)
    assert set(carried) == set(sample_items)
    assert 0 < sum(len(towns) - n for n in carried.values()) < 0.1 * len(rows)


def test_towns_group_into_counties_and_own_duties_are_their_own(tmp_path: Path) -> None:
    write_towns(40, tmp_path, seed=5, counties=5)
    rows = read_rows(tmp_path / "truth.csv")
    county_of = {row["document"]: row["county_code"] for row in rows}
    assert Counter(county_of.values()) == Counter({code: 8 for code in set(county_of.values())})
    assert len(set(county_of.values())) == 5
    assert len({(r["county_code"], r["town"]) for r in rows}) == 40
    keys = defaultdict(set)
    for row in rows:
        keys[row["list"], title_key(row["title"])].add(row["true_item"])
        if row["true_item"].startswith("county-"):
            assert row["true_item"].split("-")[1] == row["county_code"]
    own = [r for r in rows if r["true_item"].startswith("local-")]
    assert len(own) > 20
    assert len({r["true_item"] for r in own}) == len(own)  # one town each
    for row in own:  # and no other duty is written alike
        assert keys[row["list"], title_key(row["title"])] == {row["true_item"]}
    # renumbered: 序号 runs 1… in each list of each document, and categories are reordered
    seqs = defaultdict(list)
    for row in rows:
        seqs[row["document"], row["list"]].append(int(row["seq"]))
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())


@pytest.mark.parametrize("form", ["txt", "mix"])
def test_every_document_builds_as_the_truth_says(tmp_path: Path, form: str) -> None:
    towns = 4 if form == "txt" else 3  # mix: an xlsx, a docx and an HTML page
    write_towns(towns, tmp_path / "corpus", seed=11, counties=2, form=form)
    db = tmp_path / "duties.db"
    result = subprocess.run([sys.executable, "-m", "pipeline", "build",
                             str(tmp_path / "corpus" / "towns"), "--db", f"sqlite:///{db}"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    truth = read_rows(tmp_path / "corpus" / "truth.csv")
    conn = sqlite3.connect(db)
    loaded = conn.execute("""
        SELECT documents.path, duties.list, duties.seq, duties.title, duties.category,
               towns.name, towns.county
        FROM duties JOIN documents ON documents.id = duties.document_id
        JOIN towns ON towns.id = duties.town_id""").fetchall()
    errors = conn.execute("SELECT count(*) FROM quality_issues WHERE severity = 'error'").fetchone()
    conn.close()
    assert errors == (0,)
    assert sorted((Path(p).name, k, s, title_key(t), c, n, co) for p, k, s, t, c, n, co in loaded) \
        == sorted((r["document"], r["list"], int(r["seq"]), title_key(r["title"]), r["category"],
                   r["town"], r["county"]) for r in truth)
    if form == "mix":
        assert sorted(Path(p).suffix for p in {row[0] for row in loaded}) == [
            ".docx", ".html", ".xlsx"]


def test_pairs_are_counted_across_towns_only() -> None:
    # Towns A, B, C. True duties x (A1, B1, C1) and y (A2, C2); the catalogue put A1, B1 in
    # item 1, C1 and C2 in item 2 (one town's two duties: not a pair), A2 in item 3.
    duties = [("A", 1, "x"), ("B", 1, "x"), ("C", 2, "x"), ("A", 3, "y"), ("C", 2, "y")]
    # together: A1–B1 only. truly: A1–B1, A1–C1, B1–C1, A2–C2. right: A1–B1.
    assert count_pairs(duties) == Pairs(together=1, truly=4, right=1)
    assert count_pairs(duties).precision == 1.0
    assert count_pairs(duties).recall == 0.25
    everything = [("A", 1, "x"), ("B", 1, "x"), ("C", 1, "x"), ("A", 1, "y"), ("C", 1, "y")]
    # together: every cross-town pair of five duties: 10 − A's one − C's one = 8
    assert count_pairs(everything) == Pairs(together=8, truly=4, right=4)
    # Apart: pairs of duties whose titles differ. A and B both wrote x as "t": that pair is
    # the exact step's, and is left out of every count.
    titled = [("A", 1, "x", "t"), ("B", 1, "x", "t"), ("C", 1, "x", "u"), ("A", 2, "y", "v"),
              ("B", 1, "y", "w")]
    assert count_pairs(titled) == Pairs(together=5, truly=4, right=3)
    assert count_pairs(titled, apart=True) == Pairs(together=4, truly=3, right=2)


def test_links_are_judged_per_list_with_unlinked_duties_alone() -> None:
    truth = Truth()
    for document, kind, seq, item, title in [
            ("a.txt", "basic", 1, "basic-001", "加强宣传教育"),
            ("b.txt", "basic", 1, "basic-001", "加强宣传教育。"),  # the same normalized title
            ("c.txt", "basic", 2, "basic-001", "强化宣传教育"),
            ("a.txt", "cooperative", 1, "basic-001", "加强宣传教育"),  # moved to another list
            ("b.txt", "basic", 2, "local-00001-1", "负责东湖水库安全巡查")]:
        truth.items[document, kind, seq] = item
        truth.edits[document, kind, seq] = "same"
        truth.titles[document, kind, seq] = title
    links = [("a.txt", "basic", 1, 10), ("b.txt", "basic", 1, 10), ("b.txt", "basic", 2, 10),
             ("c.txt", "basic", 2, None), ("a.txt", "cooperative", 1, 20)]
    judged = judge_links(links, truth, findings=2)
    # together: a1–b1, a1–b2 (b1–b2 is one town). truly: a1–b1, a1–c2, b1–c2. right: a1–b1.
    assert judged.pairs == Pairs(together=2, truly=3, right=1)
    assert judged.apart == Pairs(together=1, truly=2, right=0)  # a1–b1 is the exact step's
    assert (judged.items, judged.true_items, judged.unlinked, judged.findings) == (3, 3, 1, 2)
    assert (judged.merged, judged.split) == (1, 1)  # item 10 holds b2; basic-001 is also c2's
    assert judged.placed == {"same": (4, 5)}  # c2, unlinked, is not where basic-001 mostly is


def test_the_issue_towns_are_as_the_issue_says(tmp_path: Path) -> None:
    save(tmp_path, issue_towns(tmp_path / "towns"))
    rows = read_rows(tmp_path / "truth.csv")
    edits = Counter((row["document"], row["list"], row["edit"]) for row in rows)
    assert edits == Counter({
        ("town-00000.txt", "basic", "same"): 106, ("town-00000.txt", "cooperative", "same"): 107,
        ("town-00000.txt", "withdrawn", "same"): 37,
        ("town-00001.txt", "basic", "same"): 100, ("town-00001.txt", "basic", "local"): 1,
        ("town-00001.txt", "cooperative", "same"): 107,
        ("town-00001.txt", "withdrawn", "same"): 37,
        ("town-00002.txt", "basic", "same"): 96, ("town-00002.txt", "basic", "reworded"): 10,
        ("town-00002.txt", "cooperative", "same"): 102,
        ("town-00002.txt", "withdrawn", "same"): 37})
    assert Truth.read(tmp_path / "truth.csv").true_items() == 107 + 107 + 37
    assert len({row["county_code"] for row in rows}) == 1


def test_the_evaluation_runs_end_to_end() -> None:
    """bench/catalogue.py on three towns: a database built and judged (or said to have no
    catalogue yet), and every scorer's row; its figures are not checked here."""
    report = evaluate(towns=3, seed=2)
    assert "pipeline build" in report
    assert ("pair precision" in report) or ("no catalogue in the database" in report)
    for scorer in ("TF-IDF", "rapidfuzz ratio", "token_set_ratio"):
        assert f"{scorer}" in report
