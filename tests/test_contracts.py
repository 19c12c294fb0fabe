from pathlib import Path

from pipeline.contracts import write_contracts

ROOT = Path(__file__).resolve().parent.parent


def test_committed_schemas_are_current() -> None:
    stale = write_contracts(ROOT / "schemas", check=True)
    assert stale == [], f"schemas/ is stale ({', '.join(stale)}): run make schemas"


def test_check_reports_a_changed_file(tmp_path: Path) -> None:
    assert len(write_contracts(tmp_path)) == 4
    assert write_contracts(tmp_path, check=True) == []
    (tmp_path / "sqlite.sql").write_text("-- edited by hand\n", encoding="utf-8")
    assert write_contracts(tmp_path, check=True) == ["sqlite.sql"]


def test_every_table_view_and_column_is_described() -> None:
    from pipeline.catalog import TABLES, describe
    from pipeline.schema import relation_columns

    columns = relation_columns()
    relations = {name for name in columns if not name.startswith("duty_search")}
    assert relations == set(TABLES)
    undescribed = [(name, c) for name in relations for c in columns[name] if not describe(name, c)]
    assert undescribed == []


def test_the_canned_queries_are_the_readme_questions() -> None:
    import re

    from pipeline.catalog import QUESTIONS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [" ".join(b.split()).rstrip(";")
              for b in re.findall(r"```sql\n(.*?)```", readme, re.S)]
    canned = [" ".join(sql.split()).replace(":department", "'县公安局'")
              for name, (_, sql) in QUESTIONS.items() if name != "duties_mentioning"]
    # The five questions open the guide; the catalogue's follow in its own section.
    assert [c for c in canned if c in blocks] == canned
    assert blocks[:5] == canned[:5]
    assert sorted(canned, key=blocks.index) == canned
