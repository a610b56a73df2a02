"""Virality alerts: a young video whose latest hours' views and shares break clearly above
what the creator's own videos did at the same age.

Definition (docs/insights.md). For each video under a week old at the creator's latest
hour with data (its age now, a), the window is its latest `WINDOW_H` hours of age
(a - WINDOW_H, a]. The baseline is the creator's other videos that lived through the same
ages inside the data read (`BASELINE_DAYS`): their views and shares over the same ages.
With at least `MIN_BASELINE` of them, the test is a robust z-score on log(1 + count):

    z = (log1p(x) - median(log1p(baseline))) / max(1.4826 * MAD(log1p(baseline)), Z_FLOOR)

and the video is alerted when z >= `Z_ALERT` for views and for shares, with at least
`MIN_VIEWS` views in the window. Its false-alarm rate on the generator's data is measured
by `bench/insights.py` (see docs/insights.md for the figure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from creatorlens.query.insights import VideoAgeHours
from creatorlens.studio import Studio

WINDOW_H = 6
MAX_AGE_H = 168
BASELINE_DAYS = 42
MIN_BASELINE = 5
Z_ALERT = 3.0
Z_FLOOR = 0.25
MIN_VIEWS = 20


@dataclass(frozen=True)
class Alert:
    video: str
    age_hours: int  # the video's age now
    views: int  # in its latest WINDOW_H hours
    shares: int
    baseline_views: float  # median of the baseline videos at the same ages
    baseline_shares: float
    z_views: float
    z_shares: float
    baseline_videos: int

    def to_json(self) -> dict[str, Any]:
        return {
            "video": self.video,
            "age_hours": self.age_hours,
            "window_hours": WINDOW_H,
            "views": self.views,
            "shares": self.shares,
            "baseline_views": round(self.baseline_views, 1),
            "baseline_shares": round(self.baseline_shares, 1),
            "z_views": round(self.z_views, 2),
            "z_shares": round(self.z_shares, 2),
            "baseline_videos": self.baseline_videos,
        }


@dataclass
class Virality:
    alerts: list[Alert]
    checked: list[Alert]  # every young video tested (the alerts among them)
    note: str | None = None
    withheld: list[str] = field(default_factory=list)
    # The end of the creator's latest hour with data: the instant the alerts speak of.
    as_of: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "alerts": [a.to_json() for a in self.alerts],
            "videos_checked": len(self.checked),
            "test": f"robust z >= {Z_ALERT} on log(1+views) and log(1+shares) in the latest "
            f"{WINDOW_H} h against the creator's videos at the same age",
            "note": self.note,
        }


def robust_z(x: float, baseline: np.ndarray) -> float:
    logs = np.log1p(baseline)
    centre = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - centre)))
    return (float(np.log1p(x)) - centre) / max(spread, Z_FLOOR)


def test_windows(
    hours: dict[str, dict[int, tuple[int, int]]], age_now: dict[str, int], first_age: dict
) -> list[Alert]:
    """Each young video's window against its baseline (see the module's definition).

    `hours`: per video, views and shares by age hour; `first_age`: per video, the first
    age hour the data read covers (0 when it was posted inside it)."""
    out = []
    for video, a in sorted(age_now.items()):
        found = test_window(video, a, hours, age_now, first_age)
        if found is not None:
            out.append(found)
    return out


def test_window(video: str, a: int, hours, age_now, first_age) -> Alert | None:
    """`video` at age `a` against the creator's videos older than `a` (None: too young a
    history, or too few videos to compare with)."""
    if not 0 <= a < MAX_AGE_H:
        return None
    lo = max(a - WINDOW_H + 1, 0)
    ages = range(lo, a + 1)
    base = [
        other
        for other, b in age_now.items()
        if other != video and b > a and first_age.get(other, 0) <= lo
    ]
    if len(base) < MIN_BASELINE:
        return None
    views, shares = _window(hours.get(video, {}), ages)
    bv = np.array([_window(hours.get(o, {}), ages)[0] for o in base], float)
    bs = np.array([_window(hours.get(o, {}), ages)[1] for o in base], float)
    return Alert(video, a, views, shares, float(np.median(bv)), float(np.median(bs)),
                 robust_z(views, bv), robust_z(shares, bs), len(base))  # fmt: skip


def is_alert(a: Alert) -> bool:
    return a.z_views >= Z_ALERT and a.z_shares >= Z_ALERT and a.views >= MIN_VIEWS


def _window(by_age: dict[int, tuple[int, int]], ages: range) -> tuple[int, int]:
    views = shares = 0
    for age in ages:
        v, s = by_age.get(age, (0, 0))
        views += v
        shares += s
    return views, shares


def virality(studio: Studio) -> Virality:
    """Alerts for the creator's young videos taking off now."""
    since = studio.latest - timedelta(days=BASELINE_DAYS - 1)
    panel = studio.panel(VideoAgeHours(studio.creator_id, since, studio.latest, MAX_AGE_H))
    hours: dict[str, dict[int, tuple[int, int]]] = {}
    for video, age, views, shares in panel.rows:
        hours.setdefault(video, {})[age] = (views, shares)
    checked = test_windows(hours, panel.age_now, panel.first_age)
    alerts = [a for a in checked if is_alert(a)]
    alerts.sort(key=lambda a: -a.z_views)
    note = None if checked else "no video young enough with enough history to compare"
    return Virality(alerts, checked, note, as_of=_instant(panel.latest_hour, studio.timezone))


def _instant(local_hour: datetime | None, timezone: str) -> datetime | None:
    """The end of a local wall-clock hour as a UTC instant."""
    if local_hour is None:
        return None
    end = local_hour.replace(tzinfo=None) + timedelta(hours=1)
    return end.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
