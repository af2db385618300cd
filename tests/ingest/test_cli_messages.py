"""What the `stadtstimme` command says, as a user's shell or a cron job sees it: dates checked
where they enter, counts in the right number, whole lines in pipes and log files, a transcript
that is not there. Real processes on a real catalog; no model (nothing here transcribes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingest.archives import (
    FAILURE,
    LONG_TITLE,
    Seeded,
    environment,
    files_under,
    one_error_line,
    run,
    seed,
)

pytestmark = pytest.mark.slow  # real processes


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[Path, Seeded]:
    data = tmp_path / "data"
    return data, seed(data)


@pytest.mark.parametrize(
    ("option", "value", "why"),
    [
        ("--from", "2021-13-99", "not a calendar date"),
        ("--from", "2026-13", "not a calendar date"),
        ("--to", "2021-02-30", "not a calendar date"),
        ("--to", "gestern", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_search_refuses_a_date_that_is_none(
    seeded: tuple[Path, Seeded], option: str, value: str, why: str
) -> None:
    data, _ = seeded
    result = run(environment(data), "search", "Maskenpflicht", option, value)
    assert result.returncode == 1
    assert one_error_line(result).startswith(f"error: {option} {value!r}: {why}")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2021-13-01", "not a calendar date"),
        ("2021-02-29", "not a calendar date"),
        ("gestern", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("21-01-2021", "expected YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_ingest_refuses_a_published_date_that_is_none_and_stores_nothing(
    tmp_path: Path, value: str, why: str
) -> None:
    data = tmp_path / "data"
    video = tmp_path / "rede.mp4"
    video.write_bytes(b"not looked at")
    result = run(environment(data), "ingest", str(video), "--published", value)
    assert result.returncode == 1
    assert one_error_line(result).startswith(f"error: --published {value!r}: {why}")
    assert files_under(data) == set()


def test_search_takes_dates_of_every_precision(seeded: tuple[Path, Seeded]) -> None:
    data, ids = seeded
    for low, high in [("2026", "2026"), ("2026-02", "2026-02"), ("2026-02-01", "2026-02-28")]:
        found = run(environment(data), "search", "Maskenpflicht", "--from", low, "--to", high)
        assert (found.returncode, found.stderr) == (0, "")
        assert f"/statements/{ids.indexed}?t=" in found.stdout
    outside = run(environment(data), "search", "Maskenpflicht", "--from", "2026-03")
    assert outside.returncode == 0 and "no statement says" in outside.stdout


def test_output_to_a_pipe_keeps_lines_whole(seeded: tuple[Path, Seeded]) -> None:
    """No COLUMNS, stdout a pipe (as under cron): nothing wrapped at 80 columns, no padding."""
    data, ids = seeded
    listed = run(environment(data), "list")
    found = run(environment(data), "search", "Maskenpflicht")
    for result in (listed, found):
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert [line for line in lines if line != line.rstrip()] == []
        assert any(LONG_TITLE in line for line in lines), result.stdout
    assert any(
        line.startswith(ids.indexed) and LONG_TITLE in line for line in listed.stdout.splitlines()
    )


def test_counts_are_singular_for_one(seeded: tuple[Path, Seeded]) -> None:
    data, _ = seeded
    found = run(environment(data), "search", "Maskenpflicht")
    assert found.stdout.splitlines()[0] == "1 statement (Köln 1)"
    rebuilt = run(environment(data), "reindex", "--quiet")
    assert (rebuilt.returncode, rebuilt.stdout) == (0, "reindexed 1 statement, 1 passage\n")


def test_export_of_a_statement_without_transcript_says_why(seeded: tuple[Path, Seeded]) -> None:
    data, ids = seeded
    for kind in ("vtt", "txt", "json"):
        result = run(environment(data), "export", ids.failed, "--format", kind)
        assert result.returncode == 1
        assert one_error_line(result) == (
            f"error: statement {ids.failed} is not transcribed: it is failed ({FAILURE})"
        )
        assert result.stdout == ""
