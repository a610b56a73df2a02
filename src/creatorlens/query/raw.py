"""The one raw-result type: true counts as the runner read them, before any privacy rule.

A `RawAnswer` never leaves for an interface: `creatorlens.privacy.release` is the only
function that turns one into what an audience may see. Each kind of question has its raw
form here: a query of the query model, and the declared panel queries (follower activity,
videos the followers watched, follower demographics, a video's positions and likers, the
platform's creator list) that the query model's rows cannot express.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from creatorlens.query.model import Period, Query

Row = dict[str, Any]


@dataclass(frozen=True)
class PersonFacts:
    """Who stands behind a question that cuts the audience by a person's attribute.

    `population`, `minors` and `opted_out_*` are of the rows selected by every filter;
    `named` holds, for each value a person filter names, the people with that value among
    the rows the *other* filters select; `left_out` the people each person filter removes
    (opted-out viewers included) from what the other filters select. `rows_counted` is a
    fingerprint of exactly the rows counted (their number, an XOR of their hashes and
    their sums): questions counting the same rows get the same one, whatever their wording.
    """

    population: int
    minors: int
    opted_out_people: int
    opted_out_measures: dict[str, int]
    rows_counted: tuple[int, ...]
    named: tuple[tuple[int, str, str, int], ...] = ()  # (filter index, dimension, value, people)
    left_out: tuple[tuple[int, str, int], ...] = ()  # (filter index, dimension, people)


@dataclass(frozen=True)
class RawPeriod:
    """One period's true rows and totals, and what the privacy rules are checked on."""

    period: Period
    rows: list[Row]
    totals: Row | None
    # The distinct people behind each row of a breakdown by a person's attribute.
    people: dict[tuple, int] = field(default_factory=dict)
    person: PersonFacts | None = None
    # The creator's followers at the period's end, for questions split by follower status.
    followers_total: int | None = None


@dataclass(frozen=True)
class RawAnswer:
    """A query's true answer: the period asked, and the one before when it compares."""

    query: Query
    timezone: str
    current: RawPeriod
    previous: RawPeriod | None = None


# --- declared panel queries: what each asks, then its raw answer ---------------------------


@dataclass(frozen=True)
class FollowerActivity:
    """Followers who played the creator's videos, by weekday and hour (creator's zone)."""

    creator_id: str
    period: Period


@dataclass(frozen=True)
class RawFollowerActivity:
    question: FollowerActivity
    # (ISO weekday 1-7, hour 0-23, distinct followers, plays) per cell; opt-outs excluded.
    cells: tuple[tuple[int, int, int, int], ...]
    # Distinct followers who played at all in the period (opt-outs excluded).
    population: int
    rows_counted: tuple[int, ...]
    # The same counted per weekday, and per hour: (weekday or hour, followers, plays).
    weekdays: tuple[tuple[int, int, int], ...] = ()
    hours: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class FollowersWatched:
    """Videos of any creator that this creator's followers watched in the period."""

    creator_id: str
    period: Period
    limit: int = 10


@dataclass(frozen=True)
class RawFollowersWatched:
    question: FollowersWatched
    # (video, its creator, distinct followers, plays), most followers first.
    rows: tuple[tuple[str, str | None, int, int], ...]
    followers_total: int


@dataclass(frozen=True)
class FollowerDemographics:
    """The creator's followers at the period's end by gender, age, country and city."""

    creator_id: str
    end: date


@dataclass(frozen=True)
class RawFollowerDemographics:
    question: FollowerDemographics
    # Per attribute: (value, opted out, followers).
    cells: dict[str, list[tuple[str, bool, int]]]


@dataclass(frozen=True)
class VideoPositions:
    """A video's retention (plays by how far they got) and likes by position in the video."""

    creator_id: str
    video_id: str
    period: Period


@dataclass(frozen=True)
class RawVideoPositions:
    question: VideoPositions
    duration_ms: int | None
    retention: tuple[tuple[int, int], ...]  # (bucket, plays)
    likes: tuple[tuple[int | None, int], ...]  # (bucket or None outside a play, likes)
    likers: int  # distinct accounts behind the likes


@dataclass(frozen=True)
class VideoLikers:
    """The current likers of a video."""

    creator_id: str
    video_id: str


@dataclass(frozen=True)
class RawVideoLikers:
    """Likers by the likers' settings: the accounts whose settings let this creator name
    them (newest like first) and how many others like it. The others' ids never leave the
    database."""

    question: VideoLikers
    nameable: tuple[str, ...]
    others: int


@dataclass(frozen=True)
class VideoMeta:
    """What the creator wrote about their own videos: post time, duration, caption, tags."""

    creator_id: str
    video_ids: tuple[str, ...]


@dataclass(frozen=True)
class RawVideoMeta:
    question: VideoMeta
    videos: dict[str, Row]


@dataclass(frozen=True)
class CreatorList:
    """The platform's creator and business accounts, most viewed first (all time)."""

    limit: int | None = None


@dataclass(frozen=True)
class RawCreatorList:
    question: CreatorList
    # Per creator: id, videos, plays, views, likes, comments, shares, saves, profile views,
    # reach, followers gained, followers lost, watch ms, followers now.
    rows: tuple[Row, ...]


Raw = (
    RawAnswer
    | RawFollowerActivity
    | RawFollowersWatched
    | RawFollowerDemographics
    | RawVideoPositions
    | RawVideoLikers
    | RawVideoMeta
    | RawCreatorList
)
