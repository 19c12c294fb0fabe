"""The limit: the same duty and step rows written with their keys, plus an FTS5 trigram index
built in one go at the end: bench/limit.py CORPUS DB.

No validation, departments, findings, versions or run records: what a pipeline that writes
these rows and makes them searchable cannot beat. Split as the floor splits (bench/floor.py).
"""

import re
import sqlite3
import sys
from pathlib import Path

STEP = re.compile(r"(?:^|\s)\d+[.、]")
TAGS = re.compile(r"<[^>]+>")
SCHEMA = [
    "CREATE TABLE duties (id INTEGER PRIMARY KEY, town TEXT NOT NULL, line INTEGER NOT NULL, "
    "seq TEXT, title TEXT NOT NULL, cells TEXT NOT NULL)",
    "CREATE TABLE steps (id INTEGER PRIMARY KEY, duty_id INTEGER NOT NULL REFERENCES duties(id), "
    "position INTEGER NOT NULL, text TEXT NOT NULL, UNIQUE (duty_id, position))",
    # The index's source: each duty's title and its steps, a line each (as the pipeline's).
    "CREATE VIEW duty_source AS SELECT d.id, d.title, coalesce((SELECT group_concat(s.text, "
    "char(10)) FROM steps s WHERE s.duty_id = d.id), '') AS steps FROM duties d",
    "CREATE VIRTUAL TABLE duty_search USING fts5(title, steps, content='duty_source', "
    "content_rowid='id', tokenize='trigram')",
]


def main(corpus: Path, database: Path) -> None:
    conn = sqlite3.connect(database)
    for statement in SCHEMA:
        conn.execute(statement)
    duty_id = step_id = 0
    for path in sorted(corpus.glob("*.txt")):
        duties, steps = [], []
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            cells = line.split("\t")
            if len(cells) < 3 or not cells[0].isdigit():
                continue
            duty_id += 1
            duties.append((duty_id, path.stem, number, cells[0], cells[2], line))
            position = 0
            for cell in cells[3:]:
                for part in STEP.split(TAGS.sub(" ", cell)):
                    if part := part.strip():
                        step_id += 1
                        position += 1
                        steps.append((step_id, duty_id, position, part))
        conn.executemany("INSERT INTO duties VALUES (?, ?, ?, ?, ?, ?)", duties)
        conn.executemany("INSERT INTO steps VALUES (?, ?, ?, ?)", steps)
    conn.execute("INSERT INTO duty_search (duty_search) VALUES ('rebuild')")
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
