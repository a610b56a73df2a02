"""Notifications from a hand-made store: grouping, names by the likers rule, read marks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from creatorlens.load import ingest_into
from creatorlens.notify import mark_read, notification_page, refresh_notifications, unread_count
from creatorlens.store import Store
from tests.conftest import write_ndjson, write_platform
from tests.live.conftest import account

HOST, OTHER = "host", "other-creator"
ACCOUNTS = [
    account(HOST, kind="creator"),
    account(OTHER, kind="creator"),
    account("ana"),
    account("bia", is_private=True),  # private, approved the host as follower
    account("caio", is_private=True),  # private, never approved: counted, never named
    account("dan"),  # public, turns private later
]
VIDEOS = [
    {"video_id": "hv1", "creator_id": HOST, "posted_at": "2026-09-01T00:00:00Z",
     "duration_ms": 10000},
    {"video_id": "ov1", "creator_id": OTHER, "posted_at": "2026-09-01T00:00:00Z",
     "duration_ms": 10000},
]  # fmt: skip


def e(event_id: str, type_: str, minute: int, actor: str, **fields) -> dict:
    return {"event_id": event_id, "type": type_, "ts": f"2026-10-01T10:{minute:02d}:00Z",
            "actor_id": actor, **fields}  # fmt: skip


EVENTS = [
    e("f-bia", "follow", 0, HOST, target_id="bia"),
    e("a-bia", "follow_approve", 0, "bia", target_id=HOST),
    e("f-caio", "follow", 0, HOST, target_id="caio"),
    e("l1", "like", 1, "ana", video_id="hv1"),
    e("l2", "like", 2, "bia", video_id="hv1"),
    e("l3", "like", 3, "caio", video_id="hv1"),
    e("l4", "like", 4, "dan", video_id="hv1"),
    e("l5", "like", 5, "ana", video_id="hv1"),  # ana again: one person
    e("c1", "comment", 10, "ana", video_id="hv1", comment_id="k1", text="love it"),
    e("c2", "comment", 11, "caio", video_id="hv1", comment_id="k2", text="who am i"),
    e("fo1", "follow", 20, "caio", target_id=HOST),
    e("fo2", "follow", 21, "ana", target_id=HOST),
    e("lo", "like", 30, "ana", video_id="ov1"),  # the other creator's
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    db = tmp_path / "n.duckdb"
    ingest_into(db, write_platform(tmp_path, ACCOUNTS, VIDEOS, EVENTS))
    with Store.open(db) as store:
        refresh_notifications(store)
    return db


def page(db: Path, creator: str = HOST, **kw):
    with Store.open(db, read_only=True) as store:
        return notification_page(store.con, creator, **kw)


def by_kind(p) -> dict:
    out: dict = {}
    for n in p.notifications:
        out.setdefault(n.kind, []).append(n)
    return out


def test_grouped_newest_first_with_names_by_the_likers_rule(db: Path) -> None:
    p = page(db)
    assert [n.kind for n in p.notifications] == ["follow", "comment", "comment", "like"]
    kinds = by_kind(p)
    (likes,) = kinds["like"]
    # Four people (ana twice is one); caio is private and never approved: counted only.
    assert (likes.count, likes.names, likes.others) == (4, ["ana", "dan"], 2)  # ana last at :05
    assert likes.message == "ana, dan and 2 others liked your video"
    newest, older = kinds["comment"]
    assert (newest.names, newest.text) == ([], "who am i")  # caio's, unnamed
    assert newest.message == "someone commented: who am i"
    assert (older.names, older.text, older.message) == (
        ["ana"],
        "love it",
        "ana commented: love it",
    )
    (follows,) = kinds["follow"]
    assert (follows.names, follows.others) == (["ana"], 1)
    assert all("caio" not in n.names for n in p.notifications)


@pytest.mark.parametrize("first_read", [1, 2])
def test_names_are_found_past_the_first_people_read(db: Path, monkeypatch, first_read) -> None:
    # Read one or two people of a group at first: ana, then dan (or caio, never named)
    # come later, and the page must read further for its two names.
    monkeypatch.setattr("creatorlens.notify.ACTORS_READ", first_read)
    (likes,) = by_kind(page(db))["like"]
    assert (likes.count, likes.names, likes.others) == (4, ["ana", "dan"], 2)


def test_bia_approved_is_named_once_the_newest_names_leave(db: Path, tmp_path: Path) -> None:
    # dan turns private: no longer named, at once; bia (approved) takes the place.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    later = dict(account("dan", is_private=True), updated_at=now)
    ingest_into(db, [write_ndjson(tmp_path / "dan.ndjson", [later])], entity="accounts")
    (likes,) = by_kind(page(db))["like"]
    assert (likes.names, likes.others) == (["ana", "bia"], 2)
    assert "dan" not in str(page(db).to_json()["notifications"])
    assert "caio" not in str([n.names for n in page(db).notifications])


def test_one_creator_never_sees_anothers(db: Path) -> None:
    mine = page(db)
    theirs = page(db, OTHER)
    assert all(n.video_id != "ov1" for n in mine.notifications)
    assert [(n.kind, n.video_id, n.names) for n in theirs.notifications] == [
        ("like", "ov1", ["ana"])
    ]


def test_a_replayed_batch_notifies_nobody_twice(db: Path, tmp_path: Path) -> None:
    before = page(db).to_json()
    again = tmp_path / "again"
    again.mkdir()
    ingest_into(db, [write_ndjson(again / "events.ndjson", EVENTS)], entity="events")
    with Store.open(db) as store:
        assert refresh_notifications(store) == 0
    assert page(db).to_json() == before


def test_pages_by_cursor_and_read_marks_persist(db: Path) -> None:
    first = page(db, limit=3)
    assert len(first.notifications) == 3 and first.next_cursor == first.notifications[-1].id
    rest = page(db, cursor=first.next_cursor, limit=3)
    assert [n.kind for n in rest.notifications] == ["like"] and rest.next_cursor is None
    assert first.unread == 4
    with Store.open(db) as store:
        # Read up to the second newest: only the newest is left.
        assert mark_read(store.con, HOST, first.notifications[1].id) == 1
        assert mark_read(store.con, HOST, rest.notifications[0].id) == 1  # never back
        assert unread_count(store.con, OTHER) == 1
    again = page(db)
    assert [n.unread for n in again.notifications] == [True, False, False, False]
    assert again.unread == 1
