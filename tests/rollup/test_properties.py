"""Property: after every ingest batch, refreshed rollups equal figures computed in plain Python.

Random small platforms: several creators in different time zones (DST change and
quarter-hour offsets included), watched times on the 2999/3000/duration edges, repeated
event ids, events arriving late across batches, and between batches a time zone change, a
video duration change or an opt-out rewritten in place. The second method reads the stored
events and does the arithmetic in Python, with zoneinfo and exact fractions.
"""

from __future__ import annotations

import math
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from unittest.mock import patch
from zoneinfo import ZoneInfo

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creatorlens.ingest import ingest_paths
from creatorlens.rollup import ROLLUP_TABLES, mark_creators_dirty, rebuild_rollups, refresh_rollups
from creatorlens.rollup import refresh as refresh_module
from creatorlens.rollup.definitions import (
    DERIVED_TABLES,
    FOLLOWER_SPANS,
    LIKE_SECONDS,
    LIKER_SETTINGS,
    VIEWER_DAY_COUNTS,
    VIEWER_DAYS,
)
from creatorlens.store import Store
from tests.conftest import write_ndjson


def ingest(store: Store, files: list[Path]) -> None:
    """Ingest without a refresh (the test decides when rollups refresh) into an open store."""
    ingest_paths(store, files)


ZONES = {
    "c1": "America/Chicago",  # leaves DST on 2026-11-01
    "c2": "Asia/Kolkata",  # +5:30
    "c3": None,  # no account row: UTC
    "c4": "Pacific/Chatham",  # +13:45
}
OTHER_ZONES = ("UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu")
# v4 is the last duration with 1000 ms retention buckets; for v5 the bucket width D / 100
# is inexact in floating point (watching all of it must still land in bucket 100).
DURATIONS = {"v1": 15000, "v2": 200000, "v3": 3000, "v4": 100000, "v5": 102416}
OWNER = {"v1": "c1", "v2": "c2", "v3": "c3", "v4": "c4", "v5": "c4"}
VIEWERS = ("u1", "u2", "u3", "x9")  # x9 has no account
START = datetime(2026, 10, 30, tzinfo=UTC)
SPAN_S = 4 * 86400

# Grain width of each rollup: the columns before the measures.
GRAIN = {
    "rollup_video_hourly": 4,
    "rollup_video_source_daily": 4,
    "rollup_share_channel_daily": 4,
    "rollup_creator_daily": 2,
    "rollup_audience_daily": 5,
    VIEWER_DAYS: 5,
    VIEWER_DAY_COUNTS: 5,
    LIKE_SECONDS: 4,
    FOLLOWER_SPANS: 3,
    LIKER_SETTINGS: 2,
    "rollup_engaged_daily": 4,
    "rollup_retention_daily": 4,
    "rollup_follower_activity": 4,
    "rollup_follower_watch": 4,
    "rollup_likes_daily": 4,
    "rollup_approvals_daily": 3,
}


def _local_midnights() -> list[int]:
    """Seconds after START of every creator-local midnight in the window, and ±1 s."""
    out = []
    for zone in {z or "UTC" for z in ZONES.values()}:
        for day in range(-1, 6):
            local = datetime(2026, 10, 30, tzinfo=ZoneInfo(zone)) + timedelta(days=day)
            offset = int((local - START).total_seconds())
            out += [s for s in (offset - 1, offset, offset + 1) if 0 <= s < SPAN_S]
    return sorted(set(out))


MIDNIGHTS = _local_midnights()


def accounts(zones: dict[str, str | None], opted_out: set[str] = frozenset()) -> list[dict]:
    base = {"is_private": False, "language": "en", "created_at": "2024-01-01T00:00:00Z"}
    rows = [
        {**base, "account_id": c, "kind": "creator", "timezone": z, "analytics_opt_out": False}
        for c, z in zones.items()
        if z is not None
    ]
    people = {
        "u1": {"birth_year": 2000, "gender": "male", "country": "BR", "city": "Recife"},
        "u2": {"birth_year": 1990, "gender": "female", "country": "US"},
        "u3": {"birth_year": 2011, "country": "IN", "city": "Pune"},  # a minor
    }
    for u, attrs in people.items():
        rows.append(
            {**base, **attrs, "account_id": u, "kind": "personal", "timezone": "UTC",
             "analytics_opt_out": u in opted_out}
        )  # fmt: skip
    return rows


def videos(durations: dict[str, int]) -> list[dict]:
    return [
        {"video_id": v, "creator_id": OWNER[v], "posted_at": "2026-10-01T00:00:00Z",
         "duration_ms": d}
        for v, d in durations.items()
    ]  # fmt: skip


@st.composite
def event(draw) -> dict:
    kind = draw(
        st.sampled_from(
            ["view"] * 6
            + ["like", "unlike", "comment", "share", "save", "profile_view", "follow",
               "unfollow", "duet", "stitch", "mention", "live_join"]
        )
    )  # fmt: skip
    second = draw(st.one_of(st.integers(0, SPAN_S - 1), st.sampled_from(MIDNIGHTS)))
    ts = (START + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ")
    e = {
        "event_id": f"e{draw(st.integers(0, 40))}",  # a small pool: ids repeat
        "type": kind,
        "ts": ts,
        "actor_id": draw(st.sampled_from(VIEWERS + ("c1", "c2"))),
    }
    video = draw(st.sampled_from(sorted(DURATIONS)))
    target = draw(st.sampled_from(sorted(ZONES) + ["u1"]))
    if kind == "view":
        d = DURATIONS[video]
        edges = [0, 2999, 3000, 3001, d - 1, d, d + 1, 2 * d, 3 * d + 7]
        e["watched_ms"] = draw(
            st.one_of(st.sampled_from(edges), st.sampled_from(edges), st.integers(0, 400_000))
        )
        e["video_id"] = video
        e["source"] = draw(st.sampled_from(["for_you", "following", "search", "profile"]))
    elif kind in ("like", "unlike", "save", "duet", "stitch", "comment", "share"):
        e["video_id"] = video
        if kind in ("duet", "stitch"):
            e["new_video_id"] = "n" + e["event_id"]
        if kind == "comment":
            e.update(comment_id="k" + e["event_id"], text="nice")
        if kind == "share":
            e["channel"] = draw(st.sampled_from(["whatsapp", "copy_link", "sms"]))
    elif kind == "mention":
        e["target_id"] = target
        if draw(st.booleans()):
            e["video_id"] = video
        else:
            e["comment_id"] = "k" + e["event_id"]
    elif kind == "live_join":
        e["live_id"] = "L1"
    else:
        e["target_id"] = target
    return e


# Between batches, any of these may change past data without new events.
CHANGES = st.sets(st.sampled_from(["zone", "duration", "opt_out"]))

# Follows and unfollows in the middle of days, so a viewer's plays of one day are by a
# follower and by a non-follower; and the LIVE that live_join events join.
PRELUDE = [
    {"event_id": "live", "type": "live_start", "ts": "2026-10-29T00:00:00Z", "actor_id": "c1",
     "live_id": "L1"},
    {"event_id": "f1", "type": "follow", "ts": "2026-10-31T12:00:00Z", "actor_id": "u1",
     "target_id": "c1"},
    {"event_id": "f2", "type": "follow", "ts": "2026-10-30T06:00:00Z", "actor_id": "u2",
     "target_id": "c2"},
    {"event_id": "f3", "type": "unfollow", "ts": "2026-11-01T06:00:00Z", "actor_id": "u2",
     "target_id": "c2"},
    {"event_id": "f4", "type": "follow", "ts": "2026-10-30T18:00:00Z", "actor_id": "u3",
     "target_id": "c4"},
]  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(event(), min_size=8, max_size=40),
    cuts=st.lists(st.integers(1, 39), min_size=1, max_size=2),
    changes=st.lists(CHANGES, min_size=2, max_size=2),
    zone_choice=st.sampled_from(OTHER_ZONES),
    threshold=st.sampled_from([3000, 3000, 2999, 0]),
    chunk_events=st.sampled_from([1_000_000, 5]),  # 5: a few creators per chunk
)
def test_refresh_after_every_batch_matches_plain_python(
    events, cuts, changes, zone_choice, threshold, chunk_events
) -> None:
    bounds = sorted({0, len(events), *(min(c, len(events) - 1) for c in cuts)})
    batches = [events[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    zones = dict(ZONES)
    durations = dict(DURATIONS)
    # One store open for the whole example: reopening the file for each step is most of
    # the cost of an example.
    with (
        tempfile.TemporaryDirectory() as tmp,
        Store.open(Path(tmp) / "store.duckdb") as db,
        patch.object(refresh_module, "CHUNK_EVENTS", chunk_events),
    ):
        tmp = Path(tmp)
        ingest(
            db,
            [
                write_ndjson(tmp / "accounts.ndjson", accounts(zones)),
                write_ndjson(tmp / "videos.ndjson", videos(durations)),
                write_ndjson(tmp / "events-0.ndjson", PRELUDE),
            ],
        )
        for i, batch in enumerate(batches):
            change = changes[i - 1] if i > 0 else set()
            if "zone" in change:
                zones["c2" if i % 2 else "c3"] = zone_choice
                ingest(db, [write_ndjson(tmp / f"accounts-{i}.ndjson", accounts(zones))])
            if "duration" in change:
                # Across 100 s: every bucket of v1 moves, not only the full watches.
                durations["v1"] = 150_000 + 1000 * i
                ingest(db, [write_ndjson(tmp / f"videos-{i}.ndjson", videos(durations))])
            if "opt_out" in change:
                _opt_out_in_place(db)
            if change:
                # Checked before the next events arrive, which could hide a missed change.
                _refresh_and_check(db, threshold)
            ingest(db, [write_ndjson(tmp / f"events-{i + 1}.ndjson", batch)])
            _refresh_and_check(db, threshold)

        refreshed = _tables(db.con)
        again = refresh_rollups(db, view_threshold_ms=threshold)
        assert again.mode == "unchanged"
        assert _tables(db.con) == refreshed
        rebuild_rollups(db, view_threshold_ms=threshold)
        assert _tables(db.con) == refreshed


def _refresh_and_check(db: Store, threshold: int) -> None:
    refresh_rollups(db, view_threshold_ms=threshold)
    assert _tables(db.con) == _expected(db.con, threshold)


def _opt_out_in_place(db: Store) -> None:
    """What ingest does when a viewer opts out later: rewrite past events, mark creators."""
    con = db.con
    con.execute("BEGIN TRANSACTION")
    touched = con.execute(
        """
        UPDATE events SET actor_opt_out = NOT actor_opt_out
        WHERE viewer_pid IN (SELECT min(viewer_pid) FROM events GROUP BY creator_id)
        RETURNING creator_id
        """
    ).fetchall()
    touched += con.execute(
        """
        UPDATE follower_plays SET opt_out = NOT opt_out
        WHERE follower_pid IN (SELECT min(follower_pid) FROM follower_plays GROUP BY followed_id)
        RETURNING followed_id
        """
    ).fetchall()
    mark_creators_dirty(con, [c for (c,) in touched])
    con.execute("COMMIT")


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, dict[tuple, tuple]]:
    out = {}
    for name in (*ROLLUP_TABLES, *DERIVED_TABLES):
        n = GRAIN[name]
        rows = con.execute(f"SELECT * FROM {name}").fetchall()
        out[name] = {row[:n]: row[n:] for row in rows}
        assert len(out[name]) == len(rows), f"{name}: a grain appears twice"
    return out


def _bucket(watched: int, duration: int) -> int:
    width = Fraction(1000) if duration <= 100_000 else Fraction(duration, 100)
    n = math.ceil(Fraction(duration) / width)
    return min(math.floor(Fraction(watched) / width), n)


def _expected(con: duckdb.DuckDBPyConnection, threshold: int) -> dict[str, dict[tuple, tuple]]:
    """Every rollup, computed from the stored events one row at a time."""
    zone_of = dict(con.execute("SELECT account_id, timezone FROM accounts").fetchall())
    duration_of = dict(con.execute("SELECT video_id, duration_ms FROM videos").fetchall())
    rows = con.execute(
        """
        SELECT type, ts, creator_id, video_id, viewer_pid, key_id, watched_ms, source,
               channel, actor_age_bucket, actor_gender, actor_country, actor_city,
               actor_language, actor_opt_out, actor_is_follower, actor_id, play_position_ms
        FROM events_with_attributes
        """
    ).fetchall()

    hourly_measures = ("plays", "views", "watch_ms", "full_watches", "like", "unlike",
                       "comment", "share", "save", "duet", "stitch", "mention")  # fmt: skip
    hourly: dict = defaultdict(lambda: dict.fromkeys(hourly_measures, 0))
    by_source: dict = defaultdict(lambda: [0, 0, 0])
    by_channel: dict = defaultdict(int)
    creator_daily: dict = defaultdict(lambda: [0, 0, 0])
    audience: dict = {}
    engaged: dict = defaultdict(lambda: [0, 0, 0])
    retention: dict = defaultdict(int)
    follower_activity: dict = defaultdict(lambda: [0, False])
    likes: dict = defaultdict(lambda: [None, None])
    approvals: dict = {}

    like_seconds: dict = defaultdict(int)
    for (kind, ts, creator, video, pid, key_id, watched, source, channel,
         age, gender, country, city, language, opt_out, follower, actor,
         position) in rows:  # fmt: skip
        if creator is None:
            continue
        local = ts.astimezone(ZoneInfo(zone_of.get(creator, "UTC")))
        day, hour = local.date(), local.hour
        duration = duration_of.get(video)
        is_view = kind == "view"
        counted = is_view and watched >= threshold
        if video is not None and kind in hourly_measures:
            h = hourly[(creator, video, day, hour)]
            h[kind] += 1
        if video is not None and is_view:
            h = hourly[(creator, video, day, hour)]
            h["plays"] += 1
            h["views"] += counted
            h["watch_ms"] += watched
            h["full_watches"] += duration is not None and watched >= duration
            s = by_source[(creator, video, day, source)]
            s[0], s[1], s[2] = s[0] + 1, s[1] + counted, s[2] + watched
            if duration is not None:
                retention[(creator, video, day, _bucket(watched, duration))] += 1
            if pid is not None:
                a = audience.setdefault(
                    (creator, video, day, pid, key_id),
                    {"follower": False, "attrs": [[], [], [], [], []], "opt_out": False,
                     "plays": 0, "views": 0, "watch": 0},
                )  # fmt: skip
                a["follower"] |= follower
                a["opt_out"] |= opt_out
                for slot, value in zip(
                    a["attrs"], (age, gender, country, city, language), strict=True
                ):
                    if value is not None:
                        slot.append(value)
                a["plays"] += 1
                a["views"] += counted
                a["watch"] += watched
        if kind == "share" and video is not None:
            by_channel[(creator, video, day, channel)] += 1
        if kind in ("profile_view", "follow", "unfollow"):
            c = creator_daily[(creator, day)]
            c[("profile_view", "follow", "unfollow").index(kind)] += 1
        if kind == "share" and video is not None and pid is not None:
            engaged[(creator, video, day, pid)][2] += 1
        if kind in ("like", "comment"):
            assert pid is None and key_id is None  # named events keep no pseudonym
        if kind == "like" and video is not None:
            like_seconds[(creator, video, day, _like_bucket(position, duration))] += 1
        if is_view and follower and pid is not None:
            a = follower_activity[(creator, day, hour, pid)]
            a[0] += 1
            a[1] |= opt_out
        if kind in ("like", "unlike") and video is not None and actor is not None:
            last = likes[(creator, video, day, actor)]
            slot = 0 if kind == "like" else 1
            last[slot] = ts if last[slot] is None else max(last[slot], ts)
        if kind == "follow_approve" and actor is not None:
            key = (creator, day, actor)
            approvals[key] = max(approvals.get(key, ts), ts)

    return {
        "rollup_video_hourly": {k: tuple(v.values()) for k, v in hourly.items()},
        "rollup_video_source_daily": {k: tuple(v) for k, v in by_source.items()},
        "rollup_share_channel_daily": {k: (v,) for k, v in by_channel.items()},
        "rollup_creator_daily": {k: tuple(v) for k, v in creator_daily.items()},
        "rollup_audience_daily": {
            k: (
                a["follower"],
                *(max(slot) if slot else None for slot in a["attrs"]),
                a["opt_out"],
                a["plays"],
                a["views"],
                a["watch"],
            )
            for k, a in audience.items()
        },
        **_viewer_days(audience),
        LIKE_SECONDS: {k: (v,) for k, v in like_seconds.items()},
        FOLLOWER_SPANS: _follower_spans(con),
        LIKER_SETTINGS: _liker_accounts(con, likes),
        "rollup_engaged_daily": _engaged(con, engaged, zone_of),
        "rollup_retention_daily": {k: (v,) for k, v in retention.items()},
        "rollup_follower_activity": {k: tuple(v) for k, v in follower_activity.items()},
        "rollup_follower_watch": _follower_watch(con, zone_of),
        "rollup_likes_daily": {k: tuple(v) for k, v in likes.items()},
        "rollup_approvals_daily": {k: (v,) for k, v in approvals.items()},
    }


def _viewer_days(audience: dict) -> dict[str, dict[tuple, tuple]]:
    """Each (creator, property, value, viewer, day) with a play of that property (any; as a
    follower; as a non-follower; not opted out; a minor not opted out; opted out; of a
    video; by a viewer not opted out, with a country, age or gender: per audience row) and
    the viewer's previous such day; and those rows counted by (creator, property, value,
    day, previous day)."""
    days: dict = defaultdict(set)
    for (creator, video, day, pid, _key), a in audience.items():
        age, gender, country = (max(slot) if slot else None for slot in a["attrs"][:3])
        counted = not a["opt_out"]
        has = {
            ("all", None): True,
            ("follower", None): a["follower"],
            ("non_follower", None): not a["follower"],
            ("not_opted_out", None): counted,
            ("minor", None): counted and age == "13-17",
            ("opted_out", None): a["opt_out"],
            ("video", video): True,
            ("country", country): counted,
            ("age", age): counted,
            ("gender", gender): counted,
        }
        for prop, value in (k for k, on in has.items() if on):
            days[(creator, prop, value, pid)].add(day)
    linked, counts = {}, Counter()
    for (creator, prop, value, pid), seen in days.items():
        previous = None
        for day in sorted(seen):
            linked[(creator, prop, value, pid, day)] = (previous,)
            counts[(creator, prop, value, day, previous)] += 1
            previous = day
    return {VIEWER_DAYS: linked, VIEWER_DAY_COUNTS: {k: (n,) for k, n in counts.items()}}


def _like_bucket(position: int | None, duration: int | None) -> int | None:
    """The bucket of a like `position` ms into its play (None: outside a play), modulo
    the duration, in the retention curve's buckets."""
    if position is None or not duration:
        return None
    width = Fraction(1000) if duration <= 100_000 else Fraction(duration, 100)
    return math.floor((position % duration) / width)


def _engaged(con: duckdb.DuckDBPyConnection, engaged: dict, zone_of: dict) -> dict:
    """The shares counted from the events, with the likes and comments of the marks."""
    out = {k: list(v) for k, v in engaged.items()}
    for creator, video, ts, pid, kind in con.execute(
        "SELECT creator_id, video_id, ts, viewer_pid, type FROM engagement_marks"
    ).fetchall():
        day = ts.astimezone(ZoneInfo(zone_of.get(creator, "UTC"))).date()
        out.setdefault((creator, video, day, pid), [0, 0, 0])[("like", "comment").index(kind)] += 1
    return {k: tuple(v) for k, v in out.items()}


def _follower_watch(con: duckdb.DuckDBPyConnection, zone_of: dict) -> dict:
    """The follower plays per followed creator, video, its local day and follower."""
    out: dict = defaultdict(lambda: [0, 0, False])
    for followed, video, ts, pid, plays, watched, opt_out in con.execute(
        "SELECT followed_id, video_id, ts, follower_pid, plays, watched_ms, opt_out "
        "FROM follower_plays"
    ).fetchall():
        day = ts.astimezone(ZoneInfo(zone_of.get(followed, "UTC"))).date()
        w = out[(followed, video, day, pid)]
        w[0], w[1], w[2] = w[0] + plays, w[1] + watched, w[2] or opt_out
    return {k: tuple(v) for k, v in out.items()}


def _liker_accounts(con: duckdb.DuckDBPyConnection, likes: dict) -> dict[tuple, tuple]:
    """Each (creator, account) with a like or unlike of the creator's videos, and whether
    the account is private now (None: no such account)."""
    private = dict(con.execute("SELECT account_id, is_private FROM accounts").fetchall())
    return {(c, actor): (private.get(actor),) for c, _video, _day, actor in likes}


def _follower_spans(con: duckdb.DuckDBPyConnection) -> dict[tuple, tuple]:
    """Walk each (creator, follower) history in time order, unfollows last at one instant."""
    people = {
        a: (gender, birth_year, country, city, opt_out)
        for a, gender, birth_year, country, city, opt_out in con.execute(
            "SELECT account_id, gender, birth_year, country, city, analytics_opt_out FROM accounts"
        ).fetchall()
    }
    history: dict = defaultdict(list)
    for follower, creator, ts, following in con.execute("SELECT * FROM follow_log").fetchall():
        history[(creator, follower)].append((ts, not following))
    out = {}
    for (creator, follower), acts in history.items():
        since = None
        spans = []
        for ts, unfollow in sorted(acts):
            if not unfollow and since is None:
                since = ts
            elif unfollow and since is not None:
                spans.append((since, ts))
                since = None
        if since is not None:
            spans.append((since, None))
        gender, birth_year, country, city, opt_out = people.get(follower, (None,) * 5)
        for begun, ended in spans:
            out[(creator, follower, begun)] = (
                ended,
                gender,
                birth_year,
                country,
                city,
                bool(opt_out),
            )
    return out
