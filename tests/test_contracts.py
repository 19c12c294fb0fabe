from pathlib import Path

from pipeline.contracts import write_contracts

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schemas_are_current() -> None:
    stale = write_contracts(ROOT / "schemas", check=True)
    assert stale == [], f"schemas/ is stale ({', '.join(stale)}): run make schemas"


def test_check_reports_a_changed_file(tmp_path: Path) -> None:
    assert len(write_contracts(tmp_path)) == 3
    assert write_contracts(tmp_path, check=True) == []
    (tmp_path / "sqlite.sql").write_text("-- edited by hand\n", encoding="utf-8")
    assert write_contracts(tmp_path, check=True) == ["sqlite.sql"]
