"""Virality alerts as notifications: each alert of the insights (`insights.virality`) kept
once per video and alert window, with its figures as the insights released them.

An alert speaks of a video's latest `WINDOW_H` hours; a video taking off for a whole day
would be alerted at every hour, so the notification is one per window of its age (ages
0-5 h, 6-11 h, ...): its id is `virality:<video>:<window>`, and asking again while the
video is in the same window finds it stored and adds nothing. The alert is computed from
the creator's studio (the release stage), never from the store's tables; only the
notification is written, beside the others.
"""

from __future__ import annotations

import threading
from typing import Any

from creatorlens.insights.virality import WINDOW_H, Alert, virality
from creatorlens.notify.derive import create_tables
from creatorlens.studio import Studio

ALERT_KIND = "virality"


def alert_group(alert: Alert) -> str:
    """The stable id of an alert's notification: its video and window of age."""
    return f"{ALERT_KIND}:{alert.video}:{alert.age_hours // WINDOW_H}"


def times_usual(views: int, usual_views: float) -> float:
    """How many times its usual views a video did (the usual taken as at least one view)."""
    return views / max(usual_views, 1.0)


def alert_message(video_id: str, views: int, usual_views: float, window_hours: int) -> str:
    """ "Your video v1 is taking off: 360 views in the last 6 hours, 12× its usual"."""
    ratio = times_usual(views, usual_views)
    shown = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}".removesuffix(".0")
    return (
        f"Your video {video_id} is taking off: {views:,} views in the last "
        f"{window_hours} hours, {shown}× its usual"
    )


_INSERT = """
INSERT OR IGNORE INTO notify_alerts
SELECT * FROM (VALUES ($creator, $group, $video, $at, $window, $views, $shares,
                       $usual_views, $usual_shares))
"""

# Request threads record on their own sessions: one at a time (the key keeps one row).
_recording = threading.Lock()


def record_alerts(con: Any, studio: Studio) -> int:
    """Record the creator's virality alerts now as notifications (those not yet recorded);
    how many were new. `con` writes the notification tables."""
    found = virality(studio)
    if not found.alerts or found.as_of is None:
        return 0
    at_ms = int(found.as_of.timestamp() * 1000)
    new = 0
    with _recording:
        create_tables(con)
        for alert in found.alerts:
            released = alert.to_json()  # the figures as the insights API gives them
            params = {
                "creator": studio.creator_id,
                "group": alert_group(alert),
                "video": alert.video,
                "at": at_ms,
                "window": WINDOW_H,
                "views": released["views"],
                "shares": released["shares"],
                "usual_views": released["baseline_views"],
                "usual_shares": released["baseline_shares"],
            }
            new += con.execute(_INSERT, params).fetchone()[0]
    return new
