"""What the declared panel queries release: typed values, each already through the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creatorlens.privacy.policy import PrivacyPolicy
from creatorlens.privacy.rules import protect
from creatorlens.privacy.suppression import Reason, Withheld, clears, digest
from creatorlens.query.raw import RawVideoPositions


@dataclass
class ActivityCell:
    """Followers who played the creator's videos at one weekday (1 = Monday) and hour."""

    weekday: int
    hour: int
    followers: int
    plays: int


@dataclass
class ActivityTotal:
    """Followers who played at one weekday (`at` 1-7) or one hour (`at` 0-23), all
    weeks or all weekdays together: what a sparse heatmap's small cells merge into."""

    at: int
    followers: int
    plays: int


@dataclass
class FollowerActivityPanel:
    cells: list[ActivityCell]
    followers: int | None  # distinct followers who played in the period (protected)
    withheld: list[Withheld] = field(default_factory=list)
    by_weekday: list[ActivityTotal] = field(default_factory=list)
    by_hour: list[ActivityTotal] = field(default_factory=list)


@dataclass
class WatchedVideo:
    """A video (of any creator) the creator's followers watched: how many, how often."""

    video: str
    creator_id: str | None
    followers: int
    plays: int


@dataclass
class FollowersWatchedPanel:
    videos: list[WatchedVideo]
    withheld: list[Withheld] = field(default_factory=list)


@dataclass
class FollowerBreakdown:
    """Followers by one attribute: shown rows (`value`, `followers`), total, withheld."""

    rows: list[dict[str, Any]]
    total: int | None
    withheld: list[Withheld] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "total": self.total,
            "withheld": [w.to_json() for w in self.withheld],
        }


@dataclass
class LikersPanel:
    named: list[str]
    others: int


@dataclass
class VideoMetaPanel:
    videos: dict[str, dict[str, Any]]


@dataclass
class RetentionPoint:
    at_ms: int
    share: float


@dataclass
class LikesAt:
    at_ms: int
    likes: int


@dataclass
class VideoPositionsPanel:
    retention: list[RetentionPoint]
    likes_by_second: list[LikesAt]
    # Likes made outside any play; None when the likes are too few to show their positions.
    outside_play: int | None
    withheld: list[Withheld] = field(default_factory=list)


@dataclass
class CreatorCard:
    """A creator's all-time totals, as far as the audience may see them."""

    creator_id: str
    videos: int | None = None
    plays: int | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    profile_views: int | None = None
    reach: int | None = None
    followers_gained: int | None = None
    followers_lost: int | None = None
    total_watch_ms: int | None = None
    followers: int | None = None


def bucket_width(duration: int) -> tuple[float, int]:
    """The width of a position bucket and the last bucket's number (the rollups' buckets:
    1 s up to 100 s of duration, else 1 % of it)."""
    width = 1000 if duration <= 100_000 else duration / 100
    return width, int(-(-duration // width))


def release_positions(
    raw: RawVideoPositions, policy: PrivacyPolicy, secret: bytes
) -> VideoPositionsPanel:
    """The retention curve (shares of anonymous plays), and likes by position only when at
    least cell_min accounts liked: a like is a named act placed by the liker's anonymous
    play, so a handful of likes would say when, and whether, named likers played."""
    if raw.duration_ms is None:
        return VideoPositionsPanel([], [], 0)
    width, buckets = bucket_width(raw.duration_ms)
    total = sum(n for _, n in raw.retention)
    curve = []
    if total:
        reached, remaining = dict(raw.retention), total
        for b in range(buckets + 1):
            curve.append(RetentionPoint(int(b * width), round(remaining / total, 4)))
            remaining -= reached.get(b, 0)
    if not raw.likes:
        return VideoPositionsPanel(curve, [], 0)
    q = raw.question
    # Keyed by the likes in bucket order, not in the order the store's grouping returned
    # them: the same data must get the same noise whatever its physical layout.
    in_order = sorted(raw.likes, key=lambda like: (like[0] is not None, like[0] or 0))
    key = digest(q.creator_id, "likes by position", q.video_id, in_order)
    likers = protect(raw.likers, digest(key, "likers"), policy, secret)
    if not clears(likers, policy.cell_min, policy):
        note = Withheld("likes by second", Reason.LIKERS_BELOW_CELL_MIN)
        return VideoPositionsPanel(curve, [], None, [note])
    placed = {b: n for b, n in raw.likes if b is not None}
    outside = sum(n for b, n in raw.likes if b is None)
    seconds = [LikesAt(int(b * width), placed.get(b, 0)) for b in range(buckets)] if placed else []
    return VideoPositionsPanel(
        curve, seconds, protect(outside, digest(key, "outside"), policy, secret)
    )
