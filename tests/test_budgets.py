import pytest

from pipeline.budgets import Budget, over, parse_size


@pytest.mark.parametrize(("text", "size"), [
    ("0", 0), ("2048", 2048), ("512M", 512 * 2**20), ("1G", 2**30), ("2gib", 2 * 2**30),
    (" 64k ", 64 * 2**10), ("1T", 2**40),
])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "-1", "1.5G", "lots", "1X"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size"):
        parse_size(text)


def test_messages_name_the_flag() -> None:
    assert over("timeout", "60-second") == ("over the 60-second limit (raise it with --timeout "
                                            "if the file is genuine)")
    assert Budget().isolated and not Budget(max_memory=0, timeout=0).isolated
    assert Budget(max_bytes=10).max_unpacked == 40
