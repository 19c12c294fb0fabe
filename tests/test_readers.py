"""The readers of pipeline/readers/: .xls, .doc (LibreOffice) and PDF, on files made by the
programs that make them (tests/data/formats/make.py), checked against hand-read goldens."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.documents import normalize_document
from pipeline.errors import SourceError
from pipeline.records import NormalizedDocument
from pipeline.sources import parse_source, read_source
from tests.conftest import DATA, ROOT, SAMPLE
from tests.fixtures import cell_value, sample_sections
from tests.publish import export, soffice, write_docx, write_xlsx
from tests.test_containers import essence

FORMATS = DATA / "formats"
LISTS = ["basic", "cooperative", "withdrawn"]


def golden(kind: str) -> list[dict[str, object]]:
    return json.loads((FORMATS / f"shuangta-{kind}.json").read_text(encoding="utf-8"))


def as_golden(doc: NormalizedDocument, kind: str) -> list[dict[str, object]]:
    return [{"seq": d.seq, "category": d.category, "title": d.title,
             "steps": [{"party": s.party, "number": s.number, "section": s.section, "text": s.text}
                       for s in d.steps]}
            for d in doc.duties if d.list == kind]


@pytest.mark.parametrize(("name", "kind"), [
    ("shuangta.docx", "docx"), ("shuangta.xlsx", "xlsx"), ("shuangta-docx.pdf", "pdf"),
    ("shuangta-xlsx.pdf", "pdf"), ("shuangta.xls", "xls"), ("shuangta.doc", "doc"),
])
def test_every_format_gives_the_golden_lists(name: str, kind: str) -> None:
    if kind == "doc":
        soffice()  # fails under CI=true without LibreOffice, skips elsewhere
    doc = normalize_document(read_source(FORMATS / name))
    assert doc.format == kind
    assert (doc.town.name, doc.town.kind) == ("双塔街道", "街道")
    assert [f for f in doc.findings if f.severity == "error"] == []
    assert doc.rows_read == 11 + 6 + 5
    for list_kind in LISTS:
        got, want = as_golden(doc, list_kind), golden(list_kind)
        for row, expected in zip(got, want, strict=True):
            assert row == expected


def test_pdf_rows_carry_their_page() -> None:
    doc = normalize_document(read_source(FORMATS / "shuangta-docx.pdf"))
    first = doc.duties[0]
    assert (first.source_sheet, first.source_line) == ("page 1", 2)
    # A cooperative row cut by the page break is read whole, from the page it starts on.
    [cut] = [d for d in doc.duties if d.list == "cooperative" and d.seq == 1]
    assert cut.source_sheet == "page 1"
    assert len([s for s in cut.steps if s.party == "town"]) == 3
    assert {d.source_sheet for d in doc.duties} >= {"page 1", "page 2", "page 3"}


def test_xls_shows_numbers_dates_and_formulas_as_written(tmp_path: Path) -> None:
    from openpyxl import Workbook

    from pipeline.readers.xls import xls_rows

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["序号", "日期", "公式", "比例"])
    sheet.append([1, "=DATE(2024,5,1)", "=1+2", 0.5])
    sheet["B2"].number_format = "yyyy-mm-dd"
    sheet.merge_cells("A3:B3")
    sheet["A3"] = "合并"
    workbook.save(tmp_path / "t.xlsx")
    xls = export(tmp_path / "t.xlsx", "xls", tmp_path)
    rows = list(xls_rows("t.xls", xls.read_bytes()))
    assert [row.cells for row in rows] == [["序号", "日期", "公式", "比例"],
                                          ["1", "2024-05-01", "3", "0.5"],
                                          ["合并", "合并", "", ""]]


def test_xls_budget_is_checked_before_filling() -> None:
    from pipeline.budgets import Budget
    from pipeline.readers import xls

    with pytest.raises(SourceError, match="over the 10-cell limit") as error:
        list(xls.xls_rows("big.xls", (FORMATS / "shuangta.xls").read_bytes(), Budget(max_cells=10)))
    assert error.value.code == "too-large"


def test_word_document_without_libreoffice_is_refused_with_the_install_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SourceError, match="apt-get install libreoffice-writer") as error:
        parse_source("x.doc", (FORMATS / "shuangta.doc").read_bytes())
    assert error.value.code == "format"


def test_unsupported_files_are_named_by_build(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "shuangta.pdf").write_bytes((FORMATS / "shuangta-docx.pdf").read_bytes())
    (raw / "liangzhouhu.txt").write_bytes(SAMPLE.read_bytes())
    (raw / "notes.pptx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    (raw / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    result = subprocess.run([sys.executable, "-m", "pipeline", "build", str(raw), "--db",
                             f"sqlite:///{tmp_path / 'd.db'}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    out = result.stdout + result.stderr
    assert result.returncode == 1
    assert "notes.pptx" in out and "photo.png" in out
    assert re.search(r"shuangta\.pdf: loaded; rows read 22 = 22 duties", out)
    assert re.search(r"liangzhouhu\.txt: loaded; rows read 250 = 250 duties", out)


@pytest.fixture(scope="module")
def sample_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample written as a publisher would, then exported by LibreOffice (three runs)."""
    folder = tmp_path_factory.mktemp("sample")
    sections = [(title, header, [[str(cell_value(w, v)) for w, v in zip(header, row, strict=True)]
                                 for row in rows]) for title, header, rows in sample_sections()]
    docx = write_docx(folder / "from-docx.docx", sections, "关于公布履行职责事项清单的通知",
                      "玛纳斯县凉州户镇人民政府")
    xlsx = write_xlsx(folder / "from-xlsx.xlsx", sections)
    out = folder / "out"
    subprocess.run([soffice(), f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(out), str(docx), str(xlsx)],
                   check=True, capture_output=True, timeout=600)
    return {"pdf from docx": out / "from-docx.pdf", "pdf from xlsx": out / "from-xlsx.pdf",
            "doc": export(docx, "doc", out), "xls": export(xlsx, "xls", out)}


def without_spaces(value: object) -> object:
    """A space at a PDF line break is not drawn, so it cannot be read back (单位 and 个人)."""
    return re.sub(r"\s+", "", repr(value))


@pytest.mark.parametrize("kind", ["pdf from docx", "pdf from xlsx", "doc", "xls"])
def test_sample_exports_give_the_sample(kind: str, sample_exports: dict[str, Path],
                                        sample: NormalizedDocument) -> None:
    doc = normalize_document(read_source(sample_exports[kind]))
    assert [f for f in doc.findings if f.severity == "error"] == []
    assert (doc.rows_read, len(doc.duties), sum(len(d.steps) for d in doc.duties)) == (250, 250, 788)
    got, want = essence(doc), essence(sample)
    if kind.startswith("pdf"):
        got, want = without_spaces(got), without_spaces(want)
    assert got == want


def handmade_pdf(content: bytes) -> bytes:
    """A one-page PDF whose font has no ToUnicode map: what a broken export looks like.

    No program we have writes such a file on purpose, so it is written here by hand.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def test_text_without_unicode_mapping_is_an_error_not_garbage() -> None:
    pdf = handmade_pdf(b"BT /F1 12 Tf 72 700 Td <4E8C5E8F53F7> Tj ET")  # 序号 as bare glyph ids
    with pytest.raises(SourceError, match=r"no Unicode mapping \(\(cid:…\) glyphs") as error:
        normalize_document(parse_source("broken.pdf", pdf))
    assert error.value.code == "pdf-text"
    assert "page 1" in error.value.message


def test_a_column_drawn_as_two_is_read_as_its_header_says(tmp_path: Path) -> None:
    """WPS draws some columns as two cells under one header cell; the header decides."""
    import docx

    header = ["序号", "事项类别", "事项名称", "对应上级部门", "区级部门职责", "街道配合职责"]
    document = docx.Document()
    document.add_paragraph("苏州市姑苏区双塔街道配合履职事项清单")
    table = document.add_table(rows=3, cols=7)
    table.style = "Table Grid"
    for column, word in enumerate(header):
        table.cell(0, column).text = word
    table.cell(0, 5).merge(table.cell(0, 6)).text = "街道配合职责"
    rows = [["1", "民生服务", "困难群众临时救助", "姑苏区民政局", "1.审核审批；\n2.拨付资金。",
             "1.受理申请；", "2.入户调查。"],
            ["2", "民生服务", "生育登记", "姑苏区卫生健康委员会", "1.统一办理。", "1.做好政策咨询。", ""]]
    for index, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            lines = value.split("\n")
            table.cell(index, column).text = lines[0]
            for line in lines[1:]:
                table.cell(index, column).add_paragraph(line)
    document.add_paragraph("苏州市姑苏区双塔街道办事处")
    document.save(tmp_path / "split.docx")
    doc = normalize_document(read_source(export(tmp_path / "split.docx", "pdf", tmp_path)))
    assert [f for f in doc.findings if f.severity == "error"] == []
    town = [[s.text for s in d.steps if s.party == "town"] for d in doc.duties]
    assert town == [["受理申请", "入户调查。"], ["做好政策咨询。"]]
    assert all(len(d.raw) == 6 for d in doc.duties)


def test_a_conversion_that_overruns_is_killed_and_cleaned_up(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    from pipeline.readers import office

    soffice()
    monkeypatch.setattr(office, "CONVERT_SECONDS", 0.05)
    monkeypatch.setattr(office.tempfile, "tempdir", str(tmp_path))
    with pytest.raises(SourceError, match="did not convert the document within"):
        parse_source("slow.doc", (FORMATS / "shuangta.doc").read_bytes())
    assert list(tmp_path.iterdir()) == []  # the folder and the profile in it are gone
