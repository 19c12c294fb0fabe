import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from pipeline.documents import normalize_document
from pipeline.records import NormalizedDocument
from pipeline.sources import read_source

# Small example counts keep CI quick; `make fuzz` runs the same properties far longer.
settings.register_profile("ci", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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


# PostgreSQL: each test run creates its own UTF-8 database from template0 and drops it.
# Outside CI a missing server skips these tests; under CI=true it fails them.
PG_ADMIN_URL = os.environ.get("DUTYLISTS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    name = f"dutylists_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                              "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"))
    except OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield str(admin.url.set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    """The run's PostgreSQL database, emptied before each test."""
    from sqlalchemy import create_engine, text

    from pipeline.schema import metadata

    engine = create_engine(pg_server_url)
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(text(f"DROP TABLE IF EXISTS {table.name} CASCADE"))
    engine.dispose()
    return pg_server_url
