"""Write N towns' lists derived from the sample: bench/corpus.py N OUT [--mix].

Each town gets its own place names (so each is a separate place in the database). By
default every list is tab-separated text, like the sample; with --mix one town in ten is
an xlsx, one a docx and one an HTML page, written by the same writers the tests use.
"""

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLE = ROOT / "raw" / "changji-manas-liangzhouhu.txt"
# Syllables that hold no place-level mark (州 县 区 镇 乡 …), so titles stay unambiguous.
SYLLABLES = "东西南北安平和兴永新丰宁泰广福康乐长青石河山阳春华盛源金玉德"
PREFECTURES = ["昌吉州", "伊犁州", "博尔塔拉州", "巴音郭楞州", "克孜勒苏州"]


# Towns per county, as in a real county (玛纳斯县 has 11 towns and townships): what a
# pipeline compiles per county (the departments' patterns) is then shared, as it is in use.
COUNTY_TOWNS = 10


def names(count: int) -> list[tuple[str, str, str]]:
    """(prefecture, county, town) for each of `count` towns; every town is distinct, and
    each run of COUNTY_TOWNS towns shares a county."""
    counties = itertools.cycle(itertools.product(SYLLABLES, repeat=2))
    triples = itertools.product(SYLLABLES, repeat=3)
    out = []
    county = ""
    for index, town in enumerate(triples):
        if index == count:
            break
        if index % COUNTY_TOWNS == 0:
            county = "".join(next(counties)) + "县"
        prefecture = PREFECTURES[index // COUNTY_TOWNS % len(PREFECTURES)]
        out.append((prefecture, county, "".join(town) + "镇"))
    return out


def town_text(prefecture: str, county: str, town: str) -> str:
    text = SAMPLE.read_text(encoding="utf-8")
    return (text.replace("凉州户镇", town).replace("凉州户", town[:-1])
            .replace("玛纳斯县", county).replace("昌吉州", prefecture))


def write_corpus(count: int, out: Path, mix: bool = False) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for index, (prefecture, county, town) in enumerate(names(count)):
        text = town_text(prefecture, county, town)
        kind = index % 10 if mix else None
        if kind in (0, 1, 2):
            from tests.fixtures import write_docx, write_html, write_xlsx

            writer = {0: write_xlsx, 1: write_docx, 2: write_html}[kind]
            path = writer(out / f"town-{index:05d}.{['xlsx', 'docx', 'html'][kind]}", text)
        else:
            path = out / f"town-{index:05d}.txt"
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--mix", action="store_true", help="mix xlsx, docx and HTML in")
    args = parser.parse_args()
    files = write_corpus(args.count, args.out, args.mix)
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} documents, {size / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()
