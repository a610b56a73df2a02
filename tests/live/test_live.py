"""LIVE now and after, checked against figures worked out by hand (tests/live/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from creatorlens.live import PRIVATE_VIEWER, expire_rooms, live_view
from creatorlens.live.room import concurrency, presence
from creatorlens.privacy import PrivacyPolicy
from creatorlens.store import Store
from creatorlens.store.rooms import RoomBook
from tests.live.conftest import HOST, LIVE, T0_MS, UNKNOWN

POLICY = PrivacyPolicy()
NOW = T0_MS + 330_000  # running: the last event came 10 s ago
IDLE_END = T0_MS + 320_000 + POLICY.live_idle_timeout_s * 1000  # no event for the timeout


def view(db: Path, at_ms: int):
    with Store.open(db, read_only=True) as store:
        return live_view(store.con, RoomBook(db), HOST, POLICY, at_ms=at_ms)


def test_the_rule_a_viewer_is_in_from_a_join_to_the_next_leave() -> None:
    rooms = presence(
        [(50, "leave", 1), (10, "join", 1), (20, "join", 1), (30, "leave", 1), (40, "join", 1)]
    )
    # The leave at 50 closes the join at 40; the join at 20 changes nothing.
    assert rooms == {1: [(10, 30), (40, 50)]}
    # One leaving at the instant another joins is not two at once.
    crowd = concurrency({1: [(0, 60_000)], 2: [(60_000, None)]}, 0, 120_000)
    assert (crowd.peak, crowd.per_minute, crowd.now, crowd.average) == (1, [1, 1], 1, 1.0)


def test_a_running_live_by_hand(live_db: Path) -> None:
    (live,) = view(live_db, NOW).running
    assert live.live_id == LIVE
    # In the room at 330 s: bia (60-), fred (300-), duda (rejoined at 310).
    assert live.viewers_now == 3
    # ana, duda, bia at 60 s; 4 from 310 s to 320 s (bia, ana, fred, duda).
    assert live.peak == 4
    assert live.unique_viewers == 6  # ana, bia, duda, eva, fred and the unknown viewer
    assert [m.viewers for m in live.minutes] == [2, 3, 3, 3, 3, 4]
    assert [m.joins for m in live.minutes] == [3, 1, 1, 1, 0, 2]
    assert [m.leaves for m in live.minutes] == [1, 1, 1, 0, 1, 1]
    assert [m.comments for m in live.minutes] == [0, 1, 1, 0, 0, 0]
    assert [(m.gifts, m.gift_value) for m in live.minutes] == [
        (0, 0.0), (1, 5.0), (1, 2.5), (0, 0.0), (1, 1.0), (0, 0.0)
    ]  # fmt: skip
    assert (live.comments, live.gifts, live.gift_value) == (2, 3, 8.5)
    # Only fred is named: bia is private, duda opted out.
    assert live.named_viewers == ["fred"]
    assert live.private_viewers == 2
    assert live.room == ["fred", PRIVATE_VIEWER, PRIVATE_VIEWER]


def test_the_summary_after_the_idle_timeout(live_db: Path) -> None:
    just_before = view(live_db, IDLE_END - 1)
    assert len(just_before.running) == 1 and just_before.last is None
    after = view(live_db, IDLE_END)
    assert after.running == []
    summary = after.last
    assert summary is not None
    assert summary.ended_by == "idle_timeout"
    assert summary.duration_s == 320.0  # ended at its last event
    assert (summary.peak, summary.unique_viewers) == (4, 6)
    # Seconds in the room up to 320 s: ana 240, bia 260, duda 70, eva 130, fred 20, zed 1.
    assert summary.average_viewers == round(721 / 320, 2)
    assert summary.curve == [2, 3, 3, 3, 3, 4]
    assert summary.new_followers == 1  # gil at 100 s; eva followed after it ended
    assert (summary.comments, summary.gifts, summary.gift_value) == (2, 3, 8.5)
    assert "fred" not in str(after.to_json()) and "bia" not in str(after.to_json())


def test_the_named_list_lives_only_while_the_live_runs(live_db: Path) -> None:
    book = RoomBook(live_db)
    assert book.names(LIVE)  # kept while the LIVE runs
    with Store.open(live_db) as store:
        # The events name no viewer: the room file alone does.
        named = store.con.execute(
            "SELECT count(*) FROM events WHERE live_id = $l AND type <> 'live_start' "
            "AND (actor_id IS NOT NULL OR viewer_pid IS NULL)",
            {"l": LIVE},
        ).fetchone()[0]
        assert named == 0
        assert expire_rooms(store, POLICY, at_ms=NOW) == 0  # still running
        assert UNKNOWN in book.names(LIVE).values()
        assert expire_rooms(store, POLICY, at_ms=IDLE_END) == 1
    assert book.names(LIVE) == {}
    assert not any(book.path.iterdir())
    for path in live_db.parent.rglob("*"):
        if path.is_file():
            assert UNKNOWN.encode() not in path.read_bytes(), path
    # The summary is still there: aggregates do not need the names.
    assert view(live_db, IDLE_END).last.unique_viewers == 6


def test_a_retention_keeps_the_names_that_long_after_the_end(live_db: Path) -> None:
    # Counted from the end: the LIVE ended at its last event, 320 s in.
    policy = PrivacyPolicy(live_room_retention_s=1_200)
    end = T0_MS + 320_000
    with Store.open(live_db) as store:
        assert expire_rooms(store, policy, at_ms=end + 1_199_000) == 0
        assert expire_rooms(store, policy, at_ms=end + 1_200_000) == 1
