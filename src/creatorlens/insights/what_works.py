"""What works: which hashtags, sounds, video lengths and posting hours go with more views,
a higher full-watch rate or a higher engagement rate, on the creator's own videos.

Definition (docs/insights.md): per video over the history window (up to 365 days ending
on the latest day), views, full-watch rate (full watches / plays) and engagement rate
((likes + comments + shares) / views), all released answers of the query model by video.
For each trait (a hashtag, a sound, a length band, a three-hour posting block in the
creator's time zone) held by at least `MIN_VIDEOS` videos, with at least `MIN_VIDEOS`
without it, the effect is the median of the videos with it over the median of those
without, with a bootstrap 95 % interval (`BOOTSTRAP` resamples of both groups). A claim is
made only when the interval excludes 1; traits on fewer videos make no claim at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from creatorlens.query import Query
from creatorlens.query.insights import VideoTraits
from creatorlens.studio import Studio

MIN_VIDEOS = 5
BOOTSTRAP = 400
HISTORY_DAYS = 365
MEASURES = ("views", "full_watch_rate", "engagement_rate")
LENGTH_BANDS = ((0, 15_000, "under 15 s"), (15_000, 30_000, "15-30 s"),
                (30_000, 60_000, "30-60 s"), (60_000, None, "over 60 s"))  # fmt: skip
_READ = ("views", "plays", "full_watches", "likes", "comments", "shares")


@dataclass(frozen=True)
class Claim:
    """One trait's effect on one measure, with the evidence behind it."""

    kind: str  # hashtag | sound | length | posting_hours
    trait: str
    measure: str
    videos: int  # videos with the trait
    others: int  # videos without it
    median_with: float
    median_without: float
    creator_median: float  # over all the creator's videos in the window
    effect: float  # median_with / median_without
    low: float  # bootstrap 95 % interval of the effect
    high: float

    @property
    def helps(self) -> bool:
        return self.low > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "trait": self.trait,
            "measure": self.measure,
            "videos": self.videos,
            "others": self.others,
            "median_with": round(self.median_with, 4),
            "median_without": round(self.median_without, 4),
            "creator_median": round(self.creator_median, 4),
            "effect": round(self.effect, 3),
            # An unbounded end (the others' resampled median was 0) is null.
            "interval": [_finite(self.low), _finite(self.high)],
            "direction": "helps" if self.helps else "hurts",
        }


@dataclass
class WhatWorks:
    videos: int  # videos with views in the window
    claims: list[Claim]
    too_few_videos: int  # traits seen on 1..MIN_VIDEOS-1 videos: no claim made
    note: str | None = None
    withheld: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "videos": self.videos,
            "min_videos": MIN_VIDEOS,
            "claims": [c.to_json() for c in self.claims],
            "traits_with_too_few_videos": self.too_few_videos,
            "note": self.note,
            "withheld": self.withheld,
        }


def _finite(value: float) -> float | None:
    return round(value, 3) if np.isfinite(value) else None


def length_band(duration_ms: int) -> str:
    for _low, high, label in LENGTH_BANDS:
        if high is None or duration_ms < high:
            return label
    return LENGTH_BANDS[-1][2]


def traits_of(trait, timezone: str) -> list[tuple[str, str]]:
    """The (kind, trait) pairs a video holds."""
    hour = trait.posted_at.astimezone(ZoneInfo(timezone)).hour
    block = hour - hour % 3
    out = [("hashtag", f"#{t}") for t in dict.fromkeys(trait.hashtags)]
    if trait.sound:
        out.append(("sound", trait.sound))
    out.append(("length", length_band(trait.duration_ms)))
    out.append(("posting_hours", f"{block:02d}:00-{block + 3:02d}:00"))
    return out


def per_video_figures(studio: Studio, start, end) -> dict[str, dict[str, float]]:
    """Views, full-watch rate and engagement rate of each video with views in the window."""
    query = Query(studio.creator_id, _READ, _period(start, end), ("video",), totals=False)
    out = {}
    for row in studio.answer(query).rows:
        views, plays = int(row["views"] or 0), int(row["plays"] or 0)
        if views <= 0:
            continue
        engaged = sum(int(row[m] or 0) for m in ("likes", "comments", "shares"))
        out[str(row["video"])] = {
            "views": float(views),
            "full_watch_rate": int(row["full_watches"] or 0) / plays if plays else 0.0,
            "engagement_rate": engaged / views,
        }
    return out


def _period(start, end):
    from creatorlens.query import Period

    return Period(start, end, f"{start}..{end}")


def what_works(studio: Studio, *, min_videos: int = MIN_VIDEOS) -> WhatWorks:
    """Claims about the creator's traits that their own history supports."""
    end = studio.latest
    start = max(studio.first or end, end - timedelta(days=HISTORY_DAYS - 1))
    figures = per_video_figures(studio, start, end)
    traits = studio.panel(VideoTraits(studio.creator_id)).videos
    videos = [v for v in figures if v in traits]
    if len(videos) < 2 * min_videos:
        return WhatWorks(len(videos), [], 0, f"not enough videos yet ({2 * min_videos} needed)")
    holders: dict[tuple[str, str], set[int]] = {}
    for i, v in enumerate(videos):
        for key in traits_of(traits[v], studio.timezone):
            holders.setdefault(key, set()).add(i)
    values = {m: np.array([figures[v][m] for v in videos]) for m in MEASURES}
    medians = {m: float(np.median(values[m])) for m in MEASURES}
    claims, too_few = [], 0
    n = len(videos)
    for (kind, trait), have in sorted(holders.items()):
        if len(have) < min_videos:
            too_few += 1
            continue
        if n - len(have) < min_videos:
            continue  # (almost) every video has it: nothing to compare with
        mask = np.zeros(n, bool)
        mask[list(have)] = True
        rng = np.random.default_rng(_seed(studio.creator_id, kind, trait))
        for m in MEASURES:
            found = _effect(values[m][mask], values[m][~mask], rng)
            if found is None:
                continue
            effect, low, high, a, b = found
            if low > 1 or high < 1:
                claims.append(Claim(kind, trait, m, int(mask.sum()), int((~mask).sum()),
                                    a, b, medians[m], effect, low, high))  # fmt: skip
    claims.sort(key=lambda c: (-abs(np.log(c.effect)), c.kind, c.trait, c.measure))
    return WhatWorks(n, claims, too_few)


def _effect(with_: np.ndarray, without: np.ndarray, rng: np.random.Generator):
    """The ratio of medians and its bootstrap 95 % interval, or None when undefined."""
    a, b = float(np.median(with_)), float(np.median(without))
    if a <= 0 or b <= 0:
        return None
    ra, rb = bootstrap_medians(with_, rng), bootstrap_medians(without, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(rb > 0, ra / np.where(rb > 0, rb, 1), np.inf)
    # Order statistics, not interpolated: an infinite ratio (a resample of zero median
    # without the trait) stays an unbounded end, never a NaN.
    low = np.percentile(ratios, 2.5, method="lower")
    high = np.percentile(ratios, 97.5, method="higher")
    return a / b, float(low), float(high), a, b


def bootstrap_medians(x: np.ndarray, rng: np.random.Generator, n_boot: int = BOOTSTRAP):
    """`n_boot` medians of resamples (with replacement) of `x`, drawn exactly without
    building the resamples: a resample's k-th smallest value is x's value at the k-th
    order statistic of n uniform draws, a Beta(k, n + 1 - k) variable; for an even n the
    next order statistic follows as U + (1 - U) * Beta(1, n - k)."""
    s = np.sort(x)
    n = len(s)
    k = (n + 1) // 2
    u = rng.beta(k, n + 1 - k, n_boot)
    low = s[np.minimum((u * n).astype(int), n - 1)]
    if n % 2:
        return low
    v = u + (1 - u) * rng.beta(1, n - k, n_boot)
    return (low + s[np.minimum((v * n).astype(int), n - 1)]) / 2


def _seed(*parts: str) -> int:
    """A fixed seed per question: the same history gives the same interval every time."""
    return int.from_bytes(hashlib.sha256("\x00".join(parts).encode()).digest()[:8], "big")
