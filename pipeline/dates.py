"""Publication dates: when a document says it was published (vocab/published.toml)."""

import re
from datetime import date
from functools import cache

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import PipelineError
from pipeline.vocabulary import load_vocabulary

PUBLISHED_FILE = "pipeline/vocab/published.toml"


class PublishedVocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[str]
    numerals: dict[str, int]


@cache
def vocabulary() -> PublishedVocabulary:
    try:
        return PublishedVocabulary.model_validate(load_vocabulary("published"))
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise PipelineError(f"{PUBLISHED_FILE}: {'.'.join(map(str, problem['loc']))}: "
                            f"{problem['msg']}") from None


@cache
def date_pattern() -> re.Pattern[str]:
    digits = "0-9０-９" + "".join(vocabulary().numerals)
    return re.compile(rf"([{digits}]{{4}})\s*[年\-/.]\s*([{digits}十]{{1,3}})\s*[月\-/.]\s*"
                      rf"([{digits}十]{{1,3}})\s*日?")


def parse_date(text: str) -> date | None:
    """The first date in `text`: parse_date("二〇二四年五月十日") -> date(2024, 5, 10)."""
    match = date_pattern().search(text)
    if match is None:
        return None
    year, month, day = (number(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def number(text: str) -> int:
    """number("2024") -> 2024; number("二〇二四") -> 2024; number("十二") -> 12; number("二十一") -> 21."""
    numerals = vocabulary().numerals
    digits = [numerals.get(ch, int(ch) if ch.isdigit() else -1) for ch in text]
    if "十" not in text:
        return int("".join(map(str, digits)))
    tens, _, ones = text.partition("十")
    return (number(tens) if tens else 1) * 10 + (number(ones) if ones else 0)


def date_line(text: str) -> tuple[date, bool] | None:
    """The date of a line that is only a date, or a labelled one, and whether it is labelled:
    date_line("发布日期：2024-05-10") -> (date(2024, 5, 10), True); date_line("2024年第5号") -> None.
    """
    found = parse_date(text)
    if found is None:
        return None
    stripped = text.strip().lstrip("（(").rstrip("）)")
    if any(stripped.startswith(label) for label in vocabulary().labels):
        return found, True
    return (found, False) if date_pattern().fullmatch(stripped) else None


def find_published(lines: list[tuple[int, str]]) -> tuple[date, str] | None:
    """The date a document gives for itself and the line that says so: a labelled line
    wins, else the last line that is only a date (the date under the seal)."""
    dated = [(line, text, found) for line, text in lines if (found := date_line(text))]
    labelled = [(line, text, found) for line, text, found in dated if found[1]]
    chosen = labelled[0] if labelled else dated[-1] if dated else None
    if chosen is None:
        return None
    line, text, (when, _) = chosen
    return when, f"line {line}: {text.strip()}"
