"""Benchmark against the niche: where the creator stands among creators like them.

Definition (docs/insights.md): over the platform's last 28 days (to its latest day, as
computed at refresh in `rollup.platform`), the creator's category is the most common category of
their videos; the band is their follower count at the period's end (under 1k, 1k-10k,
10k-100k, 100k-1M, 1M+). Engagement rate ((likes + comments + shares) / views), average
views per video (views / videos viewed in the period) and follower growth (net followers
/ followers at the period's start) are given as percentiles (0-100, ties counted half)
among every creator of the same category and band, the creator included. Only where the
band holds at least `k_min` creators (protected): otherwise withheld. No other creator's
figure, name or link is ever part of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from creatorlens.query.insights import NicheBenchmark
from creatorlens.studio import Studio


@dataclass
class Benchmark:
    end: date | None
    category: str | None
    band: str
    creators: int | None
    own: dict[str, float | None]
    percentiles: dict[str, int | None]
    withheld: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "to": self.end.isoformat() if self.end else None,
            "days": 28,
            "category": self.category,
            "followers_band": self.band,
            "creators_in_band": self.creators,
            "own": {k: (round(v, 4) if v is not None else None) for k, v in self.own.items()},
            "percentiles": self.percentiles,
            "withheld": self.withheld,
        }


def band_label(band: tuple[int, int | None]) -> str:
    low, high = band

    def short(n: int) -> str:
        return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k" if n >= 1000 else str(n)

    return f"{short(low)}+" if high is None else f"{short(low)}-{short(high)}"


def benchmark(studio: Studio) -> Benchmark:
    """The creator's percentiles in their niche, as the release lets through."""
    panel = studio.panel(NicheBenchmark(studio.creator_id))
    withheld = [f"{w.what}: {w.reason}" for w in panel.withheld]
    return Benchmark(panel.end, panel.category, band_label(panel.band), panel.creators, panel.own,
                     panel.percentiles, withheld)  # fmt: skip
