"""Vocabulary that varies between towns, read from the TOML files in vocab/.

Supporting a new town's wording means adding a line to one of those files, not code. The
files this module types (places, departments, headers) are validated by pydantic models, so
a typo is an error naming the file and the key.
"""

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.errors import VocabularyError

VOCAB_DIR = "pipeline/vocab"


@cache
def load_vocabulary(name: str) -> dict[str, Any]:
    """Read vocab/<name>.toml: load_vocabulary("titles")["basic"] -> ["基本履职事项清单"]."""
    text = files("pipeline").joinpath("vocab", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


class Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Model = TypeVar("Model", bound=Table)


def typed_vocabulary(name: str, model: type[Model]) -> Model:
    """vocab/<name>.toml as `model`; VocabularyError names the file and the key at fault."""
    try:
        return model.model_validate(load_vocabulary(name))
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise VocabularyError(f"{VOCAB_DIR}/{name}.toml: {problems}") from None


# places.toml
class PlaceLevels(Table):
    province: list[str]
    prefecture: list[str]
    county: list[str]
    town: list[str]


class Autonomous(Table):
    short: dict[str, str]
    initials: list[str]
    nationalities: list[str]


class Bare(Table):
    levels: list[str]
    shortest: int


class TownForms(Table):
    same: list[list[str]]


class PlacesVocabulary(Table):
    levels: PlaceLevels
    kinds: dict[str, str]
    autonomous: Autonomous
    bare: Bare
    town_forms: TownForms


@cache
def places_vocabulary() -> PlacesVocabulary:
    return typed_vocabulary("places", PlacesVocabulary)


# departments.toml
class Jurisdictions(Table):
    marks: list[str]
    mark_of: dict[str, str]
    not_marks: list[str]


class Names(Table):
    suffixes: list[str]
    firm_suffixes: list[str]
    branch_suffixes: list[str]
    not_endings: list[str]
    catch_all: list[str]
    not_departments: list[str]


class DepartmentsVocabulary(Table):
    jurisdictions: Jurisdictions
    names: Names
    abbreviations: dict[str, str | list[str]]

    def expansions(self, short: str) -> list[str]:
        """expansions("卫健委") -> ["卫生健康委员会"]; [] for a name that is no abbreviation."""
        full = self.abbreviations.get(short, [])
        return [full] if isinstance(full, str) else full


@cache
def departments_vocabulary() -> DepartmentsVocabulary:
    return typed_vocabulary("departments", DepartmentsVocabulary)


# headers.toml
class HeaderLevels(Table):
    upper: list[str]
    town: list[str]


class HeadersVocabulary(Table):
    model_config = ConfigDict(extra="allow", frozen=True)  # other tables belong to other stages

    fields: dict[str, list[str]]
    required: dict[str, list[str]]
    levels: HeaderLevels
    level_fields: dict[str, list[str]]

    def synonyms(self) -> dict[str, list[str]]:
        """[fields], then [level_fields] with {upper} and {town} filled in from [levels]:
        counterpart -> [..., "对应县级部门", "对应区级部门", …]."""
        merged = {field: list(words) for field, words in self.fields.items()}
        for field, templates in self.level_fields.items():
            merged.setdefault(field, [])
            for template in templates:
                words = [template.format(upper=upper, town=town)
                         for upper in self.levels.upper for town in self.levels.town]
                merged[field] += [w for w in dict.fromkeys(words) if w not in merged[field]]
        return merged


@cache
def headers_vocabulary() -> HeadersVocabulary:
    return typed_vocabulary("headers", HeadersVocabulary)
