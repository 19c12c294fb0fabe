"""Hostile files beside a good one in the same build: each gets its own error, fast and
small, and the good document still loads (issue #17, points 1, 2 and 8).

Bombs are made in tmp_path by tests/hostile/bombs.py; nothing big is committed.
"""

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.budgets import Budget
from pipeline.builds import load_outcomes, run_stage
from pipeline.cli import cli
from tests.conftest import SAMPLE
from tests.hostile import bombs, faults

GOOD = "changji-manas-liangzhouhu.txt"


def build(folder: Path, *options: str) -> tuple[int, str, Path]:
    """`pipeline build FOLDER` into a new SQLite file: (exit status, output, database)."""
    database = folder.parent / "duties.db"
    result = CliRunner().invoke(cli, ["build", str(folder), "--db", f"sqlite:///{database}",
                                      "-j", "1", *options])
    return result.exit_code, result.output, database


def raw_with(tmp_path: Path, name: str, make: Callable[[Path], object]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / GOOD)
    make(raw / name)
    return raw


def assert_good_loaded(database: Path) -> None:
    conn = sqlite3.connect(database)
    assert conn.execute("select count(*) from duties d join documents o on o.id = d.document_id "
                        "where o.path like ?", (f"%{GOOD}",)).fetchone() == (250,)


CASES = {
    "span-bomb.html": (bombs.span_bomb_html, [],
                       "fills 211,900,003 cells, over the 2,000,000-cell limit "
                       "(raise it with --max-cells if the file is genuine)"),
    "merge-bomb.xlsx": (bombs.merge_bomb_xlsx, [],
                        "sheet 基本's merged ranges (the last A1:XFD1048576) fills "
                        "17,179,869,184 cells, over the 2,000,000-cell limit"),
    "far-cell.xlsx": (bombs.far_cell_xlsx, [],
                      "sheet 基本 spans 1,048,576 rows × 16,384 columns"),
    # A dense sheet over the limit, kept small by a lower limit: the same check as 180 MB.
    "dense.xlsx": (lambda p: bombs.dense_xlsx(p, 2_100), ["--max-cells", "20000"],
                   "sheet 基本 has more than 20,000 cells"),
    "many-spans.docx": (lambda p: bombs.grid_span_bomb_docx(p, 100_000_000), ["--max-cells", "1000"],
                        "table 1, once its w:gridSpan are filled, fills 1,005 cells"),
    "entity.docx": (bombs.entity_bomb_docx, [], "amplification"),
    # builds.not_a_document says these before reading; read_bytes says them too (below).
    "zero.txt": (lambda p: bombs.symlink(p, "/dev/zero"), [],
                 "not a regular file (a FIFO, socket or device)"),
    "fifo.txt": (bombs.fifo, [], "not a regular file (a FIFO, socket or device)"),
    "folder.txt": (lambda p: p.mkdir(), [], "a folder, not a document"),
    "loop.txt": (lambda p: bombs.symlink(p, p), [], "Too many levels of symbolic links"),
    "big.txt": (lambda p: p.write_bytes(SAMPLE.read_bytes() * 2), ["--max-bytes", "200000"],
                "over the 200,000-byte limit (raise it with --max-bytes if the file is genuine)"),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_is_refused_and_the_good_one_loads(name: str, tmp_path: Path) -> None:
    make, options, message = CASES[name]
    raw = raw_with(tmp_path, name, make)
    status, output, database = build(raw, *options)
    assert status == 1, output
    [line] = [line for line in output.splitlines() if line.startswith(str(raw / name))
              and ": error:" in line]
    assert message in line
    assert "Traceback" not in output
    assert_good_loaded(database)


def test_one_huge_grid_span_is_capped_and_its_row_quarantined(tmp_path: Path) -> None:
    raw = raw_with(tmp_path, "span.docx", bombs.grid_span_bomb_docx)
    status, output, database = build(raw)
    assert status == 1
    assert "span.docx[table 1]:2: error: expected 3 cells, found 1002" in output
    assert_good_loaded(database)


def test_over_the_memory_limit_is_an_error_naming_the_flag(tmp_path: Path) -> None:
    raw = raw_with(tmp_path, "long.xlsx", bombs.long_merged_xlsx)
    status, output, database = build(raw, "--max-memory", "400M")
    assert status == 1
    assert ("long.xlsx: error: needs more memory than the 400 MiB limit while being read, "
            "over the 400 MiB limit (raise it with --max-memory") in output
    assert_good_loaded(database)


def other_town(path: Path) -> Path:
    path.write_text(SAMPLE.read_text(encoding="utf-8").replace("凉州户镇", "兰州湾镇"),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_killed_worker_fails_its_document_only(jobs: int, tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "b-good.txt")
    for name in ("a-kill.txt", "c-kill.txt"):
        shutil.copy(SAMPLE, tmp_path / name)
    paths = [tmp_path / "a-kill.txt", tmp_path / "b-good.txt", tmp_path / "c-kill.txt",
             other_town(tmp_path / "d-other.txt")]
    outcomes = run_stage(faults.killed_on_kill, paths, jobs, Budget(), debug=False)
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    reports = {Path(r.path).name: r for r in load_outcomes(url, outcomes, ["test"])}
    for name in ("a-kill.txt", "c-kill.txt"):
        assert reports[name].status == "failed"
        [finding] = reports[name].findings
        assert finding.code == "worker-died"
        assert "was killed (SIGKILL, as the out-of-memory killer does)" in finding.message
    assert reports["b-good.txt"].status == reports["d-other.txt"].status == "loaded"


def test_a_hung_worker_is_stopped_and_the_build_goes_on(tmp_path: Path) -> None:
    shutil.copy(SAMPLE, tmp_path / "a-hang.txt")
    shutil.copy(SAMPLE, tmp_path / "b-good.txt")
    paths = [tmp_path / "a-hang.txt", tmp_path / "b-good.txt"]
    outcomes = run_stage(faults.hangs_on_hang, paths, 2, Budget(timeout=5), debug=False)
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    reports = {Path(r.path).name: r for r in load_outcomes(url, outcomes, ["test"])}
    [finding] = reports["a-hang.txt"].findings
    assert finding.code == "timeout"
    assert finding.message == ("reading it took longer than 5 seconds and was stopped, over the "
                               "5-second limit (raise it with --timeout if the file is genuine)")
    assert reports["b-good.txt"].status == "loaded"


SEQ_ROWS = ("昌吉州玛纳斯县兰州湾镇基本履职事项清单\n序号\t事项类别\t事项名称\n"
            "1\t党的建设\t组织工作\n99999999999999999999999\t党的建设\t宣传工作\n"
            "3000000000\t党的建设\t统战工作\n2147483647\t党的建设\t最大序号\n"
            f"{'9' * 5000}\t党的建设\t五千位\n4\t党的建设\t步骤 3000000000. 不是步骤号\n")


def seq_build(tmp_path: Path, url: str) -> tuple[int, str]:
    (tmp_path / "seq.txt").write_text(SEQ_ROWS, encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", str(tmp_path / "seq.txt"), str(SAMPLE),
                                      "--db", url, "-j", "1"])
    return result.exit_code, result.output


def seq_expectations(status: int, output: str, rows: list[tuple[int, str]]) -> None:
    assert status == 1, output
    assert "seq.txt:4: error: 序号 '99999999999999999999999' is larger than the 2,147,483,647" \
        in output
    assert "seq.txt:5: error: 序号 '3000000000' is larger than the 2,147,483,647" in output
    assert "seq.txt:7: error: 序号 '99999" in output
    assert "rows read 6 = 3 duties + 3 quarantined" in output
    assert rows == [(1, "组织工作"), (4, "步骤 3000000000. 不是步骤号"), (2147483647, "最大序号")]


def test_seq_out_of_range_is_quarantined_on_sqlite(tmp_path: Path) -> None:
    status, output = seq_build(tmp_path, f"sqlite:///{tmp_path / 'd.db'}")
    conn = sqlite3.connect(tmp_path / "d.db")
    rows = conn.execute("select d.seq, d.title from duties d join towns t on t.id = d.town_id "
                        "where t.name = '兰州湾镇' order by d.seq").fetchall()
    seq_expectations(status, output, rows)
    assert conn.execute("select count(*) from duties").fetchone() == (253,)


@pytest.mark.postgres
def test_seq_out_of_range_is_quarantined_on_postgres(tmp_path: Path, pg_url: str) -> None:
    from sqlalchemy import create_engine, text

    status, output = seq_build(tmp_path, pg_url)
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        rows = conn.execute(text("select d.seq, d.title from duties d join towns t on "
                                 "t.id = d.town_id where t.name = '兰州湾镇' order by d.seq"))
        seq_expectations(status, output, [tuple(r) for r in rows])  # type: ignore[misc]
    engine.dispose()


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: bombs.symlink(p, "/dev/zero"), "this is a character device, not a regular file"),
    (bombs.fifo, r"this is a named pipe \(FIFO\), not a regular file"),
    (lambda p: p.mkdir(), "this is a folder"),
    (lambda p: bombs.symlink(p, p), "a symbolic link that leads round in a loop"),
], ids=["dev-zero", "fifo", "folder", "loop"])
def test_only_regular_files_are_read(make: Callable[[Path], object], message: str,
                                     tmp_path: Path) -> None:
    """Whatever a check before it saw, the read itself opens without blocking and refuses."""
    from pipeline.errors import SourceError
    from pipeline.sources import read_bytes

    make(tmp_path / "x.txt")
    with pytest.raises(SourceError, match=message):
        read_bytes(tmp_path / "x.txt", 1000)


def test_the_size_limit_holds_while_reading(tmp_path: Path) -> None:
    """A regular file whose size stat says is 0 (as procfs says) is still cut at the limit."""
    from pipeline.errors import SourceError
    from pipeline.sources import read_bytes

    status = Path(f"/proc/{os.getpid()}/status")
    assert status.stat().st_size == 0
    with pytest.raises(SourceError, match="holds more than 100 bytes, over the 100-byte limit"):
        read_bytes(status, 100)


def test_a_file_that_changes_while_read_is_refused(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer appends while the reader reads (injected between the reads)."""
    from pipeline import sources
    from pipeline.errors import SourceError

    path = tmp_path / "x.txt"
    shutil.copy(SAMPLE, path)
    real = sources.read_at_most

    def read_then_append(file, limit):  # type: ignore[no-untyped-def]
        data = real(file, limit)
        with path.open("ab") as writer:
            writer.write(b"1\t\xe5\x85\x9a\n")
        return data

    monkeypatch.setattr(sources, "read_at_most", read_then_append)
    with pytest.raises(SourceError, match="changed while being read; build again"):
        sources.read_source(path)
