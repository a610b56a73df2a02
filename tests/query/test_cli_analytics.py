"""The analytics commands a new user reaches for: the creator list, the view threshold."""

from __future__ import annotations

from pathlib import Path

from creatorlens.load import ingest_into
from tests.conftest import run_cli, write_platform
from tests.query.conftest import CREATOR, OTHER_CREATOR, PERIOD, account, act, report_json, view


def test_creators_lists_whom_to_report_on(hand_db: Path) -> None:
    proc = run_cli("creators", "--db", str(hand_db))
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if CREATOR in line or OTHER_CREATOR in line]
    # The creator in São Paulo: 2 videos; followers at the end: ana and bia (gabi left).
    (sp,) = [line for line in lines if CREATOR in line]
    assert [c.strip() for c in sp.split("│")[2:4]] == ["2", "2"]
    # The business account is listed too; the personal one is not.
    assert any(OTHER_CREATOR in line for line in lines)
    assert "personal-only" not in proc.stdout


def test_a_missing_store_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("creators", "--db", str(tmp_path / "nothing.duckdb"))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_policy_with_another_view_threshold_is_refused_until_refreshed(tmp_path: Path) -> None:
    events = [
        view("a", "ana", "v", "2026-10-12T12:00:00Z", 3_500, "for_you"),
        view("b", "bia", "v", "2026-10-12T13:00:00Z", 6_000, "for_you"),
    ]
    accounts = [account(CREATOR, kind="creator"), account("ana"), account("bia")]
    video = {"video_id": "v", "creator_id": CREATOR, "posted_at": "2026-10-01T00:00:00Z",
             "duration_ms": 10_000}  # fmt: skip
    db = tmp_path / "store.duckdb"
    ingest_into(db, write_platform(tmp_path, accounts, [video], events))
    policy = tmp_path / "privacy.toml"
    policy.write_text("[privacy]\nview_threshold_ms = 5000\n")
    span = ("--from", str(PERIOD.start), "--to", str(PERIOD.end))
    refused = run_cli("report", "--db", str(db), "--creator", CREATOR, "--policy", str(policy))
    assert refused.returncode == 2
    assert "5000 ms" in refused.stderr and "3000 ms" in refused.stderr
    assert "refresh" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert report_json(db, CREATOR, *span).data["overview"]["totals"]["views"] == 2  # 3 s rule
    assert run_cli("refresh", "--db", str(db), "--policy", str(policy)).returncode == 0
    honoured = report_json(db, CREATOR, *span, "--policy", str(policy))
    assert honoured.data["overview"]["totals"]["views"] == 1  # only bia's 6 s play
    # A later ingest keeps the threshold the rollups were made with.
    more = [act("p", "profile_view", "ana", "2026-10-13T12:00:00Z", target_id=CREATOR)]
    (tmp_path / "more").mkdir()
    ingest_into(db, write_platform(tmp_path / "more", accounts, [video], more))
    again = report_json(db, CREATOR, *span, "--policy", str(policy))
    assert again.data["overview"]["totals"]["views"] == 1
