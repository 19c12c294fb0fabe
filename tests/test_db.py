from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline import db, rows, schema
from pipeline.builds import LoadOptions, load_outcomes
from pipeline.errors import DatabaseError, UsageError
from pipeline.records import NormalizedDocument, Step
from tests.dbutil import dump


def build(url: str, doc: NormalizedDocument, force: bool = False,
          accept_shrink: bool = False) -> str:
    report, *_ = load_outcomes(url, [(Path(doc.path), doc)], ["test"],  # then the catalogue's
                               LoadOptions(force, accept_shrink))
    return report.status


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'duties.db'}"


def count(url: str, table: str) -> int:
    engine = db.open_engine(url)
    with engine.connect() as conn:
        number = conn.execute(select(func.count()).select_from(schema.metadata.tables[table]))
        result = int(number.scalar_one())
    engine.dispose()
    return result


def test_load_twice_gives_identical_data(url: str, sample: NormalizedDocument) -> None:
    assert build(url, sample) == "loaded"
    first = dump(url)
    assert build(url, sample, force=True) == "loaded"
    assert dump(url) == first
    assert len(first["duties"]) == 250
    assert len(first["departments"]) == len(sample.departments)  # no duplicates on rebuild
    assert len(first["steps"]) == sum(len(d.steps) for d in sample.duties)


def test_unchanged_document_is_skipped(url: str, sample: NormalizedDocument) -> None:
    build(url, sample)
    assert build(url, sample) == "skipped"
    changed = sample.model_copy(update={"sha256": "0" * 64})
    assert build(url, changed) == "loaded"
    assert count(url, "runs") == 3
    assert count(url, "documents") == 1


def test_reload_replaces_the_place(url: str, sample: NormalizedDocument) -> None:
    build(url, sample)
    smaller = sample.model_copy(update={"duties": sample.duties[:10], "sha256": "1" * 64})
    assert build(url, smaller) == "failed"  # 96 of 106 basic duties gone: refused (issue #13)
    assert count(url, "duties") == 250
    assert build(url, smaller, accept_shrink=True) == "loaded"
    assert count(url, "duties") == 10


def test_failed_load_leaves_previous_state(url: str, sample: NormalizedDocument) -> None:
    build(url, sample)
    before = dump(url)
    step = Step(party="town", position=1, text="同一位置", raw="同一位置")
    broken_duty = sample.duties[200].model_copy(update={"steps": [step, step]})
    broken = sample.model_copy(update={
        "sha256": "2" * 64, "duties": [*sample.duties[:200], broken_duty]})
    # Past the shrink check (the withdrawn list is gone), the database itself refuses it.
    [report] = load_outcomes(url, [(Path(broken.path), broken)], ["test"],
                             LoadOptions(accept_shrink=True))
    assert report.status == "failed"
    assert "nothing of it was written" in report.findings[-1].message
    assert dump(url) == before


def test_findings_are_recorded_with_their_run(url: str, sample: NormalizedDocument) -> None:
    from pipeline.records import Finding

    finding = Finding(path=sample.path, line=9, code="x", severity="warning", message="m")
    build(url, sample.model_copy(update={"findings": [finding]}))
    engine = db.open_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(schema.quality_issues.c.run_id, schema.quality_issues.c.line)).all()
    engine.dispose()
    assert rows == [(1, 9)]


def test_connection_error_masks_password() -> None:
    with pytest.raises(DatabaseError) as caught:
        db.open_engine("postgresql://someone:hunter2@127.0.0.1:1/nowhere")
    message = str(caught.value)
    assert "hunter2" not in message
    assert "someone:***@127.0.0.1:1/nowhere" in message


def test_not_a_url() -> None:
    with pytest.raises(UsageError, match="not a database URL"):
        db.open_engine("duties.db")


def test_a_database_numbered_by_an_earlier_release_is_refused(url: str,
                                                              sample: NormalizedDocument) -> None:
    from sqlalchemy import text

    build(url, sample)
    engine = db.open_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE schema_state"))  # the first release recorded nothing
    with pytest.raises(DatabaseError, match=r"built by an earlier release that numbered places "
                                            r"and rows differently; delete .*duties\.db and build"):
        schema.ensure_schema(engine)
    engine.dispose()
    assert count(url, "duties") == 250  # untouched


def test_stable_ids_depend_only_on_parts() -> None:
    assert db.stable_id("玛纳斯县农业农村局") == db.stable_id("玛纳斯县农业农村局")
    assert db.stable_id("a", "b") != db.stable_id("ab")
    assert 0 <= db.stable_id("x") < 10**15


def test_older_database_gains_new_columns(url: str, sample: NormalizedDocument) -> None:
    from sqlalchemy import inspect, text

    build(url, sample)
    engine = db.open_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE duties DROP COLUMN source_sheet"))
        # a release with other DDL but the same numbering of rows
        conn.execute(text("DELETE FROM schema_state WHERE name = 'schema'"))
    schema.ensure_schema(engine)
    assert "source_sheet" in {c["name"] for c in inspect(engine).get_columns("duties")}
    engine.dispose()
    assert build(url, sample, force=True) == "loaded"


def test_earlier_runs_findings_are_kept(url: str, sample: NormalizedDocument) -> None:
    from pipeline.records import Finding

    problem = Finding(path=sample.path, line=9, code="x", severity="warning", message="old")
    build(url, sample.model_copy(update={"findings": [problem]}))
    build(url, sample.model_copy(update={"sha256": "3" * 64, "findings": []}))  # fixed
    engine = db.open_engine(url)
    with engine.connect() as conn:
        history = conn.execute(select(schema.quality_issues.c.run_id, schema.quality_issues.c.message)
                               .order_by(schema.quality_issues.c.id)).all()
        statuses = conn.execute(select(schema.run_documents.c.run_id, schema.run_documents.c.status)
                                .order_by(schema.run_documents.c.run_id)).all()
    engine.dispose()
    assert history == [(1, "old")]  # when it appeared: run 1; gone in run 2
    assert statuses == [(1, "loaded"), (2, "loaded")]


def test_departments_only_one_place_used_go_with_it(url: str, sample: NormalizedDocument) -> None:
    from pipeline.records import Department, DutyDepartment

    extra = Department(name="玛纳斯县临时局", short_name="县临时局", jurisdiction="玛纳斯县",
                       aliases=["县临时局"])
    link = DutyDepartment(department=extra.name, role="counterpart", written="县临时局")
    first = sample.duties[0].model_copy(update={"departments": [link]})
    build(url, sample.model_copy(update={"departments": [*sample.departments, extra],
                                         "duties": [first, *sample.duties[1:]]}))
    assert count(url, "departments") == len(sample.departments) + 1
    build(url, sample.model_copy(update={"sha256": "4" * 64}))
    assert count(url, "departments") == len(sample.departments)
    assert count(url, "department_aliases") == sum(len(d.aliases) for d in sample.departments)


def test_a_place_numbers_its_duties_and_steps_consecutively(url: str,
                                                            sample: NormalizedDocument) -> None:
    build(url, sample)
    engine = db.open_engine(url)
    with engine.connect() as conn:
        for kind, size in (("basic", 106), ("cooperative", 107), ("withdrawn", 37)):
            listed = select(schema.duties.c.id).where(schema.duties.c.list == kind)
            duty_ids = conn.execute(listed.order_by(schema.duties.c.source_line)).scalars().all()
            step_ids = conn.execute(select(schema.steps.c.id).where(
                schema.steps.c.duty_id.in_(listed))).scalars().all()
            first = duty_ids[0]
            assert first % 2**rows.LIST_BITS == 1  # each list's block starts at a round number
            assert duty_ids == list(range(first, first + size))
            assert sorted(step_ids) == list(range(first, first + len(step_ids)))
    engine.dispose()


def test_a_place_too_large_for_its_block_fails_alone(url: str, sample: NormalizedDocument,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "LIST_BITS", 8)  # 255 rows a list; the sample has 402 cooperative steps
    assert build(url, sample) == "failed"
    assert count(url, "duties") == 0


def test_rows_out_of_the_tables_order_are_refused(url: str) -> None:
    """The compiled INSERT lists the table's columns in its order: rows in another would be
    written into the wrong columns."""
    engine = db.open_engine(url)
    schema.ensure_schema(engine)
    with engine.begin() as conn:
        towns = db.Rows(("id", "kind", "name"), [(1, "镇", "凉州户镇")])
        with pytest.raises(ValueError, match="in its order"):
            db.insert_all(conn, schema.towns, towns)
    engine.dispose()
