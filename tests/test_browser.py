"""The web UI and the report, looked at by a real headless Chromium (Debian's chromium).

Screenshots are kept in test-artifacts/ for a person to look at.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import ROOT, SAMPLE

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("Chromium is required under CI: apt-get install chromium")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


def chromium(url: str, profile: Path, screenshot: Path | None = None) -> str:
    """The DOM after the page loaded (scripts run), and optionally a screenshot."""
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", "--window-size=1280,1600"]
    if screenshot:
        ARTIFACTS.mkdir(exist_ok=True)
        subprocess.run([*flags, f"--screenshot={screenshot}", url], capture_output=True,
                       timeout=120, check=True)
    result = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True,
                            timeout=120, check=True)
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browse") / "duties.db"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    subprocess.run([sys.executable, "-m", "pipeline", "build", str(SAMPLE), "--db",
                    f"sqlite:///{path}"], cwd=ROOT, env=env, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def datasette(database: Path) -> Iterator[str]:
    port = free_port()
    log = database.with_suffix(".log")
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "datasette", "serve", str(database), "--metadata",
             str(ROOT / "schemas" / "datasette-metadata.json"), "--host", "127.0.0.1",
             "--port", str(port)], stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=1):
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_datasette_shows_the_250_duties(datasette: str, tmp_path: Path) -> None:
    page = chromium(f"{datasette}/duties/duties", tmp_path / "p", ARTIFACTS / "datasette-duties.png")
    assert "250 rows" in page
    assert "履职事项 · One row per list row (duty)" in page  # the metadata's description
    # Ids count up in source order, so the first page opens the basic list at 序号 1.
    first, second = "深入学习贯彻习近平新时代中国特色社会主义思想", "以铸牢中华民族共同体意识为主线"
    assert first in page and second in page
    assert page.index(first) < page.index(second)


def test_datasette_search_finds_the_straw_burning_duty(datasette: str, tmp_path: Path) -> None:
    url = f"{datasette}/duties/duties?_search={quote('秸秆禁烧')}"
    page = chromium(url, tmp_path / "p", ARTIFACTS / "datasette-search.png")
    assert "1 row where search matches" in page
    assert "农作物秸秆禁烧、综合利用工作" in page


@pytest.mark.parametrize("query", ["秸秆", "禁烧", "防汛", "汛", "宣传 秸秆", '"秸秆禁烧"',
                                   '"', "AND", "县", "不存在"])
def test_datasette_search_finds_what_pipeline_search_finds(datasette: str, database: Path,
                                                          query: str) -> None:
    import json

    from pipeline import db
    from pipeline.search import search_duties

    url = (f"{datasette}/duties/duties.json?_search={quote(query)}&_shape=array&_col=id"
           "&_size=max")
    with urllib.request.urlopen(url, timeout=30) as response:  # never an error page
        found = sorted(row["id"] for row in json.load(response))
    engine = db.open_engine(f"sqlite:///{database}")
    expected = sorted(hit.duty_id for hit in search_duties(engine, query, limit=None))
    engine.dispose()
    assert found == expected
    if query in ("秸秆", "汛", "县"):
        assert found  # short terms find something, as the CLI does


def test_datasette_search_box_with_two_characters(datasette: str, tmp_path: Path) -> None:
    page = chromium(f"{datasette}/duties/duties?_search={quote('秸秆')}", tmp_path / "p",
                    ARTIFACTS / "datasette-search-short.png")
    assert "2 rows where search matches" in page
    assert "农作物秸秆禁烧、综合利用工作" in page and 'name="_search"' in page


def test_datasette_facets(datasette: str, tmp_path: Path) -> None:
    page = chromium(f"{datasette}/duties/duties", tmp_path / "p")
    assert 'data-column="list"' in page and 'data-column="category"' in page


def test_report_renders(database: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    subprocess.run([sys.executable, "-m", "pipeline", "report", "--out", str(report), "--db",
                    f"sqlite:///{database}"], cwd=ROOT, env=env, check=True, capture_output=True)
    page = chromium(report.as_uri(), tmp_path / "p", ARTIFACTS / "report.png")
    assert "各类别事项数 · Duties per category and list" in page
    assert page.count("<rect") > 40  # the bars were drawn
    assert "玛纳斯县农业农村局" in page


def test_a_canned_question_with_its_parameter(datasette: str, tmp_path: Path) -> None:
    url = f"{datasette}/duties/town_steps_for_department?department={quote('县公安局')}"
    page = chromium(url, tmp_path / "p", ARTIFACTS / "datasette-canned.png")
    assert "为某部门的乡镇步骤" in page  # the query's title from the metadata
    assert 'name="department"' in page  # its parameter, as a form field to change
    assert "流浪乞讨人员" in page  # cooperative 15, counterpart 县公安局, as the README question 4
