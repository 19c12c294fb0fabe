"""dutylists: township duty lists (履行职责事项清单) into clean relational data.

Stages, each a module named for what it produces:
sources, containers and readers (bytes → rows) → tables (sections) → layout (list kind,
place, fields) → steps → departments → documents (the normalized record) → rows (its
database rows) → loads (into the tables of schema.py, as versions, through db) → views,
search, history, exports, reports for analysts.
"""

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.notebooks import Database

__version__ = "0.3.0"

# What decides a normalized document's content: a change to any of these is a new parser.
PARSER_FILES = ["sources.py", "containers.py", "tables.py", "layout.py", "text.py", "steps.py",
                "departments.py", "dates.py", "documents.py", "findings.py", "records.py",
                "vocab/*.toml", "readers/*.py", "markup.py", "wordnumbering.py", "conservation.py",
                "vocabulary.py", "divisions.py", "data/divisions.tsv"]


DEFAULT_URL = "sqlite:///normalized/duties.db"


def open_db(url: str = DEFAULT_URL) -> "Database":
    """Open a database for analysis: pipeline.open_db(url).frame("duty_overview")."""
    from pipeline.notebooks import Database

    return Database(url)


@cache
def parser_version() -> str:
    """The release plus a digest of the parsing code and vocabulary: "0.3.0+3f2a9c1e".

    The loader skips a document only when both its bytes and this version are unchanged.
    """
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for pattern in PARSER_FILES:
        for path in sorted(here.glob(pattern)):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:8]}"
