"""A hand-made LIVE: joins and leaves out of order, a rejoin, gifts, private viewers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from creatorlens.load import ingest_into
from tests.conftest import write_platform

HOST = "host-creator"
LIVE = "L1"
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=UTC)
T0_MS = int(T0.timestamp() * 1000)
UNKNOWN = "zed-no-account"  # joins without an account in the store: never named


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def account(account_id: str, **changes) -> dict:
    return {
        "account_id": account_id,
        "kind": "personal",
        "is_private": False,
        "birth_year": 1990,
        "gender": "female",
        "country": "BR",
        "language": "pt",
        "timezone": "UTC",
        "analytics_opt_out": False,
        "created_at": "2024-01-01T00:00:00Z",
        **changes,
    }


ACCOUNTS = [
    account(HOST, kind="creator"),
    account("ana"),
    account("bia", is_private=True),
    account("duda", analytics_opt_out=True),
    account("eva"),
    account("fred"),
    account("gil"),
]
VIDEOS = [
    {"video_id": "hv1", "creator_id": HOST, "posted_at": "2026-09-01T00:00:00Z",
     "duration_ms": 10000},
]  # fmt: skip

_n = 0


def ev(type_: str, seconds: float, actor: str, **fields) -> dict:
    global _n
    _n += 1
    return {"event_id": f"le{_n}", "type": type_, "ts": at(seconds), "actor_id": actor,
            "live_id": LIVE, **fields}  # fmt: skip


# File order is not time order: leaves before their joins, a rejoin before the leave.
EVENTS = [
    ev("live_start", 0, HOST),
    ev("live_join", 30, "ana"),
    ev("live_join", 200, "ana"),  # rejoin, sent before the leave that precedes it
    ev("live_leave", 150, "ana"),
    ev("live_leave", 320, "ana"),
    ev("live_join", 60, "bia"),  # private: stays
    ev("live_leave", 100, "duda"),  # opted out: leave sent before the join
    ev("live_join", 40, "duda"),
    ev("live_join", 310, "duda"),  # rejoins and stays
    ev("live_join", 130, "eva"),
    ev("live_leave", 260, "eva"),
    ev("live_join", 300, "fred"),  # public: stays
    ev("live_gift", 70, "ana", gift_value="5.0"),
    ev("live_gift", 140, "eva", gift_value="2.5"),
    ev("live_gift", 250, "bia", gift_value="1"),
    ev("live_comment", 80, "ana", text="hi!"),
    ev("live_comment", 135, "eva", text="hello"),
    ev("live_join", 5, UNKNOWN),
    ev("live_leave", 6, UNKNOWN),
    {"event_id": "f-in", "type": "follow", "ts": at(100), "actor_id": "gil", "target_id": HOST},
    {"event_id": "f-out", "type": "follow", "ts": at(2000), "actor_id": "eva",
     "target_id": HOST},
]  # fmt: skip


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "store").mkdir()
    db = tmp_path / "store" / "live.duckdb"  # its folder holds the store's files only
    summary = ingest_into(db, write_platform(tmp_path / "in", ACCOUNTS, VIDEOS, EVENTS))
    assert summary.quarantined == 0, summary.reasons
    return db
