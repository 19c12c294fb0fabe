"""One exception tree for the whole package, and how secrets and names are shown in messages.

PipelineError
├── SourceError      a document cannot be read at all (empty, binary, undecodable, no list)
├── VocabularyError  a file in pipeline/vocab/ is not what the code expects (names file and key)
├── DatabaseError    the database cannot be reached or written
└── UsageError       the request itself cannot be served (a search too long, a URL we refuse)

Row-level problems are never exceptions: they are `Finding` values (records.py).
"""

import os
import re
from collections.abc import Iterable

# scheme://user:password@host…: the password runs to the last "@" (an unescaped "@" or "/"
# in a password is common in hand-written URLs, and must be hidden all the same).
URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s]*:)(?P<password>.*)@")
QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)[^&\s]*", re.I)  # …/db?password=…
MASK = "***"


def mask_url(url: str) -> str:
    """mask_url("postgresql://u:secret@h/db") -> "postgresql://u:***@h/db".

    Anything that holds "scheme://user:password@" is masked, a URL or not, so that no
    message, stored argument or echoed command shows a password.
    """
    url = URL_PASSWORD.sub(lambda m: f"{m['head']}{MASK}@", url)
    return QUERY_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", url)


def mask_arguments(arguments: Iterable[str]) -> list[str]:
    """Command-line arguments as they may be stored: every URL's password masked.

    mask_arguments(["--db=postgresql://u:pw@h/db"]) -> ["--db=postgresql://u:***@h/db"]
    """
    return [mask_url(argument) for argument in arguments]


def escape(text: str) -> str:
    r"""Text safe to print on one line: non-printable characters as Python escapes.

    escape("a\nb.txt") -> r"a\nb.txt"; escape("x\u202etxt.exe") -> r"x\u202etxt.exe".
    A byte that was not valid in the file system's encoding (os.fsdecode's surrogate) shows
    as \xNN, as path_text() stores it. Backslashes are left alone: a name holding a real
    "\n" prints like one holding a newline, but neither can start a line of its own.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xdc00:02x}")
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


def path_text(path: "os.PathLike[str] | str") -> str:
    r"""A path as text any database or JSON can hold: bytes of the name that are not UTF-8
    (a GBK name unpacked from a Windows zip) become \xNN text.

    path_text(os.fsdecode(b"raw/\xb6\xab.txt")) -> r"raw/\xb6\xab.txt"
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class SourceError(PipelineError):
    """A document cannot be read; the message says why and what to do."""

    def __init__(self, path: str, message: str, code: str = "unreadable") -> None:
        super().__init__(f"{escape(path)}: {message}")
        self.path = path
        self.message = message
        self.code = code


class VocabularyError(PipelineError):
    """A vocabulary file is malformed; the message names the file and the key."""


class DatabaseError(PipelineError):
    """The database cannot be reached or written; the message masks any password."""


class UsageError(PipelineError):
    """The request cannot be served as asked; the message says what is allowed."""
