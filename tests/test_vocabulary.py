import pytest

from pipeline.errors import VocabularyError
from pipeline.vocabulary import (
    PlacesVocabulary,
    departments_vocabulary,
    headers,
    load_model,
    places_vocabulary,
)


def test_the_typed_files_read() -> None:
    assert "镇" in places_vocabulary().levels.town
    assert departments_vocabulary().expansions("卫健委") == ["卫生健康委员会"]
    assert len(departments_vocabulary().expansions("文旅局")) > 1
    assert departments_vocabulary().expansions("公安局") == []
    assert "对应旗级部门" in dict(headers().synonyms())["counterpart"]


def test_a_file_that_does_not_fit_its_model_names_the_file_and_key() -> None:
    with pytest.raises(VocabularyError, match=r"pipeline/vocab/titles\.toml: levels: Field required"):
        load_model("titles", PlacesVocabulary)
