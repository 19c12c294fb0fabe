"""The normalized records (pydantic v2): what every stage produces and the database holds."""

import builtins
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import escape

ListKind = Literal["basic", "cooperative", "withdrawn"]
# upper = 上级部门职责, town = 镇/街道配合职责, receiver = 承接部门的工作方式
Party = Literal["upper", "town", "receiver"]
# counterpart = 对应上级部门, receiver = 承接部门, mentioned = named in step text
Role = Literal["counterpart", "receiver", "mentioned"]
Severity = Literal["error", "warning"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Finding(Record):
    """A problem found in a source, kept as data: where, what, and the raw text."""

    path: str
    sheet: str | None = None  # the xlsx sheet or docx table of `line`
    line: int | None = None
    field: str | None = None
    code: str
    severity: Severity
    message: str
    raw: str | None = None

    def __str__(self) -> str:
        """One line, whatever the file name or message holds (a newline cannot forge a line)."""
        where = escape(self.path)
        where = f"{where}[{escape(self.sheet)}]" if self.sheet else where
        where = f"{where}:{self.line}" if self.line is not None else where
        return f"{where}: {self.severity}: {escape(self.message)}"


class Town(Record):
    """A place (乡镇/街道) and the jurisdictions above it.

    Each level is as the title writes it (昌吉州), or the official name from the division
    dataset when the title leaves it out; `code` is the town's division code (652324103),
    None when the dataset does not know the town.
    """

    name: str
    kind: str
    county: str | None = None
    prefecture: str | None = None
    province: str | None = None
    code: str | None = None

    @property
    def key(self) -> tuple[str | None, ...]:
        """What makes two towns one: the division code, else the names of every level."""
        return (self.code,) if self.code else (self.province, self.prefecture, self.county,
                                               self.name)


class Step(Record):
    """One numbered step of a responsibility cell."""

    party: Party
    position: int = Field(ge=1)
    number: int | None = None
    section: str | None = None
    department: str | None = None  # canonical name of a department sub-heading
    text: str
    raw: str


class DutyDepartment(Record):
    """A department linked to a duty in one role; `written` is the spelling in the source."""

    department: str
    role: Role
    written: str
    note: str | None = None  # the rest of a catch-all such as 及其他负有…职责的部门


class Duty(Record):
    """One row of a list."""

    list: ListKind
    seq: int
    category: str | None
    title: str
    source_line: int
    source_sheet: str | None = None
    # `list` above is the contract's column name; builtins.list keeps the type readable to mypy.
    raw: builtins.list[str]
    steps: builtins.list[Step] = []
    departments: builtins.list[DutyDepartment] = []


class Department(Record):
    """A real department: one row however the lists spell it."""

    name: str
    short_name: str | None
    jurisdiction: str | None
    aliases: list[str]


class NormalizedDocument(Record):
    """Everything one raw document becomes; written to normalized/<place>.json."""

    parser_version: str
    path: str
    sha256: str
    format: str
    encoding: str | None
    town: Town
    rows_read: int
    # The lists the document holds, an empty one included: loading it replaces these lists
    # of its place and nothing else.
    lists: list[ListKind] = []
    published: date | None = None  # the date the document itself gives (发布日期…)
    published_from: str | None = None  # where it says so: "line 3: 发布日期：2024年5月10日"
    duties: list[Duty]
    departments: list[Department] = []
    findings: list[Finding] = []

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def quarantined(self) -> int:
        """Source rows that became an error finding instead of a duty."""
        return sum(1 for f in self.findings if f.code.startswith("row-"))
