"""A build after one file changed reads that file, not the whole folder (issue #20: `make`
after an edit): the others are skipped from what the database says of them, as reading them
again would have skipped them."""

from pathlib import Path

import pytest

from pipeline import builds
from pipeline.budgets import Budget
from tests.test_cli import run
from tests.test_versions import revise_basic, split_sample


def summaries(stdout: str) -> dict[str, str]:
    """Each file's summary line, by file name."""
    return {Path(line.split(":")[0]).name: line for line in stdout.splitlines() if ": " in line}


def test_after_one_file_changed_only_it_is_read(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    paths = split_sample(tmp_path / "raw")
    url, normalized = f"sqlite:///{tmp_path / 'duties.db'}", tmp_path / "normalized"
    first = run("build", str(tmp_path / "raw"), "--normalized", str(normalized), "--db", url)
    assert first.returncode == 0, first.stderr
    revise_basic(paths[0])
    read: list[Path] = []

    def spy(path: Path, *args: object) -> object:
        read.append(path)
        return normalize_path(path, *args)

    normalize_path = builds.normalize_path
    monkeypatch.setattr(builds, "normalize_path", spy)
    in_process = Budget(max_memory=0, timeout=0)  # so that the spy sees the reads
    outcomes = dict(builds.prepare_changed(url, paths, budget=in_process, normalized=normalized))
    assert read == [paths[0]]
    assert [type(outcomes[p]).__name__ for p in paths] == ["Prepared", "Unchanged", "Unchanged"]
    # A file whose JSON is gone is read again, so that the JSON is written.
    (normalized / f"{paths[1].stem}.json").unlink()
    read.clear()
    dict(builds.prepare_changed(url, paths, budget=in_process, normalized=normalized))
    assert read == [paths[1]] and (normalized / f"{paths[1].stem}.json").exists()
    monkeypatch.undo()

    again = run("build", str(tmp_path / "raw"), "--normalized", str(normalized), "--db", url)
    assert again.returncode == 0, again.stderr
    before, after = summaries(first.stdout), summaries(again.stdout)
    assert "basic version 2, 3 changes" in after[paths[0].name]
    for path in paths[1:]:  # the counts of its findings, as recorded when it was loaded
        assert after[path.name] == before[path.name].replace("loaded", "unchanged, skipped", 1) \
            .split("; cooperative")[0].split("; withdrawn")[0]


def test_a_file_whose_place_changed_since_the_check_is_not_skipped_unread(tmp_path: Path) -> None:
    paths = split_sample(tmp_path / "raw")
    url = f"sqlite:///{tmp_path / 'duties.db'}"
    assert run("build", str(tmp_path / "raw"), "--db", url).returncode == 0
    same = builds.unchanged_files(url, paths, None, Budget())
    assert set(same) == set(paths)
    revise_basic(paths[0])  # another build loads a new basic list in between
    assert run("build", str(paths[0]), "--db", url).returncode == 0
    [report, *_] = builds.load_outcomes(url, [(paths[0], same[paths[0]])], ["test"])
    assert report.status == "failed"
    assert "another build changed its place" in report.findings[-1].message
