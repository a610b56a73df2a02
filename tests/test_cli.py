"""Bad invocations answer with one readable line and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


def one_line_error(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_missing_file(tmp_path: Path) -> None:
    line = one_line_error(
        run_cli("ingest", str(tmp_path / "nope.ndjson"), "--db", str(tmp_path / "s.duckdb"))
    )
    assert "nope.ndjson" in line and "no such file" in line


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "events.xlsx"
    path.write_text("x")
    line = one_line_error(run_cli("ingest", str(path), "--db", str(tmp_path / "s.duckdb")))
    assert "unknown format" in line


def test_directory_without_data_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "notes.txt").write_text("x")
    line = one_line_error(
        run_cli("ingest", str(tmp_path / "in"), "--db", str(tmp_path / "s.duckdb"))
    )
    assert "no .ndjson" in line


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    path.write_text("this is not parquet")
    line = one_line_error(run_cli("ingest", str(path), "--db", str(tmp_path / "s.duckdb")))
    assert "unreadable parquet" in line


@pytest.mark.parametrize(
    "args",
    [
        ("ingest", "x.ndjson", "--dbb", "s.duckdb"),
        ("ingest", "x.ndjson"),
        ("generate", "--out", "d", "--creators", "many"),
        ("no-such-command",),
        ("keys", "destroy", "k-none", "--db", "s.duckdb"),
        ("quarantine", "--db", "missing.duckdb"),
    ],
)
def test_bad_invocations(tmp_path: Path, args: tuple[str, ...]) -> None:
    one_line_error(run_cli(*args))


def test_report_before_rollups_says_how_to_refresh(tmp_path: Path) -> None:
    from tests.conftest import synthetic_platform

    files = synthetic_platform(tmp_path / "p", 300, n_viewers=200)
    db = str(tmp_path / "s.duckdb")
    run_cli("ingest", *map(str, files.values()), "--db", db, "--no-rollups", check=True)
    line = one_line_error(run_cli("report", "--db", db, "--creator", "u1"))
    assert "creatorlens refresh" in line
    run_cli("refresh", "--db", db, check=True)
    proc = run_cli("report", "--db", db, "--creator", "u1", "--json", check=True)
    assert '"overview"' in proc.stdout
