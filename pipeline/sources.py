"""Read stage: bytes → text, with the container found by content and the encoding recorded."""

import codecs
import csv
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline.budgets import DEFAULT, Budget, over
from pipeline.containers import docx_rows, html_rows, xlsx_rows, zip_format
from pipeline.errors import SourceError, path_text
from pipeline.readers import read_container
from pipeline.tables import Row, read_rows, text_format

# Byte-order marks first, then the encodings tried on the whole file, in order.
BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
ENCODINGS = ["utf-8", "gb18030"]

HAN = re.compile("[\u4e00-\u9fff]")
HTML_START = re.compile(r"\s*<(?:!doctype|html|head|body|table|meta|div|p)\b", re.I)


@dataclass(frozen=True)
class Source:
    """A document's identity and its rows, read lazily from the container."""

    path: str
    sha256: str
    format: str  # tsv csv html xlsx docx xls doc wps rtf pdf: from the content, never the name
    encoding: str | None  # None for the binary containers, which declare their own
    rows: Iterable[Row]
    data: bytes = b""  # the file as read, for the checks that count rows without the parser


def read_source(path: Path, budget: Budget = DEFAULT) -> Source:
    """Read one document; raise SourceError with what to do when it cannot be read."""
    # a name that is not UTF-8 becomes \\xNN text, storable anywhere
    return parse_source(path_text(path), read_bytes(path, budget.max_bytes), budget)


# Opened without blocking (a FIFO would wait for a writer for ever) and never as our
# controlling terminal; whether it is a regular file is then asked of the open descriptor.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
KINDS = [(stat.S_ISDIR, "a folder (folders inside a folder are not searched)"),
         (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
         (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]


def read_bytes(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file, read once and at most max_bytes of them.

    The limit holds while reading, not only by the size stat reports (a symlink to
    /dev/zero reports 0 bytes); a file that changed while it was read is refused.
    """
    name = path_text(path)
    try:
        descriptor = os.open(path, OPEN_FLAGS)
    except OSError as exc:
        reason = ("a symbolic link that leads round in a loop" if exc.errno == errno.ELOOP
                  else exc.strerror)
        raise SourceError(name, f"cannot read file: {reason}") from None
    try:
        before = os.fstat(descriptor)
        if not stat.S_ISREG(before.st_mode):
            what = next((kind for test, kind in KINDS if test(before.st_mode)), "not a file")
            raise SourceError(name, f"this is {what}, not a regular file; only files are read",
                              "not-a-file")
        if before.st_size > max_bytes:
            raise SourceError(name, f"file is {before.st_size:,} bytes, "
                              + over("max_bytes", f"{max_bytes:,}-byte"), "too-large")
        os.set_blocking(descriptor, True)
        file = os.fdopen(descriptor, "rb", buffering=0)
    except BaseException:
        os.close(descriptor)
        raise
    with file:
        try:
            data = read_at_most(file, max_bytes + 1)
        except OSError as exc:
            raise SourceError(name, f"cannot read file: {exc.strerror}") from None
        after = os.fstat(descriptor)
    if len(data) > max_bytes:
        raise SourceError(name, f"file holds more than {max_bytes:,} bytes, "
                          + over("max_bytes", f"{max_bytes:,}-byte"), "too-large")
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns) \
            or len(data) != after.st_size:
        raise SourceError(name, "changed while being read; build again", "changed")
    return data


def read_at_most(file: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes, read in chunks so that nothing larger is ever asked for."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = file.read(min(1024 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_source(name: str, data: bytes, budget: Budget = DEFAULT) -> Source:
    """Find the container by content, decode text, and return the document's rows."""
    if not data.strip():
        raise SourceError(name, "file is empty", "empty")
    sha256 = hashlib.sha256(data).hexdigest()
    if (legacy := read_container(name, data, budget)) is not None:  # .xls .doc .wps .rtf .pdf
        return Source(name, sha256, legacy[0], None, legacy[1], data)
    if data.startswith(b"PK\x03\x04"):
        kind = zip_format(name, data, budget)
        reader = xlsx_rows if kind == "xlsx" else docx_rows
        return Source(name, sha256, kind, None, reader(name, data, budget), data)
    text, encoding = decode_text(name, data)
    if "\x00" in text:
        raise SourceError(name, "file holds NUL bytes: binary data, not a list", "binary")
    if HTML_START.match(text):
        return Source(name, sha256, "html", encoding, html_rows(name, text, budget), data)
    kind = text_format(text)  # csv or tsv
    try:
        rows = read_rows(text, kind)
    except csv.Error as exc:  # quoted text the csv module cannot split (a cell over its limit)
        raise SourceError(name, f"cannot split it into cells ({exc}); open it in Excel or "
                          "LibreOffice and save it again as CSV UTF-8", "format") from None
    return Source(name, sha256, kind, encoding, rows, data)


def decode_text(name: str, data: bytes) -> tuple[str, str]:
    """Decode the whole file with the first encoding that fits: (text, encoding name).

    decode_text("x", "序号".encode("gb18030")) -> ("序号", "gb18030")
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return check_decoded(name, data.decode(encoding, errors="replace"), encoding)
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != ENCODINGS[0]:
            check_one_encoding(name, data, encoding)
        return check_decoded(name, text, encoding)
    raise SourceError(name, f"cannot decode as {' or '.join(ENCODINGS)}; "
                      "re-save it as UTF-8", "encoding")


def check_one_encoding(name: str, data: bytes, encoding: str) -> None:
    """Refuse a file that is UTF-8 in some lines and not in others (a GB18030 title pasted
    over UTF-8 rows): read whole as `encoding`, its UTF-8 lines would be mojibake.

    A line counts as UTF-8 when it decodes as such into two or more Han characters, which
    GB18030 text almost never does by chance.
    """
    failing = utf8 = None
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            failing = failing or number
        else:
            if len(HAN.findall(decoded)) >= 2:
                utf8 = utf8 or number
        if failing and utf8:
            raise SourceError(name, f"line {failing}: not UTF-8, while line {utf8} is: the file "
                              f"mixes encodings (UTF-8 and {encoding}?); re-save it in one "
                              "encoding, UTF-8", "encoding")


def check_decoded(name: str, text: str, encoding: str) -> tuple[str, str]:
    """Refuse text that holds U+FFFD: something was lost before or during decoding."""
    if "\ufffd" in text:
        line = text[: text.index("\ufffd")].count("\n") + 1
        raise SourceError(name, f"line {line}: bytes that are not valid {encoding}; "
                          "re-save the file as UTF-8", "encoding")
    return text, encoding
