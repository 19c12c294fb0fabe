"""Readers of the containers that need more than the standard library and lxml.

xls     legacy Excel workbooks (BIFF, in an OLE2 compound file), with xlrd
office  legacy Word and WPS documents (.doc/.wps, also OLE2), converted by LibreOffice to
        .docx and read by the docx reader
pdf     text PDFs exported from Word, WPS or Excel: ruled tables, with pdfplumber
ocr     scanned PDF pages, with the optional extra `ocr` (RapidOCR): the grid from the ruling
        lines, the recognised characters handed to pdf's table logic

The older readers (tsv, html, xlsx, docx) live in pipeline/containers.py. Each reader
yields tables.Row values and raises errors.SourceError with what to do.
"""

from collections.abc import Iterable

from pipeline.budgets import DEFAULT, Budget
from pipeline.tables import Row

RTF_MAGIC = b"{\\rtf"


def read_container(name: str, data: bytes,
                   budget: Budget = DEFAULT) -> tuple[str, Iterable[Row]] | None:
    """(format, rows) of a legacy Office file, an RTF document or a PDF; None for the rest.

    The kind is found from the content: an OLE2 file by its streams, a PDF by its %PDF-
    header (which may follow a little junk, as readers allow).
    """
    from pipeline.readers.office import OLE2_MAGIC, convert_to_docx, ole_format

    if data.startswith(OLE2_MAGIC):
        kind = ole_format(name, data)
        if kind == "xls":
            from pipeline.readers.xls import xls_rows

            return kind, xls_rows(name, data, budget)
        return kind, word_rows(name, convert_to_docx(name, data, f".{kind}"), budget)
    if data.startswith(RTF_MAGIC):
        return "rtf", word_rows(name, convert_to_docx(name, data, ".rtf"), budget)
    if data.startswith(b"%PDF-") or (b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]):
        from pipeline.readers.pdf import pdf_rows

        return "pdf", pdf_rows(name, data, budget)
    return None


def word_rows(name: str, docx: bytes, budget: Budget) -> Iterable[Row]:
    from pipeline.containers import docx_rows

    return docx_rows(name, docx, budget)
