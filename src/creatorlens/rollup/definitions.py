"""Every rollup defined once, as data, and rendered to SQL that both DuckDB and Spark run.

A rollup is a grain (the columns it groups by), measures (aggregates) and a filter over
one relation, `rollup_input`, built from one of the inputs (`INPUTS`): the events with a
creator (by default), the engagement of each video (shares, and the marks ingest keeps of
likes and comments), or the plays of each creator's followers; each row with its
creator-local date and hour, and for events its video's duration. The SQL uses only what
both engines accept (CASE, count/sum/max/bool_or, least/floor/ceil, CAST, plain joins,
UNION ALL); the few spellings that differ live in a `Dialect`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from creatorlens.store.database import PROFILE_ATTRIBUTES

# Likes are placed by the liker's play at ingest now (store.placement); re-exported.
from creatorlens.store.placement import LIKE_PLAY_WINDOW_DAYS as LIKE_PLAY_WINDOW_DAYS

# Event columns the rollups read, carried unchanged into `rollup_input`.
EVENT_COLUMNS = (
    "event_id",
    "type",
    "ts",
    "creator_id",
    "actor_id",
    "video_id",
    "viewer_pid",
    "key_id",
    "watched_ms",
    "source",
    "channel",
    "actor_age_bucket",
    "actor_gender",
    "actor_country",
    "actor_city",
    "actor_language",
    "actor_opt_out",
    "actor_is_follower",
    "play_position_ms",
)
# Event columns stored once per combination in `actor_profiles` (the event keeps its
# `actor_profile`), and where `rollup_input` takes them from.
PROFILE_COLUMNS = {f"actor_{a}": f"p.{a}" for a in PROFILE_ATTRIBUTES}
# Columns `rollup_input` adds: the day and hour in the creator's time zone, and the
# duration of the event's video (NULL for events without one).
INPUT_COLUMNS = (*EVENT_COLUMNS, "local_date", "local_hour", "video_duration_ms")

# Bound parameters a rollup may use, written `{name}` in expressions.
PARAMETERS = ("view_threshold_ms",)


@dataclass(frozen=True)
class Dialect:
    """How one engine spells the few things the shared SQL subset cannot."""

    name: str
    # The wall-clock time of a UTC instant `{ts}` in IANA zone `{tz}`.
    local_timestamp: str
    # A named bound parameter.
    parameter: str
    # The date `{days}` days before DATE `{date}`, as a DATE.
    days_before: str
    # Milliseconds since the Unix epoch of TIMESTAMP `{ts}`, as an integer.
    epoch_ms: str
    # Store types renamed for this engine (the rest are spelled the same).
    types: dict[str, str] = field(default_factory=dict)

    def type(self, name: str) -> str:
        return self.types.get(name, name)


DUCKDB = Dialect(
    "duckdb",
    "timezone({tz}, {ts})",
    "${name}",
    "CAST({date} - INTERVAL {days} DAY AS DATE)",
    "epoch_ms({ts})",
)
# Spark must run with spark.sql.session.timeZone = UTC, so that casting the shifted
# timestamp to DATE and taking its hour reads the wall clock unchanged. Parquet stores
# DuckDB's UBIGINT as UINT64, which Spark reads as DECIMAL(20,0).
SPARK = Dialect(
    "spark",
    "from_utc_timestamp({ts}, {tz})",
    ":{name}",
    "date_sub({date}, {days})",
    "unix_millis({ts})",
    {"VARCHAR": "STRING", "UBIGINT": "DECIMAL(20,0)", "TIMESTAMPTZ": "TIMESTAMP"},
)
DIALECTS = {d.name: d for d in (DUCKDB, SPARK)}


@dataclass(frozen=True)
class Column:
    """One output column: its name, its SQL over `rollup_input`, and its stored type."""

    name: str
    type: str
    sql: str | None = None  # None: the input column of the same name, unchanged

    @property
    def expression(self) -> str:
        return self.sql or self.name


@dataclass(frozen=True)
class Rollup:
    """A table of aggregates: one row per distinct grain, measures over `where`, from the
    input named `input` (a key of `INPUTS`)."""

    name: str
    doc: str
    grain: tuple[Column, ...]
    measures: tuple[Column, ...]
    where: str
    input: str = "events"

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.grain + self.measures


# --- building blocks -----------------------------------------------------------------------

CREATOR = Column("creator_id", "VARCHAR")
VIDEO = Column("video_id", "VARCHAR")
LOCAL_DATE = Column("local_date", "DATE")
IS_VIEW = "type = 'view'"
IS_COUNTED_VIEW = "type = 'view' AND watched_ms >= {view_threshold_ms}"


def count_of(name: str, condition: str) -> Column:
    """How many input rows meet `condition` (0, never NULL, when none do)."""
    return Column(name, "BIGINT", f"count(CASE WHEN {condition} THEN 1 END)")


def sum_of(name: str, value: str, condition: str) -> Column:
    """The sum of `value` over the rows meeting `condition` (0 when none do)."""
    return Column(name, "BIGINT", f"coalesce(sum(CASE WHEN {condition} THEN {value} END), 0)")


def type_is(*types: str) -> str:
    return "type IN (" + ", ".join(f"'{t}'" for t in types) + ")"


PLAY_MEASURES = (
    count_of("plays", IS_VIEW),
    count_of("views", IS_COUNTED_VIEW),
    sum_of("watch_ms", "watched_ms", IS_VIEW),
)

# Retention buckets: width W = 1000 ms up to 100 s of duration D, else D / 100, and
# N = ceil(D / W) buckets; a play lands in least(floor(watched / W), N), so bucket N means
# it reached the end. For long videos floor(watched / (D / 100)) is computed as
# floor(watched * 100 / D): one rounding instead of two, so a play of exactly D lands in
# bucket 100, not 99.
RETENTION_BUCKET = """CASE WHEN video_duration_ms <= 100000
                 THEN least(floor(watched_ms / 1000), ceil(video_duration_ms / 1000))
                 ELSE least(floor(watched_ms * 100 / video_duration_ms), 100) END"""


# Likes by position: a like's `play_position_ms` (the time since the liker's play began,
# found at ingest) modulo the duration (a like on the second loop lands where it was in
# the video), in the retention curve's buckets; NULL outside any play or without a duration.
LIKE_SECONDS = "rollup_like_seconds"
LIKE_POSITION = "(play_position_ms % video_duration_ms)"
LIKE_BUCKET = f"""CASE WHEN video_duration_ms > 0 THEN
                 CASE WHEN video_duration_ms <= 100000 THEN floor({LIKE_POSITION} / 1000)
                      ELSE floor({LIKE_POSITION} * 100 / video_duration_ms) END END"""


# --- the rollups ---------------------------------------------------------------------------

ROLLUPS: tuple[Rollup, ...] = (
    Rollup(
        name="rollup_video_hourly",
        doc="Plays, watch time and engagement of each video per creator-local hour.",
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("local_hour", "INTEGER")),
        measures=(
            *PLAY_MEASURES,
            count_of("full_watches", "type = 'view' AND watched_ms >= video_duration_ms"),
            count_of("likes", "type = 'like'"),
            count_of("unlikes", "type = 'unlike'"),
            count_of("comments", "type = 'comment'"),
            count_of("shares", "type = 'share'"),
            count_of("saves", "type = 'save'"),
            # Duets and stitches are counted on the original (the event's video_id).
            count_of("duets", "type = 'duet'"),
            count_of("stitches", "type = 'stitch'"),
            # A mention's creator is the account mentioned and its video the one that
            # mentions them, which is usually another creator's.
            count_of("mentions", "type = 'mention'"),
        ),
        where="video_id IS NOT NULL AND "
        + type_is(
            "view", "like", "unlike", "comment", "share", "save", "duet", "stitch", "mention"
        ),
    ),
    Rollup(
        name="rollup_video_source_daily",
        doc="Plays of each video per creator-local day and traffic source.",
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("source", "VARCHAR")),
        measures=PLAY_MEASURES,
        where=IS_VIEW,
    ),
    Rollup(
        name="rollup_share_channel_daily",
        doc="Shares of each video per creator-local day and share channel.",
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("channel", "VARCHAR")),
        measures=(count_of("shares", "type = 'share'"),),
        where="type = 'share'",
    ),
    Rollup(
        name="rollup_creator_daily",
        doc="Profile views and follower changes of each account per creator-local day.",
        grain=(CREATOR, LOCAL_DATE),
        measures=(
            count_of("profile_views", "type = 'profile_view'"),
            count_of("followers_gained", "type = 'follow'"),
            count_of("followers_lost", "type = 'unfollow'"),
        ),
        where=type_is("profile_view", "follow", "unfollow"),
    ),
    Rollup(
        name="rollup_audience_daily",
        doc="Each viewer pseudonym's plays of a video per creator-local day, with attributes.",
        grain=(
            CREATOR,
            VIDEO,
            LOCAL_DATE,
            Column("viewer_pid", "UBIGINT"),
            Column("key_id", "VARCHAR"),
        ),
        measures=(
            # A viewer who followed during the day counts as a follower that day.
            Column("is_follower", "BOOLEAN", "bool_or(actor_is_follower)"),
            # Attributes are taken per event at ingest and agree for one pseudonym in
            # practice; max() rather than any_value() keeps a rebuild identical.
            Column("age_bucket", "VARCHAR", "max(actor_age_bucket)"),
            Column("gender", "VARCHAR", "max(actor_gender)"),
            Column("country", "VARCHAR", "max(actor_country)"),
            Column("city", "VARCHAR", "max(actor_city)"),
            Column("language", "VARCHAR", "max(actor_language)"),
            Column("opt_out", "BOOLEAN", "bool_or(actor_opt_out)"),
            *PLAY_MEASURES,
        ),
        where="type = 'view' AND viewer_pid IS NOT NULL",
    ),
    Rollup(
        name="rollup_engaged_daily",
        doc="Each pseudonym's likes, comments and shares of a video per creator-local day.",
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("viewer_pid", "UBIGINT")),
        measures=(
            count_of("likes", "type = 'like'"),
            count_of("comments", "type = 'comment'"),
            count_of("shares", "type = 'share'"),
        ),
        where="video_id IS NOT NULL AND viewer_pid IS NOT NULL AND "
        + type_is("like", "comment", "share"),
        # Likes and comments keep no pseudonym on the event: their marks stand for them.
        input="engagement",
    ),
    Rollup(
        name="rollup_retention_daily",
        doc="Plays of each video per creator-local day by how far they got (retention).",
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("bucket", "INTEGER", RETENTION_BUCKET)),
        measures=(count_of("plays", IS_VIEW),),
        where="type = 'view' AND video_duration_ms IS NOT NULL",
    ),
)

# Named acts for the likers list: only named types keep an actor id, and the list reads
# the latest like and unlike of each account, never a view.
ROLLUPS += (
    Rollup(
        name="rollup_follower_activity",
        doc="Each follower pseudonym's plays of the creator per creator-local day and hour.",
        grain=(
            CREATOR,
            LOCAL_DATE,
            Column("local_hour", "INTEGER"),
            Column("viewer_pid", "UBIGINT"),
        ),  # fmt: skip
        measures=(
            count_of("plays", IS_VIEW),
            Column("opt_out", "BOOLEAN", "bool_or(actor_opt_out)"),
        ),
        where="type = 'view' AND actor_is_follower AND viewer_pid IS NOT NULL",
    ),
    Rollup(
        name="rollup_follower_watch",
        doc="Each follower's plays of any video per followed creator and creator-local day.",
        # creator_id is the followed creator, local_date in their time zone, and
        # follower_pid the follower as that creator's follower (`follower_plays`).
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("follower_pid", "UBIGINT")),
        measures=(
            Column("plays", "BIGINT", "sum(plays)"),
            Column("watch_ms", "BIGINT", "sum(watched_ms)"),
            Column("opt_out", "BOOLEAN", "bool_or(opt_out)"),
        ),
        where="follower_pid IS NOT NULL",
        input="follower_plays",
    ),
    Rollup(
        name=LIKE_SECONDS,
        doc="Likes of each video per creator-local day by where in the play they came.",
        # NULL: outside any play (see store.placement).
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("bucket", "INTEGER", LIKE_BUCKET)),
        measures=(count_of("likes", "type = 'like'"),),
        where="type = 'like' AND video_id IS NOT NULL",
    ),
    Rollup(
        name="rollup_likes_daily",
        doc="Each account's last like and unlike of a video per creator-local day.",
        grain=(CREATOR, VIDEO, LOCAL_DATE, Column("actor_id", "VARCHAR")),
        measures=(
            Column("last_like_ts", "TIMESTAMPTZ", "max(CASE WHEN type = 'like' THEN ts END)"),
            Column("last_unlike_ts", "TIMESTAMPTZ", "max(CASE WHEN type = 'unlike' THEN ts END)"),
        ),
        where="video_id IS NOT NULL AND actor_id IS NOT NULL AND " + type_is("like", "unlike"),
    ),
    Rollup(
        name="rollup_approvals_daily",
        doc="Each private account's last approval of the creator as follower, per day.",
        grain=(CREATOR, LOCAL_DATE, Column("actor_id", "VARCHAR")),
        measures=(Column("last_approve_ts", "TIMESTAMPTZ", "max(ts)"),),
        where="actor_id IS NOT NULL AND type = 'follow_approve'",
    ),
)

ROLLUP_TABLES: tuple[str, ...] = tuple(r.name for r in ROLLUPS)
BY_NAME = {r.name: r for r in ROLLUPS}

# --- rendering -----------------------------------------------------------------------------


def dialect_of(dialect: str | Dialect) -> Dialect:
    if isinstance(dialect, Dialect):
        return dialect
    try:
        return DIALECTS[dialect]
    except KeyError:
        raise ValueError(
            f"unknown dialect {dialect!r}; expected one of {sorted(DIALECTS)}"
        ) from None


def _bind(sql: str, dialect: Dialect) -> str:
    return sql.format(**{p: dialect.parameter.format(name=p) for p in PARAMETERS})


# The columns each input carries into `rollup_input` (besides the creator-local date and
# hour), and the column of its table holding the creator its rows are keyed by.
INPUTS: dict[str, tuple[str, ...]] = {
    "events": (*EVENT_COLUMNS, "video_duration_ms"),
    # Shares (anonymous events) and the marks ingest keeps of likes and comments.
    "engagement": ("type", "ts", "creator_id", "video_id", "viewer_pid", "key_id"),
    # Plays by followers (`follower_plays`), keyed by the creator they follow.
    "follower_plays": (
        "ts", "creator_id", "video_id", "follower_pid", "key_id", "plays", "watched_ms", "opt_out"
    ),
}  # fmt: skip
INPUT_CREATOR = {
    "events": "creator_id", "engagement": "creator_id", "follower_plays": "followed_id"
}  # fmt: skip


def input_ctes(
    dialect: str | Dialect = "duckdb",
    *,
    keys: str | None = None,
    events_filter: str | None = None,
    input: str = "events",
) -> list[tuple[str, str]]:
    """The named CTEs that define `rollup_input` from input `input`, optionally narrowed.

    `keys` names a relation of (creator_id, local_date) to keep only those creator-days;
    `events_filter` is an extra condition on the input's table row `e` (the events, the
    marks, the follower plays), in the dialect's SQL.
    """
    d = dialect_of(dialect)
    local_ts = d.local_timestamp.format(ts="e.ts", tz="coalesce(a.timezone, 'UTC')")
    narrowed = f" AND ({events_filter})" if events_filter else ""
    # The creator's time zone comes from their account; a creator with no account row is
    # on UTC.
    if input == "events":
        columns = (
            f"{PROFILE_COLUMNS[c]} AS {c}" if c in PROFILE_COLUMNS else f"e.{c}"
            for c in EVENT_COLUMNS
        )
        located = f"""
    SELECT {_list(columns)},
           {local_ts} AS local_ts,
           v.duration_ms AS video_duration_ms
    FROM events e
    LEFT JOIN accounts a ON a.account_id = e.creator_id
    LEFT JOIN videos v ON v.video_id = e.video_id
    LEFT JOIN actor_profiles p ON p.profile_id = e.actor_profile
    WHERE e.creator_id IS NOT NULL{narrowed}"""
    elif input == "engagement":
        columns = _list(f"e.{c}" for c in INPUTS[input])
        located = f"""
    SELECT {columns},
           {local_ts} AS local_ts
    FROM events e
    LEFT JOIN accounts a ON a.account_id = e.creator_id
    WHERE e.creator_id IS NOT NULL AND e.type = 'share'{narrowed}
    UNION ALL
    SELECT {columns},
           {local_ts} AS local_ts
    FROM engagement_marks e
    LEFT JOIN accounts a ON a.account_id = e.creator_id
    WHERE true{narrowed}"""
    elif input == "follower_plays":
        columns = _list(
            "e.followed_id AS creator_id" if c == "creator_id" else f"e.{c}" for c in INPUTS[input]
        )
        located = f"""
    SELECT {columns},
           {local_ts} AS local_ts
    FROM follower_plays e
    LEFT JOIN accounts a ON a.account_id = e.followed_id
    WHERE true{narrowed}"""
    else:
        raise ValueError(f"unknown rollup input {input!r}; expected one of {sorted(INPUTS)}")
    keyed = ""
    if keys:
        keyed = (
            f"\n    JOIN {keys} k"
            "\n      ON k.creator_id = l.creator_id AND k.local_date = CAST(l.local_ts AS DATE)"
        )
    carried = [c for c in INPUTS[input] if c != "video_duration_ms"]
    extra = ",\n           l.video_duration_ms" if input == "events" else ""
    rollup_input = f"""
    SELECT {_list(f"l.{c}" for c in carried)},
           CAST(l.local_ts AS DATE) AS local_date,
           CAST(hour(l.local_ts) AS INTEGER) AS local_hour{extra}
    FROM located l{keyed}"""
    return [("located", located), ("rollup_input", rollup_input)]


def _list(items: Iterable[str]) -> str:
    return ",\n           ".join(items)


def _with(ctes: list[tuple[str, str]]) -> str:
    return "WITH " + ",\n".join(f"{name} AS ({sql}\n)" for name, sql in ctes) + "\n"


def render_input(
    dialect: str | Dialect = "duckdb",
    *,
    keys: str | None = None,
    events_filter: str | None = None,
    select: str = "*",
    input: str = "events",
) -> str:
    """A SELECT from `rollup_input` itself (all of it by default), to materialize it once
    for several rollups or to list the creator-days it covers."""
    ctes = input_ctes(dialect, keys=keys, events_filter=events_filter, input=input)
    return _with(ctes) + f"SELECT {select} FROM rollup_input"


def render(
    rollup: Rollup | str,
    dialect: str | Dialect = "duckdb",
    *,
    source: str | None = None,
    keys: str | None = None,
    events_filter: str | None = None,
) -> str:
    """The SELECT that computes `rollup`, in the dialect's SQL.

    By default it reads `events`, `accounts` and `videos`; `source` names a relation already
    shaped like `rollup_input` to read instead. `keys` and `events_filter` narrow the input
    as in `input_ctes`.
    """
    r = BY_NAME[rollup] if isinstance(rollup, str) else rollup
    d = dialect_of(dialect)
    columns = []
    for c in r.grain:
        columns.append(f"CAST({c.sql} AS {d.type(c.type)}) AS {c.name}" if c.sql else c.name)
    for c in r.measures:
        columns.append(f"CAST({c.expression} AS {d.type(c.type)}) AS {c.name}")
    head = ""
    if source is None:
        head = _with(input_ctes(d, keys=keys, events_filter=events_filter, input=r.input))
        source = "rollup_input"
    select = ",\n       ".join(columns)
    group_by = ",\n         ".join(c.expression for c in r.grain)
    sql = f"{head}SELECT {select}\nFROM {source}\nWHERE {r.where}\nGROUP BY {group_by}"
    return _bind(sql, d)


def render_create(rollup: Rollup | str, dialect: str | Dialect = "duckdb") -> str:
    """CREATE TABLE for `rollup`, with the engine's spelling of each column type."""
    r = BY_NAME[rollup] if isinstance(rollup, str) else rollup
    return _create_table(r.name, r.columns, dialect_of(dialect))


def _create_table(name: str, columns: Iterable[Column], d: Dialect) -> str:
    cols = ",\n    ".join(f"{c.name} {d.type(c.type)}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    {cols}\n)"


def parameters_of(sql: str, values: dict[str, object]) -> dict[str, object]:
    """The bound values a DuckDB statement uses (DuckDB refuses unused named ones)."""
    used = set(re.findall(r"\$(\w+)", sql))
    return {k: v for k, v in values.items() if k in used}


# --- viewer days: derived from the audience rollup ----------------------------------------

# Distinct viewers over a period, without reading each viewer's rows at query time. Each
# (creator, property, value, viewer, day) where the viewer played the creator's videos with
# that property (`VIEWER_PROPERTIES`) carries the viewer's previous such day, however long
# before (NULL for the first). In a period [s, e], of any length, a viewer's first day is
# the only one of its rows with `prev_date` NULL or before s: distinct viewers are a count
# of those rows, and returning viewers the ones whose `prev_date` is on or after s - 365.
# `rollup_viewer_day_counts` holds these rows counted by (creator, property, value, day,
# previous day), so a period's reach is a sum over a few thousand rows instead of a
# distinct count over every viewer's. (Capping the link at a year would lose a viewer
# whose first day in the period comes more than a year after a play still within the year
# before s.)
VIEWER_DAYS = "rollup_viewer_days"
VIEWER_DAY_COUNTS = "rollup_viewer_day_counts"
LOOKBACK_DAYS = 365
# A property and which audience rows have it: any play; a play as a follower of the
# creator; a play as a non-follower (per day, as the audience rollup records it); and the
# people a breakdown by a viewer's attribute is checked on: viewers who have not opted out
# of analytics, the minors among them, and those who have.
# A property with a value splits by it: a play of each video (opted-out viewers included,
# as in any breakdown by video), and, among viewers who have not opted out, each country,
# age bucket and gender (the breakdowns by a person's attribute leave opted-out viewers out).
VIEWER_PROPERTIES = (
    ("all", "true", None),
    ("follower", "is_follower", None),
    ("non_follower", "NOT is_follower", None),
    ("not_opted_out", "NOT opt_out", None),
    ("minor", "NOT opt_out AND age_bucket = '13-17'", None),
    ("opted_out", "opt_out", None),
    ("video", "true", "video_id"),
    ("country", "NOT opt_out", "country"),
    ("age", "NOT opt_out", "age_bucket"),
    ("gender", "NOT opt_out", "gender"),
)
PROPERTY = Column("property", "VARCHAR")
VALUE = Column("value", "VARCHAR")
PREV_DATE = Column("prev_date", "DATE")
VIEWER_DAYS_COLUMNS = (
    CREATOR, PROPERTY, VALUE, Column("viewer_pid", "UBIGINT"), LOCAL_DATE, PREV_DATE
)  # fmt: skip
VIEWER_DAY_COUNTS_COLUMNS = (
    CREATOR, PROPERTY, VALUE, LOCAL_DATE, PREV_DATE, Column("viewers", "BIGINT")
)  # fmt: skip


def render_viewer_day_rows(
    dialect: str | Dialect = "duckdb",
    *,
    where: str = "true",
    source: str = "rollup_audience_daily",
) -> str:
    """The distinct (creator, property, value, viewer, day) of audience rows (`source`:
    the audience rollup or a part of it) meeting `where`: viewer days without links."""
    text = dialect_of(dialect).type("VARCHAR")
    return "\n    UNION\n    ".join(
        f"SELECT creator_id, '{name}' AS property, CAST({value or 'NULL'} AS {text}) AS value, "
        f"viewer_pid, local_date FROM {source} WHERE ({where}) AND {condition}"
        for name, condition, value in VIEWER_PROPERTIES
    )


def render_viewer_days(
    dialect: str | Dialect = "duckdb",
    *,
    where: str = "true",
    prior: str | None = None,
    source: str = "rollup_audience_daily",
) -> str:
    """The SELECT computing viewer days from `rollup_audience_daily` rows (or `source`, a
    part of it) meeting `where`.

    With `prior`, the viewers' latest days among the `rollup_viewer_days` rows meeting it
    join the input, so the first recomputed day of each viewer links to the day before it
    that was kept; without, the input must hold every earlier day of the viewers it has.
    """
    days = render_viewer_day_rows(dialect, where=where, source=source)
    if prior is not None:
        days += f"""
    UNION
    SELECT creator_id, property, value, viewer_pid, max(local_date)
    FROM {VIEWER_DAYS} WHERE {prior}
    GROUP BY creator_id, property, value, viewer_pid"""
    return f"""SELECT creator_id, property, value, viewer_pid, local_date,
       lag(local_date) OVER (
           PARTITION BY creator_id, property, value, viewer_pid ORDER BY local_date) AS prev_date
FROM (
    {days}
) days"""


def render_viewer_days_create(dialect: str | Dialect = "duckdb") -> str:
    return _create_table(VIEWER_DAYS, VIEWER_DAYS_COLUMNS, dialect_of(dialect))


def render_viewer_day_counts(dialect: str | Dialect = "duckdb", *, where: str = "true") -> str:
    """The SELECT counting the `rollup_viewer_days` rows meeting `where` by (creator,
    property, value, day, previous day)."""
    return f"""SELECT creator_id, property, value, local_date, prev_date, count(*) AS viewers
FROM {VIEWER_DAYS} WHERE {where}
GROUP BY creator_id, property, value, local_date, prev_date"""


def render_viewer_day_counts_create(dialect: str | Dialect = "duckdb") -> str:
    return _create_table(VIEWER_DAY_COUNTS, VIEWER_DAY_COUNTS_COLUMNS, dialect_of(dialect))


# --- follower spans: who followed whom, when, with the follower's attributes ---------------

# Each span is one uninterrupted follow of `creator_id` by `follower_id`: from the follow
# that began it to the unfollow that ended it (NULL: still following). The follower is a
# follower at the end of instant t (its last follow or unfollow before t was a follow) when
# since < t <= until. A follow and an unfollow at the same instant resolve to unfollowed.
# The follower's account attributes are the current ones, so follower demographics need
# no read of the whole accounts table; every refresh that changes anything recomputes the
# spans whole (follows are a small table next to events).
FOLLOWER_SPANS = "rollup_follower_spans"
FOLLOWER_SPANS_COLUMNS = (
    CREATOR,
    Column("follower_id", "VARCHAR"),
    Column("since", "TIMESTAMPTZ"),
    Column("until", "TIMESTAMPTZ"),
    Column("gender", "VARCHAR"),
    Column("birth_year", "SMALLINT"),
    Column("country", "VARCHAR"),
    Column("city", "VARCHAR"),
    Column("opt_out", "BOOLEAN"),
)


def render_follower_spans(dialect: str | Dialect = "duckdb") -> str:
    """The SELECT computing every follower span from `follow_log` and `accounts`."""
    d = dialect_of(dialect)
    return f"""WITH ordered AS (
    SELECT followee_id AS creator_id, follower_id, ts, following,
           lag(following) OVER (PARTITION BY followee_id, follower_id
                                ORDER BY ts, following DESC) AS was_following
    FROM follow_log
),
changes AS (
    SELECT creator_id, follower_id, ts, following,
           lead(ts) OVER (PARTITION BY creator_id, follower_id
                          ORDER BY ts, following DESC) AS next_ts
    FROM ordered
    WHERE following <> coalesce(was_following, false)
)
SELECT c.creator_id, c.follower_id, c.ts AS since, c.next_ts AS until,
       a.gender, CAST(a.birth_year AS {d.type("SMALLINT")}) AS birth_year, a.country, a.city,
       coalesce(a.analytics_opt_out, false) AS opt_out
FROM changes c
LEFT JOIN accounts a ON a.account_id = c.follower_id
WHERE c.following"""


def render_follower_spans_create(dialect: str | Dialect = "duckdb") -> str:
    return _create_table(FOLLOWER_SPANS, FOLLOWER_SPANS_COLUMNS, dialect_of(dialect))


# --- liker accounts: who may be named in a creator's likers lists --------------------------

# Every account that liked or unliked a video of the creator, and whether it is private
# (NULL: the store has no such account). The likers list reads a creator's own rows here
# rather than the whole accounts table. Refreshes recompute the stored rows
# (`rollup_liker_settings`) of the creators they touch and fold in the privacy settings
# ingest stored since (`privacy_changes`); `rollup_liker_accounts`, what the likers rule
# reads, is a view that lays those pending settings over the stored rows, so the setting in
# force always applies, between refreshes too.
LIKER_SETTINGS = "rollup_liker_settings"
LIKER_ACCOUNTS = "rollup_liker_accounts"
LIKER_ACCOUNTS_COLUMNS = (
    CREATOR,
    Column("actor_id", "VARCHAR"),
    Column("is_private", "BOOLEAN"),
)


def render_liker_accounts(dialect: str | Dialect = "duckdb") -> str:
    """The SELECT of every creator's liker accounts from the likes rollup and `accounts`."""
    dialect_of(dialect)  # one spelling for both engines
    return """SELECT l.creator_id, l.actor_id, a.is_private
FROM (SELECT DISTINCT creator_id, actor_id FROM rollup_likes_daily) l
LEFT JOIN accounts a ON a.account_id = l.actor_id"""


def render_liker_accounts_create(dialect: str | Dialect = "duckdb") -> str:
    return _create_table(LIKER_SETTINGS, LIKER_ACCOUNTS_COLUMNS, dialect_of(dialect))


def render_liker_accounts_view() -> str:
    """The view the likers rule reads: the stored rows, with the privacy settings stored
    since the last refresh laid over them."""
    return f"""CREATE VIEW IF NOT EXISTS {LIKER_ACCOUNTS} AS
SELECT l.creator_id, l.actor_id,
       CASE WHEN c.account_id IS NULL THEN l.is_private ELSE c.is_private END AS is_private
FROM {LIKER_SETTINGS} l
LEFT JOIN privacy_changes c ON c.account_id = l.actor_id"""


# The rollups derived from other tables rather than grouped from events.
DERIVED_TABLES = (VIEWER_DAYS, VIEWER_DAY_COUNTS, FOLLOWER_SPANS, LIKER_SETTINGS)
