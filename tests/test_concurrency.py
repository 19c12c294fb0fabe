"""Ten builds of ten places of one county at once, on a fresh database (issue #17, point 5).

The places share the county's departments, so their loads insert the same department rows
and may each drop departments the other is linking to; on a fresh database they also race
to create the schema. Every build must load, none may deadlock or break a foreign key.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, SAMPLE

# Towns of 玛纳斯县 (the first seven are real), each given the sample's lists.
TOWNS = ["凉州户镇", "玛纳斯镇", "乐土驿镇", "包家店镇", "北五岔镇", "六户地镇", "兰州湾镇",
         "东泉镇", "西营镇", "南湖镇"]


def county_files(folder: Path) -> list[Path]:
    text = SAMPLE.read_text(encoding="utf-8")
    folder.mkdir()
    paths = []
    for number, town in enumerate(TOWNS):
        path = folder / f"town-{number}.txt"
        # Each place drops a different cooperative duty, so the county's departments are
        # linked by some places and not others: loads orphan and re-link them concurrently.
        lines = [line for line in text.replace("凉州户镇", town).split("\n")
                 if not line.startswith(f"{number + 1}\t")]
        path.write_text("\n".join(lines), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_ten_places_of_one_county_built_at_once(backend: str, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'fresh.db'}" if backend == "sqlite"
           else str(request.getfixturevalue("pg_url")))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    builds = [subprocess.Popen([sys.executable, "-m", "pipeline", "build", str(path), "--db", url,
                                "-j", "1"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
              for path in county_files(tmp_path / "raw")]
    for process in builds:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]
        assert ": loaded;" in out
    engine = create_engine(url)
    with engine.connect() as conn:
        towns = conn.execute(text("SELECT t.name, count(d.id) FROM towns t JOIN duties d "
                                  "ON d.town_id = t.id GROUP BY t.name ORDER BY t.name")).all()
        dangling = conn.execute(text(
            "SELECT count(*) FROM duty_departments l LEFT JOIN departments p "
            "ON p.id = l.department_id WHERE p.id IS NULL")).scalar()
    engine.dispose()
    # Town n lost the duty numbered n + 1 in each of its three lists.
    assert sorted(towns) == sorted((town, 247) for town in TOWNS)
    assert dangling == 0
