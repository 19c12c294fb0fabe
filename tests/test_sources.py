import codecs

import pytest

from pipeline.errors import SourceError
from pipeline.sources import parse_source

TEXT = "昌吉州玛纳斯县凉州户镇基本履职事项清单\n序号\t事项类别\t事项名称\n1\t党的建设\t组织工作\n"


@pytest.mark.parametrize(("data", "encoding"), [
    (TEXT.encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
    (TEXT.encode("gb18030"), "gb18030"),
    (TEXT.encode("utf-16"), "utf-16"),  # Excel's "Unicode text": UTF-16 with a BOM
    (TEXT.replace("\n", "\r\n").encode("gb18030"), "gb18030"),
])
def test_decodes_whole_file_and_records_encoding(data: bytes, encoding: str) -> None:
    source = parse_source("x.txt", data)
    assert source.encoding == encoding
    assert source.format == "tsv"
    assert [row.cells for row in source.rows] == [
        ["昌吉州玛纳斯县凉州户镇基本履职事项清单"],
        ["序号", "事项类别", "事项名称"],
        ["1", "党的建设", "组织工作"],
    ]


def test_sha256_is_of_the_bytes() -> None:
    assert parse_source("x", b"abc\n").sha256 == (
        "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb")


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"", "empty", "empty"),
    (b"  \n\n", "empty", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "format", "damaged legacy Office file"),
    (b"%PDF-1.7 ...", "format", "cannot open the PDF"),
    (b"PK\x03\x04rest", "format", "damaged zip"),
    (b"\x00\x01\x02binary\xff\xfe", "encoding", "UTF-8"),
    (b"abc\x00def", "binary", "NUL"),
    ("序号\t�\n".encode(), "encoding", "line 1"),
])
def test_unreadable_files_say_why_and_what_to_do(data: bytes, code: str, words: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_source("raw/bad.txt", data)
    assert caught.value.code == code
    assert words in caught.value.message
    assert str(caught.value).startswith("raw/bad.txt: ")
