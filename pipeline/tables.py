"""Tables stage: text → sections, each a title, a header and rows with their source lines.

Portal scrapes repeat the header row at every page break; the repeats are dropped here.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pipeline.vocabulary import load_vocabulary

LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Row:
    """Cells and where they stand: a line of text, or a row of a sheet or docx table."""

    line: int
    cells: list[str]
    sheet: str | None = None

    @property
    def raw(self) -> str:
        return "\t".join(self.cells)

    @property
    def single(self) -> str | None:
        """The one text of a row that holds one (a title, perhaps merged across columns)."""
        texts = {cell.strip() for cell in self.cells if cell.strip()}
        return texts.pop() if len(texts) == 1 else None

    @property
    def filled(self) -> list[str]:
        """The cells up to the last non-blank one: a title line may carry trailing tabs."""
        end = len(self.cells)
        while end and not self.cells[end - 1].strip():
            end -= 1
        return self.cells[:end]


@dataclass
class Section:
    title: str
    title_line: int
    sheet: str | None = None
    header: Row | None = None
    rows: list[Row] = field(default_factory=list)


@dataclass
class Tables:
    """The sections of a document, and the rows that belong to none (before any title)."""

    sections: list[Section] = field(default_factory=list)
    orphans: list[Row] = field(default_factory=list)


def read_rows(text: str) -> Iterator[Row]:
    """Split tab-separated text into rows, numbered from 1 as an editor numbers lines."""
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        if line.strip():
            yield Row(number, line.split("\t"))


def parse_tables(rows: Iterable[Row]) -> Tables:
    """Group rows into sections: a title line starts one, its first header row is kept."""
    tables = Tables()
    seq_words = set(load_vocabulary("headers")["fields"]["seq"])
    current: Section | None = None
    for row in rows:
        first = row.cells[0].strip()
        single = row.single
        if single is not None and is_title(single):
            current = Section(single, row.line, row.sheet)
            tables.sections.append(current)
        elif current is None:
            tables.orphans.append(row)
        elif first in seq_words and current.header is None:
            current.header = row
        elif first in seq_words and same_cells(row, current.header):
            continue  # the header again, after a page break
        else:
            current.rows.append(row)  # a different header mid-list is flagged by documents
    return tables


def same_cells(row: Row, other: Row | None) -> bool:
    return other is not None and [c.strip() for c in row.filled] == [
        c.strip() for c in other.filled
    ]


def is_title(text: str) -> bool:
    """A list title ends with a known ending, or names a 事项…清单, or is cut short after 事项.

    is_title("…基本履职事项清单") -> True; is_title("现将清单予以公布。") -> False;
    is_title("首页 > 乡镇清单") -> False
    """
    if any(text.endswith(e) for endings in load_vocabulary("titles").values() for e in endings):
        return True
    return re.search(r"事项.*清单$|事项清?$", text) is not None
