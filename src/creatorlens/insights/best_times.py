"""Best times to post: the weekday × hour slots (creator's time zone) when most followers
play the creator's videos, from the released follower-activity panel.

Definition (docs/insights.md): the three released cells with the most distinct followers
(protected counts); a cell the release withheld (fewer than cell_min followers) is never a
slot. When no cell is released the answer is "not enough history yet".

The creator's own history beside it: the posting hours (local) whose videos drew the most
views in their first 24 hours (median over the videos posted at that hour in the last
`HISTORY_DAYS` days whose first day lies in the data), each from at least
`MIN_HOUR_VIDEOS` videos; below `MIN_HISTORY_VIDEOS` videos, "not enough history yet".
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from creatorlens.query import Period
from creatorlens.query.insights import VideoAgeHours, VideoTraits
from creatorlens.query.raw import FollowerActivity
from creatorlens.studio import Studio

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP = 3
HISTORY_DAYS = 90
MIN_HISTORY_VIDEOS = 10
MIN_HOUR_VIDEOS = 3


@dataclass(frozen=True)
class PostingHour:
    """A posting hour (local) and the first-24-hour views of the videos posted then."""

    hour: int
    videos: int
    median_views_24h: float
    weekdays: tuple[int, ...]  # the ISO weekdays those videos were posted on

    def to_json(self) -> dict[str, Any]:
        return {"hour": self.hour, "label": f"{self.hour:02d}:00", "videos": self.videos,
                "median_views_24h": self.median_views_24h,
                "weekdays": [WEEKDAYS[d - 1] for d in self.weekdays]}  # fmt: skip


@dataclass(frozen=True)
class Slot:
    weekday: int  # ISO 1-7
    hour: int  # 0-23, creator's local time
    followers: int  # distinct followers who played then (released, protected)
    plays: int

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday - 1]} {self.hour:02d}:00"

    def to_json(self) -> dict[str, Any]:
        return {"weekday": self.weekday, "hour": self.hour, "label": self.label,
                "followers": self.followers, "plays": self.plays}  # fmt: skip


@dataclass(frozen=True)
class BestTimes:
    timezone: str
    slots: list[Slot]
    followers: int | None  # followers who played in the period (released)
    note: str | None = None  # "not enough history yet" when there is nothing to claim
    withheld: list[str] = field(default_factory=list)
    # From the creator's own videos: the posting hours with the most first-24h views.
    history: list[PostingHour] = field(default_factory=list)
    history_videos: int = 0
    history_note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "slots": [s.to_json() for s in self.slots],
            "followers": self.followers,
            "note": self.note,
            "withheld": self.withheld,
            "own_history": {
                "posting_hours": [h.to_json() for h in self.history],
                "videos": self.history_videos,
                "note": self.history_note,
            },
        }


def best_times(studio: Studio, period: Period) -> BestTimes:
    """The top three posting slots from the followers' released activity."""
    panel = studio.panel(FollowerActivity(studio.creator_id, period))
    withheld = [f"{w.what}: {w.reason}" for w in panel.withheld]
    ranked = sorted(panel.cells, key=lambda c: (-c.followers, -c.plays, c.weekday, c.hour))
    slots = [Slot(c.weekday, c.hour, c.followers, c.plays) for c in ranked[:TOP]]
    note = None if slots else "not enough history yet"
    history, videos = posting_hours(studio)
    history_note = None if videos >= MIN_HISTORY_VIDEOS else "not enough history yet"
    if history_note:
        history = []
    return BestTimes(studio.timezone, slots, panel.followers, note, withheld, history, videos,
                     history_note)  # fmt: skip


def posting_hours(studio: Studio) -> tuple[list[PostingHour], int]:
    """The top posting hours by median first-24h views, and how many videos were used."""
    since = studio.latest - timedelta(days=HISTORY_DAYS - 1)
    panel = studio.panel(VideoAgeHours(studio.creator_id, since, studio.latest, 24))
    first_day: dict[str, int] = {}
    for video, _age, views, _shares in panel.rows:
        first_day[video] = first_day.get(video, 0) + views
    whole = [v for v, a in panel.age_now.items() if a >= 24 and panel.first_age.get(v) == 0]
    if not whole:
        return [], 0
    traits = studio.panel(VideoTraits(studio.creator_id)).videos
    zone = ZoneInfo(studio.timezone)
    by_hour: dict[int, list[tuple[int, int]]] = {}
    for v in whole:
        if v in traits:
            local = traits[v].posted_at.astimezone(zone)
            by_hour.setdefault(local.hour, []).append((first_day.get(v, 0), local.isoweekday()))
    ranked = [
        PostingHour(
            hour,
            len(rows),
            float(statistics.median(n for n, _ in rows)),
            tuple(sorted({d for _, d in rows})),
        )  # fmt: skip
        for hour, rows in by_hour.items()
        if len(rows) >= MIN_HOUR_VIDEOS
    ]
    ranked.sort(key=lambda h: (-h.median_views_24h, -h.videos, h.hour))
    return ranked[:TOP], sum(len(r) for r in by_hour.values())
