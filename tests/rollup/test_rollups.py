"""Rollups on a tiny hand-made platform: every figure below is worked out by hand."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from creatorlens.ingest.pseudonym import FOLLOWER_SPACE, pseudonym, space_secret
from creatorlens.load import ingest_into
from creatorlens.rollup import (
    ROLLUP_TABLES,
    ROLLUPS,
    create_rollup_tables,
    mark_creators_dirty,
    rebuild_rollups,
    refresh_rollups,
    render,
    render_create,
)
from creatorlens.rollup import refresh as refresh_module
from creatorlens.rollup.definitions import (
    DERIVED_TABLES,
    FOLLOWER_SPANS,
    LIKE_SECONDS,
    VIEWER_DAYS,
    render_viewer_day_counts,
    render_viewer_days,
)
from creatorlens.store import Store, key_ring
from tests.conftest import write_ndjson, write_platform


def ingest(db: Path, files: list[Path]) -> None:
    """Ingest without the automatic refresh, so each test decides when rollups refresh."""
    ingest_into(db, files, refresh=False)


D1 = date(2026, 10, 2)
D2 = date(2026, 10, 3)


def account(account_id: str, **changes) -> dict:
    return {
        "account_id": account_id,
        "kind": "personal",
        "is_private": False,
        "birth_year": 1990,  # 36 in 2026: 35-44
        "gender": "female",
        "country": "US",
        "city": "Austin",
        "language": "en",
        "timezone": "UTC",
        "analytics_opt_out": False,
        "created_at": "2024-01-01T00:00:00Z",
        **changes,
    }


ACCOUNTS = [
    # Chicago is on CDT (UTC-5) in early October; Kolkata is UTC+5:30 all year.
    account("c1", kind="creator", timezone="America/Chicago"),
    account("c2", kind="creator", timezone="Asia/Kolkata"),
    account("u1", birth_year=2000, gender="male", country="BR", city="Recife", language="pt"),
    account("u2", analytics_opt_out=True),
    account("u3"),
]
VIDEOS = [
    {"video_id": "v1", "creator_id": "c1", "posted_at": "2026-10-01T00:00:00Z",
     "duration_ms": 15000},
    # Longer than 100 s: retention buckets are 1 % of the duration, 2000 ms each.
    {"video_id": "v2", "creator_id": "c2", "posted_at": "2026-10-01T00:00:00Z",
     "duration_ms": 200000},
]  # fmt: skip


def view(event_id, actor, video, ts, watched, source="for_you") -> dict:
    return {"event_id": event_id, "type": "view", "ts": ts, "actor_id": actor,
            "video_id": video, "watched_ms": watched, "source": source}  # fmt: skip


def act(event_id, kind, actor, ts, **fields) -> dict:
    return {"event_id": event_id, "type": kind, "ts": ts, "actor_id": actor, **fields}


# Times are UTC; the comment gives the creator-local time.
EVENTS = [
    # c1 / v1, Chicago (UTC-5)
    view("e1", "u1", "v1", "2026-10-02T15:00:00Z", 3000),  # 10:00, exactly the threshold
    view("e1", "u1", "v1", "2026-10-02T15:00:00Z", 9999),  # same id again: ignored
    view("e2", "u2", "v1", "2026-10-02T15:10:00Z", 2999),  # 10:10, a play, not a view
    view("e3", "u1", "v1", "2026-10-02T15:20:00Z", 31000, "following"),  # 10:20, a loop
    view("e4", "u3", "v1", "2026-10-02T16:05:00Z", 15000, "search"),  # 11:05, exactly D
    act("e5", "like", "u1", "2026-10-02T15:30:00Z", video_id="v1"),  # 10:30
    act("e6", "unlike", "u1", "2026-10-02T15:40:00Z", video_id="v1"),  # 10:40
    act("e7", "comment", "u2", "2026-10-02T15:45:00Z", video_id="v1", comment_id="k7",
        text="nice"),  # 10:45
    act("e8", "comment", "u3", "2026-10-02T16:10:00Z", video_id="v1", comment_id="k8",
        text="wow"),  # 11:10
    act("e9", "share", "u1", "2026-10-02T15:50:00Z", video_id="v1", channel="whatsapp"),
    act("e10", "share", "u2", "2026-10-02T15:55:00Z", video_id="v1", channel="copy_link"),
    act("e11", "share", "u3", "2026-10-02T16:20:00Z", video_id="v1", channel="whatsapp"),
    act("e12", "save", "u2", "2026-10-02T15:58:00Z", video_id="v1"),  # 10:58
    act("e13", "profile_view", "u1", "2026-10-02T15:00:00Z", target_id="c1"),
    act("e14", "profile_view", "u2", "2026-10-02T16:00:00Z", target_id="c1"),
    act("f1", "follow", "u2", "2026-10-02T13:00:00Z", target_id="c1"),  # 08:00
    act("f2", "follow", "u1", "2026-10-02T15:15:00Z", target_id="c1"),  # 10:15, between e1, e3
    act("f3", "unfollow", "u2", "2026-10-02T17:00:00Z", target_id="c1"),  # 12:00
    # u3 (pretend private) approves c1 as a follower, twice: the later one is kept.
    act("a1", "follow_approve", "u3", "2026-10-02T14:00:00Z", target_id="c1"),  # 09:00
    act("a2", "follow_approve", "u3", "2026-10-02T18:00:00Z", target_id="c1"),  # 13:00
    # u3 (private) approves c1 as a follower: feeds the likers list, not the counts.
    act("a1", "follow_approve", "u3", "2026-10-02T17:30:00Z", target_id="c1"),  # 12:30
    # 23:59 on Oct 2 in Chicago although already Oct 3 in UTC.
    view("e18", "u2", "v1", "2026-10-03T04:59:00Z", 5000, "profile"),
    # c2's video v2 mentions c1: the row is (c1, v2), at 11:30 Chicago time.
    act("e26", "mention", "c2", "2026-10-02T16:30:00Z", target_id="c1", video_id="v2"),
    # c2 / v2, Kolkata (UTC+5:30)
    view("e20", "u1", "v2", "2026-10-02T18:29:00Z", 2000),  # Oct 2 23:59
    view("e21", "u2", "v2", "2026-10-02T18:31:00Z", 200000),  # Oct 3 00:01: next local day
    view("e22", "u3", "v2", "2026-10-02T18:32:00Z", 199999, "share_link"),  # Oct 3 00:02
    act("e23", "profile_view", "u1", "2026-10-02T18:45:00Z", target_id="c2"),  # Oct 3 00:15
    act("e24", "duet", "c1", "2026-10-03T03:00:00Z", video_id="v2", new_video_id="v8"),  # 08:30
    act("e25", "stitch", "u3", "2026-10-03T03:00:00Z", video_id="v2", new_video_id="v9"),
]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    ingest(
        path,
        write_platform(tmp_path, ACCOUNTS, VIDEOS, EVENTS),
    )
    return path


def refresh(db: Path, **kwargs):
    with Store.open(db) as store:
        return refresh_rollups(store, **kwargs)


def table(db: Path, name: str, columns: str = "*") -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM {name} ORDER BY ALL").fetchall()
    finally:
        con.close()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every rollup's rows, derived ones included."""
    return {name: table(db, name) for name in (*ROLLUP_TABLES, *DERIVED_TABLES)}


def pid(db: Path, creator: str, viewer: str) -> int:
    return pseudonym(key_ring(db).active().secret, creator, viewer)


def follower_pid(db: Path, creator: str, follower: str) -> int:
    """`follower`'s pseudonym as a follower of `creator` (the follower space)."""
    return pseudonym(space_secret(key_ring(db).active().secret, FOLLOWER_SPACE), creator, follower)


def test_video_hourly(db: Path) -> None:
    refresh(db)
    assert table(db, "rollup_video_hourly") == [
        # creator, video, day, hour, plays, views, watch_ms, full_watches, likes, unlikes,
        # comments, shares, saves, duets, stitches, mentions
        # 10h: e1 3000 (view), e2 2999 (play only), e3 31000 (view, loop: a full watch),
        # like + unlike, one comment, two shares, a save.
        ("c1", "v1", D1, 10, 3, 2, 3000 + 2999 + 31000, 1, 1, 1, 1, 2, 1, 0, 0, 0),
        # 11h: e4 watched exactly its 15000 ms (a full watch), one comment, one share.
        ("c1", "v1", D1, 11, 1, 1, 15000, 1, 0, 0, 1, 1, 0, 0, 0, 0),
        # e18: 04:59 UTC on Oct 3 is 23:59 on Oct 2 in Chicago.
        ("c1", "v1", D1, 23, 1, 1, 5000, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        # c1 mentioned in c2's video v2.
        ("c1", "v2", D1, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
        # e20: 23:59 in Kolkata, 2000 ms: a play, not a view.
        ("c2", "v2", D1, 23, 1, 0, 2000, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        # e21 (200000 = D, full) and e22 (199999, not full): 00:0x on Oct 3 in Kolkata.
        ("c2", "v2", D2, 0, 2, 2, 399999, 1, 0, 0, 0, 0, 0, 0, 0, 0),
        # the duet and the stitch of v2 at 08:30 Kolkata.
        ("c2", "v2", D2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0),
    ]


def test_video_source_and_share_channel(db: Path) -> None:
    refresh(db)
    assert table(db, "rollup_video_source_daily") == [
        # creator, video, day, source, plays, views, watch_ms
        ("c1", "v1", D1, "following", 1, 1, 31000),  # e3
        ("c1", "v1", D1, "for_you", 2, 1, 5999),  # e1 (view) + e2 (play)
        ("c1", "v1", D1, "profile", 1, 1, 5000),  # e18
        ("c1", "v1", D1, "search", 1, 1, 15000),  # e4
        ("c2", "v2", D1, "for_you", 1, 0, 2000),  # e20
        ("c2", "v2", D2, "for_you", 1, 1, 200000),  # e21
        ("c2", "v2", D2, "share_link", 1, 1, 199999),  # e22
    ]
    assert table(db, "rollup_share_channel_daily") == [
        ("c1", "v1", D1, "copy_link", 1),  # e10
        ("c1", "v1", D1, "whatsapp", 2),  # e9, e11
    ]


def test_creator_daily(db: Path) -> None:
    refresh(db)
    assert table(db, "rollup_creator_daily") == [
        # creator, day, profile_views, followers_gained, followers_lost
        ("c1", D1, 2, 2, 1),  # e13, e14; f1, f2; f3
        ("c2", D2, 1, 0, 0),  # e23 at 00:15 on Oct 3 in Kolkata
    ]


def test_audience_daily(db: Path) -> None:
    refresh(db)
    key_id = key_ring(db).active().key_id
    u1 = ("25-34", "male", "BR", "Recife", "pt")  # born 2000: 26
    plain = ("35-44", "female", "US", "Austin", "en")  # born 1990: 36
    expected = [
        # u1: e1 (before following) and e3 (after f2): a follower that day.
        ("c1", "v1", D1, pid(db, "c1", "u1"), key_id, True, *u1, False, 2, 2, 34000),
        # u2: e2 as a follower (f1), e18 after unfollowing (f3); opted out of analytics.
        ("c1", "v1", D1, pid(db, "c1", "u2"), key_id, True, *plain, True, 2, 1, 7999),
        ("c1", "v1", D1, pid(db, "c1", "u3"), key_id, False, *plain, False, 1, 1, 15000),
        ("c2", "v2", D1, pid(db, "c2", "u1"), key_id, False, *u1, False, 1, 0, 2000),
        ("c2", "v2", D2, pid(db, "c2", "u2"), key_id, False, *plain, True, 1, 1, 200000),
        ("c2", "v2", D2, pid(db, "c2", "u3"), key_id, False, *plain, False, 1, 1, 199999),
    ]
    assert table(db, "rollup_audience_daily") == sorted(expected)


def test_viewer_days_link_each_day_to_the_previous_one_however_long_before(
    db: Path, tmp_path: Path
) -> None:
    # u1 watches c1 on Oct 2 2026 (fixture), 365 days before that and 366 days before that
    # again; then a late play arrives between the last two.
    earlier = [
        view("y1", "u1", "v1", "2025-10-02T15:00:00Z", 4000),  # 365 days before Oct 2 2026
        view("y2", "u1", "v1", "2024-10-01T15:00:00Z", 4000),  # 366 days before Oct 2 2025
    ]
    ingest(db, [write_ndjson(tmp_path / "earlier.ndjson", earlier)])
    refresh(db)
    u1 = pid(db, "c1", "u1")
    rows = f"{VIEWER_DAYS} WHERE viewer_pid = {u1} AND property = 'all'"
    assert table(db, rows, "local_date, prev_date") == [
        (date(2024, 10, 1), None),
        (date(2025, 10, 2), date(2024, 10, 1)),  # 366 days apart: still linked
        (D1, date(2025, 10, 2)),
    ]
    late = [view("y0", "u1", "v1", "2026-01-15T15:00:00Z", 4000)]
    ingest(db, [write_ndjson(tmp_path / "late.ndjson", late)])
    assert refresh(db).mode == "incremental"
    assert table(db, rows, "local_date, prev_date") == [
        (date(2024, 10, 1), None),
        (date(2025, 10, 2), date(2024, 10, 1)),
        (date(2026, 1, 15), date(2025, 10, 2)),  # links to a kept day 105 days before
        (D1, date(2026, 1, 15)),  # a later day's link moved
    ]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_likes_are_placed_at_their_position_in_the_play(db: Path, tmp_path: Path) -> None:
    likes = [
        # u1's play e3 of v1 (15 s) began 15:20:00 and ran 31 s: 20 s in is 5 s into loop 2.
        act("l1", "like", "u1", "2026-10-02T15:20:20Z", video_id="v1"),
        # u3's play e4 began 16:05:00 and ran exactly 15 s: its last millisecond.
        act("l2", "like", "u3", "2026-10-02T16:05:14.999Z", video_id="v1"),
        # u2's play e21 of v2 (200 s, buckets of 2 s) began 18:31:00: 99 s in, bucket 49.
        act("l3", "like", "u2", "2026-10-02T18:32:39Z", video_id="v2"),
        # u1 likes v2 at 00:01 Kolkata on Oct 3; its play begins on Oct 2 and arrives late.
        act("l4", "like", "u1", "2026-10-02T18:31:00Z", video_id="v2"),
    ]
    ingest(db, [write_ndjson(tmp_path / "likes.ndjson", likes)])
    refresh(db)
    # The fixture's e5 (u1, v1, 15:30) came 59 s after u1's last play ended: no position.
    assert table(db, LIKE_SECONDS) == [
        ("c1", "v1", D1, 5, 1),
        ("c1", "v1", D1, 14, 1),
        ("c1", "v1", D1, None, 1),
        ("c2", "v2", D2, 49, 1),
        ("c2", "v2", D2, None, 1),
    ]
    # u1's play that l4 came at the end of arrives after the like: likes are placed at
    # ingest, by the plays stored by then, so l4 stays outside any play.
    late = [view("p4", "u1", "v2", "2026-10-02T18:29:00Z", 120000)]  # Oct 2 23:59, 120 s
    ingest(db, [write_ndjson(tmp_path / "late-play.ndjson", late)])
    assert refresh(db).mode == "incremental"
    assert table(db, f"{LIKE_SECONDS} WHERE creator_id = 'c2'") == [
        ("c2", "v2", D2, 49, 1),
        ("c2", "v2", D2, None, 1),
    ]
    # A play and its like in one batch: placed by the batch's own play (5 s in: bucket 2).
    together = [
        act("l5", "like", "u3", "2026-10-02T20:00:05Z", video_id="v2"),
        view("p5", "u3", "v2", "2026-10-02T20:00:00Z", 10000),
    ]
    ingest(db, [write_ndjson(tmp_path / "together.ndjson", together)])
    refresh(db)
    assert table(db, f"{LIKE_SECONDS} WHERE creator_id = 'c2'") == [
        ("c2", "v2", D2, 2, 1),
        ("c2", "v2", D2, 49, 1),
        ("c2", "v2", D2, None, 1),
    ]
    assert table(db, "events WHERE event_id IN ('l1', 'l2', 'l5', 'e5')", "play_position_ms") == [
        (5000,),
        (14999,),
        (20000,),
        (None,),
    ]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_videos_followers_watched_count_distinct_followers(db: Path, tmp_path: Path) -> None:
    refresh(db)
    u1, u2 = follower_pid(db, "c1", "u1"), follower_pid(db, "c1", "u2")
    # u2 (opted out) followed c1 13:00-17:00 and played v1 at 15:10; u1 follows from 15:15
    # and played v1 at 15:20 and v2 (c2's video) at 18:29. Days in Chicago, c1's zone.
    assert table(db, "rollup_follower_watch") == sorted(
        [
            ("c1", "v1", D1, u1, 1, 31000, False),
            ("c1", "v1", D1, u2, 1, 2999, True),
            ("c1", "v2", D1, u1, 1, 2000, False),
        ]
    )
    # Two more plays of v1 by u1 that day, in two ingests: still one follower.
    for n, (ts, watched) in enumerate(
        (("2026-10-02T16:00:00Z", 4000), ("2026-10-02T17:00:00Z", 6000))
    ):
        ingest(
            db,
            [write_ndjson(tmp_path / f"more-{n}.ndjson", [view(f"w{n}", "u1", "v1", ts, watched)])],
        )
    assert refresh(db).mode == "incremental"
    assert table(
        db,
        "rollup_follower_watch WHERE creator_id = 'c1' AND local_date BETWEEN '2026-10-01' "
        "AND '2026-10-02' GROUP BY video_id",
        "video_id, count(DISTINCT follower_pid) FILTER (NOT opt_out), "
        "count(DISTINCT follower_pid), sum(plays)",
    ) == [("v1", 1, 2, 4), ("v2", 1, 1, 1)]
    # No follower pseudonym is a viewer pseudonym.
    viewer_pids = {p for (p,) in table(db, "events", "viewer_pid")}
    assert {u1, u2} & viewer_pids == set()
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_opting_out_reaches_the_plays_as_a_follower(db: Path, tmp_path: Path) -> None:
    refresh(db)
    change = [
        account("u2", analytics_opt_out=False),
        account(
            "u1",
            analytics_opt_out=True,
            birth_year=2000,
            gender="male",
            country="BR",
            city="Recife",
            language="pt",
        ),
    ]
    ingest(db, [write_ndjson(tmp_path / "accounts-2.ndjson", change)])
    refresh(db)
    assert table(db, "rollup_follower_watch", "follower_pid, opt_out") == sorted(
        [
            (follower_pid(db, "c1", "u1"), True),
            (follower_pid(db, "c1", "u2"), False),
            (follower_pid(db, "c1", "u1"), True),
        ]
    )
    assert table(db, "follower_plays WHERE NOT opt_out", "count(*)") == [(1,)]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_follower_spans_follow_the_log_and_the_accounts(db: Path, tmp_path: Path) -> None:
    refresh(db)
    columns = "creator_id, follower_id, since, until, gender, opt_out"
    assert table(db, FOLLOWER_SPANS, columns) == [
        ("c1", "u1", utc("2026-10-02T15:15:00Z"), None, "male", False),
        ("c1", "u2", utc("2026-10-02T13:00:00Z"), utc("2026-10-02T17:00:00Z"), "female", True),
    ]
    more = [
        act("g1", "follow", "u1", "2026-10-02T16:00:00Z", target_id="c1"),  # already following
        act("g2", "unfollow", "u1", "2026-10-02T18:00:00Z", target_id="c1"),
        act("g3", "follow", "u1", "2026-10-02T19:00:00Z", target_id="c1"),
        # A follow and an unfollow at one instant: unfollowed, an empty span.
        act("g4", "follow", "u3", "2026-10-02T20:00:00Z", target_id="c1"),
        act("g5", "unfollow", "u3", "2026-10-02T20:00:00Z", target_id="c1"),
    ]
    ingest(db, [write_ndjson(tmp_path / "follows.ndjson", more)])
    refresh(db)
    assert table(
        db, f"{FOLLOWER_SPANS} WHERE follower_id <> 'u2'", "follower_id, since, until"
    ) == [
        ("u1", utc("2026-10-02T15:15:00Z"), utc("2026-10-02T18:00:00Z")),
        ("u1", utc("2026-10-02T19:00:00Z"), None),
        ("u3", utc("2026-10-02T20:00:00Z"), utc("2026-10-02T20:00:00Z")),
    ]
    # A new account version alone (no event) reaches the spans at the next refresh.
    changed = account("u1", gender="other")  # sent now: newer than the first version
    ingest(db, [write_ndjson(tmp_path / "accounts-2.ndjson", [changed])])
    refresh(db)
    assert table(db, f"{FOLLOWER_SPANS} WHERE follower_id = 'u1'", "gender") == [
        ("other",),
        ("other",),
    ]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_engaged_daily(db: Path) -> None:
    refresh(db)
    expected = [
        # creator, video, day, pid, likes, comments, shares (saves and unlikes do not count)
        ("c1", "v1", D1, pid(db, "c1", "u1"), 1, 0, 1),  # e5, e9
        ("c1", "v1", D1, pid(db, "c1", "u2"), 0, 1, 1),  # e7, e10
        ("c1", "v1", D1, pid(db, "c1", "u3"), 0, 1, 1),  # e8, e11
    ]
    assert table(db, "rollup_engaged_daily") == sorted(expected)


def test_retention_daily(db: Path) -> None:
    refresh(db)
    assert table(db, "rollup_retention_daily") == [
        # v1: D = 15000, W = 1000, N = 15 buckets.
        ("c1", "v1", D1, 2, 1),  # e2 2999 ms
        ("c1", "v1", D1, 3, 1),  # e1 3000 ms
        ("c1", "v1", D1, 5, 1),  # e18 5000 ms
        ("c1", "v1", D1, 15, 2),  # e4 15000 (the end) and e3 31000 (a loop, capped at N)
        # v2: D = 200000, W = 2000, N = 100 buckets.
        ("c2", "v2", D1, 1, 1),  # e20 2000 ms
        ("c2", "v2", D2, 99, 1),  # e22 199999 ms: one ms short of the end
        ("c2", "v2", D2, 100, 1),  # e21 200000 ms: the end
    ]


def test_follower_likes_and_approvals(db: Path) -> None:
    refresh(db)
    assert table(db, "rollup_follower_activity") == sorted(
        [
            # e2 (u2, a follower since f1, opted out) and e3 (u1, a follower since f2), both
            # at 10h; e4 (u3) never followed and e18 (u2) came after f3.
            ("c1", D1, 10, pid(db, "c1", "u1"), 1, False),
            ("c1", D1, 10, pid(db, "c1", "u2"), 1, True),
        ]
    )
    assert table(db, "rollup_likes_daily") == [
        ("c1", "v1", D1, "u1", utc("2026-10-02T15:30:00"), utc("2026-10-02T15:40:00")),
    ]
    assert table(db, "rollup_approvals_daily") == [("c1", D1, "u3", utc("2026-10-02T18:00:00"))]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_view_threshold_is_recorded_and_a_new_one_rebuilds(db: Path) -> None:
    first = refresh(db)
    assert first.mode == "full"
    assert table(db, "rollup_state", "view_threshold_ms") == [(3000,)]
    again = refresh(db, view_threshold_ms=2999)
    assert again.mode == "full" and "threshold" in again.reason
    assert table(db, "rollup_state", "view_threshold_ms") == [(2999,)]
    # e2 (2999 ms) now counts as a view.
    assert table(
        db, "rollup_video_hourly WHERE creator_id = 'c1' AND local_hour = 10", "plays, views"
    ) == [(3, 3)]


def test_refreshing_twice_changes_nothing(db: Path) -> None:
    refresh(db)
    before = snapshot(db)
    again = refresh(db)
    assert again.mode == "unchanged" and again.days == 0
    assert snapshot(db) == before


def test_late_event_updates_its_old_day_only(db: Path, tmp_path: Path) -> None:
    refresh(db)
    late = write_ndjson(
        tmp_path / "events-late.ndjson",
        [view("late1", "u3", "v1", "2026-10-02T15:30:00Z", 4000)],  # 10:30 on Oct 2
    )
    ingest(db, [late])
    summary = refresh(db)
    assert (summary.mode, summary.new_events, summary.days) == ("incremental", 1, 1)
    assert table(
        db, "rollup_video_hourly WHERE creator_id = 'c1' AND local_hour = 10", "plays, views"
    ) == [(4, 3)]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_time_zone_change_moves_every_day_of_that_creator(db: Path, tmp_path: Path) -> None:
    refresh(db)
    moved = write_ndjson(
        tmp_path / "accounts-2.ndjson",
        [account("c2", kind="creator", timezone="UTC")],
    )
    ingest(db, [moved])
    summary = refresh(db)
    assert (summary.mode, summary.creators) == ("incremental", 1)
    # In UTC every c2 event is on Oct 2 (18:29-18:45) but the duet and stitch (03:00 Oct 3).
    assert table(
        db, "rollup_video_hourly WHERE creator_id = 'c2'", "local_date, local_hour, plays"
    ) == [(D1, 18, 3), (D2, 3, 0)]
    assert table(db, "rollup_creator_daily WHERE creator_id = 'c2'") == [("c2", D1, 1, 0, 0)]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


@pytest.mark.parametrize(
    ("zone", "early", "late"),
    [
        # UTC+14: local Oct 3 starts at 10:00 UTC on Oct 2.
        ("Pacific/Kiritimati", "2026-10-02T10:30:00Z", "2026-10-03T09:00:00Z"),
        # UTC-11: local Oct 3 ends at 11:00 UTC on Oct 4.
        ("Pacific/Pago_Pago", "2026-10-04T10:30:00Z", "2026-10-03T11:30:00Z"),
    ],
)
def test_late_event_recounts_a_whole_day_in_the_farthest_zones(
    tmp_path: Path, zone: str, early: str, late: str
) -> None:
    """A local day spans UTC instants a calendar day away from it; none may be left out."""
    db = tmp_path / "store.duckdb"
    ingest(
        db,
        [
            write_ndjson(tmp_path / "accounts.ndjson", [account("c1", timezone=zone)]),
            write_ndjson(tmp_path / "videos.ndjson", VIDEOS[:1]),
            write_ndjson(tmp_path / "events-1.ndjson", [view("a", "u1", "v1", early, 4000)]),
        ],
    )
    refresh(db)
    ingest(db, [write_ndjson(tmp_path / "events-2.ndjson", [view("b", "u1", "v1", late, 4000)])])
    assert refresh(db).mode == "incremental"
    assert table(db, "rollup_video_source_daily", "local_date, plays") == [(D2, 2)]


def test_video_duration_change_recounts_full_watches(db: Path, tmp_path: Path) -> None:
    refresh(db)
    longer = write_ndjson(
        tmp_path / "videos-2.ndjson",
        [{**VIDEOS[0], "duration_ms": 31000}],
    )
    ingest(db, [longer])
    summary = refresh(db)
    assert summary.mode == "incremental"
    # Only e3 (31000 ms) still reaches the end.
    assert table(db, "rollup_video_hourly WHERE video_id = 'v1'", "sum(full_watches)") == [(1,)]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


def test_marked_creator_picks_up_events_changed_in_place(db: Path) -> None:
    refresh(db)
    u1 = pid(db, "c1", "u1")
    with Store.open(db) as store:
        # What ingest does when u1 opts out later: past events change, ingested_at does not.
        store.con.execute("BEGIN TRANSACTION")
        store.con.execute(
            "UPDATE events SET actor_opt_out = true WHERE viewer_pid = $pid", {"pid": u1}
        )
        mark_creators_dirty(store.con, ["c1"])
        store.con.execute("COMMIT")
        summary = refresh_rollups(store)
    assert (summary.mode, summary.creators) == ("incremental", 1)
    assert table(
        db, "rollup_audience_daily WHERE viewer_pid = " + str(pid(db, "c1", "u1")), "opt_out"
    ) == [(True,)]
    assert table(db, "changed_creators") == []


def test_opting_out_later_reaches_the_rollups(db: Path, tmp_path: Path) -> None:
    """Ingest rewrites u1's past events in place and marks their creators dirty."""
    refresh(db)
    change = write_ndjson(
        tmp_path / "accounts-2.ndjson",
        [account("u1", birth_year=2000, gender="male", country="BR", city="Recife",
                 language="pt", analytics_opt_out=True)],
    )  # fmt: skip
    ingest(db, [change])
    summary = refresh(db)
    assert (summary.mode, summary.creators) == ("incremental", 2)  # u1 watched c1 and c2
    assert table(db, "rollup_audience_daily WHERE opt_out", "count(*)") == [(2 + 2,)]
    incremental = snapshot(db)
    rebuild(db)
    assert snapshot(db) == incremental


@pytest.mark.parametrize("chunk_events", [1_000_000, 4])
def test_chunked_refresh_gives_the_same_rows_in_creator_and_day_order(
    db: Path, monkeypatch: pytest.MonkeyPatch, chunk_events: int
) -> None:
    """Computed a few creators at a time (memory stays bounded), the result is the same."""
    refresh(db)
    whole = snapshot(db)
    monkeypatch.setattr(refresh_module, "CHUNK_EVENTS", chunk_events)
    seen: dict[str, list[tuple[int, int]]] = {}
    with Store.open(db) as store:
        rebuild_rollups(
            store,
            progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)),
        )
        misplaced = store.con.execute(
            """
            SELECT count(*) FROM (
                SELECT creator_id, local_date,
                       lag(creator_id) OVER (ORDER BY rowid) AS prev_creator,
                       lag(local_date) OVER (ORDER BY rowid) AS prev_date
                FROM rollup_video_hourly)
            WHERE prev_creator > creator_id
               OR (prev_creator = creator_id AND prev_date > local_date)
            """
        ).fetchone()
    assert snapshot(db) == whole
    assert misplaced == (0,)
    # c1 has 21 events and c2 has 6: with 4 per chunk, each creator is a chunk of its own.
    chunks = 1 if chunk_events > 100 else 2
    for name in ROLLUP_TABLES:
        # Follower plays are chunked by the creator followed: c1 alone.
        n = 1 if name == "rollup_follower_watch" else chunks
        assert seen[name] == [(i, n) for i in range(1, n + 1)]
    assert seen["state"] == [(1, 1)]


def rebuild(db: Path) -> None:
    with Store.open(db) as store:
        rebuild_rollups(store)


# --- the shared definitions and their Spark rendering ---------------------------------------

DUCKDB_ONLY = (
    "timezone(",
    "::",
    "//",
    "$",
    "group by all",
    "exclude",
    "qualify",
    "asof",
    "semi join",
    "anti join",
    "epoch_ms",
    "strftime",
    "list_",
    "struct_pack",
    "regexp_full_match",
    "try_cast",
    "ubigint",
    "hugeint",
    "varchar",
    "any_value",  # Spark has it only from 3.4 and it is not deterministic anyway
)
# Functions the Spark rendering may call: each exists in Spark SQL with these semantics.
SPARK_FUNCTIONS = {
    "bool_or", "cast", "ceil", "coalesce", "count", "floor", "from_utc_timestamp", "hour",
    "least", "max", "sum",
}  # fmt: skip
SQL_WORDS = {
    "and",
    "as",
    "in",
    "on",
    "or",
    "over",
    "join",
    "select",
    "from",
    "where",
    "then",
    "else",
}


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_spark_rendering_uses_only_spark_sql(rollup) -> None:
    spark = render(rollup, "spark")
    lowered = (spark + "\n" + render_create(rollup, "spark")).lower()
    assert [word for word in DUCKDB_ONLY if word in lowered] == []
    called = {f for f in re.findall(r"\b([a-z_]+)\s*\(", spark.lower())} - SQL_WORDS
    cte_names = {"located", "rollup_input"}
    assert called - cte_names - SPARK_FUNCTIONS == set()
    assert ":view_threshold_ms" in spark or "view_threshold_ms" not in spark


@pytest.mark.parametrize("rollup", ROLLUPS, ids=lambda r: r.name)
def test_spark_rendering_means_the_same_as_duckdb(db: Path, rollup) -> None:
    """Run the Spark text in DuckDB, with Spark's function spelled as a macro: same rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("CREATE TEMP MACRO from_utc_timestamp(ts, tz) AS timezone(tz, ts)")
        params = {"view_threshold_ms": 3000}
        duck_sql = render(rollup)
        spark_sql = (
            render(rollup, "spark")
            .replace(":view_threshold_ms", "$view_threshold_ms")
            .replace("AS STRING", "AS VARCHAR")
            .replace("DECIMAL(20,0)", "UBIGINT")
            .replace("AS TIMESTAMP)", "AS TIMESTAMPTZ)")
        )

        def run(sql: str) -> list[tuple]:
            used = {k: v for k, v in params.items() if f"${k}" in sql}
            return sorted(con.execute(sql, used).fetchall())

        assert run(spark_sql) == run(duck_sql)
        assert run(duck_sql)  # the fixture has rows for every rollup
    finally:
        con.close()


@pytest.mark.parametrize(
    ("render_derived", "functions"),
    [
        (render_viewer_days, {"lag", "max", "cast"}),
        (render_viewer_day_counts, SPARK_FUNCTIONS),
    ],
    ids=["viewer_days", "viewer_day_counts"],
)
def test_derived_rollups_spark_rendering_means_the_same_as_duckdb(
    db: Path, tmp_path: Path, render_derived, functions
) -> None:
    # A like inside a play, so the placed path runs too.
    like = [act("l1", "like", "u1", "2026-10-02T15:20:20Z", video_id="v1")]
    ingest(db, [write_ndjson(tmp_path / "like.ndjson", like)])
    refresh(db)
    spark = render_derived("spark")
    called = {f for f in re.findall(r"\b([a-z_]+)\s*\(", spark.lower())} - SQL_WORDS
    assert called - {"located", "rollup_input", "likes", "plays", "placed"} <= functions
    assert [word for word in DUCKDB_ONLY if word in spark.lower()] == []
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("CREATE TEMP MACRO date_sub(d, n) AS CAST(d - to_days(n) AS DATE)")
        con.execute("CREATE TEMP MACRO unix_millis(ts) AS epoch_ms(ts)")
        con.execute("CREATE TEMP MACRO from_utc_timestamp(ts, tz) AS timezone(tz, ts)")
        spark = spark.replace("AS STRING", "AS VARCHAR").replace("AS TIMESTAMP)", "AS TIMESTAMPTZ)")
        duck = sorted(con.execute(render_derived()).fetchall(), key=str)
        assert duck
        assert sorted(con.execute(spark).fetchall(), key=str) == duck
    finally:
        con.close()


def test_every_rollup_table_is_in_the_definitions_fingerprint(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    try:
        create_rollup_tables(con)
        tables = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'rollup_%'"
            ).fetchall()
        }
    finally:
        con.close()
    texts = "\n".join(refresh_module.definition_texts())
    bookkeeping = {
        "rollup_state", "rollup_zones", "rollup_durations", "rollup_spans_state",
    }  # fmt: skip
    assert len(tables - bookkeeping) == 16
    assert [t for t in tables - bookkeeping if f"EXISTS {t} (" not in texts] == []


def test_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown dialect"):
        render(ROLLUPS[0], "oracle")
