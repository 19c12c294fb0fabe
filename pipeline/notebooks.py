"""A small API for analysts who work in pandas.

    import pipeline
    db = pipeline.open_db("sqlite:///normalized/duties.db")
    db.frame("duty_overview")               # any table or view, as a DataFrame
    db.query("SELECT … WHERE list = :l", l="withdrawn")
    db.search("秸秆禁烧")                     # the same search as `pipeline search`
"""

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from pipeline.db import open_engine
from pipeline.exports import relations, selected

if TYPE_CHECKING:
    import pandas


class Database:
    """An open dutylists database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = open_engine(url, existing=True)

    def tables(self) -> list[str]:
        """Every table and view."""
        return relations(self.engine)

    def frame(self, name: str) -> "pandas.DataFrame":
        """A table or view as a DataFrame, as the exports hold it: db.frame("department_workload")."""
        if name not in self.tables():
            raise KeyError(f"no table or view {name!r}; choose from {', '.join(self.tables())}")
        return self.query(selected(self.engine, name))

    def query(self, sql: str, **params: Any) -> "pandas.DataFrame":
        """Any SELECT, with :name parameters, as a DataFrame.

        Nullable dtypes: an integer column with NULLs (steps.department_id) is Int64, built
        from the driver's integers, never float64 (which would round ids above 2^53).
        """
        import pandas

        with self.engine.connect() as conn:
            return pandas.read_sql(text(sql), conn, params=params, dtype_backend="numpy_nullable")

    def search(self, query: str, lists: tuple[str, ...] = ()) -> "pandas.DataFrame":
        import pandas

        from pipeline.search import search_duties

        return pandas.DataFrame([asdict(h) for h in search_duties(self.engine, query, lists)])

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
