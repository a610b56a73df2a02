"""Likers by the actor's settings, over a real store ingested from hand-made NDJSON."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from creatorlens.errors import UserError
from creatorlens.load import ingest_into
from creatorlens.privacy import Likers, is_public_actor, visible_likers
from creatorlens.store import Store
from tests.conftest import write_ndjson, write_platform


def account(account_id: str, *, private: bool = False, kind: str = "personal") -> dict:
    return {
        "account_id": account_id,
        "kind": kind,
        "is_private": private,
        "birth_year": 1995,
        "gender": "female",
        "country": "US",
        "city": "Austin",
        "language": "en",
        "timezone": "America/Chicago",
        "analytics_opt_out": False,
        "created_at": "2024-01-01T00:00:00Z",
    }


def event(event_id: str, type_: str, actor: str, day: int, hour: int = 10, **extra) -> dict:
    return {
        "event_id": event_id,
        "type": type_,
        "ts": f"2026-10-{day:02d}T{hour:02d}:00:00Z",
        "actor_id": actor,
        **extra,
    }


def like(event_id: str, actor: str, day: int, hour: int = 10, video: str = "v1") -> dict:
    return event(event_id, "like", actor, day, hour, video_id=video)


def unlike(event_id: str, actor: str, day: int, hour: int = 10) -> dict:
    return event(event_id, "unlike", actor, day, hour, video_id="v1")


def follow(event_id: str, follower: str, followee: str, day: int, *, undo: bool = False) -> dict:
    return event(event_id, "unfollow" if undo else "follow", follower, day, target_id=followee)


def approve(event_id: str, approver: str, creator: str, day: int) -> dict:
    return event(event_id, "follow_approve", approver, day, target_id=creator)


ACCOUNTS = [
    account("c1", kind="creator"),
    account("c2", kind="creator"),
    account("pub"),  # public: named
    account("relike"),  # public, liked, unliked, liked again: named
    account("unliker"),  # public, liked then unliked: not a liker at all
    account("tie"),  # public, like and unlike in the same instant: not a liker
    account("priv_ok", private=True),  # c1 follows, approved: named
    account("priv_no", private=True),  # c1 follows, never approved: counted
    account("priv_undone", private=True),  # approved, then c1 unfollowed: counted
    account("priv_refollow", private=True),  # approved, unfollowed, re-followed: counted
    account("priv_other", private=True),  # approved c2, not c1: counted
    account("priv_stranger", private=True),  # no follow at all: counted
    # "ghost" likes but has no account row: counted, never named
]

EVENTS = [
    follow("f1", "c1", "priv_ok", 1),
    approve("a1", "priv_ok", "c1", 2),
    follow("f2", "c1", "priv_no", 1),
    follow("f3", "c1", "priv_undone", 1),
    approve("a3", "priv_undone", "c1", 2),
    follow("f3u", "c1", "priv_undone", 3, undo=True),
    follow("f4", "c1", "priv_refollow", 1),
    approve("a4", "priv_refollow", "c1", 2),
    follow("f4u", "c1", "priv_refollow", 3, undo=True),
    follow("f4r", "c1", "priv_refollow", 4),
    follow("f5", "c2", "priv_other", 1),
    approve("a5", "priv_other", "c2", 2),
    like("l1", "pub", 5, 9),
    like("l2", "priv_ok", 5, 11),
    like("l3", "priv_no", 5),
    like("l4", "priv_undone", 5),
    like("l5", "priv_refollow", 5),
    like("l6", "priv_other", 5),
    like("l7", "priv_stranger", 5),
    like("l8", "ghost", 5),
    like("l9", "unliker", 5),
    unlike("u9", "unliker", 6),
    like("l10", "relike", 5),
    unlike("u10", "relike", 6),
    like("l10b", "relike", 7),
    like("l11", "tie", 5),
    unlike("u11", "tie", 5),
    like("l12", "priv_no", 5, video="v2"),  # another video: no bearing on v1
]

UNNAMED = ("priv_no", "priv_undone", "priv_refollow", "priv_other", "priv_stranger", "ghost")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    videos = [
        {
            "video_id": v,
            "creator_id": "c1",
            "posted_at": "2026-10-01T00:00:00Z",
            "duration_ms": 15_000,
        }
        for v in ("v1", "v2")
    ]
    path = tmp_path / "store.duckdb"
    summary = ingest_into(
        path,
        write_platform(tmp_path, ACCOUNTS, videos, EVENTS),
    )
    assert summary.quarantined == 0
    return path


def likers_of(db: Path, video_id: str = "v1") -> Likers:
    with Store.open(db, read_only=True) as store:
        return visible_likers(store.con, video_id)


def test_named_only_public_or_approving_likers_the_rest_counted(db: Path) -> None:
    got = likers_of(db)
    # Newest like first: relike (day 7), priv_ok (day 5, 11:00), pub (day 5, 09:00).
    assert got == Likers(named=["relike", "priv_ok", "pub"], others=len(UNNAMED))
    assert str(got) == "relike, priv_ok, pub and 6 others"


def test_unnamed_likers_never_appear_in_the_result(db: Path) -> None:
    got = likers_of(db)
    for canary in UNNAMED:
        assert canary not in repr(got)
        assert canary not in str(got)
    assert "unliker" not in repr(got) and "tie" not in repr(got)


def test_likers_follow_privacy_changes_before_any_refresh(db: Path, tmp_path: Path) -> None:
    # After the rollups were refreshed, "pub" turns private and "ghost" arrives as a public
    # account; ingested without a refresh, the list applies the settings in force at once.
    later = {"updated_at": datetime.now(UTC).isoformat()}  # newer than what is stored
    changed = [{**account("pub", private=True), **later}, {**account("ghost"), **later}]
    ingest_into(db, [write_ndjson(tmp_path / "changed.ndjson", changed)], refresh=False)
    got = likers_of(db)
    # Newest like first: relike (day 7), priv_ok (day 5, 11:00), ghost (day 5, 10:00).
    assert got == Likers(named=["relike", "priv_ok", "ghost"], others=len(UNNAMED))
    assert "pub" not in got.named


def test_a_video_nobody_liked_and_an_unknown_video(db: Path) -> None:
    assert likers_of(db, "v2") == Likers(named=[], others=1)
    with pytest.raises(UserError, match="unknown video v404"):
        likers_of(db, "v404")


@pytest.mark.parametrize(
    ("actor", "creator", "named"),
    [
        ("pub", "c1", True),
        ("priv_ok", "c1", True),
        ("priv_no", "c1", False),
        ("priv_undone", "c1", False),
        ("priv_refollow", "c1", False),
        ("priv_other", "c1", False),
        ("priv_other", "c2", True),
        ("priv_stranger", "c1", False),
        ("ghost", "c1", False),
    ],
)
def test_public_acts_name_the_actor_by_the_same_rule(
    db: Path, actor: str, creator: str, named: bool
) -> None:
    with Store.open(db, read_only=True) as store:
        assert is_public_actor(store.con, actor, creator) is named
