"""Every public metric on a hand-made creator, through `run_query` and through `report --json`.

The data is `HAND_EVENTS` in tests/query/conftest.py: one creator in São Paulo (UTC-3), two
videos (10 s and 4 s), seven viewers, the period 2026-10-10..16 in the creator's local days.
Every expected figure below is worked out by hand from those events (the arithmetic is in
the comments), never read back from the code under test.

Plays of the creator's videos (local time; `p7`, `p11` and `p13` fall outside the period):

    id   viewer  video  local           watched   source     notes
    p1   ana     v1     Oct 10 10:00     3 000    for_you    exactly 3.000 s: a view
    p2   caio    v1     Oct 10 10:10     2 999    for_you    2.999 s: a play, not a view
    p3   ana     v1     Oct 10 23:50    25 000    following  loops 2.5 times (UTC: Oct 11)
    p4   bia     v1     Oct 11 00:10    10 000    search     just after local midnight
    p5   duda    v1     Oct 12 15:00     6 000    for_you    opted out of analytics
    p6   enzo    v2     Oct 12 15:30     4 000    hashtag    a minor; exactly the duration
    p8   fabi    v2     Oct 14 09:00     5 000    profile    returning (p7, Sep 30)
    p9   gabi    v2     Oct 14 10:00     2 000    following  as a follower
    p10  gabi    v2     Oct 16 09:00     3 500    for_you    after unfollowing
    p12  caio    v1     Oct 16 23:30     8 000    for_you    UTC: Oct 17; returning (p11)
    ---
    p7   fabi    v1     Sep 30 12:00     1 000               10 days before the period
    p11  caio    v2     Oct  9 23:55     4 000               UTC: Oct 10, previous period
    p13  bia     v1     Oct 17 00:30     5 000               after the period
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from creatorlens.load import ingest_into
from creatorlens.privacy.likers import visible_likers
from creatorlens.query import Filter, Query
from creatorlens.query.metrics import METRICS
from creatorlens.query.model import Period
from creatorlens.query.panels import read_panel
from creatorlens.query.planner import _fused, _plan, execute, execute_batch
from creatorlens.query.raw import VideoPositions
from creatorlens.store import Store
from creatorlens.studio.dashboard import OVERVIEW_METRICS
from tests.conftest import write_platform
from tests.query.conftest import (
    ANA,
    BIA,
    CREATOR,
    PERIOD,
    V1,
    V2,
    Report,
    account,
    act,
    con,
    creator_context,
    raw_context,
    report_json,
    run_query,
    view,
)

# The period's totals, one entry per public metric.
TOTALS = {
    # p1 p2 p3 p4 p5 p6 p8 p9 p10 p12
    "plays": 10,
    # all plays but p2 (2 999 ms) and p9 (2 000 ms): 10 - 2
    "views": 8,
    # 3000 + 2999 + 25000 + 10000 + 6000 + 4000 + 5000 + 2000 + 3500 + 8000
    "total_watch_ms": 69_499,
    # p3 (25 000 ≥ 10 000), p4 (10 000 ≥ 10 000), p6 (4 000 ≥ 4 000), p8 (5 000 ≥ 4 000)
    "full_watches": 4,
    # l1 ana, l2 bia, l3 caio, l4 gabi (o2 is on the other creator's video)
    "likes_gross": 4,
    # u4 gabi
    "unlikes": 1,
    # 4 - 1
    "likes": 3,
    # c1, c2 (a reply counts)
    "comments": 2,
    # s1 whatsapp, s2 copy_link, s3 whatsapp
    "shares": 3,
    # sv1
    "saves": 1,
    # d1 (on v1)
    "duets": 1,
    # st1 (on v2)
    "stitches": 1,
    # pv1 (Oct 12), pv2 (Oct 16); pv3 is in the previous period, o3 is the other creator's
    "profile_views": 2,
    # f2 ana, f3 bia (f1 gabi was Oct 8)
    "followers_gained": 2,
    # f4 gabi
    "followers_lost": 1,
    # 2 - 1
    "followers_net": 1,
    # following at the end of Oct 16: ana, bia (gabi followed Oct 8 and left Oct 15)
    "followers_total": 2,
    # 69 499 / 10 plays
    "avg_watch_ms": 6_949.9,
    # 4 full watches / 10 plays
    "full_watch_rate": 0.4,
    # ana, caio, bia, duda (opted out, still counted), enzo, fabi, gabi
    "reach": 7,
    # liked, commented or shared: ana, bia, caio, gabi (liked, then unliked), enzo, fabi
    "engaged_audience": 6,
    # ana, bia, duda, enzo, gabi: no play in the 365 days before Oct 10
    "new_viewers": 5,
    # fabi (p7, Sep 30) and caio (p11, Oct 9 23:55 local)
    "returning_viewers": 2,
    # gabi at p9 (followed Oct 8, unfollowed Oct 15)
    "follower_viewers": 1,
    # ana (followed only after p1 and p3), caio, bia (followed after p4), duda, enzo, fabi,
    # and gabi at p10
    "non_follower_viewers": 7,
}

# The previous period, Oct 3-9 local: p11 (v2, 4 000 ms), pv3, f1.
PREVIOUS_TOTALS = {
    **{name: 0 for name in TOTALS},
    "plays": 1,
    "views": 1,
    "total_watch_ms": 4_000,
    "full_watches": 1,  # 4 000 ≥ 4 000
    "profile_views": 1,
    "followers_gained": 1,
    "followers_net": 1,
    "followers_total": 1,  # gabi, at the end of Oct 9
    "avg_watch_ms": 4_000.0,  # 4 000 / 1
    "full_watch_rate": 1.0,  # 1 / 1
    "reach": 1,  # caio
    "new_viewers": 1,  # caio had not played before Oct 3 (p7 was fabi)
    "non_follower_viewers": 1,
}

# Per video. v1: p1 p2 p3 p4 p5 p12; v2: p6 p8 p9 p10.
BY_VIDEO = {
    V1: {
        "plays": 6,
        "views": 5,  # all but p2
        "total_watch_ms": 54_999,  # 3000 + 2999 + 25000 + 10000 + 6000 + 8000
        "full_watches": 2,  # p3, p4
        "likes_gross": 4,
        "unlikes": 1,
        "likes": 3,
        "comments": 2,
        "shares": 2,  # s1, s2
        "saves": 1,
        "duets": 1,
        "stitches": 0,
        "avg_watch_ms": 9_166.5,  # 54 999 / 6
        "full_watch_rate": 2 / 6,
        "reach": 4,  # ana, caio, bia, duda
        "engaged_audience": 5,  # ana, bia, caio, gabi, enzo (s1)
        "new_viewers": 3,  # ana, bia, duda
        "returning_viewers": 1,  # caio (p11 was on v2: any of the creator's videos counts)
        "follower_viewers": 0,
        "non_follower_viewers": 4,
    },
    V2: {
        "plays": 4,
        "views": 3,  # all but p9
        "total_watch_ms": 14_500,  # 4000 + 5000 + 2000 + 3500
        "full_watches": 2,  # p6, p8
        "likes_gross": 0,
        "unlikes": 0,
        "likes": 0,
        "comments": 0,
        "shares": 1,  # s3
        "saves": 0,
        "duets": 0,
        "stitches": 1,
        "avg_watch_ms": 3_625.0,  # 14 500 / 4
        "full_watch_rate": 0.5,  # 2 / 4
        "reach": 3,  # enzo, fabi, gabi
        "engaged_audience": 1,  # fabi (s3)
        "new_viewers": 2,  # enzo, gabi
        "returning_viewers": 1,  # fabi (p7 was on v1)
        "follower_viewers": 1,  # gabi at p9
        "non_follower_viewers": 3,  # enzo, fabi, gabi at p10
    },
}

# By local day: (views, plays, likes, comments, shares, profile_views, followers_net, reach).
DAILY = {
    "2026-10-10": (2, 3, 0, 0, 0, 0, 0, 2),  # p1 p2 p3 (p3 is Oct 11 in UTC); ana, caio
    "2026-10-11": (1, 1, 1, 1, 0, 0, 0, 1),  # p4 (00:10), l1, c1; bia
    "2026-10-12": (2, 2, 0, 1, 1, 1, 1, 2),  # p5 p6, c2, s1, pv1, f2; duda, enzo
    "2026-10-13": (0, 0, 2, 0, 1, 0, 1, 0),  # l2 l3, s2, f3
    "2026-10-14": (1, 2, 0, 0, 1, 0, 0, 2),  # p8 p9, l4 - u4, s3; fabi, gabi
    "2026-10-15": (0, 0, 0, 0, 0, 0, -1, 0),  # f4 (d1 and st1 are no daily metric here)
    "2026-10-16": (2, 2, 0, 0, 0, 1, 0, 2),  # p10 p12 (p12 is Oct 17 in UTC), pv2; gabi, caio
}
DAILY_METRICS = (
    "views",
    "plays",
    "likes",
    "comments",
    "shares",
    "profile_views",
    "followers_net",
    "reach",
)
# Watch time by local day: Oct 10 3000 + 2999 + 25000; Oct 12 6000 + 4000; Oct 14 5000 + 2000;
# Oct 16 3500 + 8000.
DAILY_WATCH_MS = {
    "2026-10-10": 30_999,
    "2026-10-11": 10_000,
    "2026-10-12": 10_000,
    "2026-10-14": 7_000,
    "2026-10-16": 11_500,
}
# Plays by local hour: 00 p4; 09 p8 p10; 10 p1 p2 p9; 15 p5 p6; 23 p3 p12.
PLAYS_BY_HOUR = {0: 1, 9: 2, 10: 3, 15: 2, 23: 2}
# By traffic source: (plays, views, total_watch_ms).
BY_SOURCE = {
    "for_you": (5, 4, 23_499),  # p1 p2 p5 p10 p12; p2 is no view; 3000+2999+6000+3500+8000
    "following": (2, 1, 27_000),  # p3 p9; p9 is no view; 25000 + 2000
    "search": (1, 1, 10_000),  # p4
    "hashtag": (1, 1, 4_000),  # p6
    "profile": (1, 1, 5_000),  # p8
}
SHARES_BY_CHANNEL = {"whatsapp": 2, "copy_link": 1}  # s1 s3, s2
# Followers at the end of each local day: 1 (gabi) before the period; +ana Oct 12, +bia Oct 13,
# -gabi Oct 15.
FOLLOWERS_BY_DAY = [1, 1, 2, 3, 3, 2, 2]


def retention_by_hand(watched: list[int], duration: int) -> list[float]:
    """Share of the plays that reached each whole second, from 0 to the end."""
    return [
        round(sum(w >= t for w in watched) / len(watched), 4) for t in range(0, duration + 1, 1000)
    ]


# The plays of each video in the period, as listed in the module docstring.
WATCHED = {V1: [3_000, 2_999, 25_000, 10_000, 6_000, 8_000], V2: [4_000, 5_000, 2_000, 3_500]}
# v2 by hand: at 0, 1 and 2 s all 4 plays are still watching; at 3 s the 2 000 ms play has
# stopped (3/4); at 4 s also the 3 500 ms one (2/4: the 4 000 and 5 000 ms plays).
RETENTION_V2 = [1.0, 1.0, 1.0, 0.75, 0.5]
# v1 (6 plays): 2 999 stops before 3 s, 3 000 before 4 s, 6 000 before 7 s, 8 000 before 9 s.
RETENTION_V1 = [1.0, 1.0, 1.0, 5 / 6, 4 / 6, 4 / 6, 4 / 6, 3 / 6, 3 / 6, 2 / 6, 2 / 6]


def approx(values):
    return pytest.approx(values, rel=1e-9, abs=1e-4)


@pytest.fixture(scope="module")
def ctx(hand_db: Path):
    with creator_context(hand_db, CREATOR) as (context, _latest):
        yield context


@pytest.fixture(scope="module")
def report(hand_db: Path) -> Report:
    return report_json(
        hand_db, CREATOR, "--from", str(PERIOD.start), "--to", str(PERIOD.end), "--compare"
    )


def query(metrics, dimensions=(), filters=(), compare=False) -> Query:
    return Query(CREATOR, tuple(metrics), PERIOD, tuple(dimensions), tuple(filters), compare)


def test_a_store_kept_open_serves_one_creator_context_after_another(hand_db: Path) -> None:
    # As a server keeps the store open: each context reads it on a connection of its own,
    # the dashboard on two more, and closing them leaves the store's connection working.
    with Store.open(hand_db, read_only=True) as server:
        for _ in range(2):
            with creator_context(server, CREATOR) as (context, _latest):
                result = run_query(context, query(METRICS, compare=True))
                assert result.totals == shown(TOTALS)
                assert result.comparison == shown(PREVIOUS_TOTALS)
                dashboard = context.dashboard(PERIOD)
                assert dashboard.overview.totals == {m: shown(TOTALS)[m] for m in OVERVIEW_METRICS}
        assert server.con.execute("SELECT count(*) FROM accounts").fetchone()[0] > 0


def test_reads_made_together_equal_reads_made_one_by_one(ctx) -> None:
    # One statement for several queries (as a dashboard panel reads them): dimensions of
    # every type (a date, an hour, text), filters, a person breakdown and two periods.
    before = Period(PERIOD.start - (PERIOD.end - PERIOD.start), PERIOD.start, "before")
    long_ago = Period(PERIOD.start - timedelta(days=400), PERIOD.start - timedelta(days=390), "x")
    on_v1 = (Filter("video", "is", (V1,)),)
    reads = [
        (query(("plays", "views", "reach", "new_viewers")), PERIOD.start, PERIOD.end),
        (query(("plays", "views", "reach")), before.start, before.end),
        (query(("plays", "likes", "reach"), ("day",)), PERIOD.start, PERIOD.end),
        (query(("plays",), ("hour",)), PERIOD.start, PERIOD.end),
        (query(("reach", "views"), ("country",)), PERIOD.start, PERIOD.end),
        (query(("plays", "views"), ("source",), on_v1), PERIOD.start, PERIOD.end),
        (query(("shares",), ("channel",), on_v1), PERIOD.start, PERIOD.end),
        # Breakdowns by one attribute each, read in one pass per source (below).
        (query(("reach", "views"), ("age",)), PERIOD.start, PERIOD.end),
        (query(("reach", "views"), ("gender",)), PERIOD.start, PERIOD.end),
        (query(("plays",), ("city",)), PERIOD.start, PERIOD.end),
        (query(("plays",), ("language",)), PERIOD.start, PERIOD.end),
        (query(("plays",), ("city",), on_v1), PERIOD.start, PERIOD.end),
        (query(("reach", "views"), ("gender",)), before.start, before.end),
        (query(("plays", "likes"), (), on_v1), PERIOD.start, PERIOD.end),
        (query(("views", "total_watch_ms"), ("day",), on_v1), PERIOD.start, PERIOD.end),
        (query(("plays", "views"), (), on_v1), long_ago.start, long_ago.end),
    ]
    passes = _fused([_plan(q) for q, _, _ in reads], [(s, e) for _, s, e in reads])
    assert ("dims", [(4, "viewer_values"), (7, "viewer_values"), (8, "viewer_values")]) in passes
    assert ("dims", [(4, "audience"), (7, "audience"), (8, "audience")]) in passes
    assert ("dims", [(9, "audience"), (10, "audience")]) in passes
    # Sums by day: both periods' totals and the daily series in one pass; a filtered read
    # and a period with no plays at all (its sums are NULL, as SQL's are) in another.
    assert ("days", [(0, "video_hourly"), (1, "video_hourly"), (2, "video_hourly")]) in passes
    assert ("days", [(13, "video_hourly"), (14, "video_hourly"), (15, "video_hourly")]) in passes
    together = execute_batch(raw_context(ctx), reads)
    alone = [execute_batch(raw_context(ctx), [read])[0] for read in reads]

    def unordered(results):  # raw rows come in no order; queries order them later
        return [(sorted(r.rows, key=repr), r.people) for r in results]

    assert unordered(together) == unordered(alone)
    assert together[0].rows[0]["plays"] == TOTALS["plays"]
    assert sum(r["plays"] for r in together[2].rows) == TOTALS["plays"]
    assert together[15].rows[0]["plays"] is None
    assert {type(r["hour"]) for r in together[3].rows} == {int}


def test_every_metric_has_a_hand_figure() -> None:
    assert set(TOTALS) == set(METRICS)
    assert set(PREVIOUS_TOTALS) == set(METRICS)


# Follows are public, so splits by follower status need k_min followers; this creator has
# two. Their definitions are checked before the privacy layer (`definition`), and the
# creator-facing answers are checked to withhold them.
FOLLOWER_SPLIT = ("follower_viewers", "non_follower_viewers")


# Named likers and commenters are counted with anonymous sharers in the engaged audience, so
# under cell_min (as every hand figure is) it is withheld.
WITHHELD = (*FOLLOWER_SPLIT, "engaged_audience")


def shown(expected: dict) -> dict:
    """The hand figures as the creator sees them: follower splits and the engaged audience
    withheld."""
    return {m: None if m in WITHHELD else approx(v) for m, v in expected.items()}


def retention_curve(studio, video_id: str, period: Period) -> list[dict]:
    """The released retention curve of a video."""
    panel = studio.panel(VideoPositions(CREATOR, video_id, period))
    return [vars(p) for p in panel.retention]


def like_positions(studio, video_id: str, period: Period) -> dict:
    """Likes by position before the release stage: the definition alone."""
    raw = read_panel(raw_context(studio), VideoPositions(CREATOR, video_id, period))
    placed = dict(raw.likes)
    return {
        "seconds": [placed.get(b, 0) for b in range(-(-raw.duration_ms // 1000))]
        if any(b is not None for b in placed)
        else [],
        "outside_play": placed.get(None, 0),
    }


def definition(ctx, q) -> list[dict]:
    """The metric computed before the privacy layer, to check its definition alone."""
    return execute(raw_context(ctx), q, q.period.start, q.period.end).rows


def test_totals_of_every_metric(ctx) -> None:
    result = run_query(ctx, query(METRICS, compare=True))
    assert result.totals == (shown(TOTALS))
    assert result.comparison == (shown(PREVIOUS_TOTALS))
    assert result.rows == []
    assert [w.reason for w in result.withheld] == [
        "engaged audience under cell_min",
        "follower population below k_min",
    ]


def test_follower_split_definitions(ctx) -> None:
    (row,) = definition(ctx, query(FOLLOWER_SPLIT))
    assert row == {m: TOTALS[m] for m in FOLLOWER_SPLIT}
    by_video = {r["video"]: r for r in definition(ctx, query(FOLLOWER_SPLIT, ("video",)))}
    for video, expected in BY_VIDEO.items():
        assert {m: by_video[video][m] for m in FOLLOWER_SPLIT} == {
            m: expected[m] for m in FOLLOWER_SPLIT
        }


def test_a_play_of_exactly_3_s_is_a_view_and_2999_ms_is_not(ctx) -> None:
    # Oct 10, 10:00-10:59 local: p1 (3 000 ms) and p2 (2 999 ms).
    only = (Filter("day", "is", ("2026-10-10",)), Filter("hour", "is", ("10",)))
    result = run_query(ctx, query(("plays", "views", "total_watch_ms"), (), only))
    assert result.totals == {"plays": 2, "views": 1, "total_watch_ms": 5_999}


def test_per_video(ctx) -> None:
    metrics = tuple(BY_VIDEO[V1])
    result = run_query(ctx, query(metrics, ("video",)))
    assert [row["video"] for row in result.rows] == sorted(BY_VIDEO)
    for row in result.rows:
        assert {m: row[m] for m in metrics} == (shown(BY_VIDEO[row["video"]])), row["video"]


def test_by_local_day(ctx) -> None:
    result = run_query(ctx, query((*DAILY_METRICS, "total_watch_ms"), ("day",)))
    days = {row["day"]: tuple(row[m] for m in DAILY_METRICS) for row in result.rows}
    assert {d: v for d, v in days.items() if any(v)} == DAILY
    watch = {row["day"]: row["total_watch_ms"] for row in result.rows if row["total_watch_ms"]}
    assert watch == DAILY_WATCH_MS
    assert [row["day"] for row in result.rows] == sorted(days)  # a series, in date order


def test_reach_by_day_counts_each_day_apart(ctx) -> None:
    # 2 + 1 + 2 + 2 + 2 = 9 viewer-days, though only 7 distinct viewers over the period.
    result = run_query(ctx, query(("reach",), ("day",)))
    assert sum(row["reach"] for row in result.rows) == 9
    assert result.totals["reach"] == 7


def test_by_local_hour(ctx) -> None:
    result = run_query(ctx, query(("plays",), ("hour",)))
    assert {row["hour"]: row["plays"] for row in result.rows if row["plays"]} == PLAYS_BY_HOUR


def test_by_traffic_source(ctx) -> None:
    result = run_query(ctx, query(("plays", "views", "total_watch_ms"), ("source",)))
    got = {r["source"]: (r["plays"], r["views"], r["total_watch_ms"]) for r in result.rows}
    assert got == BY_SOURCE


def test_shares_by_channel(ctx) -> None:
    result = run_query(ctx, query(("shares",), ("channel",)))
    assert {row["channel"]: row["shares"] for row in result.rows} == SHARES_BY_CHANNEL


def test_by_follower_status(ctx) -> None:
    # follower: p9 (gabi). non_follower: the other 9 plays, by all 7 viewers (gabi at p10).
    rows = definition(ctx, query(("plays", "reach"), ("follower_status",)))
    got = {row["follower_status"]: (row["plays"], row["reach"]) for row in rows}
    assert got == {"follower": (1, 1), "non_follower": (9, 7)}
    # Two followers: the creator is told the split is withheld, not who watched.
    result = run_query(ctx, query(("plays", "reach"), ("follower_status",)))
    assert result.rows == []
    assert [w.reason for w in result.withheld] == ["follower population below k_min"]


# By a viewer's attributes at the play, duda (opted out) left out: (plays, views, watch
# time, reach). Genders: ana, bia, fabi female; caio, enzo male; gabi other. Countries: caio
# PT, fabi US, the rest BR. Ages in 2026: ana 36, bia 31, caio 26, enzo 14, fabi 23, gabi 56.
BY_ATTRIBUTE = {
    "gender": {
        "female": (4, 4, 3_000 + 25_000 + 10_000 + 5_000, 3),  # p1 p3 p4 p8
        "male": (3, 2, 2_999 + 8_000 + 4_000, 2),  # p2 (2.999 s) p12 p6
        "other": (2, 1, 2_000 + 3_500, 1),  # p9 (2 s) p10
    },
    "country": {
        "BR": (6, 5, 3_000 + 25_000 + 10_000 + 4_000 + 2_000 + 3_500, 4),  # p1 p3 p4 p6 p9 p10
        "PT": (2, 1, 2_999 + 8_000, 1),  # p2 p12
        "US": (1, 1, 5_000, 1),  # p8
    },
    "age": {
        "35-44": (2, 2, 28_000, 1),  # ana p1 p3
        "25-34": (3, 2, 10_000 + 2_999 + 8_000, 2),  # bia p4, caio p2 p12
        "18-24": (1, 1, 5_000, 1),  # fabi p8
        "13-17": (1, 1, 4_000, 1),  # enzo p6
        "55+": (2, 1, 5_500, 1),  # gabi p9 p10
    },
}


@pytest.mark.parametrize("dimension", sorted(BY_ATTRIBUTE))
def test_by_a_viewers_attribute_definition(ctx, dimension: str) -> None:
    metrics = ("plays", "views", "total_watch_ms", "reach")
    rows = definition(ctx, query(metrics, (dimension,)))
    assert {r[dimension]: tuple(r[m] for m in metrics) for r in rows} == BY_ATTRIBUTE[dimension]


def test_filters_narrow_totals(ctx) -> None:
    # v2 only: p6 p8 p9 p10. Not for_you: p3 p4 p6 p8 p9.
    on_v2 = run_query(ctx, query(("plays", "reach"), (), (Filter("video", "is", (V2,)),)))
    assert on_v2.totals == {"plays": 4, "reach": 3}
    not_fyp = run_query(
        ctx, query(("plays", "views"), (), (Filter("source", "is_not", ("for_you",)),))
    )
    assert not_fyp.totals == {"plays": 5, "views": 4}


def test_retention_curve(ctx) -> None:
    v2 = retention_curve(ctx, V2, PERIOD)
    assert [p["at_ms"] for p in v2] == [0, 1000, 2000, 3000, 4000]
    assert [p["share"] for p in v2] == approx(RETENTION_V2)
    assert RETENTION_V2 == retention_by_hand(WATCHED[V2], 4_000)
    v1 = retention_curve(ctx, V1, PERIOD)
    assert [p["at_ms"] for p in v1] == list(range(0, 10_001, 1000))
    assert [p["share"] for p in v1] == approx(RETENTION_V1)
    assert approx(RETENTION_V1) == retention_by_hand(WATCHED[V1], 10_000)


def test_likes_by_second_of_likes_made_outside_any_play(ctx) -> None:
    # V1's four likes in the period (l1-l4) all came hours after the liker's last play.
    assert like_positions(ctx, V1, PERIOD) == {"seconds": [], "outside_play": 4}
    # Four likers are under cell_min: the creator is not told where, or whether, they played.
    released = ctx.panel(VideoPositions(CREATOR, V1, PERIOD))
    assert (released.likes_by_second, released.outside_play) == ([], None)
    assert [w.reason for w in released.withheld] == ["likers under cell_min"]


def test_likes_by_second_places_each_like_in_its_play(tmp_path: Path) -> None:
    # A 15 s video; ana plays it from 12:00:00 for 31 s (two loops and a bit), bia for 4 s.
    ana, bia = "ana", "bia"
    events = [
        view("p1", ana, V1, "2026-10-12T12:00:00Z", 31_000, "for_you"),
        act("l1", "like", ana, "2026-10-12T12:00:20Z", video_id=V1),  # 20 s in: second 5
        view("p2", bia, V1, "2026-10-12T13:00:00Z", 4_000, "for_you"),
        act("l2", "like", bia, "2026-10-12T13:00:04Z", video_id=V1),  # the play's last instant
        act("l3", "like", "cris", "2026-10-12T13:00:02Z", video_id=V1),  # no play of cris
    ]
    db = tmp_path / "store.duckdb"
    video = {"video_id": V1, "creator_id": CREATOR, "posted_at": "2026-10-01T00:00:00Z",
             "duration_ms": 15_000}  # fmt: skip
    ingest_into(db, write_platform(tmp_path, [account(CREATOR, kind="creator")], [video], events))
    expected = [0] * 15
    expected[5] = expected[4] = 1
    with creator_context(db, CREATOR) as (context, _latest):
        liked = like_positions(context, V1, PERIOD)
    assert liked["seconds"] == expected
    assert liked["outside_play"] == 1


def test_returning_viewers_look_back_a_year_from_the_period_start(tmp_path: Path) -> None:
    # The creator is in UTC-3. Ana plays on Jan 1 2025 and on Jan 6 2026, 370 days later.
    # A 28-day period from Dec 27 2025: Jan 1 2025 is 360 days before it starts, so ana is
    # returning, though her day in the period is more than a year after her last play.
    events = [
        view("p1", "ana", V1, "2025-01-01T15:00:00Z", 5_000, "for_you"),
        view("p2", "ana", V1, "2026-01-06T15:00:00Z", 5_000, "for_you"),
    ]
    db = tmp_path / "store.duckdb"
    video = {"video_id": V1, "creator_id": CREATOR, "posted_at": "2024-12-01T00:00:00Z",
             "duration_ms": 10_000}  # fmt: skip
    ingest_into(db, write_platform(tmp_path, [account(CREATOR, kind="creator")], [video], events))
    metrics = ("reach", "new_viewers", "returning_viewers")
    near = Period(date(2025, 12, 27), date(2026, 1, 23), "28 days")
    # A custom period of 455 days holding both plays: one viewer, new (nothing before it).
    long = Period(date(2025, 1, 1), date(2026, 3, 31), "455 days")
    only_v1 = (Filter("video", "is", (V1,)),)  # read from the audience rollup instead
    with creator_context(db, CREATOR) as (context, _latest):
        for filters in ((), only_v1):
            for period, new, returning in ((near, 0, 1), (long, 1, 0)):
                q = Query(CREATOR, metrics, period, (), filters)
                assert execute(raw_context(context), q, period.start, period.end).rows == [
                    {"reach": 1, "new_viewers": new, "returning_viewers": returning}
                ]


def test_likers(ctx) -> None:
    # ana (public) and bia (private, approved the creator) are named, newest like first;
    # caio (private, never approved) is counted only; gabi unliked, so is not a liker.
    likers = visible_likers(con(ctx), V1)
    assert likers.named == [BIA, ANA]
    assert likers.others == 1
    assert visible_likers(con(ctx), V2).named == []


# --- the same figures through `creatorlens report --json` -----------------------------------

# Metrics the report does not show, each for a reason: everything else is checked below.
NOT_IN_REPORT = {"full_watches", "likes_gross", "unlikes", "duets", "stitches"}


def test_report_covers_the_metrics() -> None:
    shown = set(OVERVIEW_METRICS) | {"followers_total"}
    assert shown | NOT_IN_REPORT == set(METRICS)


def test_report_overview(report: Report) -> None:
    overview = report.data["overview"]
    assert report.data["period"]["from"] == "2026-10-10"
    assert report.data["period"]["to"] == "2026-10-16"
    assert overview["totals"] == {m: shown(TOTALS)[m] for m in OVERVIEW_METRICS}
    assert overview["previous"] == {m: shown(PREVIOUS_TOTALS)[m] for m in OVERVIEW_METRICS}
    assert overview["change"]["plays"] == approx(9.0)  # (10 - 1) / 1
    assert overview["change"]["likes"] is None  # nothing to compare with


def test_report_daily_series(report: Report) -> None:
    daily = report.data["overview"]["daily"]
    assert [row["day"] for row in daily] == list(DAILY)  # every day, empty ones included
    assert {row["day"]: tuple(row[m] for m in DAILY_METRICS) for row in daily} == DAILY


def test_report_traffic_sources(report: Report) -> None:
    sources = report.data["overview"]["traffic_sources"]
    assert {r["source"]: (r["plays"], r["views"]) for r in sources} == {
        s: (plays, views) for s, (plays, views, _) in BY_SOURCE.items()
    }
    assert sources[0]["source"] == "for_you"  # most plays first


def test_report_videos(report: Report) -> None:
    videos = report.data["videos"]
    assert [v["video"] for v in videos] == [V1, V2]  # by views: 5, 3
    for video in videos:
        expected = shown(BY_VIDEO[video["video"]])
        present = {m: video[m] for m in expected if m in video}
        assert present == {m: expected[m] for m in present}
    v1, v2 = videos
    assert v1["duration_ms"] == 10_000
    assert {r["channel"]: r["shares"] for r in v1["share_channels"]} == {
        "whatsapp": 1,
        "copy_link": 1,
    }
    # v1's plays by source: for_you p1 p2 p5 p12, following p3, search p4.
    assert {r["source"]: r["plays"] for r in v1["traffic_sources"]} == {
        "for_you": 4,
        "following": 1,
        "search": 1,
    }
    assert [p["share"] for p in v1["retention"]] == approx(RETENTION_V1)
    assert [p["share"] for p in v2["retention"]] == approx(RETENTION_V2)
    assert v1["likers"] == {"named": [BIA, ANA], "others": 1}
    assert v2["likers"] == {"named": [], "others": 0}


def test_report_followers(report: Report) -> None:
    followers = report.data["followers"]
    assert {k: followers[k] for k in TOTALS if k.startswith("followers_")} == {
        k: TOTALS[k] for k in TOTALS if k.startswith("followers_")
    }
    assert [row["followers_total"] for row in followers["growth"]] == FOLLOWERS_BY_DAY
    # Followers' plays by weekday and hour would show only p9 (Wednesday Oct 14, 10:00
    # local): with two (public) followers that would say when a known person watched.
    assert followers["activity"] == []
    # Two followers: every demographic breakdown is withheld.
    for name in ("gender", "age", "country", "city"):
        assert followers[name]["rows"] == []
        assert "k_min" in followers[name]["withheld"][0]["reason"]


def test_report_audience_of_seven_is_withheld(report: Report) -> None:
    for dim, panel in report.data["overview"]["audience"].items():
        assert panel["rows"] == [], dim
        assert any("k_min" in w["reason"] for w in panel["withheld"]), dim
