"""Findings: problems kept as data, collected per document while it is normalized."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pipeline.records import Finding, Severity
from pipeline.tables import Row
from pipeline.text import normalize_text, strip_format


@dataclass
class Collector:
    """Findings of one document, each tied to its path."""

    path: str
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: Severity, code: str, message: str, line: int | None = None,
            field: str | None = None, raw: str | None = None, sheet: str | None = None) -> None:
        """Record a finding; a warning already said for the same line and field is said once."""
        if severity == "warning":
            for f in self.findings[-20:]:
                if f.message == message and f.line == line and f.field == field and f.code == code:
                    return
        self.findings.append(Finding(path=self.path, sheet=sheet, line=line, field=field,
                                     code=code, severity=severity, message=message, raw=raw))

    def clean(self, raw: str, line: int, field: str, sheet: str | None = None) -> str:
        """Normalized text; each fix and each Latin word inside Chinese becomes a warning."""
        cleaned = normalize_text(raw)
        if cleaned.fixes:
            self.add("warning", "text-fixed", f"{field}: {'; '.join(cleaned.fixes)} "
                     "(the original is kept in raw)", line, field, raw, sheet)
        for word in cleaned.latin:
            self.add("warning", "latin-word", f"{field}: Latin word {word!r} inside Chinese "
                     "text, left as is; correct the source if it is a slip", line, field, raw,
                     sheet)
        return cleaned.text

    def visible(self, raw: str, line: int, field: str, sheet: str | None = None) -> str:
        """`raw` without invisible format characters (Unicode Cf: U+202E and the like), which
        would make 党的建设 and a look-alike two categories; their removal is a warning."""
        if raw.isprintable():  # most cells: nothing to remove (strip_format says so, slower)
            return raw
        text, removed = strip_format(raw)
        if removed:
            self.add("warning", "text-fixed", f"{field}: invisible format characters removed "
                     f"({', '.join(removed)}) (the original is kept in raw)", line, field, raw,
                     sheet)
        return text

    def quarantine(self, row: Row, code: str, message: str, field: str | None = None) -> None:
        self.add("error", f"row-{code}", message, row.line, field, row.raw, row.sheet)


@dataclass(frozen=True)
class Note:
    """A finding without its line and sheet, as a Recorder keeps it."""

    severity: Severity
    code: str
    message: str
    field: str | None
    raw: str | None


@dataclass
class Recorder(Collector):
    """A Collector that keeps each finding as a Note, in order and without dropping repeats,
    for a Collector to add again at the right line and sheet (steps.cell_steps)."""

    notes: list[Note] = field(default_factory=list)

    def add(self, severity: Severity, code: str, message: str, line: int | None = None,
            field: str | None = None, raw: str | None = None, sheet: str | None = None) -> None:
        self.notes.append(Note(severity, code, message, field, raw))


def fold_findings(findings: Iterable[Finding]) -> Iterator[str]:
    """The findings as report lines, one per cause: a run of quarantined rows of one file with
    the same code and message (the rows of a list whose header is missing) is one line.

    fold_findings([row 3, row 4, row 5 quarantined for one cause]) ->
    ["x.txt:3: error: … (and 2 more rows like it, to line 5)"]
    """
    run: list[Finding] = []
    for finding in [*findings, None]:
        if run and (finding is None or not finding.code.startswith("row-")
                    or (finding.path, finding.sheet, finding.code, finding.message)
                    != (run[0].path, run[0].sheet, run[0].code, run[0].message)):
            more = len(run) - 1
            suffix = "" if not more else \
                f" (and {more} more rows like it, to line {run[-1].line})"
            yield f"{run[0]}{suffix}"
            run = []
        if finding is not None:
            run.append(finding)
