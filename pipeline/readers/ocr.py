"""Scanned PDFs (pages that are only images), read by OCR with the optional extra `ocr`.

    pip install 'dutylists[ocr]'      # RapidOCR on onnxruntime; its models ship in the wheel

A scanned page is rendered at RESOLUTION, its tables found from their ruling lines (long
horizontal and vertical strokes, kept by a morphological opening; a boundary between two
grid cells that is not drawn merges them), the lines erased, and the text recognised by
RapidOCR, offline. Each recognised character becomes a positioned character as a text PDF
would give it, carrying its line's recognition score, and the page then goes through the
text-PDF reader's own table logic (pdf.page_rows): titles above the tables, wrapped lines
joined, merged cells filled, rows cut by a page break joined back.

Nothing here is imported until a scan is met: without the extra a scan is refused with how
to enable OCR. The cost is checked before any page is rendered: the scanned pages' expected
time against --timeout and one rendered page's memory against --max-memory.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline.budgets import MIB, Budget, over
from pipeline.errors import SourceError

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pdfplumber.page import Page

RESOLUTION = 200  # dpi: 10.5 pt characters are 29 px high, what the recogniser reads best
# Measured on the 2-core machine: CPU seconds to recognise one A4 page of a list (7–9 s by
# time.process_time; bench/ocr.py's wall time per page is longer on a loaded machine); from
# /proc/self/status, the address space (what --max-memory limits) of a process that loaded
# the engine (onnxruntime and OpenCV map about 800 MiB), and what a page adds per pixel.
SECONDS_PER_PAGE = 8.0
ENGINE_BYTES = 1000 * MIB
BYTES_PER_PIXEL = 200
LINE_LENGTH = 20.0  # points: a ruling line is a stroke longer than any character
LINE_SLACK = 2.0  # points: how far apart two strokes may be and still be one rule
SLACK = 0.5  # of a character's width: how far a recognised line's ends may be off
DRAWN = 0.6  # the share of a cell boundary that must be inked for the boundary to be drawn
INSTALL = ("pip install 'dutylists[ocr]' (or '.[ocr]' in a checkout of dutylists) to read it "
           "by OCR, or run it through an OCR tool that writes a text PDF (ocrmypdf --language "
           "chi_sim FILE OUT.pdf)")
Box = tuple[float, float, float, float]  # x0, top, x1, bottom, in PDF points


@dataclass(frozen=True)
class Grid:
    """A ruled table as pdfplumber gives one: its cells (merged ones whole) and its box."""

    cells: list[Box]
    bbox: Box


@dataclass(frozen=True)
class ScanPage:
    """What an image page holds once recognised: characters with their boxes, and tables."""

    chars: list[dict[str, Any]]
    tables: list[Grid]
    slack: float = 0.0  # points the characters' positions may be off (pdf.cell_text)


Recogniser = Callable[..., Any]


@cache
def recogniser() -> Recogniser | None:
    """RapidOCR's engine, made once per process; None when the extra is not installed.

    The engine's own address space is the program's, the same for every scan, not the
    document's: the process's memory limit (--max-memory, RLIMIT_AS) is raised by
    ENGINE_BYTES as it loads, so the limit still bounds what the document adds.
    """
    import importlib.util

    if importlib.util.find_spec("rapidocr_onnxruntime") is None:
        return None
    allow_engine()
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    engine: Recogniser = RapidOCR(use_cls=False)  # pages are upright: no 180° check
    return engine


def allow_engine() -> None:
    """Raise this process's soft address-space limit, if it has one, by ENGINE_BYTES."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return
    raised = soft + ENGINE_BYTES
    resource.setrlimit(resource.RLIMIT_AS,
                       (raised if hard == resource.RLIM_INFINITY else min(raised, hard), hard))


def check_scan_budget(name: str, pages: int, size: tuple[float, float], budget: Budget) -> None:
    """Refuse a scan whose OCR would not fit the budget, before a page is rendered.

    `pages` are the pages to recognise; `size` the largest page's (width, height) in points.
    """
    if budget.timeout and pages * SECONDS_PER_PAGE > budget.timeout:
        raise SourceError(name, f"the scan has {pages:,} pages to read by OCR, about "
                          f"{pages * SECONDS_PER_PAGE:,.0f} s at {SECONDS_PER_PAGE:.0f} s a page, "
                          + over("timeout", f"{budget.timeout:,.0f}-second"), "too-large")
    width, height = (round(side * RESOLUTION / 72) for side in size)
    need = width * height * BYTES_PER_PIXEL  # the engine's own is allowed apart (recogniser)
    if budget.max_memory and need > budget.max_memory:
        raise SourceError(name, f"a page of {size[0]:,.0f}×{size[1]:,.0f} points is {width:,}×"
                          f"{height:,} pixels at {RESOLUTION} dpi and needs about {need // MIB:,} "
                          "MiB to read by OCR, " + over("max_memory", f"{budget.max_memory // MIB:,} MiB"),
                          "too-large")


def read_scan_page(page: "Page", engine: Recogniser) -> ScanPage:
    """The characters and ruled tables of an image page, in the page's points."""
    import cv2
    import numpy as np

    scale = RESOLUTION / 72
    image = page.to_image(resolution=RESOLUTION).original.convert("L")
    gray = np.asarray(image, dtype=np.uint8)
    ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    horizontal, vertical = ruling_lines(ink, scale)
    tables = ruled_tables(horizontal, vertical, scale)
    clean = gray.copy()
    clean[(horizontal | vertical) > 0] = 255  # the rules would join a cell's text to its frame
    found, _ = engine(cv2.cvtColor(clean, cv2.COLOR_GRAY2BGR), return_word_box=True)
    lines = [recognised_line(box, str(text), float(score), words[0] if words else None, scale)
             for box, text, score, *words in found or []]
    pitches = sorted(pitch for line in lines if (pitch := line.pitch))
    # A line of one Chinese character takes the page's usual spacing, else its own height.
    usual = pitches[len(pitches) // 2] if pitches else None
    if usual:
        lines += missed_lines(engine, clean, [box for box, *_ in found or []], usual * scale, scale)
    chars = [char for line in lines
             for char in line_chars(line, usual or (line.bottom - line.top) * 0.8)]
    # Ink is not the glyph's box: a line's end is known to within half a character.
    return ScanPage(chars, tables, (usual or 10.0) * SLACK)


def missed_lines(engine: Recogniser, clean: "NDArray[Any]", boxes: list[Any], pitch: float,
                 scale: float) -> list["Line"]:
    """Text the detector passed over, recognised alone: ink outside every detected box,
    joined into words, each word at least half a character high (二、 on its own, where Word
    put a tab after a heading number).

    `pitch` is a character's width in pixels; specks and what is left of a rule are smaller.
    """
    import cv2
    import numpy as np

    ink = cv2.threshold(clean, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    covered = np.zeros_like(ink)
    for box in boxes:
        cv2.fillPoly(covered, [np.array(box, dtype=np.int32)], 255)
    grow = max(1, round(pitch / 12))  # detected boxes already hold their ink, with a margin
    covered = cv2.dilate(covered, cv2.getStructuringElement(cv2.MORPH_RECT, (grow, grow)))
    left = cv2.bitwise_and(ink, cv2.bitwise_not(covered))
    # Strokes of a character (the two of 二) and characters of a word joined into one blob.
    words = cv2.dilate(left, cv2.getStructuringElement(cv2.MORPH_RECT,
                                                       (round(pitch), round(pitch * 0.6))))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
    lines = []
    for label, (x, y, w, h, _) in enumerate(stats[1:count].tolist(), start=1):
        blob = (labels[y:y + h, x:x + w] == label) & (ink[y:y + h, x:x + w] > 0)
        rows, columns = np.nonzero(blob & (left[y:y + h, x:x + w] > 0))
        if rows.size == 0 or np.ptp(rows) < pitch * 0.4 or np.ptp(columns) < pitch * 0.4 \
                or h > 2 * pitch:
            continue  # a speck, what is left of a rule, or a paragraph: not a missed word
        if rows.size < 0.8 * np.count_nonzero(blob):
            continue  # mostly ink the detector did read (bold text spilling out of its box)
        pad = grow
        crop = clean[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
        result, _ = engine(cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR), use_det=False, use_cls=False)
        if not result:
            continue
        text, score = str(result[0][0]).strip(), float(result[0][1])
        if text and score >= 0.5:  # what the detector's own results are filtered by
            box = [[x, y], [x + w, y], [x + w, y + h], [x, y + h]]
            lines.append(recognised_line(box, text, score, None, scale))
    return lines


def ruling_lines(ink: "NDArray[Any]", scale: float) -> tuple["NDArray[Any]", "NDArray[Any]"]:
    """Masks of the horizontal and of the vertical strokes longer than LINE_LENGTH."""
    import cv2

    length = max(10, round(LINE_LENGTH * scale))
    slack = max(1, round(LINE_SLACK * scale))
    masks = []
    for shape in ((length, 1), (1, length)):
        kept = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, shape))
        # A scanned rule is broken and a pixel thick in places: bridge small gaps along it.
        along = (slack * 2 + 1, 1) if shape[1] == 1 else (1, slack * 2 + 1)
        masks.append(cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_RECT, along)))
    return masks[0], masks[1]


def ruled_tables(horizontal: "NDArray[Any]", vertical: "NDArray[Any]",
                 scale: float) -> list[Grid]:
    """Each connected frame of rules as a grid of cells, merged where a boundary is missing."""
    import cv2

    length = LINE_LENGTH * scale
    frames = cv2.connectedComponentsWithStats(horizontal | vertical, connectivity=8)
    tables = []
    for label in range(1, frames[0]):
        x, y, w, h, _ = frames[2][label]
        if w < 2 * length or h < 2 * length:
            continue  # a rule alone (an underline, a signature line) is no table
        frame = frames[1][y:y + h, x:x + w] == label
        rows = rule_positions(horizontal[y:y + h, x:x + w] & frame, axis=1, scale=scale)
        columns = rule_positions(vertical[y:y + h, x:x + w] & frame, axis=0, scale=scale)
        if len(rows) < 2 or len(columns) < 2:
            continue
        cells = grid_cells(rows, columns, horizontal[y:y + h, x:x + w], vertical[y:y + h, x:x + w],
                           scale)
        tables.append(Grid([to_points(box, x, y, scale) for box in cells],
                           to_points((columns[0], rows[0], columns[-1], rows[-1]), x, y, scale)))
    return sorted(tables, key=lambda table: table.bbox[1])


def rule_positions(mask: "NDArray[Any]", axis: int, scale: float) -> list[float]:
    """The centres of the rules in a mask: rows (axis=1) or columns (axis=0) that hold a long
    run of ink, neighbours within LINE_SLACK taken as one rule.

    A position counts when the rule is at least LINE_LENGTH long there.
    """
    import numpy as np

    counts = np.count_nonzero(mask, axis=axis)
    hits = np.flatnonzero(counts >= LINE_LENGTH * scale)
    positions: list[list[int]] = []
    for hit in hits.tolist():
        if positions and hit - positions[-1][-1] <= LINE_SLACK * scale:
            positions[-1].append(hit)
        else:
            positions.append([hit])
    return [(group[0] + group[-1]) / 2 for group in positions]


def grid_cells(rows: list[float], columns: list[float], horizontal: "NDArray[Any]",
               vertical: "NDArray[Any]", scale: float) -> list[Box]:
    """The cells between the rules, in pixels; two neighbours whose shared boundary is not
    drawn are one merged cell."""
    import numpy as np

    parent = list(range((len(rows) - 1) * (len(columns) - 1)))
    width = len(columns) - 1

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    slack = max(1, round(LINE_SLACK * scale))

    def drawn(mask: "NDArray[Any]", band: slice, span: slice, along_rows: bool) -> bool:
        strip = mask[band, span] if along_rows else mask[span, band]
        inked = np.any(strip, axis=0 if along_rows else 1)
        return inked.size > 0 and float(np.mean(inked)) >= DRAWN

    for i in range(len(rows) - 1):
        for j in range(width):
            top, bottom = round(rows[i]), round(rows[i + 1])
            left, right = round(columns[j]), round(columns[j + 1])
            # Boundaries are measured inside the cell's span, clear of the crossing rules.
            inner_y = slice(top + 2 * slack, max(top + 2 * slack + 1, bottom - 2 * slack))
            inner_x = slice(left + 2 * slack, max(left + 2 * slack + 1, right - 2 * slack))
            if j + 1 < width:
                x = round(columns[j + 1])
                if not drawn(vertical, slice(max(0, x - slack), x + slack + 1), inner_y, False):
                    parent[root(i * width + j + 1)] = root(i * width + j)
            if i + 2 < len(rows):
                y = round(rows[i + 1])
                if not drawn(horizontal, slice(max(0, y - slack), y + slack + 1), inner_x, True):
                    parent[root((i + 1) * width + j)] = root(i * width + j)
    groups: dict[int, list[int]] = {}
    for index in range(len(parent)):
        groups.setdefault(root(index), []).append(index)
    cells = []
    for members in groups.values():
        top_row = min(m // width for m in members)
        bottom_row = max(m // width for m in members)
        left_col = min(m % width for m in members)
        right_col = max(m % width for m in members)
        cells.append((columns[left_col], rows[top_row], columns[right_col + 1], rows[bottom_row + 1]))
    return sorted(cells, key=lambda box: (box[1], box[0]))


def to_points(box: Box, x: int, y: int, scale: float) -> Box:
    """A box in a frame's pixels → the page's points."""
    return ((box[0] + x) / scale, (box[1] + y) / scale, (box[2] + x) / scale, (box[3] + y) / scale)


@dataclass(frozen=True)
class Line:
    """One recognised line: its characters' ink spans (x0, x1) in points, its top and bottom."""

    text: str  # without spaces: the spans are the visible characters'
    spans: list[tuple[float, float]]
    top: float
    bottom: float
    score: float

    @property
    def pitch(self) -> float | None:
        """The advance of a Chinese character, from neighbouring ones' centres; None when the
        line has fewer than three in a row (一、 alone: the ink of 、 is off its centre)."""
        steps = sorted(b[0] + b[1] - a[0] - a[1] for a, b, x, y
                       in zip(self.spans, self.spans[1:], self.text, self.text[1:], strict=False)
                       if not x.isascii() and not y.isascii())
        return steps[len(steps) // 2] / 2 if len(steps) >= 2 else None


def recognised_line(box: list[list[float]], text: str, score: float, words: list[Any] | None,
                    scale: float) -> Line:
    """The recogniser's line in points: a box per character of Chinese text (per word of
    Latin text); when those do not match the characters one to one, the line's box is shared
    out, a Latin letter or digit taking half the width of a Chinese character."""
    visible = "".join(char for char in text if not char.isspace())
    if words and len(words) == len(visible):
        spans = [(min(p[0] for p in word) / scale, max(p[0] for p in word) / scale) for word in words]
    else:
        left = min(point[0] for point in box) / scale
        right = max(point[0] for point in box) / scale
        weights = [0.5 if char.isascii() else 1.0 for char in visible]
        unit = (right - left) / (sum(weights) or 1)
        spans, x = [], left
        for weight in weights:
            spans.append((x, x + weight * unit))
            x += weight * unit
    return Line(visible, spans, min(point[1] for point in box) / scale,
                max(point[1] for point in box) / scale, score)


def line_chars(line: Line, pitch: float) -> list[dict[str, Any]]:
    """A line's characters as a text PDF gives them: each box its advance, not its ink.

    The ink of a Chinese character is narrower than the square it is set in, and the
    paragraph logic (pdf.cell_text) measures the room left on a line in advances: each box is
    centred on its ink, a Chinese character `pitch` wide (the line's own spacing, else the
    page's), a Latin letter or digit half that. Characters of one line touch, so that no
    space is read between them. Every box is the page's `pitch` high about the line's middle:
    "一、" and the words after a tab, recognised apart with boxes of other heights, stay one
    line.
    """
    middle = (line.top + line.bottom) / 2
    top, bottom = middle - pitch / 2, middle + pitch / 2
    pitch = line.pitch or pitch
    boxes = []
    for char, (x0, x1) in zip(line.text, line.spans, strict=True):
        half = pitch / (4 if char.isascii() else 2)
        boxes.append(((x0 + x1) / 2 - half, (x0 + x1) / 2 + half))
    chars = []
    for index, (char, (x0, x1)) in enumerate(zip(line.text, boxes, strict=True)):
        if index + 1 < len(boxes):
            x1 = max(x1, boxes[index + 1][0])
        chars.append({"text": char, "x0": x0, "x1": x1, "top": top, "bottom": bottom,
                      "doctop": top, "upright": True, "width": x1 - x0, "height": bottom - top,
                      "size": bottom - top, "score": line.score})
    return chars
