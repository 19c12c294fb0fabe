"""The straightforward script a user would write instead: bench/baseline.py CORPUS DB.

pandas read_csv per section, BeautifulSoup get_text per HTML cell, a regex step split,
and DataFrame.to_sql. Tab-separated text only; no validation, no departments.
"""

import io
import re
import sqlite3
import sys
from pathlib import Path

import pandas as pd
from bs4 import BeautifulSoup

TITLE = re.compile(r"^(.*)(基本履职事项清单|配合履职事项清单|上级部门收回事项清单)\s*$", re.M)
# No capture group: re.split would return the numbers as parts, written as steps of their own.
STEP = re.compile(r"(?:^|\s)\d+[.、]")
STEP_COLUMNS = ["上级部门职责", "镇配合职责", "承接部门及工作方式"]


def main(corpus: Path, database: Path) -> None:
    conn = sqlite3.connect(database)
    for path in sorted(corpus.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        titles = list(TITLE.finditer(text))
        for title, following in zip(titles, [*titles[1:], None], strict=True):
            body = text[title.end(): following.start() if following else len(text)]
            frame = pd.read_csv(io.StringIO(body.strip()), sep="\t", dtype=str,
                                on_bad_lines="skip", quoting=3)
            frame = frame[frame["序号"] != "序号"].copy()
            frame.columns = ["镇配合职责" if str(c).endswith("配合职责") else str(c)
                             for c in frame.columns]
            frame["town"] = title.group(1)
            frame["list"] = title.group(2)
            steps = []
            for column in frame.columns:
                if column in STEP_COLUMNS:
                    frame[column] = frame[column].fillna("").map(
                        lambda cell: BeautifulSoup(cell, "html.parser").get_text(" "))
                    for seq, cell in zip(frame["序号"], frame[column], strict=True):
                        parts = [p.strip() for p in STEP.split(cell) if p.strip()]
                        steps += [{"town": title.group(1), "seq": seq, "party": column,
                                   "text": part} for part in parts]
            table = {"基本履职事项清单": "basic", "配合履职事项清单": "cooperative"}.get(
                title.group(2), "withdrawn")
            frame.to_sql(f"duties_{table}", conn, if_exists="append", index=False)
            if steps:
                pd.DataFrame(steps).to_sql("steps", conn, if_exists="append", index=False)
    conn.commit()
    conn.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
