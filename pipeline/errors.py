"""One exception tree for the whole package.

PipelineError
├── SourceError      a document cannot be read at all (empty, binary, undecodable, no list)
├── VocabularyError  a file in pipeline/vocab/ is not what the code expects (names file and key)
└── DatabaseError    the database cannot be reached or written

Row-level problems are never exceptions: they are `Finding` values (records.py).
"""


def mask_url(url: str) -> str:
    """mask_url("postgresql://u:secret@h/db") -> "postgresql://u:***@h/db"."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class SourceError(PipelineError):
    """A document cannot be read; the message says why and what to do."""

    def __init__(self, path: str, message: str, code: str = "unreadable") -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
        self.code = code


class VocabularyError(PipelineError):
    """A vocabulary file is malformed; the message names the file and the key."""


class DatabaseError(PipelineError):
    """The database cannot be reached or written; the message masks any password."""
