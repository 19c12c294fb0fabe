from pathlib import Path

import pytest

from pipeline.documents import normalize_document
from pipeline.records import NormalizedDocument
from pipeline.sources import read_source

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "raw" / "changji-manas-liangzhouhu.txt"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def sample() -> NormalizedDocument:
    return normalize_document(read_source(SAMPLE))


def duty(doc: NormalizedDocument, kind: str, seq: int):
    [found] = [d for d in doc.duties if d.list == kind and d.seq == seq]
    return found


@pytest.fixture(scope="session")
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/data/golden/ from the code; check the diff by hand.")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))
