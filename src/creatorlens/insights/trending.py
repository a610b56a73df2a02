"""Trending on the platform: the sounds and hashtags whose views grow fastest.

Definition (docs/insights.md): over all creators, views of the videos using each sound or
hashtag in the 7 local days up to the platform's latest day, per day, over the views per
day in the 28 days before (floored at one view a day); also the videos posted with it in
both spans. Listed only where at least `k_min` creators (a protected count) used it in
those 35 days; the rest are withheld by the release (`privacy.insights`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from creatorlens.query.insights import TrendingTags
from creatorlens.studio import Studio


@dataclass
class Trending:
    end: date | None
    sounds: list
    hashtags: list
    withheld: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.end.isoformat() if self.end else None,
            "sounds": [i.to_json() for i in self.sounds],
            "hashtags": [i.to_json() for i in self.hashtags],
            "withheld": self.withheld,
        }


def trending(studio: Studio) -> Trending:
    """The platform's fastest-growing sounds and hashtags, as the release lets through."""
    panel = studio.panel(TrendingTags(studio.creator_id, min_creators=studio.policy.k_min))
    withheld = [f"{w.what}: {w.reason}" for w in panel.withheld]
    return Trending(panel.end, panel.sounds, panel.hashtags, withheld)
