"""The terminal report, as a user runs it: what it shows, at 80 columns, and its notes."""

from __future__ import annotations

from tests.conftest import run_cli
from tests.query.conftest import report_json


def _rendered(db, creator: str, *args: str) -> str:
    proc = run_cli("report", "--db", str(db), "--creator", creator, *args, columns=80)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_report_fits_80_columns_and_shows_what_the_json_has(generated_db) -> None:
    data = report_json(generated_db, "c1", "--compare").data
    text = _rendered(generated_db, "c1", "--compare")
    assert max(len(line) for line in text.splitlines()) <= 80
    for section in (
        "Overview",
        "Top videos",
        "Traffic sources (all videos)",
        "Viewers by country",
        "Viewers by age",
        "Viewers by gender",
        "Followers by gender",
        "Follower activity",
        "Videos your followers watched",
    ):
        assert section in text, section
    for row in data["overview"]["traffic_sources"]:
        assert row["source"] in text
    # Each withheld item once.
    withheld = [(w["what"], w["reason"], w["detail"]) for w in data["withheld"]]
    assert len(withheld) == len(set(withheld))


def test_a_period_without_data_says_so(generated_db) -> None:
    empty = report_json(generated_db, "c1", "--from", "2020-01-01", "--to", "2020-01-28").data
    assert empty["notes"] == ["no data in this period"]
    assert "no data in this period" in _rendered(
        generated_db, "c1", "--from", "2020-01-01", "--to", "2020-01-28"
    )
    # The previous period of the first 7 days starts before the first day with data.
    first = report_json(generated_db, "c1", "--from", "2026-10-19", "--to", "2026-10-25",
                        "--compare").data  # fmt: skip
    assert "before the first day with data" in first["notes"][0]
    assert all(v is None for v in first["overview"]["change"].values())
