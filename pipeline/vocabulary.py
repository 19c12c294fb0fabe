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


class Headers(Vocabulary):
    """headers.toml"""

    fields: HeaderFields
    required: RequiredFields


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
