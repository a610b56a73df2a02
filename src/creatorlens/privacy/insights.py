"""What the insights' panel queries release (issue 18): the rules as values, each tested.

- A creator's own videos (traits, views by age) and own comments' sentiment are theirs to
  see; a theme word of their comments is shown only when at least `THEME_MIN_COMMENTS`
  comments use it, so no aggregate quotes one comment.
- Trending sounds and hashtags are listed only when at least `k_min` creators (a
  protected count) used them in the window; fewer and the item is withheld.
- The niche benchmark is given only when the creator's band (category × follower size)
  holds at least `k_min` creators (protected); it gives percentiles, never another
  creator's figure or name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from creatorlens.privacy.rules import protect
from creatorlens.privacy.suppression import Reason, Withheld, clears, digest
from creatorlens.query.insights import (
    NICHE_MEASURES,
    TRENDING_BEFORE_DAYS,
    TRENDING_RECENT_DAYS,
    RawCommentSentiment,
    RawCreatorAccount,
    RawNicheBenchmark,
    RawTrendingTags,
    RawVideoAgeHours,
    RawVideoTraits,
)

THEME_MIN_COMMENTS = 3
THEMES_SHOWN = 10
TRENDING_SHOWN = 10


@dataclass(frozen=True)
class VideoTrait:
    posted_at: datetime
    duration_ms: int
    hashtags: tuple[str, ...]
    sound: str | None
    category: str | None


@dataclass
class VideoTraitsPanel:
    videos: dict[str, VideoTrait]


@dataclass
class VideoAgeHoursPanel:
    rows: list[tuple[str, int, int, int]]  # (video, age hour, views, shares)
    age_now: dict[str, int]
    first_age: dict[str, int]
    latest_hour: datetime | None = None  # local wall clock: the "now" of the ages


@dataclass
class SentimentPanel:
    """Comments by label: in all, per video and per local day; themes of the positive and
    negative ones (words with the comments using them); what was withheld."""

    scored: bool
    totals: dict[str, int]
    by_video: dict[str, dict[str, int]]
    by_day: dict[date, dict[str, int]]
    themes: dict[str, list[tuple[str, int]]]
    withheld: list[Withheld] = field(default_factory=list)


@dataclass(frozen=True)
class TrendingItem:
    kind: str  # "sound" | "hashtag"
    name: str
    creators: int  # protected count of creators who used it in the 35 days
    views_recent: int  # the last 7 days
    views_before: int  # the 28 days before
    videos_recent: int
    videos_before: int

    @property
    def growth(self) -> float:
        """Views per day in the last 7 days over views per day in the 28 before (a floor of
        one view a day before, so a new tag is not infinitely fast)."""
        recent = self.views_recent / TRENDING_RECENT_DAYS
        return recent / max(self.views_before / TRENDING_BEFORE_DAYS, 1.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "creators": self.creators,
            "views_last_7d": self.views_recent,
            "views_28d_before": self.views_before,
            "videos_last_7d": self.videos_recent,
            "videos_28d_before": self.videos_before,
            "growth": round(self.growth, 3),
        }


@dataclass
class TrendingPanel:
    end: date | None  # the last of the 7 recent days
    sounds: list[TrendingItem]
    hashtags: list[TrendingItem]
    withheld: list[Withheld] = field(default_factory=list)


@dataclass
class NichePanel:
    end: date | None  # the last of the 28 days compared
    category: str | None
    band: tuple[int, int | None]
    creators: int | None  # protected count of the band's creators (None: withheld)
    own: dict[str, float | None]
    percentiles: dict[str, int | None]
    withheld: list[Withheld] = field(default_factory=list)


@dataclass
class CreatorAccountPanel:
    birth_year: int | None
    created_at: datetime | None


def release_video_traits(raw: RawVideoTraits, policy, secret) -> VideoTraitsPanel:
    return VideoTraitsPanel({v: VideoTrait(*t) for v, t in raw.videos.items()})


def release_video_age_hours(raw: RawVideoAgeHours, policy, secret) -> VideoAgeHoursPanel:
    return VideoAgeHoursPanel(
        list(raw.rows), dict(raw.age_now), dict(raw.first_age), raw.latest_hour
    )


def release_sentiment(raw: RawCommentSentiment, policy, secret) -> SentimentPanel:
    """Counts as they are (comments are public acts the creator reads anyway); themes only
    from words of at least THEME_MIN_COMMENTS comments, never a comment's text."""
    if not raw.scored:
        return SentimentPanel(False, {}, {}, {}, {}, [Withheld("sentiment", Reason.NOT_SCORED_YET)])
    totals: dict[str, int] = {}
    by_video: dict[str, dict[str, int]] = {}
    by_day: dict[date, dict[str, int]] = {}
    for video, day, label, n in raw.counts:
        totals[label] = totals.get(label, 0) + n
        if video is not None:
            cell = by_video.setdefault(video, {})
            cell[label] = cell.get(label, 0) + n
        cell = by_day.setdefault(day, {})
        cell[label] = cell.get(label, 0) + n
    themes: dict[str, list[tuple[str, int]]] = {"positive": [], "negative": []}
    small = False
    for label, word, comments, _videos in raw.words:
        if comments < THEME_MIN_COMMENTS:
            small = True
            continue
        if len(themes[label]) < THEMES_SHOWN:
            themes[label].append((word, comments))
    withheld = [Withheld("comment themes", Reason.THEME_BELOW_MIN_COMMENTS)] if small else []
    return SentimentPanel(True, totals, by_video, dict(sorted(by_day.items())), themes, withheld)


def release_trending(raw: RawTrendingTags, policy, secret) -> TrendingPanel:
    """Only sounds and hashtags that at least k_min creators (protected) used."""
    shown: dict[str, list[TrendingItem]] = {"sound": [], "hashtag": []}
    if raw.question.min_creators > policy.k_min:
        raise ValueError("a trending read must not skip items the policy could show")
    small = raw.fewer > 0
    end = raw.end
    for kind, name, creators, recent, before, v_recent, v_before in raw.rows:
        key = digest("trending", end, kind, name, creators)
        count = protect(creators, digest(key, "creators"), policy, secret)
        if not clears(count, policy.k_min, policy):
            small = True
            continue
        if recent > 0:
            shown[kind].append(TrendingItem(kind, name, count, recent, before, v_recent, v_before))
    for items in shown.values():
        items.sort(key=lambda i: (-i.growth, -i.views_recent, i.name))
        del items[TRENDING_SHOWN:]
    withheld = [Withheld("trending items", Reason.CREATORS_BELOW_K_MIN)] if small else []
    return TrendingPanel(end, shown["sound"], shown["hashtag"], withheld)


def percentile(values: tuple[float, ...], own: float) -> int:
    """The share (0-100) of `values` below `own`, ties counted half."""
    below = sum(1 for v in values if v < own)
    ties = sum(1 for v in values if v == own)
    return round(100 * (below + 0.5 * ties) / len(values))


def release_niche(raw: RawNicheBenchmark, policy, secret) -> NichePanel:
    """Percentiles in the band, only when the band holds k_min creators (protected)."""
    key = digest("niche", raw.end, raw.category, raw.band, raw.band_creators)
    creators = protect(raw.band_creators, key, policy, secret)
    if raw.category is None or not clears(creators, policy.k_min, policy):
        note = Withheld("niche benchmark", Reason.CREATORS_BELOW_K_MIN)
        return NichePanel(raw.end, raw.category, raw.band, None, dict(raw.own), {}, [note])
    shown: dict[str, int | None] = {}
    for m in NICHE_MEASURES:
        own, values = raw.own.get(m), raw.band_values.get(m, ())
        # A figure is compared with at least k_min creators having it, or not at all.
        enough = clears(protect(len(values), digest(key, m), policy, secret), policy.k_min, policy)
        shown[m] = percentile(values, own) if own is not None and enough else None
    return NichePanel(raw.end, raw.category, raw.band, creators, dict(raw.own), shown)


def release_creator_account(raw: RawCreatorAccount, policy, secret) -> CreatorAccountPanel:
    return CreatorAccountPanel(raw.birth_year, raw.created_at)


RELEASES = {
    RawVideoTraits: release_video_traits,
    RawVideoAgeHours: release_video_age_hours,
    RawCommentSentiment: release_sentiment,
    RawTrendingTags: release_trending,
    RawNicheBenchmark: release_niche,
    RawCreatorAccount: release_creator_account,
}
