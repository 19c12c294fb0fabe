"""PDF in make bench: our reader against pdfplumber's own extract_tables on the same file.

The sample is written as a publisher's .docx (tests/publish.py) and exported to PDF by
LibreOffice; "ours" is the whole normalize of that PDF (read + tables + steps + records),
"reader" our PDF reader alone, and the floor pdfplumber's extract_tables with the same
lines strategy, which finds the cells and nothing more (no paragraphs, merges, page joins).
"""

import shutil
import tempfile
import time
from pathlib import Path


def pdf_costs() -> dict[str, float] | None:
    """Pages, and seconds for ours, our reader and the floor on the sample's PDF; None
    without LibreOffice."""
    if shutil.which("soffice") is None:
        return None
    import pdfplumber

    from pipeline.documents import normalize_document
    from pipeline.readers.pdf import TABLE_SETTINGS, pdf_rows
    from pipeline.sources import read_source
    from tests.fixtures import cell_value, sample_sections
    from tests.publish import export, write_docx

    with tempfile.TemporaryDirectory(prefix="dutylists-bench-pdf-") as work:
        folder = Path(work)
        sections = [(title, header, [[str(cell_value(w, v)) for w, v in zip(header, row, strict=True)]
                                     for row in rows]) for title, header, rows in sample_sections()]
        pdf = export(write_docx(folder / "sample.docx", sections, "关于公布履行职责事项清单的通知",
                                "玛纳斯县凉州户镇人民政府"), "pdf", folder)
        data = pdf.read_bytes()
        start = time.perf_counter()
        doc = normalize_document(read_source(pdf))
        ours = time.perf_counter() - start
        assert len(doc.duties) == 250
        start = time.perf_counter()
        rows = sum(1 for _ in pdf_rows(str(pdf), data))
        reader = time.perf_counter() - start
        start = time.perf_counter()
        with pdfplumber.open(pdf) as document:
            pages = len(document.pages)
            cells = sum(len(table) for page in document.pages
                        for table in page.extract_tables(TABLE_SETTINGS))
        floor = time.perf_counter() - start
    return {"pages": pages, "rows": rows, "floor rows": cells, "ours": ours, "reader": reader,
            "floor": floor}


def print_pdf_costs() -> None:
    costs = pdf_costs()
    if costs is None:
        print("\nPDF: skipped (LibreOffice is not installed to export the sample)")
        return
    pages = costs["pages"]
    print(f"\nPDF: the sample exported from a publisher's .docx, {pages:.0f} pages "
          f"({costs['rows']:.0f} rows read; the floor's tables hold {costs['floor rows']:.0f})")
    for name in ("ours", "reader", "floor"):
        label = {"ours": "ours (read + normalize)", "reader": "our PDF reader alone",
                 "floor": "floor (pdfplumber extract_tables)"}[name]
        print(f"{label:<40} {pages / costs[name]:7.1f} pages/s {costs[name]:7.2f} s/town")
    print(f"{'ours ÷ floor':<40} {costs['ours'] / costs['floor']:7.2f}")
