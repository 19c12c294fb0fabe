"""A build killed with SIGKILL mid-load leaves the previous complete state, and a rerun converges."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLE
from tests.dbutil import dump


def build(url: str, source: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.Popen([sys.executable, "-m", "pipeline", "build", str(source), "--db", url,
                             *extra], cwd=ROOT, env={**base, **(env or {})}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def killed_mid_load(url: str, source: Path, tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    process = build(url, source, "--force",
                    env={"PIPELINE_FAULT": "mid-load", "PIPELINE_FAULT_FILE": str(marker)})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the build never reached the middle of its load"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def changed_sample(tmp_path: Path) -> Path:
    """The sample with one title changed: a new version of the same place."""
    text = SAMPLE.read_text(encoding="utf-8").replace("推荐县级以上党代表工作", "推荐党代表工作")
    path = tmp_path / "changji-manas-liangzhouhu.txt"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_sigkill_mid_load_keeps_the_previous_state(backend: str, tmp_path: Path,
                                                   request: pytest.FixtureRequest) -> None:
    url = (f"sqlite:///{tmp_path / 'duties.db'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    first = build(url, SAMPLE)
    first.communicate(timeout=120)
    assert first.returncode == 0
    before = dump(url)
    newer = changed_sample(tmp_path)
    killed_mid_load(url, newer, tmp_path)
    assert dump(url) == before  # opens, and holds exactly the previous complete state
    rerun = build(url, newer)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    after = dump(url)
    assert len(after["duties"]) == 250
    titles = {row[6] for row in after["duties"]}
    assert "推荐党代表工作" in titles and "推荐县级以上党代表工作" not in titles
