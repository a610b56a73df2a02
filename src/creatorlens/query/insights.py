"""The declared panel queries insights need (issue 18): what each asks, its raw answer, its read.

Read from the rollups, the videos the creators described, and the comment sentiment scored
at refresh (`rollup.sentiment`). Each raw answer is true counts for the release stage
(`privacy.insights`), which alone decides what a creator may see; the platform-wide ones
(trending, the niche) carry other creators' figures that never leave it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from creatorlens.query.model import Period
from creatorlens.query.runner import Context
from creatorlens.rollup.platform import (
    BEFORE_DAYS,
    CREATORS,
    CREATORS_SQL,
    RECENT_DAYS,
    TRENDING,
    TRENDING_SQL,
    creators_params,
    platform_latest,
    stored_end,
    trending_params,
)
from creatorlens.rollup.sentiment import TABLE, has_sentiment

# Follower-size bands of the niche benchmark: [low, high) followers at the period's end.
FOLLOWER_BANDS = ((0, 1_000), (1_000, 10_000), (10_000, 100_000), (100_000, 1_000_000),
                  (1_000_000, None))  # fmt: skip
TRENDING_RECENT_DAYS = RECENT_DAYS
TRENDING_BEFORE_DAYS = BEFORE_DAYS


def band_of(followers: int) -> tuple[int, int | None]:
    """The follower-size band a follower count falls in."""
    for low, high in FOLLOWER_BANDS:
        if high is None or followers < high:
            return low, high
    return FOLLOWER_BANDS[-1]


# --- the creator's own videos ----------------------------------------------------------------


@dataclass(frozen=True)
class VideoTraits:
    """What the creator wrote about every video: post time, length, hashtags, sound."""

    creator_id: str


@dataclass(frozen=True)
class RawVideoTraits:
    question: VideoTraits
    # video id -> posted_at (UTC), duration_ms, hashtags, sound_id, category
    videos: dict[str, tuple[datetime, int, tuple[str, ...], str | None, str | None]]


def read_video_traits(ctx: Context, q: VideoTraits) -> RawVideoTraits:
    rows = ctx.con.execute(
        "SELECT video_id, posted_at, duration_ms, hashtags, sound_id, category FROM videos "
        "WHERE creator_id = ?",
        [q.creator_id],
    ).fetchall()
    return RawVideoTraits(q, {v: (p, int(d), tuple(h or ()), s, c) for v, p, d, h, s, c in rows})


@dataclass(frozen=True)
class VideoAgeHours:
    """Views and shares of each of the creator's videos by the video's age in hours (from its
    posting), for ages under `max_age_h`, over the local days `since`..`until`."""

    creator_id: str
    since: date
    until: date
    max_age_h: int = 168


@dataclass(frozen=True)
class RawVideoAgeHours:
    question: VideoAgeHours
    rows: tuple[tuple[str, int, int, int], ...]  # (video, age hour, views, shares)
    # Each video's age at the creator's latest hour with data (the "now" of an alert).
    age_now: dict[str, int]
    # Each video's age at the first hour read (0 when posted inside the days read).
    first_age: dict[str, int]
    # The creator's latest hour with data, on the local wall clock (None: no data read).
    latest_hour: datetime | None = None


# The creator-local wall clock of each rollup hour against the video's local posting time,
# for the videos young enough to have such hours in the days read.
_AGE_HOURS = """
WITH posted AS (
    SELECT video_id, timezone($tz, posted_at) AS local_posted FROM videos
    WHERE creator_id = $c AND posted_at >= $young
),
hours AS (
    SELECT r.video_id, r.local_date + to_hours(r.local_hour) AS hour_at, p.local_posted,
           r.views, r.shares
    FROM rollup_video_hourly r JOIN posted p USING (video_id)
    WHERE r.creator_id = $c AND r.local_date BETWEEN $s AND $e
      -- Only the days a video is young on (its age under max_age hours, a day of margin).
      AND r.local_date <= CAST(p.local_posted AS DATE) + $days
)
SELECT video_id, date_diff('hour', date_trunc('hour', local_posted), hour_at) AS age,
       sum(views), sum(shares), local_posted
FROM hours GROUP BY ALL HAVING age < $max_age
"""
_LATEST_HOUR = """
SELECT max(local_date + to_hours(local_hour)) FROM rollup_video_hourly
WHERE creator_id = $c AND local_date BETWEEN $s AND $e
"""


def read_video_age_hours(ctx: Context, q: VideoAgeHours) -> RawVideoAgeHours:
    # Posted at most max_age_h before the first day read (a day of margin for time zones).
    young = datetime.combine(q.since, datetime.min.time(), UTC) - timedelta(hours=q.max_age_h + 24)
    params = {"c": q.creator_id, "tz": ctx.timezone, "s": q.since, "e": q.until}
    latest = ctx.con.execute(_LATEST_HOUR, {"c": q.creator_id, "s": q.since, "e": q.until})
    latest = latest.fetchone()[0]
    if latest is None:
        return RawVideoAgeHours(q, (), {}, {})
    days = q.max_age_h // 24 + 1
    read = ctx.con.execute(
        _AGE_HOURS, {**params, "young": young, "max_age": q.max_age_h, "days": days}
    )
    rows, age_now, first_age = [], {}, {}
    since = datetime.combine(q.since, datetime.min.time())
    for video, age, views, shares, posted in read.fetchall():
        if video not in age_now:
            hour = posted.replace(minute=0, second=0, microsecond=0)
            age_now[video] = int((latest - hour).total_seconds() // 3600)
            first_age[video] = max(0, int((since - hour).total_seconds() // 3600))
        if age >= 0:
            rows.append((video, int(age), int(views), int(shares)))
    return RawVideoAgeHours(q, tuple(sorted(rows)), age_now, first_age, latest)


# --- comment sentiment (scored at refresh) ----------------------------------------------------


@dataclass(frozen=True)
class CommentSentiment:
    """The creator's comments in the period by label, per video and local day, and the words
    of each label's comments."""

    creator_id: str
    period: Period


@dataclass(frozen=True)
class RawCommentSentiment:
    question: CommentSentiment
    scored: bool  # False: the store's comments were never scored (no refresh since)
    counts: tuple[tuple[str | None, date, str, int], ...]  # (video, day, label, comments)
    # (label, word, distinct comments, distinct videos): what themes are made of.
    words: tuple[tuple[str, str, int, int], ...]


_SENTIMENT = f"""
SELECT video_id, CAST(timezone($tz, ts) AS DATE) AS day, label, count(*)
FROM {TABLE}
WHERE creator_id = $c AND ts >= timezone($tz, $s::TIMESTAMP)
  AND ts < timezone($tz, ($e + INTERVAL 1 DAY)::TIMESTAMP)
GROUP BY ALL
"""
_WORDS = f"""
SELECT label, word, count(*) AS comments, count(DISTINCT video_id) AS videos FROM (
    SELECT label, video_id, unnest(words) AS word FROM {TABLE}
    WHERE creator_id = $c AND label IN ('positive', 'negative')
      AND ts >= timezone($tz, $s::TIMESTAMP)
      AND ts < timezone($tz, ($e + INTERVAL 1 DAY)::TIMESTAMP)
)
GROUP BY label, word
-- The most used words of each label (those of one comment included, so the release can
-- say it left some out).
QUALIFY row_number() OVER (PARTITION BY label ORDER BY count(*) DESC, word) <= $per_label
ORDER BY label, comments DESC, word
"""
THEME_WORDS_READ = 50  # per label: more than the release ever shows


def read_comment_sentiment(ctx: Context, q: CommentSentiment) -> RawCommentSentiment:
    if not has_sentiment(ctx.con):
        return RawCommentSentiment(q, False, (), ())
    params = {"c": q.creator_id, "tz": ctx.timezone, "s": q.period.start, "e": q.period.end}
    counts = tuple(
        (v, d, label, int(n)) for v, d, label, n in ctx.con.execute(_SENTIMENT, params).fetchall()
    )
    words = ctx.con.execute(_WORDS, {**params, "per_label": THEME_WORDS_READ}).fetchall()
    return RawCommentSentiment(
        q, True, counts, tuple((a, w, int(n), int(m)) for a, w, n, m in words)
    )


# --- the platform: trending and the niche ----------------------------------------------------


@dataclass(frozen=True)
class TrendingTags:
    """Sounds and hashtags over all creators: use and views in the 7 local days up to `end`
    (None: the platform's latest day) against the 28 before."""

    creator_id: str  # who asks (the answer is the platform's, the same for everyone)
    end: date | None = None
    # Read only items that many creators used, and the best `limit` per kind by growth:
    # with `min_creators` at most k_min, no item the release could show is left unread
    # (it shows none whose true count is under k_min).
    min_creators: int = 2
    limit: int = 500


@dataclass(frozen=True)
class RawTrendingTags:
    question: TrendingTags
    end: date | None
    # (kind "sound" | "hashtag", name, creators using it in the 35 days, views recent,
    #  views before, videos posted recent, videos posted before)
    rows: tuple[tuple[str, str, int, int, int, int, int], ...]
    fewer: int = 0  # items used by fewer than min_creators creators (not read)


# The candidates of the list: the fastest growing items that enough creators used.
_TRENDING_READ = """
WITH items AS ({items}),
ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY kind ORDER BY (views_recent / 7.0) / greatest(views_before / 28.0, 1.0) DESC,
                                   views_recent DESC, name) AS rank
    FROM items WHERE creators >= $min AND views_recent > 0
)
SELECT kind, name, creators, views_recent, views_before, videos_recent, videos_before
FROM ranked WHERE rank <= $limit
UNION ALL
SELECT NULL, NULL, count(*), 0, 0, 0, 0 FROM items WHERE creators < $min
"""


def _platform_end(ctx: Context, wanted: date | None) -> tuple[date | None, bool]:
    """The day platform figures are read for, and whether the stored tables hold it."""
    stored = stored_end(ctx.con)
    if wanted is None:
        if stored is not None:
            return stored[0], True
        return platform_latest(ctx.con), False
    return wanted, stored is not None and stored[0] == wanted


def read_trending(ctx: Context, q: TrendingTags) -> RawTrendingTags:
    end, stored = _platform_end(ctx, q.end)
    if end is None:
        return RawTrendingTags(q, None, ())
    items = f"SELECT * FROM {TRENDING}" if stored else TRENDING_SQL
    params = {"min": q.min_creators, "limit": q.limit, **({} if stored else trending_params(end))}
    rows = ctx.con.execute(_TRENDING_READ.format(items=items), params).fetchall()
    fewer = sum(int(r[2]) for r in rows if r[0] is None)
    listed = tuple((k, n, *map(int, rest)) for k, n, *rest in rows if k is not None)
    return RawTrendingTags(q, end, listed, fewer)


@dataclass(frozen=True)
class NicheBenchmark:
    """The creator's engagement rate, views per video and follower growth over the 28 days
    up to `end` (None: the platform's latest day), against every creator of the same
    category and follower-size band."""

    creator_id: str
    end: date | None = None


@dataclass(frozen=True)
class RawNicheBenchmark:
    question: NicheBenchmark
    end: date | None
    category: str | None
    band: tuple[int, int | None]
    own: dict[str, float | None]
    # The band's creators' figures (the creator's own included), never shown as they are.
    band_values: dict[str, tuple[float, ...]]
    band_creators: int


NICHE_MEASURES = ("engagement_rate", "views_per_video", "follower_growth")


def niche_figures(followers: int, views: int, engaged: int, videos: int, net: int):
    """A creator's three benchmark figures (None where undefined: no views, no videos)."""
    start = followers - net
    return {
        "engagement_rate": engaged / views if views else None,
        "views_per_video": views / videos if videos else None,
        "follower_growth": net / start if start > 0 else None,
    }


def read_niche(ctx: Context, q: NicheBenchmark) -> RawNicheBenchmark:
    end, stored = _platform_end(ctx, q.end)
    if end is None:
        return RawNicheBenchmark(q, None, None, FOLLOWER_BANDS[0], {}, {}, 0)
    if stored:
        rows = ctx.con.execute(f"SELECT * FROM {CREATORS}").fetchall()
    else:
        rows = ctx.con.execute(CREATORS_SQL, creators_params(end)).fetchall()
    mine = next((r for r in rows if r[0] == q.creator_id), None)
    if mine is None:
        return RawNicheBenchmark(q, end, None, FOLLOWER_BANDS[0], {}, {}, 0)
    category, band = mine[1], band_of(int(mine[2]))
    own = niche_figures(*map(int, mine[2:]))
    peers = [r for r in rows if r[1] == category and band_of(int(r[2])) == band]
    values: dict[str, list[float]] = {m: [] for m in NICHE_MEASURES}
    for row in peers:
        for m, v in niche_figures(*map(int, row[2:])).items():
            if v is not None:
                values[m].append(v)
    band_values = {m: tuple(sorted(v)) for m, v in values.items()}
    return RawNicheBenchmark(q, end, category, band, own, band_values, len(peers))


# --- the creator's own account ------------------------------------------------------------


@dataclass(frozen=True)
class CreatorAccount:
    """The creator's own account as the platform described it (for the fund's rules)."""

    creator_id: str


@dataclass(frozen=True)
class RawCreatorAccount:
    question: CreatorAccount
    birth_year: int | None
    created_at: datetime | None
    fields: dict[str, Any]


def read_creator_account(ctx: Context, q: CreatorAccount) -> RawCreatorAccount:
    row = ctx.con.execute(
        "SELECT birth_year, created_at, kind, country FROM accounts WHERE account_id = ?",
        [q.creator_id],
    ).fetchone()
    if row is None:
        return RawCreatorAccount(q, None, None, {})
    return RawCreatorAccount(q, row[0], row[1], {"kind": row[2], "country": row[3]})


READERS = (
    (VideoTraits, read_video_traits),
    (VideoAgeHours, read_video_age_hours),
    (CommentSentiment, read_comment_sentiment),
    (TrendingTags, read_trending),
    (NicheBenchmark, read_niche),
    (CreatorAccount, read_creator_account),
)
