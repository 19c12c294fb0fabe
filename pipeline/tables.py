"""Tables stage: text → sections, each a title, a header and rows with their source lines.

Rows are told apart by their text, never their markup (<strong>序号</strong>, 序&nbsp;号 and
序　号 are the same header cell):
- a title starts a section; a line of one text before the first title, or between a title
  and its header, is a heading of the document (it may name the place);
- the first row starting with 序号 is the header, and a row under it that only names
  sub-columns (县级部门职责 under a 职责分工 spanning two columns) completes it;
- the header again after a page break, and labels such as 续表, are dropped;
- a row holding one text under the header (一、党的建设（共22项）, or merged across the
  table) is a category heading; a note (注：…) is kept apart;
- a row with an empty 序号 continues the row above (a row cut by a page break), and so does a
  row whose 序号 and 事项名称 repeat the row above (merged cells filled on both pages).
"""

import csv
import html
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import cache

from pipeline.markup import plain_text
from pipeline.vocabulary import headers, layouts, numbering, titles

LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Any tag, for reading a header or 序号 cell's words: those cells hold no "<" of their own.
ANY_TAG = re.compile(r"<[^<>]*>")
FULL_WIDTH = str.maketrans({chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
                           | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)})
FULL_WIDTH_CHAR = re.compile("[\uff10-\uff19\uff21-\uff3a]")
SEQ = re.compile(r"[0-9]+[.、．]?")
# Excel's quoting, seen in a text file: a field opening with " that holds a delimiter, a line
# break or a doubled quote before it closes. Without it, a leading " is the cell's own text.
EXCEL_QUOTED = re.compile(r'(?:^|[\t,])"[^"\t\n]*(?:""|[\t\n])', re.M)


@dataclass(frozen=True)
class Row:
    """Cells and where they stand: a line of text, or a row of a sheet or docx table.

    `continued` holds the source rows joined into this one (a row cut by a page break);
    `notes` what the reader doubts about it, as (code, message), each recorded as a warning
    on the row (the OCR reader's recognition score).
    """

    line: int
    cells: list[str]
    sheet: str | None = None
    continued: tuple["Row", ...] = ()
    notes: tuple[tuple[str, str], ...] = ()

    @property
    def raw(self) -> str:
        return "\t".join(self.cells)

    @property
    def single(self) -> str | None:
        """The one text of a row that holds one (a title, perhaps merged across columns)."""
        found = None
        for cell in self.cells:
            text = cell.strip()
            if text and text != found:
                if found is not None:
                    return None  # a second text: most rows, known from their first cells
                found = text
        return found

    @property
    def filled(self) -> list[str]:
        """The cells up to the last non-blank one: a title line may carry trailing tabs."""
        end = len(self.cells)
        while end and not self.cells[end - 1].strip():
            end -= 1
        return self.cells[:end]


@dataclass(frozen=True)
class Category:
    """A category heading row: the category, the count it states, and the row."""

    name: str
    stated: int | None
    row: Row


@dataclass
class Section:
    title: str
    title_line: int
    sheet: str | None = None
    header: Row | None = None  # the header as one row: sub-columns over their group
    header_rows: list[Row] = field(default_factory=list)  # as written: one row, or two
    rows: list[Row] = field(default_factory=list)
    categories: list[tuple[int, Category]] = field(default_factory=list)  # (index in rows, …)
    notes: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Heading:
    """A line that names the document rather than one list (its place, often)."""

    text: str
    line: int
    sheet: str | None = None


@dataclass
class Tables:
    """The sections of a document, the lines that head it, and the rows that belong to no list
    (before any title)."""

    sections: list[Section] = field(default_factory=list)
    orphans: list[Row] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)


def cell_words(cell: str) -> str:
    """A cell's words with markup, entities and every kind of space removed.

    cell_words("<strong>序&nbsp;号</strong>") -> "序号"; cell_words("序　号") -> "序号"
    """
    if "<" in cell or "&" in cell:
        cell = html.unescape(ANY_TAG.sub("", cell))
    words = "".join(cell.split())  # str.split's whitespace is the regex's \s, faster
    return words.translate(FULL_WIDTH) if FULL_WIDTH_CHAR.search(words) else words


def text_format(text: str) -> str:
    """"csv" when the header row (序号…) is cut by commas and holds no tab, else "tsv"."""
    for line in LINE_BREAK.split(text, maxsplit=200)[:200]:
        if "\t" in line:
            return "tsv"
        if "," in line and cell_words(line.split(",")[0].strip('"')) in headers().fields.seq:
            return "csv"
    return "tsv"


def read_rows(text: str, kind: str = "tsv") -> Iterator[Row]:
    """Rows of delimited text, each numbered by the line it starts on (as an editor numbers
    them). Excel's quoting ("a cell with ""quotes"" or a line break") is read by the csv
    module where the file shows it; other text is split at its tabs as it stands, so that a
    cell opening with a quote of its own ("两个维护"…) keeps it."""
    delimiter = "," if kind == "csv" else "\t"
    if kind == "csv" or EXCEL_QUOTED.search(text):
        try:
            return iter(list(quoted_rows(text, delimiter, strict=True)))
        except csv.Error:
            if kind == "csv":  # not as Excel writes it: read it as leniently as Excel does
                return iter(list(quoted_rows(text, delimiter, strict=False)))
    return (Row(number, line.split(delimiter))
            for number, line in enumerate(LINE_BREAK.split(text), start=1) if line.strip())


def quoted_rows(text: str, delimiter: str, strict: bool) -> Iterator[Row]:
    """Rows by the csv module in Excel's dialect, each with the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    line = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield Row(line, [LINE_BREAK.sub("\n", cell) for cell in cells])
        line = reader.line_num + 1


def parse_tables(rows: Iterable[Row]) -> Tables:
    """Group rows into sections: a title line starts one, its first header row is kept."""
    tables = Tables()
    current: Section | None = None
    expect_sub_header = False
    for row in rows:
        single = row.single
        words = cell_words(single) if single is not None else None
        after_header, expect_sub_header = expect_sub_header, False
        if single is not None and is_title(words or ""):
            current = Section(" ".join(plain_text(single).split()), row.line, row.sheet)
            tables.sections.append(current)
        elif current is None:
            if single is not None and not SEQ.fullmatch(words or ""):
                tables.headings.append(Heading(" ".join(plain_text(single).split()), row.line,
                                               row.sheet))
            else:
                tables.orphans.append(row)
        elif words is not None and words.strip("（）()") in layouts().continued:
            continue  # 续表: the header follows, and is dropped as a repeat
        elif after_header and is_column_numbers(row):
            expect_sub_header = True  # 栏次 1 2 3 … under the header: numbers the columns
        elif after_header and current.header is not None and is_sub_header(row, current):
            if len(current.header_rows) == 1:
                current.header_rows.append(row)
                current.header = join_header(current.header_rows)
        elif is_seq_header(row):
            if current.header is None:
                current.header_rows = [row]
                current.header = row
                expect_sub_header = True
            elif same_cells(row, current.header_rows[0]):
                expect_sub_header = len(current.header_rows) > 1  # the header again
            else:
                current.rows.append(row)  # a different header mid-list is flagged by documents
        elif current.header is None and not current.rows and single is not None \
                and not SEQ.fullmatch(words or ""):
            # between a title and its header: 填报单位：…镇人民政府, 单位：项
            tables.headings.append(Heading(" ".join(plain_text(single).split()), row.line,
                                           row.sheet))
        elif current.header is not None and single is not None and single == row.cells[0].strip() \
                and not SEQ.fullmatch(words or ""):
            if any((words or "").startswith(cell_words(note)) for note in layouts().notes):
                current.notes.append(row)
            else:
                current.categories.append((len(current.rows), parse_category(single, row)))
        elif current.rows and current.header is not None and continues(row, current.rows[-1]):
            current.rows[-1] = join_rows(current.rows[-1], row)
        else:
            current.rows.append(row)
    return tables


def is_column_numbers(row: Row) -> bool:
    """is_column_numbers(Row(3, ["1", "2", "3"])) -> True: it numbers the columns, not a duty."""
    words = [cell_words(cell) for cell in row.filled]
    return len(words) >= 3 and words == [str(n) for n in range(1, len(words) + 1)]


def is_seq_header(row: Row) -> bool:
    return bool(row.cells) and cell_words(row.cells[0]) in headers().fields.seq


def same_cells(row: Row, other: Row) -> bool:
    return [cell_words(c) for c in row.filled] == [cell_words(c) for c in other.filled]


def is_sub_header(row: Row, section: Section) -> bool:
    """A second header row: it names sub-columns under the first row's group cells, and every
    other cell is empty or repeats the cell above (merged down)."""
    top = [cell_words(c) for c in section.header_rows[0].cells]
    below = [cell_words(c) for c in row.cells]
    named = False
    for index, word in enumerate(below):
        if not word or (index < len(top) and word == top[index]):
            continue
        if header_field(word) is None:
            return False
        named = True
    return named


def join_header(rows: list[Row]) -> Row:
    """The two header rows as one: a sub-column's word where there is one, else the word above.

    join_header([Row(1, ["序号", "职责分工", "职责分工"]), Row(2, ["", "县级部门职责",
    "镇配合职责"])]).cells -> ["序号", "县级部门职责", "镇配合职责"]
    """
    top, below = rows
    cells = list(top.cells)
    for index, cell in enumerate(below.cells):
        if cell_words(cell) and index < len(cells) and cell_words(cell) != cell_words(cells[index]):
            cells[index] = cell
        elif index >= len(cells):
            cells.append(cell)
    return Row(top.line, cells, top.sheet)


def parse_category(text: str, row: Row) -> Category:
    """parse_category("一、党的建设（共22项）", row) -> Category("党的建设", 22, row)."""
    name = " ".join(plain_text(text).split())
    stated = None
    for pattern in layouts().category_count:
        if match := re.search(pattern, name):
            stated = int(match[1].translate(FULL_WIDTH))
            name = (name[: match.start()] + name[match.end():]).strip()
            break
    for pattern in layouts().category_marks:
        if match := re.match(pattern, name):
            name = name[match.end():].strip()
            break
    return Category(name, stated, row)


def continues(row: Row, above: Row) -> bool:
    """A row with an empty 序号 under a data row, or one repeating its 序号 and 事项名称 (merged
    cells filled on both sides of a page break), is the rest of the row above."""
    if not row.cells or not any(c.strip() for c in row.cells[1:]):
        return False
    seq = cell_words(row.cells[0])
    if not seq:
        return SEQ.fullmatch(cell_words(above.cells[0])) is not None
    return (SEQ.fullmatch(seq) is not None and len(row.cells) > 1 and len(above.cells) > 1
            and seq == cell_words(above.cells[0])  # most rows: another 序号, the titles unread
            and cell_words(row.cells[1]) == cell_words(above.cells[1]))


def join_rows(above: Row, row: Row) -> Row:
    """The row above with the continuation's cells added below its own, line by line; a cell
    repeated by a merge is taken once."""
    width = max(len(above.cells), len(row.cells))
    cells = []
    for index in range(width):
        top = above.cells[index] if index < len(above.cells) else ""
        rest = row.cells[index] if index < len(row.cells) else ""
        if not rest.strip() or cell_words(rest) == cell_words(top):
            cells.append(top)
        elif not top.strip():
            cells.append(rest)
        elif starts_block(rest):  # the next step or paragraph: on a line of its own
            cells.append(f"{top.rstrip()}\n{rest.strip()}")
        else:  # a sentence cut by the page break goes on where it stopped
            cells.append(f"{top.rstrip()}{rest.strip()}")
    return Row(above.line, cells, above.sheet, (*above.continued, row), above.notes)


@cache
def block_start() -> re.Pattern[str]:
    """A number mark, a heading mark or a block tag at the start of a text."""
    marks = [*numbering().markers, *numbering().headings, r"<(?:p|ol|ul|li|div|br)\b"]
    return re.compile("|".join(f"(?:{mark})" for mark in marks), re.I)


def starts_block(text: str) -> bool:
    """starts_block("3.组织演练") -> True; starts_block("执法检查") -> False."""
    return block_start().match(text.strip()) is not None


@cache
def header_patterns() -> list[tuple[str, list[str]]]:
    return headers().synonyms()  # [fields], then the {upper}/{town} templates filled in


def header_field(word: str) -> str | None:
    """The field a header word names, by the synonyms (globs) in headers.toml.

    header_field("街道配合职责") -> "town_duties"; header_field("备注") -> "extra"
    """
    for name, patterns in header_patterns():
        if any(fnmatchcase(word, pattern) for pattern in patterns):
            return name
    return None


def is_title(text: str) -> bool:
    """A list title ends with a known ending, or names a 事项…清单, or is cut short after 事项.

    is_title("…基本履职事项清单") -> True; is_title("现将清单予以公布。") -> False;
    is_title("首页 > 乡镇清单") -> False
    """
    words = cell_words(text)
    vocabulary = titles()
    if any(words.endswith(e) for endings in (vocabulary.basic, vocabulary.cooperative,
                                             vocabulary.withdrawn) for e in endings):
        return True
    return re.search(r"事项.*清单$|事项清?$", words) is not None
