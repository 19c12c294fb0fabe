"""Towns whose lists differ as real towns' do, with the truth of which duty is which (#19).

    python bench/towns.py N OUT --seed S [--counties K] [--format txt|mix]

Every town is a real town (镇/乡/街道) of a real county in pipeline/data/divisions.tsv, so
the place in each title resolves; its K counties are drawn at random among those with enough
towns, and the towns are dealt among them (N/K each, ±1). Each county first revises the
sample's three lists (250 duties) the way a county office adapts a model list, and adds
county-wide duties of its own; each of its towns then revises the county's lists again, and
adds duties of its own that no other town has (bench/towns.toml holds the rates). The edits:
titles reworded (bench/edits.py, from bench/revisions.toml) or respelled, duties removed,
moved to another category or to another list, categories listed in another order
(renumbered), and page breaks (repeated header rows) every 4–12 rows.

OUT/towns/ receives one document per town (town-00000.txt …; with --format mix one town in
ten is an xlsx, one a docx and one an HTML page, by the writers the tests use), which
`pipeline build OUT/towns` reads, and OUT/truth.csv, one
row per duty written: document, county code and names, town, list, seq (序号 as written),
category, title (as written), true_item and edit. true_item is the sample duty the row
derives from (basic-017: the 17th duty of the sample's basic list, whatever list it was
moved to), county-<code>-<k> for a county-wide duty (the same duty in every town of the
county), or local-<town>-<k> for a town's own duty. edit says what was done to it
against what it was first (same, reworded, respelled, category, list, local, county;
several joined by +): a title reworded and reworded back is the same.

The same N, seed, K and format give the same bytes. Counties are made one at a time and
towns are written as they are made, so memory stays that of one county's lists.
"""

import argparse
import csv
import random
import re
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.edits import respell, reword  # noqa: E402
from pipeline.versions import title_key  # noqa: E402

SAMPLE = ROOT / "raw" / "changji-manas-liangzhouhu.txt"
DIVISIONS = ROOT / "pipeline" / "data" / "divisions.tsv"
RATES = tomllib.loads((Path(__file__).parent / "towns.toml").read_text(encoding="utf-8"))
# The sample's own place, as its text writes it; each town's text gets its own instead.
SAMPLE_PLACE = {"town": "凉州户镇", "county": "玛纳斯县", "prefecture": "昌吉州"}
LIST_TITLES = {"basic": "基本履职事项清单", "cooperative": "配合履职事项清单",
               "withdrawn": "上级部门收回事项清单"}
TOWN_KINDS = ("街道", "镇", "乡")  # the towns drawn: townships and street offices, not 农场
NOT_PREFECTURES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
TRUTH_COLUMNS = ["document", "county_code", "prefecture", "county", "town", "list", "seq",
                 "category", "title", "true_item", "edit"]
PAIR_STRIDE = 7919  # a prime: deals (object, action) pairs in a scattered order


@dataclass(frozen=True)
class Place:
    prefecture: str
    county: str
    county_code: str
    town: str

    @property
    def stem(self) -> str:
        """The town's name without its kind: Place(…, town="凉州户镇").stem -> "凉州户"."""
        return next((self.town[:-len(k)] for k in TOWN_KINDS if self.town.endswith(k)), self.town)

    @property
    def title(self) -> str:
        return self.prefecture + self.county + self.town


@dataclass(frozen=True)
class Row:
    """One duty of a list as a town writes it, and what it truly is."""

    list: str
    category: str
    title: str
    extra: tuple[str, ...]  # the cells after 事项名称 (departments, responsibilities)
    true_item: str
    origin: tuple[str, str, str]  # list, category and title as first written
    owner: str = "sample"  # or "county" (a county-wide duty) or "local" (a town's own)

    @property
    def edits(self) -> list[str]:
        """What the row is now against its origin: ["reworded", "category"], ["same"] …"""
        kind, category, title = self.origin
        found = [] if self.owner == "sample" else [self.owner]
        if self.list != kind:
            found.append("list")
        elif self.category != category:
            found.append("category")
        if self.title != title:
            found.append("reworded" if cached_key(self.title) != cached_key(title)
                         else "respelled")
        return found or ["same"]


@dataclass
class Lists:
    """A place's three lists: rows per list, in category order."""

    headers: dict[str, list[str]]
    rows: dict[str, list[Row]] = field(default_factory=dict)


# The sample ---------------------------------------------------------------------------------

def read_sample(path: Path = SAMPLE) -> Lists:
    """The sample's lists as rows, each its own true item: basic-001 … withdrawn-037.

    The sample is one title line per list, header rows repeated at page breaks, and one
    line per duty (序号, 事项类别, 事项名称, then the list's own columns).
    """
    lists = Lists(headers={})
    kind = None
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        title = next((k for k, t in LIST_TITLES.items() if line.endswith(t)), None)
        if title:
            kind = title
            lists.rows[kind] = []
        elif kind and cells[0] == "序号":
            lists.headers[kind] = cells
        elif kind and cells[0].isdigit():
            lists.rows[kind].append(Row(kind, cells[1], cells[2], tuple(cells[3:]),
                                        f"{kind}-{int(cells[0]):03d}",
                                        (kind, cells[1], cells[2])))
    return lists


# Places -------------------------------------------------------------------------------------

def read_counties(path: Path = DIVISIONS) -> dict[str, tuple[str, str, list[str]]]:
    """county code → (prefecture, county, its towns), for counties under a prefecture."""
    names: dict[str, str] = {}
    towns: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.startswith("#") or line.startswith("code"):
                continue
            code, name = line.rstrip("\n").split("\t")
            if len(code) == 9:
                if name.endswith(TOWN_KINDS) and "片区" not in name:
                    towns.setdefault(code[:6], []).append(name)
            else:
                names[code] = name
    counties = {}
    for code, found in towns.items():
        prefecture, county = names.get(code[:4]), names.get(code)
        if prefecture and county and prefecture not in NOT_PREFECTURES \
                and county != "市辖区" and len(set(found)) == len(found):
            counties[code] = (prefecture, county, found)
    return counties


def draw_places(count: int, counties: int, seed: int) -> list[list[Place]]:
    """`count` distinct real towns in `counties` real counties, dealt N/K each (±1)."""
    if not 1 <= counties <= count:
        raise SystemExit(f"--counties must be between 1 and the number of towns ({count})")
    per = -(-count // counties)
    known = read_counties()
    eligible = sorted(code for code, (_, _, towns) in known.items() if len(towns) >= per)
    if len(eligible) < counties:
        raise SystemExit(f"only {len(eligible)} counties have {per} towns or more; "
                         f"ask for more counties (--counties) or fewer towns")
    rng = random.Random(f"{seed}/counties")
    drawn = rng.sample(eligible, counties)
    sizes = [count // counties + (k < count % counties) for k in range(counties)]
    places = []
    for code, size in zip(drawn, sizes, strict=True):
        prefecture, county, towns = known[code]
        places.append([Place(prefecture, county, code, town) for town in rng.sample(towns, size)])
    return places


# Revisions ----------------------------------------------------------------------------------

def revise(lists: Lists, rates: dict[str, Any], rng: random.Random,
           locals_: list[Row]) -> Lists:
    """The lists with each row edited at `rates`, then `locals_` added where they belong."""
    out = Lists(headers=lists.headers, rows={kind: [] for kind in lists.rows})
    donors = {kind: [r.extra for r in rows] for kind, rows in lists.rows.items()}
    for kind, rows in lists.rows.items():
        categories = list(dict.fromkeys(r.category for r in rows))
        for row in rows:
            draw = rng.random()
            if draw < rates["remove"]:
                continue
            draw -= rates["remove"]
            if draw < rates["reword"]:
                row = replace(row, title=reword(row.title, rng))
            elif draw - rates["reword"] < rates["respell"]:
                row = replace(row, title=respell(row.title, rng))
            draw = rng.random()
            if draw < rates["list"]:
                target = rng.choice([k for k in lists.rows if k != kind])
                row = move_list(row, target, lists, donors[target], rng)
            elif draw - rates["list"] < rates["category"] and len(categories) > 1:
                category = rng.choice([c for c in categories if c != row.category])
                row = replace(row, category=category)
            out.rows[row.list].append(row)
    for row in locals_:
        out.rows[row.list].append(replace(row, extra=rng.choice(donors[row.list])))
    for kind, rows in out.rows.items():
        out.rows[kind] = unique(rows)
    return out


def move_list(row: Row, target: str, lists: Lists, donors: list[tuple[str, ...]],
              rng: random.Random) -> Row:
    """The row in another list: the columns that list has, borrowed from one of its rows."""
    categories = list(dict.fromkeys(r.category for r in lists.rows[target])) or [row.category]
    category = row.category if row.category in categories else rng.choice(categories)
    return replace(row, list=target, category=category, extra=rng.choice(donors))


def unique(rows: list[Row]) -> list[Row]:
    """Rows whose titles normalize apart: an edit that made two alike undoes the later one's move.

    A list never names one duty twice; where an edit or a move made two rows alike, the
    second is dropped (it is then simply not carried by this town).
    """
    seen: set[str] = set()
    kept = []
    for row in rows:
        key = cached_key(row.title)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


@lru_cache(maxsize=1 << 16)
def cached_key(title: str) -> str:
    """title_key, remembered: most titles of a town are its county's, and most of those the sample's."""
    return title_key(title)


def ordered(lists: Lists, rate: float, rng: random.Random) -> Lists:
    """Rows grouped by category, in the order categories first appear; some categories shuffled."""
    out = Lists(headers=lists.headers, rows={})
    for kind, rows in lists.rows.items():
        groups: dict[str, list[Row]] = {}
        for row in rows:
            groups.setdefault(row.category, []).append(row)
        for group in groups.values():
            if len(group) > 1 and rng.random() < rate:
                rng.shuffle(group)
        out.rows[kind] = [row for group in groups.values() for row in group]
    return out


def local_rows(owner: str, place: str, lists: Lists, span: list[int], first: int,
               rng: random.Random, edit: str) -> list[Row]:
    """Duties of a town's (or county's) own: "负责凉州户温泉景区安全巡查", true item owner-k.

    `first` counts the local duties made before these: the (object, action) pairs are dealt
    from there, so no two local duties share their pair until every pair has been dealt.
    """
    objects, actions, verbs = (RATES["local"][k] for k in ("objects", "actions", "verbs"))
    pairs = len(objects) * len(actions)
    rows = []
    for kind, existing in lists.rows.items():
        categories = list(dict.fromkeys(r.category for r in existing))
        for _ in range(rng.randint(*span)):
            pair = (first + len(rows)) * PAIR_STRIDE % pairs
            title = (rng.choice(verbs) + place + objects[pair // len(actions)]
                     + actions[pair % len(actions)])
            category = rng.choice(categories)
            rows.append(Row(kind, category, title, (), f"{owner}-{len(rows) + 1}",
                            (kind, category, title), edit))
    return rows


# Writing ------------------------------------------------------------------------------------

def town_text(place: Place, lists: Lists, rng: random.Random) -> tuple[str, dict[str, list[Row]]]:
    """The document as tab-separated text like the sample, and its rows per list."""
    page = rng.randint(*RATES["town"]["page"])
    lines = ["", ""]
    for kind, rows in lists.rows.items():
        header = "\t".join(lists.headers[kind])
        lines += [place.title + LIST_TITLES[kind], "", header]
        for seq, row in enumerate(rows, start=1):
            if seq > 1 and (seq - 1) % page == 0:
                lines += ["", header]
            lines.append("\t".join([str(seq), row.category, row.title, *row.extra]))
        lines.append("")
    return localize("\n".join(lines) + "\n", place), lists.rows


def localize(text: str, place: Place) -> str:
    """The sample's place names in `text` replaced by the town's own, in one pass."""
    names = {SAMPLE_PLACE["town"]: place.town, SAMPLE_PLACE["county"]: place.county,
             SAMPLE_PLACE["prefecture"]: place.prefecture}
    return PLACE_PATTERN.sub(lambda m: names[m.group()], text)


PLACE_PATTERN = re.compile("|".join(map(re.escape, SAMPLE_PLACE.values())))


def write_document(path: Path, text: str, kind: str) -> Path:
    if kind == "txt":
        path = path.with_suffix(".txt")
        path.write_text(text, encoding="utf-8")
        return path
    from tests.fixtures import write_docx, write_html, write_xlsx

    writer = {"xlsx": write_xlsx, "docx": write_docx, "html": write_html}[kind]
    return writer(path.with_suffix("." + kind), text)


def document_kind(index: int, form: str) -> str:
    """txt, or with --format mix one town in ten each of xlsx, docx and html."""
    return {0: "xlsx", 1: "docx", 2: "html"}.get(index % 10, "txt") if form == "mix" else "txt"


@dataclass
class Written:
    documents: list[Path]
    duties: int


Truth = list[tuple[str | int, ...]]  # truth.csv's rows of one document


def write_town(out: Path, index: int, place: Place, lists: Lists, rng: random.Random,
               form: str) -> tuple[Path, Truth]:
    """The town's document in `out` (town-00042.txt …), and its rows of truth.csv."""
    text, rows = town_text(place, lists, rng)
    path = write_document(out / f"town-{index:05d}", text, document_kind(index, form))
    return path, [(path.name, place.county_code, place.prefecture, place.county, place.town,
                   kind, seq, row.category, localize(row.title, place), row.true_item,
                   "+".join(row.edits))
                  for kind, kind_rows in rows.items()
                  for seq, row in enumerate(kind_rows, start=1)]


def generate(count: int, out: Path, seed: int = 19, counties: int | None = None,
             form: str = "txt") -> Iterator[tuple[Path, Truth]]:
    """Each town's document as written, with its truth rows; one county in memory at a time."""
    sample = read_sample()
    places = draw_places(count, counties or max(1, round(count / 8)), seed)
    index = dealt = 0  # towns written, and local duties made so far
    for county_places in places:
        first = county_places[0]
        rng = random.Random(f"{seed}/county/{first.county_code}")
        county_stem = first.county[:-1]
        shared = local_rows(f"county-{first.county_code}", county_stem, sample,
                            RATES["county"]["shared"], dealt, rng, "county")
        dealt += len(shared)
        county = revise(sample, RATES["county"], rng, shared)
        for place in county_places:
            rng = random.Random(f"{seed}/town/{index}")
            own = local_rows(f"local-{index:05d}", place.stem, county, RATES["town"]["local"],
                             dealt, rng, "local")
            dealt += len(own)
            town = ordered(revise(county, RATES["town"], rng, own), RATES["town"]["renumber"], rng)
            yield write_town(out, index, place, town, rng, form)
            index += 1


def issue_towns(out: Path, seed: int = 19) -> Iterator[tuple[Path, Truth]]:
    """The three towns of #19's "done when", in one real county: the sample as is; six basic
    duties removed and one local basic duty added; ten basic titles reworded and five
    cooperative duties removed. A catalogue of them has 107 + 107 + 37 items."""
    sample = read_sample()
    rng = random.Random(f"{seed}/issue")
    [places] = draw_places(3, 1, seed)
    yield write_town(out, 0, places[0], sample, rng, "txt")
    basic, cooperative = sample.rows["basic"], sample.rows["cooperative"]
    removed = set(rng.sample(range(len(basic)), 6))
    own = local_rows("local-00001", places[1].stem, Lists({}, {"basic": basic}), [1, 1], 0, rng,
                     "local")
    kept = [row for i, row in enumerate(basic) if i not in removed]
    kept.insert(rng.randrange(len(kept) + 1), own[0])
    yield write_town(out, 1, places[1], Lists(sample.headers, {**sample.rows, "basic": kept}),
                     rng, "txt")
    reworded = set(rng.sample(range(len(basic)), 10))
    dropped = set(rng.sample(range(len(cooperative)), 5))
    lists = {**sample.rows,
             "basic": [replace(row, title=reword(row.title, rng)) if i in reworded else row
                       for i, row in enumerate(basic)],
             "cooperative": [row for i, row in enumerate(cooperative) if i not in dropped]}
    yield write_town(out, 2, places[2], Lists(sample.headers, lists), rng, "txt")


def write_towns(count: int, out: Path, seed: int = 19, counties: int | None = None,
                form: str = "txt") -> Written:
    """Write OUT/towns/ and OUT/truth.csv; the documents written and the duties in them."""
    return save(out, generate(count, out / "towns", seed, counties, form))


def save(out: Path, towns: Iterator[tuple[Path, Truth]]) -> Written:
    (out / "towns").mkdir(parents=True, exist_ok=True)
    written = Written([], 0)
    with (out / "truth.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        for path, truth in towns:
            writer.writerows(truth)
            written.documents.append(path)
            written.duties += len(truth)
    return written


def read_truth(path: Path) -> Iterator[dict[str, str]]:
    """truth.csv's rows, as written."""
    with path.open(encoding="utf-8", newline="") as file:
        yield from csv.DictReader(file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("count", type=int, help="towns (ignored with --issue)")
    parser.add_argument("out", type=Path, help="folder for the documents and truth.csv")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--counties", type=int, help="counties the towns lie in (default N/8)")
    parser.add_argument("--format", choices=["txt", "mix"], default="txt", dest="form",
                        help="mix: one town in ten each as xlsx, docx and HTML")
    parser.add_argument("--issue", action="store_true",
                        help="the three towns of issue #19's acceptance instead")
    args = parser.parse_args()
    start = time.perf_counter()
    if args.issue:
        written = save(args.out, issue_towns(args.out / "towns", args.seed))
    else:
        written = write_towns(args.count, args.out, args.seed, args.counties, args.form)
    size = sum(p.stat().st_size for p in written.documents)
    print(f"{len(written.documents)} documents, {written.duties} duties, {size / 1e6:.1f} MB "
          f"in {args.out} ({time.perf_counter() - start:.1f} s); truth in "
          f"{args.out / 'truth.csv'}")


if __name__ == "__main__":
    main()
