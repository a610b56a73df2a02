"""Best times to post: the weekday × hour slots (creator's time zone) when most followers
play the creator's videos, from the released follower-activity panel.

Definition (docs/insights.md): the three released cells with the most distinct followers
(protected counts); a cell the release withheld (fewer than cell_min followers) is never a
slot. Below `MIN_SLOT_FOLLOWERS` followers in a slot, or when the panel is withheld, the
answer is "not enough history yet".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creatorlens.query import Period
from creatorlens.query.raw import FollowerActivity
from creatorlens.studio import Studio

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP = 3


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

    def to_json(self) -> dict[str, Any]:
        return {
            "timezone": self.timezone,
            "slots": [s.to_json() for s in self.slots],
            "followers": self.followers,
            "note": self.note,
            "withheld": self.withheld,
        }


def best_times(studio: Studio, period: Period) -> BestTimes:
    """The top three posting slots from the followers' released activity."""
    panel = studio.panel(FollowerActivity(studio.creator_id, period))
    withheld = [f"{w.what}: {w.reason}" for w in panel.withheld]
    ranked = sorted(panel.cells, key=lambda c: (-c.followers, -c.plays, c.weekday, c.hour))
    slots = [Slot(c.weekday, c.hour, c.followers, c.plays) for c in ranked[:TOP]]
    note = None if slots else "not enough history yet"
    return BestTimes(studio.timezone, slots, panel.followers, note, withheld)
