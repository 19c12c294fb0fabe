"""Ids survive every analyst's tool: below 10^15, exact through CSV, xlsx, Parquet and pandas
(issue #18), and two places never share a block of row ids."""

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from pipeline import db, open_db, rows, schema
from pipeline.builds import load_outcomes
from pipeline.exports import export
from pipeline.records import NormalizedDocument, Town

# Every column that holds an id, as the schema names them.
ID_COLUMNS = {(t.name, c.name) for t in schema.metadata.sorted_tables for c in t.columns
              if (c.name == "id" or c.name.endswith("_id")) and c.name != "run_id"
              and t.name not in ("runs", "quality_issues", "duty_changes")}


def other_town(sample: NormalizedDocument, name: str) -> NormalizedDocument:
    return sample.model_copy(update={"town": Town(name=name, kind="镇", county="玛纳斯县",
                                                  prefecture="昌吉州"),
                                     "path": f"raw/{name}.txt", "sha256": name * 8})


@pytest.fixture
def built(tmp_path: Path, sample: NormalizedDocument) -> str:
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    documents = [sample, other_town(sample, "乐土驿镇")]
    reports = list(load_outcomes(url, [(Path(d.path), d) for d in documents], ["test"]))
    assert [r.status for r in reports][:2] == ["loaded", "loaded"]
    return url


def id_values(url: str) -> dict[tuple[str, str], list[int | None]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {(table, column): list(conn.execute(
            text(f'SELECT "{column}" FROM "{table}" ORDER BY 1')).scalars())
            for table, column in ID_COLUMNS}
    engine.dispose()
    return found


def test_every_id_is_below_ten_to_the_fifteen(built: str) -> None:
    values = id_values(built)
    assert all(v is None or 0 <= v < 10**15 for column in values.values() for v in column)
    assert max(v for v in values[("duties", "id")]) > 2**32  # real ids, not small counters


def test_ids_round_trip_through_every_export_and_pandas(built: str, tmp_path: Path) -> None:
    import pandas
    from openpyxl import load_workbook

    values = id_values(built)
    engine = db.open_engine(built)
    for form in ("csv", "xlsx", "parquet"):
        export(engine, tmp_path / form, form)
    engine.dispose()
    tables = {table for table, _ in ID_COLUMNS}
    for table in tables:
        columns = [c for t, c in ID_COLUMNS if t == table]
        # As an analyst opens them: pandas with its defaults, openpyxl as Excel reads cells.
        csv = pandas.read_csv(tmp_path / "csv" / f"{table}.csv")
        parquet = pandas.read_parquet(tmp_path / "parquet" / f"{table}.parquet")
        workbook = load_workbook(tmp_path / "xlsx" / f"{table}.xlsx", read_only=True)
        sheet = workbook.active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        workbook.close()
        with open_db(built) as database:
            frame = database.frame(table)
        for column in columns:
            expected = values[(table, column)]
            for name, got in (("csv", csv[column]), ("parquet", parquet[column]),
                              ("frame", frame[column])):
                as_ints = sorted((None if pandas.isna(v) else int(v) for v in got),
                                 key=lambda v: (v is not None, v or 0))
                assert as_ints == expected, (name, table, column)
            at = rows[0].index(column)
            cells = sorted((r[at] for r in rows[1:]), key=lambda v: (v is not None, v or 0))
            assert cells == expected, ("xlsx", table, column)
            assert all(isinstance(c, int) or c is None for c in cells)
        if any(v is None for c in columns for v in values[(table, c)]):
            assert all(str(frame[c].dtype) == "Int64" for c in columns)  # never float64


def test_two_places_whose_blocks_meet_get_blocks_of_their_own(
        tmp_path: Path, sample: NormalizedDocument, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "place_block", lambda town, tid: 7)  # every guess the same block
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    documents = [sample, other_town(sample, "乐土驿镇"), other_town(sample, "包家店镇")]
    reports = list(load_outcomes(url, [(Path(d.path), d) for d in documents], ["test"]))
    assert [r.status for r in reports][:3] == ["loaded"] * 3
    engine = create_engine(url)
    with engine.connect() as conn:
        blocks = dict(conn.execute(select(schema.towns.c.name, schema.towns.c.row_block)).all())
        assert blocks == {"凉州户镇": 7, "乐土驿镇": 8, "包家店镇": 9}
        for name, block in blocks.items():
            ids = conn.execute(text("SELECT d.id, s.id FROM duties d JOIN towns t ON t.id = "
                                    "d.town_id JOIN steps s ON s.duty_id = d.id WHERE t.name = "
                                    ":n"), {"n": name}).all()
            assert len(ids) == 788
            assert {i >> rows.BLOCK_BITS for pair in ids for i in pair} == {block}
        assert conn.execute(text("SELECT count(*) FROM duty_search")).scalar() == 750
        found = conn.execute(text("SELECT count(*) FROM duty_search WHERE duty_search MATCH "
                                  "'秸秆禁烧' AND rowid IN (SELECT id FROM duties)")).scalar()
        assert found == 3
    assert "row_block" in {c["name"] for c in inspect(engine).get_columns("towns")}
    engine.dispose()


@pytest.mark.parametrize("table, columns", [("duties", rows.DUTY_COLUMNS),
                                            ("steps", rows.STEP_COLUMNS),
                                            ("duty_departments", rows.LINK_COLUMNS)])
def test_prepared_columns_follow_the_table(table: str, columns: tuple[str, ...]) -> None:
    """prepare builds row tuples directly: its columns must be the table's, in its order, and
    only duties.raw is JSON (written as text by prepare)."""
    ordered = tuple(c.name for c in schema.metadata.tables[table].columns if c.name in columns)
    assert ordered == columns
    json_columns = {c.name for c in schema.metadata.tables[table].columns
                    if isinstance(c.type, db.JSON)}
    assert json_columns == ({"raw"} if table == "duties" else set())


def test_prepared_rows_match_the_records(sample: NormalizedDocument) -> None:
    prepared = rows.prepare(sample)
    listed = prepared.lists["cooperative"]  # a list with steps
    duty = next(d for d in sample.duties if d.list == "cooperative")
    first = dict(zip(listed.duties.columns, listed.duties.values[0], strict=True))
    assert (first["seq"], first["title"], first["raw"]) == (duty.seq, duty.title,
                                                             db.json_text(duty.raw))
    step = dict(zip(listed.steps.columns, listed.steps.values[0], strict=True))
    assert (step["duty_id"], step["text"], step["position"]) == (first["id"], duty.steps[0].text, 1)
    assert len(listed.steps.values) == sum(len(d.steps) for d in sample.duties if d.list == "cooperative")
