"""How well the OCR path reads scans, measured against hand-written goldens.

    python bench/ocr.py [--dpi 150,200] [--render 200] [--sample]

Each source is a PDF made by LibreOffice from our own hand-made lists (never tuned on):
tests/data/formats/shuangta-docx.pdf and shuangta-xlsx.pdf (golden: shuangta-*.json), and
the Guangdong and Henan layouts of tests/data/layouts/ exported from their .docx (golden:
*.golden.json); --sample adds the real sample written as a publisher's .docx (250 duties,
about 40 pages: minutes). Each PDF is rasterised at each --dpi into an image-only PDF (grey
JPEG pages, as a scanner writes), read by the pipeline with the OCR extra (pages rendered at
--render dpi), and compared with the golden:

- CER: the character error rate, Levenshtein distance ÷ golden length, over the document's
  text (every duty's category, title and step texts, in list and 序号 order);
- duties read against the golden's, titles exactly right, steps read against the golden's,
  step texts exactly right, duties whose steps split exactly as the golden's;
- the same PDF read as text (the floor: what the table logic gives when no character is
  misread), and seconds per page of the OCR read.

Without the extra (rapidocr_onnxruntime) it says so and exits 0, so `make bench` runs anywhere.
"""

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"
LISTS = ["basic", "cooperative", "withdrawn"]
Duty = tuple[str, int, str | None, str, list[tuple[str, int | None, str | None, str]]]


@dataclass
class Score:
    """One reading of one source against its golden."""

    cer: float
    duties: int
    golden_duties: int
    titles_exact: int
    steps: int
    golden_steps: int
    steps_exact: int
    split_exact: int
    seconds: float = 0.0
    pages: int = 0


def shuangta_golden() -> list[Duty]:
    duties: list[Duty] = []
    for kind in LISTS:
        for d in json.loads((DATA / "formats" / f"shuangta-{kind}.json").read_text(encoding="utf-8")):
            duties.append((kind, d["seq"], d["category"], d["title"],
                           [(s["party"], s["number"], s["section"], s["text"]) for s in d["steps"]]))
    return duties


def layout_golden(path: Path) -> list[Duty]:
    golden = json.loads(path.read_text(encoding="utf-8"))
    return [(d["list"], d["seq"], d["category"], d["title"],
             [(party, number, section, text) for party, steps in d["steps"].items()
              for number, section, text in steps]) for d in golden["duties"]]


def read_duties(pdf: Path) -> tuple[list[Duty], int]:
    """The duties the pipeline reads from a PDF, and the number of its pages."""
    import pdfplumber

    from pipeline.budgets import Budget
    from pipeline.documents import normalize_document
    from pipeline.sources import read_source

    with pdfplumber.open(pdf) as document:
        pages = len(document.pages)
    doc = normalize_document(read_source(pdf, Budget(max_memory=0, timeout=0)))
    return [(d.list, d.seq, d.category, d.title,
             [(s.party, s.number, s.section, s.text) for s in d.steps]) for d in doc.duties], pages


def text_of(duties: list[Duty]) -> str:
    """The document's text in a fixed order: list, 序号, then category, title, steps."""
    ordered = sorted(duties, key=lambda d: (LISTS.index(d[0]), d[1]))
    return "\n".join("\n".join([d[2] or "", d[3], *(step[3] for step in d[4])]) for d in ordered)


def score(read: list[Duty], golden: list[Duty]) -> Score:
    from rapidfuzz.distance import Levenshtein

    want = text_of(golden)
    found = {(d[0], d[1]): d for d in read}
    titles = steps_exact = split = 0
    for duty in golden:
        got = found.get((duty[0], duty[1]))
        if got is None:
            continue
        titles += got[3] == duty[3]
        got_steps = {(s[0], s[1], s[2]): s[3] for s in got[4]}
        steps_exact += sum(got_steps.get((s[0], s[1], s[2])) == s[3] for s in duty[4])
        split += [s[:3] for s in got[4]] == [s[:3] for s in duty[4]]
    return Score(cer=Levenshtein.distance(want, text_of(read)) / len(want), duties=len(read),
                 golden_duties=len(golden), titles_exact=titles,
                 steps=sum(len(d[4]) for d in read), golden_steps=sum(len(d[4]) for d in golden),
                 steps_exact=steps_exact, split_exact=split)


def scan(pdf: Path, out: Path, dpi: int) -> Path:
    """Every page as a grey image at `dpi` in an image-only PDF (tests/data/scans/make.py)."""
    from tests.data.scans.make import scan as rasterise

    return rasterise(pdf, out, dpi)


def sources(work: Path, sample: bool) -> Iterator[tuple[str, Path, list[Duty]]]:
    """(name, text PDF, golden) of each source; those LibreOffice exports need soffice."""
    formats = DATA / "formats"
    yield "shuangta (docx → PDF)", formats / "shuangta-docx.pdf", shuangta_golden()
    yield "shuangta (xlsx → PDF)", formats / "shuangta-xlsx.pdf", shuangta_golden()
    if shutil.which("soffice") is None:
        print("(LibreOffice is not installed: the layouts and the sample are skipped)")
        return
    from tests.publish import export

    for stem in ("guangdong-foshan-shunde-beijiao", "henan-luoyang-mengjin-huimeng"):
        pdf = export(DATA / "layouts" / f"{stem}.docx", "pdf", work)
        golden = layout_golden(DATA / "layouts" / f"{stem}.golden.json")
        yield f"{stem.split('-')[-1]} (docx → PDF)", pdf, golden
    if sample:
        yield "the sample (docx → PDF)", sample_pdf(work), sample_golden()


def sample_pdf(work: Path) -> Path:
    from tests.fixtures import cell_value, sample_sections
    from tests.publish import export, write_docx

    sections = [(title, header, [[str(cell_value(w, v)) for w, v in zip(header, row, strict=True)]
                                 for row in rows]) for title, header, rows in sample_sections()]
    return export(write_docx(work / "sample.docx", sections, "关于公布履行职责事项清单的通知",
                             "玛纳斯县凉州户镇人民政府"), "pdf", work)


def sample_golden() -> list[Duty]:
    """The sample's duties as the pipeline reads the original text file (its own golden is
    tests/golden/, checked by the test suite)."""
    from pipeline.documents import normalize_document
    from pipeline.sources import read_source
    from tests.conftest import SAMPLE

    doc = normalize_document(read_source(SAMPLE))
    return [(d.list, d.seq, d.category, d.title,
             [(s.party, s.number, s.section, s.text) for s in d.steps]) for d in doc.duties]


def measure(dpis: list[int], render: int, sample: bool) -> list[tuple[str, str, Score]]:
    import pipeline.readers.ocr as ocr

    ocr.RESOLUTION = render
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as work:
        folder = Path(work)
        for name, pdf, golden in sources(folder, sample):
            read, _ = read_duties(pdf)
            results.append((name, "text PDF", score(read, golden)))
            for dpi in dpis:
                scanned = scan(pdf, folder / f"scan-{dpi}.pdf", dpi)
                start = time.perf_counter()
                read, pages = read_duties(scanned)
                result = score(read, golden)
                result.seconds, result.pages = time.perf_counter() - start, pages
                results.append((name, f"scan {dpi} dpi", result))
                print(f"  {name}, scan {dpi} dpi: CER {result.cer:.2%}", file=sys.stderr)
    return results


def table(results: list[tuple[str, str, Score]]) -> str:
    lines = ["| source | read as | CER | duties | titles exact | steps | step texts exact | "
             "steps split as golden | s/page |", "|---|---|---|---|---|---|---|---|---|"]
    for name, how, s in results:
        per_page = f"{s.seconds / s.pages:.1f}" if s.pages else "–"
        lines.append(f"| {name} | {how} | {s.cer:.2%} | {s.duties}/{s.golden_duties} | "
                     f"{s.titles_exact}/{s.golden_duties} | {s.steps}/{s.golden_steps} | "
                     f"{s.steps_exact}/{s.golden_steps} | {s.split_exact}/{s.golden_duties} | "
                     f"{per_page} |")
    total = [s for _, how, s in results if how != "text PDF"]
    if total:
        lines.append(f"\nAll scans: {sum(s.titles_exact for s in total)}/"
                     f"{sum(s.golden_duties for s in total)} titles exact, "
                     f"{sum(s.steps_exact for s in total)}/{sum(s.golden_steps for s in total)} "
                     "step texts exact, mean CER "
                     f"{sum(s.cer for s in total) / len(total):.2%}")
    return "\n".join(lines)


def print_ocr_accuracy(dpis: list[int] | None = None, render: int | None = None,
                       sample: bool = False) -> None:
    from pipeline.readers.ocr import RESOLUTION, recogniser

    if recogniser() is None:
        print("\nOCR: skipped (the extra is not installed: pip install '.[ocr]')")
        return
    render = render or RESOLUTION
    print(f"\nOCR of scans rasterised from our own fixtures, pages rendered at {render} dpi "
          "(bench/ocr.py):\n")
    print(table(measure(dpis or [150], render, sample)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--dpi", default="150,200", help="scan resolutions, comma-separated")
    parser.add_argument("--render", type=int, help="the reader's rendering resolution (dpi)")
    parser.add_argument("--sample", action="store_true", help="add the sample (about 40 pages)")
    args = parser.parse_args()
    print_ocr_accuracy([int(d) for d in args.dpi.split(",")], args.render, args.sample)


if __name__ == "__main__":
    main()
