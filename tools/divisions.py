"""Generate pipeline/data/divisions.tsv from the CSV files of modood/Administrative-divisions-of-China.

    python tools/divisions.py PATH/TO/Administrative-divisions-of-China/dist COMMIT

The source is 国家统计局's 统计用区划代码 (statistical division codes), crawled and published
by that repository under the WTFPL. One line per division, down to towns (乡级): the code's
length gives the level (2 province, 4 prefecture, 6 county, 9 town) and its prefixes the
parents, so the file needs no parent columns and a new edition diffs line by line.
"""

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

EDITION = "2023年统计用区划代码 (截止 2023-06-30, 发布 2023-09-11)"
FILES = ["provinces.csv", "cities.csv", "areas.csv", "streets.csv"]


def main(dist: Path, commit: str, out: Path) -> None:
    rows: list[tuple[str, str]] = []
    for name in FILES:
        with (dist / name).open(encoding="utf-8", newline="") as file:
            rows += [(row["code"], row["name"].strip()) for row in csv.DictReader(file)]
    rows.sort()
    with out.open("w", encoding="utf-8", newline="\n") as file:
        file.write(f"# 国家统计局 {EDITION}\n")
        file.write(f"# via modood/Administrative-divisions-of-China@{commit[:12]} (WTFPL), "
                   f"generated {datetime.now(UTC):%Y-%m-%d} by tools/divisions.py\n")
        file.write("code\tname\n")
        file.writelines(f"{code}\t{name}\n" for code, name in rows)
    print(f"{out}: {len(rows)} divisions")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(__file__).parent.parent / "pipeline/data/divisions.tsv")
