"""Vocabulary that varies between towns, read from the TOML files in vocab/.

Supporting a new town's wording means adding a line to one of those files, not code. The
files the layout stages read are validated by the pydantic models below (one per file), so a
typo is an error naming the file and the key, not a KeyError deep in a parse.
"""

import tomllib
from functools import cache
from importlib.resources import files
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import VocabularyError

VOCAB_DIR = "pipeline/vocab"
M = TypeVar("M", bound="Vocabulary")


@cache
def load_vocabulary(name: str) -> dict[str, Any]:
    """Read vocab/<name>.toml: load_vocabulary("titles")["basic"] -> ["基本履职事项清单"]."""
    text = files("pipeline").joinpath("vocab", f"{name}.toml").read_text(encoding="utf-8")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{VOCAB_DIR}/{name}.toml: {exc}") from None


class Vocabulary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeaderFields(Vocabulary):
    """Header words (globs) of each field; `extra` columns are kept only in raw."""

    seq: list[str]
    category: list[str]
    title: list[str]
    counterpart: list[str]
    upper_duties: list[str]
    town_duties: list[str]
    receiver: list[str]
    receiver_department: list[str]
    receiver_method: list[str]
    extra: list[str]


class RequiredFields(Vocabulary):
    basic: list[str]
    cooperative: list[str]
    withdrawn: list[str]


class HeaderLevels(Vocabulary):
    upper: list[str]
    town: list[str]


class Headers(Vocabulary):
    """headers.toml"""

    fields: HeaderFields
    required: RequiredFields
    levels: HeaderLevels
    level_fields: dict[str, list[str]]

    def synonyms(self) -> list[tuple[str, list[str]]]:
        """[fields], each followed by its [level_fields] with {upper} and {town} filled in from
        [levels]: ("counterpart", [..., "对应县级部门", "对应区级部门", …])."""
        merged = {name: list(words) for name, words in self.fields}
        for name, templates in self.level_fields.items():
            words = merged.setdefault(name, [])
            for template in templates:
                filled = [template.format(upper=upper, town=town)
                          for upper in self.levels.upper for town in self.levels.town]
                words += [word for word in dict.fromkeys(filled) if word not in words]
        return list(merged.items())


class Titles(Vocabulary):
    """titles.toml: how each list's title ends, and how a whole document's heading ends."""

    basic: list[str]
    cooperative: list[str]
    withdrawn: list[str]
    document: list[str] = []


class Numbering(Vocabulary):
    """numbering.toml: step marks and section heading marks, as regular expressions."""

    markers: list[str]
    headings: list[str]


class Layouts(Vocabulary):
    """layouts.toml: rows that are not duties, and what a category heading row looks like."""

    continued: list[str] = Field(description="labels of a table continued on the next page")
    category_marks: list[str]
    category_count: list[str]
    notes: list[str]


class Text(Vocabulary):
    """text.toml: the invisible format characters (Cf) kept in text, as "U+XXXX"."""

    keep_format_characters: list[Annotated[str, Field(pattern=r"^U\+[0-9A-Fa-f]{4,6}$")]]

    def kept(self) -> frozenset[str]:
        """The kept characters: ["U+200D"] -> {"\u200d"}."""
        return frozenset(chr(int(name.removeprefix("U+"), 16))
                         for name in self.keep_format_characters)


def load_model(name: str, model: type[M]) -> M:
    """vocab/<name>.toml read into `model`; VocabularyError names the file and the key.

    load_model("numbering", Numbering).markers[0] -> '([0-9０-９]+)[.．、](?![0-9０-９])'
    """
    try:
        return model.model_validate(load_vocabulary(name))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                             for error in exc.errors())
        raise VocabularyError(f"{VOCAB_DIR}/{name}.toml: {problems}") from None


@cache
def headers() -> Headers:
    return load_model("headers", Headers)


@cache
def titles() -> Titles:
    return load_model("titles", Titles)


@cache
def numbering() -> Numbering:
    return load_model("numbering", Numbering)


@cache
def layouts() -> Layouts:
    return load_model("layouts", Layouts)


@cache
def text() -> Text:
    return load_model("text", Text)


# places.toml
class PlaceLevels(Vocabulary):
    province: list[str]
    prefecture: list[str]
    county: list[str]
    town: list[str]


class Autonomous(Vocabulary):
    short: dict[str, str]
    initials: list[str]
    nationalities: list[str]


class Bare(Vocabulary):
    levels: list[str]
    shortest: int


class TownForms(Vocabulary):
    same: list[list[str]]


class PlacesVocabulary(Vocabulary):
    """places.toml: how titles write the names of China's administrative divisions."""

    levels: PlaceLevels
    kinds: dict[str, str]
    autonomous: Autonomous
    bare: Bare
    town_forms: TownForms


@cache
def places_vocabulary() -> PlacesVocabulary:
    return load_model("places", PlacesVocabulary)


# departments.toml
class Jurisdictions(Vocabulary):
    marks: list[str]
    mark_of: dict[str, str]
    not_marks: list[str]


class Names(Vocabulary):
    suffixes: list[str]
    firm_suffixes: list[str]
    branch_suffixes: list[str]
    not_endings: list[str]
    catch_all: list[str]
    not_departments: list[str]


class DepartmentsVocabulary(Vocabulary):
    """departments.toml: jurisdiction marks, department name endings, abbreviations."""

    jurisdictions: Jurisdictions
    names: Names
    abbreviations: dict[str, str | list[str]]

    def expansions(self, short: str) -> list[str]:
        """expansions("卫健委") -> ["卫生健康委员会"]; [] for a name that is no abbreviation."""
        full = self.abbreviations.get(short, [])
        return [full] if isinstance(full, str) else full


@cache
def departments_vocabulary() -> DepartmentsVocabulary:
    return load_model("departments", DepartmentsVocabulary)
