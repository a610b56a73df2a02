"""The public metrics and dimensions: names, written definitions and where each is read from.

Names here are part of the public contract (CLI, JSON, REST, third-party API). Each metric
says, in words, what it counts; the README's tables hold the same text (a test checks).
A metric can be read from several rollups; the runner picks the first whose grain has
every dimension the query asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Rollup tables (see creatorlens.rollup.definitions) and the dimensions each can group by.
SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "video_hourly": ("rollup_video_hourly", ("day", "hour", "video")),
    "video_source": ("rollup_video_source_daily", ("day", "video", "source")),
    "share_channel": ("rollup_share_channel_daily", ("day", "video", "channel")),
    "creator_daily": ("rollup_creator_daily", ("day",)),
    "audience": (
        "rollup_audience_daily",
        ("day", "video", "country", "city", "age", "gender", "language", "follower_status"),
    ),
    "engaged": ("rollup_engaged_daily", ("day", "video")),
    # Viewer days counted by (property, day, previous day): distinct viewers of a whole
    # period, new and returning ones included, as sums of a few rows (see
    # rollup.definitions); by day, every row of a day is one viewer that day.
    "viewer_firsts": ("rollup_viewer_day_counts", ()),
    "viewer_daily": ("rollup_viewer_day_counts", ("day",)),
    # By one video or one viewer attribute (its `value`), for a breakdown by it alone.
    "viewer_values": ("rollup_viewer_day_counts", ("video", "country", "age", "gender")),
}


def _answers(source: str, dimensions: set[str], grouped: tuple[str, ...]) -> bool:
    """Whether a source's rows can answer at all. Viewer-day counts of one day or one value
    count a viewer once per day or value: right only when the query groups by exactly that
    (summed over several filtered days or values, a viewer would count once per each)."""
    if source == "viewer_daily":
        return "day" in grouped
    if source == "viewer_values":
        return len(grouped) == 1 and set(grouped) == dimensions
    return True


def first_days(prop: str | None, since: str = "$start") -> str:
    """SQL over `rollup_viewer_day_counts` rows of a period: the viewers with property
    `prop` (None: the property the query's rows are narrowed to) in it whose first such day
    there follows no such day since `since`."""
    only = f"property = '{prop}' AND " if prop else ""
    return f"coalesce(sum(viewers) FILTER ({only}(prev_date IS NULL OR prev_date < {since})), 0)"


def _daily(prop: str) -> str:
    return f"coalesce(sum(viewers) FILTER (property = '{prop}'), 0)"


@dataclass(frozen=True)
class Dimension:
    """A way to break a metric down; `person` dimensions are a viewer's own attributes."""

    name: str
    column: str
    definition: str
    person: bool = False


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("day", "local_date", "calendar day in the creator's time zone"),
        Dimension("hour", "local_hour", "hour of day (0-23) in the creator's time zone"),
        Dimension("video", "video_id", "the creator's video"),
        Dimension("source", "source", "traffic source of the play (for_you, following, ...)"),
        Dimension("channel", "channel", "where a share went (whatsapp, copy_link, ...)"),
        Dimension("country", "country", "viewer's country (ISO 3166 alpha-2)", person=True),
        Dimension("city", "city", "viewer's city", person=True),
        Dimension("age", "age_bucket", "viewer's age bucket (13-17 ... 55+)", person=True),
        Dimension("gender", "gender", "viewer's gender", person=True),
        Dimension("language", "language", "viewer's language", person=True),
        Dimension(
            "follower_status",
            "CASE WHEN is_follower THEN 'follower' ELSE 'non_follower' END",
            "whether the viewer followed the creator when watching",
        ),
    )
}


@dataclass(frozen=True)
class Metric:
    """A public metric: its definition and the SQL aggregate per rollup it can be read from.

    `derived` metrics are computed from other metrics of the same row (ratios, nets).
    `distinct` metrics count distinct pseudonymous viewers over the whole period, so they
    are computed from the per-viewer audience rollups, never summed across days.
    """

    name: str
    definition: str
    sources: tuple[tuple[str, str], ...] = ()
    derived: tuple[str, ...] = ()
    distinct: bool = False

    def source_for(self, dimensions: set[str], grouped: Iterable[str] = ()) -> str | None:
        """The first rollup whose grain has every dimension asked (`dimensions`: those
        grouped by, in `grouped`, and those filtered on), or None."""
        for source, _ in self.sources:
            if not _answers(source, dimensions, tuple(grouped)):
                continue
            if dimensions <= set(SOURCES[source][1]):
                return source
        return None

    @property
    def dimensions(self) -> set[str]:
        if self.derived:
            parts = [METRICS[p].dimensions for p in self.derived]
            grain = set.intersection(*parts)
        else:
            grain = set().union(*(SOURCES[s][1] for s, _ in self.sources))
        if self.name not in PERSON_METRICS:
            # Only counts the privacy policy can protect cell by cell go by a person's
            # attribute: people (reach) and the additive plays, views and watch time.
            grain = {d for d in grain if not DIMENSIONS[d].person}
        return grain


PERSON_METRICS = ("plays", "views", "total_watch_ms", "reach")


def _m(name: str, definition: str, *sources: tuple[str, str], distinct: bool = False) -> Metric:
    return Metric(name, definition, tuple(sources), distinct=distinct)


_PLAYS = "sum(plays)"
_VIEWS = "sum(views)"
_WATCH = "sum(watch_ms)"

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _m(
            "plays",
            "Every view event (every start of playback), whatever its length.",
            ("video_hourly", _PLAYS),
            ("video_source", _PLAYS),
            ("audience", _PLAYS),
        ),
        _m(
            "views",
            "Plays watched for at least the view threshold (3 s by default; a setting). "
            "A play of exactly 3.000 s counts; 2.999 s does not.",
            ("video_hourly", _VIEWS),
            ("video_source", _VIEWS),
            ("audience", _VIEWS),
        ),
        _m(
            "total_watch_ms",
            "Sum of milliseconds watched over all plays (loops included).",
            ("video_hourly", _WATCH),
            ("video_source", _WATCH),
            ("audience", _WATCH),
        ),
        _m(
            "full_watches",
            "Plays watched for at least the video's duration.",
            ("video_hourly", "sum(full_watches)"),
        ),
        _m("likes_gross", "Like events in the period.", ("video_hourly", "sum(likes)")),
        _m("unlikes", "Unlike events in the period.", ("video_hourly", "sum(unlikes)")),
        _m("comments", "Comments (replies included).", ("video_hourly", "sum(comments)")),
        _m(
            "shares",
            "Shares of the creator's videos, every channel.",
            ("video_hourly", "sum(shares)"),
            ("share_channel", "sum(shares)"),
        ),
        _m("saves", "Saves (favourites) of the creator's videos.", ("video_hourly", "sum(saves)")),
        _m("duets", "Duets made of the creator's videos.", ("video_hourly", "sum(duets)")),
        _m("stitches", "Stitches made of the creator's videos.", ("video_hourly", "sum(stitches)")),
        _m(
            "profile_views",
            "Visits to the creator's profile.",
            ("creator_daily", "sum(profile_views)"),
        ),
        _m(
            "followers_gained",
            "Follow events of the creator in the period.",
            ("creator_daily", "sum(followers_gained)"),
        ),
        _m(
            "followers_lost",
            "Unfollow events of the creator in the period.",
            ("creator_daily", "sum(followers_lost)"),
        ),
        _m(
            "reach",
            "Distinct viewers (pseudonyms) with at least one play in the period. Exact; a "
            "viewer seen under two pseudonym keys (after a key rotation) counts twice.",
            ("viewer_firsts", first_days("all")),
            ("viewer_daily", _daily("all")),
            ("viewer_values", first_days(None)),
            ("audience", "count(DISTINCT viewer_pid)"),
            distinct=True,
        ),
        _m(
            "engaged_audience",
            "Distinct accounts (pseudonyms) that liked, commented or shared in the period.",
            ("engaged", "count(DISTINCT viewer_pid)"),
            distinct=True,
        ),
        # On the audience rollup, the runner joins `seen_before`: the viewer's pseudonym
        # when it played this creator in the 365 days before the period, else NULL.
        _m(
            "new_viewers",
            "Viewers in the period with no play of this creator in the 365 days before the "
            "period starts.",
            ("viewer_firsts", first_days("all", since="$lookback")),
            ("audience", "count(DISTINCT viewer_pid) FILTER (seen_before IS NULL)"),
            distinct=True,
        ),
        _m(
            "returning_viewers",
            "Viewers in the period who also played this creator's videos in the 365 days "
            "before the period starts (reach = new_viewers + returning_viewers).",
            (
                "viewer_firsts",
                "coalesce(sum(viewers) FILTER (property = 'all' "
                "AND prev_date >= $lookback AND prev_date < $start), 0)",
            ),
            ("audience", "count(DISTINCT viewer_pid) FILTER (seen_before IS NOT NULL)"),
            distinct=True,
        ),
        _m(
            "follower_viewers",
            "Distinct viewers who were followers of the creator when they watched.",
            ("viewer_firsts", first_days("follower")),
            ("viewer_daily", _daily("follower")),
            ("audience", "count(DISTINCT viewer_pid) FILTER (is_follower)"),
            distinct=True,
        ),
        _m(
            "non_follower_viewers",
            "Distinct viewers who watched at least once while not following the creator.",
            ("viewer_firsts", first_days("non_follower")),
            ("viewer_daily", _daily("non_follower")),
            ("audience", "count(DISTINCT viewer_pid) FILTER (NOT is_follower)"),
            distinct=True,
        ),
    )
}

# Derived metrics: computed from other metrics of the same result row.
DERIVED = {
    "likes": ("likes_gross", "unlikes"),
    "followers_net": ("followers_gained", "followers_lost"),
    "avg_watch_ms": ("total_watch_ms", "plays"),
    "full_watch_rate": ("full_watches", "plays"),
}
METRICS["likes"] = Metric(
    "likes",
    "Net likes: like events minus unlike events in the period.",
    derived=DERIVED["likes"],
)
METRICS["followers_net"] = Metric(
    "followers_net", "followers_gained minus followers_lost.", derived=DERIVED["followers_net"]
)
METRICS["avg_watch_ms"] = Metric(
    "avg_watch_ms",
    "total_watch_ms / plays (average over plays, not views).",
    derived=DERIVED["avg_watch_ms"],
)
METRICS["full_watch_rate"] = Metric(
    "full_watch_rate",
    "full_watches / plays: share of plays watched to the end or beyond.",
    derived=DERIVED["full_watch_rate"],
)
METRICS["followers_total"] = Metric(
    "followers_total",
    "Accounts following the creator at the end of the period (follows minus unfollows, "
    "as of that day's end in the creator's time zone).",
)


def derive(name: str, values: dict[str, float | int | None]) -> float | int | None:
    """Compute a derived metric from its parts."""
    a, b = (values.get(p) or 0 for p in DERIVED[name])
    if name in ("likes", "followers_net"):
        return a - b
    return (a / b) if b else None
