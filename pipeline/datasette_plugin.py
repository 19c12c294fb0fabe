"""A Datasette plugin: the duties table's search box finds what `pipeline search` finds.

Datasette searches a table with `<fts_table> MATCH :query`; the metadata names the view
search.TEXT_VIEW as that table, and SQLite turns `X MATCH Y` on a plain column into the
function match(Y, X), which this plugin defines as search.matches. So one- and two-character
terms work (trigram full-text search needs three), quotes group a phrase, and an unbalanced
quote is searched as a character, never an error page. Registered under Datasette's entry
point in pyproject.toml; Datasette imports it, nothing else does.
"""

import sqlite3

from datasette import hookimpl

from pipeline.search import matches


def match(query: str | None, text: str | None) -> bool:
    return query is None or (text is not None and matches(query, text))


@hookimpl  # type: ignore[untyped-decorator]  # datasette ships no type hints
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("match", 2, match, deterministic=True)
