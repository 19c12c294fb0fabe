"""Read stage: bytes → text, with the container found by content and the encoding recorded."""

import codecs
import csv
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.containers import docx_rows, html_rows, xlsx_rows, zip_format
from pipeline.errors import SourceError, path_text
from pipeline.readers import read_container
from pipeline.tables import Row, read_rows, text_format

MAX_BYTES = 50 * 1024 * 1024

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


def read_source(path: Path, max_bytes: int = MAX_BYTES) -> Source:
    """Read one document; raise SourceError with what to do when it cannot be read."""
    name = path_text(path)  # a name that is not UTF-8 becomes \\xNN text, storable anywhere
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(name, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit "
                              "(raise it with --max-bytes if the file is genuine)", "too-large")
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(name, f"cannot read file: {exc.strerror}") from exc
    return parse_source(name, data)


def parse_source(name: str, data: bytes) -> Source:
    """Find the container by content, decode text, and return the document's rows."""
    if not data.strip():
        raise SourceError(name, "file is empty", "empty")
    sha256 = hashlib.sha256(data).hexdigest()
    if (legacy := read_container(name, data)) is not None:  # .xls .doc .wps .rtf .pdf
        return Source(name, sha256, legacy[0], None, legacy[1], data)
    if data.startswith(b"PK\x03\x04"):
        kind = zip_format(name, data)
        rows = xlsx_rows(name, data) if kind == "xlsx" else docx_rows(name, data)
        return Source(name, sha256, kind, None, rows, data)
    text, encoding = decode_text(name, data)
    if "\x00" in text:
        raise SourceError(name, "file holds NUL bytes: binary data, not a list", "binary")
    if HTML_START.match(text):
        return Source(name, sha256, "html", encoding, html_rows(name, text), data)
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
