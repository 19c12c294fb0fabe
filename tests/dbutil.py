"""Helpers for tests that read a database back."""

from typing import Any

from sqlalchemy import Engine, select

from pipeline import db, schema

# The data tables: what a rebuild must reproduce exactly (run records and timestamps aside).
DATA_TABLES = ["towns", "documents", "duties", "steps", "departments", "department_aliases",
               "duty_departments", "list_versions"]
VOLATILE = {"documents": {"loaded_at", "findings_run_id"}, "list_versions": {"loaded_at"}}


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every data table's rows, sorted, without the columns that record when."""
    engine = db.open_engine(url)
    try:
        return dump_engine(engine)
    finally:
        engine.dispose()


def dump_engine(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    with engine.connect() as conn:
        for name in DATA_TABLES:
            table = schema.metadata.tables[name]
            columns = [c for c in table.columns if c.name not in VOLATILE.get(name, set())]
            rows = conn.execute(select(*columns)).all()
            tables[name] = sorted((tuple(normalize(v) for v in row) for row in rows), key=repr)
    return tables


def normalize(value: Any) -> Any:
    return repr(value) if isinstance(value, list | dict) else value
