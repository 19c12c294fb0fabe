"""A bare floor: read, split and INSERT with no validation at all: bench/floor.py CORPUS DB.

What no pipeline can beat by much: the least work that still puts rows and steps in a table.
"""

import re
import sqlite3
import sys
from pathlib import Path

STEP = re.compile(r"(?:^|\s)\d+[.、]")
TAGS = re.compile(r"<[^>]+>")


def main(corpus: Path, database: Path) -> None:
    conn = sqlite3.connect(database)
    conn.execute("CREATE TABLE duties (town TEXT, line INTEGER, cells TEXT)")
    conn.execute("CREATE TABLE steps (town TEXT, line INTEGER, text TEXT)")
    for path in sorted(corpus.glob("*.txt")):
        duties, steps = [], []
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            cells = line.split("\t")
            if len(cells) < 3 or not cells[0].isdigit():
                continue
            duties.append((path.stem, number, line))
            for cell in cells[3:]:
                steps += [(path.stem, number, part.strip())
                          for part in STEP.split(TAGS.sub(" ", cell)) if part.strip()]
        conn.executemany("INSERT INTO duties VALUES (?, ?, ?)", duties)
        conn.executemany("INSERT INTO steps VALUES (?, ?, ?)", steps)
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
