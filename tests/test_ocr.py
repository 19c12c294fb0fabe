"""Scanned PDFs: refused with how to enable OCR without the extra, read by OCR with it.

The scan is tests/data/scans/keyan-scan.pdf: a hand-made list (not the sample) exported by
LibreOffice and rasterised at 150 dpi (tests/data/scans/make.py), its truth keyan.json
written from the content. Tolerances are those bench/ocr.py measured on other scans.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.budgets import Budget
from pipeline.documents import normalize_document
from pipeline.errors import SourceError
from pipeline.records import NormalizedDocument
from pipeline.sources import parse_source, read_source
from tests.conftest import DATA

SCANS = DATA / "scans"
FORMATS = DATA / "formats"
SCAN = SCANS / "keyan-scan.pdf"


@pytest.fixture
def without_ocr(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The extra as if it were not installed: importing rapidocr_onnxruntime fails."""
    from pipeline.readers.ocr import recogniser

    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)  # import → ImportError
    recogniser.cache_clear()
    yield
    recogniser.cache_clear()


def needs_ocr() -> None:
    """Skip without the extra, except under CI=true, where the Makefile installs it."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the OCR extra is not installed (pip install -e '.[dev,ocr]')")
        pytest.skip("the OCR extra is not installed (pip install -e '.[ocr]')")


def test_without_the_extra_a_scan_is_refused_with_how_to_enable_ocr(without_ocr: None) -> None:
    with pytest.raises(SourceError) as error:
        normalize_document(read_source(SCAN))
    assert error.value.code == "scan"
    message = str(error.value)
    assert message.startswith(str(SCAN))
    assert "it is a scan" in message
    assert "pip install 'dutylists[ocr]'" in message and "'.[ocr]'" in message
    assert "ocrmypdf" in message
    assert "\n" not in message


def test_without_the_extra_scanned_pages_among_text_pages_are_named(
        without_ocr: None, tmp_path: Path) -> None:
    import pdfplumber
    import pypdfium2

    with pdfplumber.open(FORMATS / "shuangta-docx.pdf") as pdf:
        pdf.pages[1].to_image(resolution=60).original.convert("RGB").save(tmp_path / "p2.pdf")
    mixed = pypdfium2.PdfDocument(FORMATS / "shuangta-docx.pdf")
    mixed.del_page(1)
    mixed.import_pages(pypdfium2.PdfDocument(tmp_path / "p2.pdf"), index=1)
    mixed.save(tmp_path / "mixed.pdf")
    with pytest.raises(SourceError, match="pages 2 are scanned images among text pages") as error:
        normalize_document(read_source(tmp_path / "mixed.pdf"))
    assert error.value.code == "scan"
    assert "dutylists[ocr]" in error.value.message


def image_pdf(pages: int, inches: float) -> bytes:
    """An image-only PDF of blank pages, each `inches` square."""
    import io

    from PIL import Image

    images = [Image.new("L", (10, 10), 255) for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, "PDF", save_all=True, append_images=images[1:], resolution=10 / inches)
    return out.getvalue()


@pytest.fixture
def nothing_rendered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a page is rendered and recognised: budgets come first."""
    import pipeline.readers.ocr as ocr

    def refuse(*_: object) -> None:
        raise AssertionError("a page was read before the budget was checked")

    monkeypatch.setattr(ocr, "read_scan_page", refuse)


@pytest.mark.parametrize(("pages", "inches", "budget", "flag"), [
    (30, 11, Budget(max_memory=0), "--timeout"),  # 30 pages take minutes, over 60 s
    (1, 40, Budget(timeout=0, max_memory=4 << 30), "--max-memory"),  # 8,000² pixels
    (8, 11, Budget(), "--timeout"),  # 8 pages × 8 s, over the default 60 s
])
def test_a_scan_over_budget_is_refused_before_any_page_is_read(
        nothing_rendered: None, pages: int, inches: float, budget: Budget, flag: str) -> None:
    needs_ocr()
    with pytest.raises(SourceError, match=re.escape(flag)) as error:
        normalize_document(parse_source("big.pdf", image_pdf(pages, inches), budget))
    assert error.value.code == "too-large"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> NormalizedDocument:
    """The scan as `make` reads it: a build with the default budgets, in a worker whose
    address space is limited (the OCR engine's own is allowed on top of --max-memory)."""
    needs_ocr()
    out = tmp_path_factory.mktemp("scan")
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(SCAN), "--db",
                           f"sqlite:///{out / 'duties.db'}", "--normalized", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return NormalizedDocument.model_validate_json((out / "keyan-scan.json").read_text("utf-8"))


def truth() -> list[tuple[str, int, str, str, list[tuple[str, int | None, str]]]]:
    lists = json.loads((SCANS / "keyan.json").read_text(encoding="utf-8"))
    return [(kind, d["seq"], d["category"], d["title"],
             [(s["party"], s["number"], s["text"]) for s in d["steps"]])
            for kind, duties in lists.items() for d in duties]


def test_with_the_extra_a_scan_is_read_to_its_duties(scanned: NormalizedDocument) -> None:
    from rapidfuzz.distance import Levenshtein

    want = truth()
    assert scanned.format == "pdf"
    assert (scanned.town.name, scanned.town.county) == ("柯岩街道", "柯桥区")
    assert [(d.list, d.seq) for d in scanned.duties] == [(w[0], w[1]) for w in want]
    assert [f for f in scanned.findings if f.severity == "error"] == []
    # bench/ocr.py measured 0–0.3% character errors on 150-dpi scans: allow 2% per field.
    for duty, (_, _, category, title, steps) in zip(scanned.duties, want, strict=True):
        assert duty.category == category
        assert Levenshtein.normalized_distance(duty.title, title) <= 0.02, duty.title
        # Several lines in a cell stay lines: the steps split as the source numbers them.
        assert [(s.party, s.number) for s in duty.steps] == [(p, n) for p, n, _ in steps]
        for step, (_, _, text) in zip(duty.steps, steps, strict=True):
            assert Levenshtein.normalized_distance(step.text, text) <= 0.05, step.text


def test_every_duty_read_by_ocr_carries_its_confidence(scanned: NormalizedDocument) -> None:
    warnings = {(f.sheet, f.line): f for f in scanned.findings if f.code == "ocr"}
    for duty in scanned.duties:
        finding = warnings[(duty.source_sheet, duty.source_line)]
        assert finding.severity == "warning"
        low, mean = map(float, re.findall(r"\d\.\d\d", finding.message))
        assert 0.5 <= low <= mean <= 1.0
        assert "check the row against the scan" in finding.message
    assert len(warnings) == len(scanned.duties)


@pytest.mark.parametrize(("cells", "want"), [
    (["序号", "事项名称", "街道配合职贵"], ["序号", "事项名称", "街道配合职责"]),  # *配合职责
    (["序号", "事项类划", "事项名称"], ["序号", "事项类别", "事项名称"]),
    (["序号", "事项名称", "承接部门"], ["序号", "事项名称", "承接部门"]),  # right as read
    (["1", "党的建设", "区级部门职贵"], ["1", "党的建设", "区级部门职贵"]),  # not a header row
    (["序号", "事项", "名称"], ["序号", "事项", "名称"]),  # short words are never guessed
])
def test_a_header_word_misread_by_one_character_is_snapped(cells: list[str], want: list[str]) -> None:
    from pipeline.readers.pdf import snap_header

    snapped, notes = snap_header(cells)
    assert snapped == want
    assert [code for code, _ in notes] == (["ocr-header"] if want != cells else [])


def test_ruling_lines_rebuild_the_grid_with_its_merged_cells() -> None:
    """A 3×3 table drawn at 200 dpi whose first column's two lower cells are merged (the
    rule between them not drawn), as a category cell is; a short underline is no table."""
    needs_ocr()
    import numpy as np

    from pipeline.readers.ocr import RESOLUTION, ruled_tables, ruling_lines

    scale = RESOLUTION / 72
    ink = np.zeros((800, 1000), dtype=np.uint8)
    xs, ys = [100, 300, 600, 900], [100, 200, 400, 600]
    for y in ys:
        ink[y - 1:y + 2, xs[0]:xs[-1] + 1] = 255
    ink[ys[2] - 1:ys[2] + 2, xs[0]:xs[1]] = 0  # the merge: no rule under the first column's cell
    for x in xs:
        ink[ys[0]:ys[-1] + 1, x - 1:x + 2] = 255
    ink[700:702, 100:160] = 255  # an underline
    [grid] = ruled_tables(*ruling_lines(ink, scale), scale)
    points = [[round(v * scale) for v in box] for box in grid.cells]
    assert len(points) == 8
    assert [100, 200, 300, 600] in points  # the merged cell, whole
    assert [round(v * scale) for v in grid.bbox] == [100, 100, 900, 600]
