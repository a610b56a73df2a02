"""The brand-partnership card: what a creator chooses to show brands, at a public link.

Definition (docs/insights.md): over the last 28 days, average views per video (views /
videos viewed), engagement rate ((likes + comments + shares) / views), followers, and the
audience's top territories, ages and genders as shares of reach. Every figure is a
released answer to the creator (the same questions as the dashboard's overview asks, so
the same protected counts): a row the creator's own report withholds is not on the card,
and the card lists what was withheld. Published cards are kept in a `CardBook` beside the
store, under a random slug; the creator revokes a card by deleting it.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from creatorlens.query import Period, Query
from creatorlens.store.keys import write_private_json
from creatorlens.studio import Studio

AUDIENCE = ("country", "age", "gender")
TOP_ROWS = 5


@dataclass
class Card:
    creator_id: str
    period: Period
    videos: int
    avg_views_per_video: float | None
    engagement_rate: float | None
    followers: int | None
    audience: dict[str, list[dict[str, Any]]]
    withheld: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {
            "creator_id": self.creator_id,
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "videos": self.videos,
            "avg_views_per_video": _round(self.avg_views_per_video, 1),
            "engagement_rate": _round(self.engagement_rate, 4),
            "followers": self.followers,
            "audience": self.audience,
            "withheld": self.withheld,
        }


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def brand_card(studio: Studio, period: Period | None = None) -> Card:
    """The creator's card from released answers only."""
    period = period or studio.period("28d")
    c = studio.creator_id
    totals = studio.answer(
        Query(c, ("views", "likes", "comments", "shares", "followers_total"), period)
    )
    per_video = studio.answer(Query(c, ("views",), period, ("video",), totals=False))
    videos = sum(1 for r in per_video.rows if (r["views"] or 0) > 0)
    t = totals.totals
    views = t.get("views")
    engaged = [t.get(m) for m in ("likes", "comments", "shares")]
    rate = sum(engaged) / views if views and None not in engaged else None
    withheld = [w.to_json() for w in totals.withheld]
    audience = {}
    for dim in AUDIENCE:
        # The dashboard's own question (reach and views by one attribute).
        result = studio.answer(Query(c, ("reach", "views"), period, (dim,), totals=True))
        reach = result.totals.get("reach")
        rows = [r for r in result.rows if r.get("reach") is not None]
        rows.sort(key=lambda r: -int(r["reach"]))
        audience[dim] = [
            {"value": r[dim], "share_of_reach": round(int(r["reach"]) / reach, 4)}
            for r in rows[:TOP_ROWS]
            if reach
        ]
        withheld += [w.about(f"audience {dim}").to_json() for w in result.withheld]
    avg = views / videos if views is not None and videos else None
    return Card(c, period, videos, avg, rate, t.get("followers_total"), audience, withheld)


class CardBook:
    """The published cards of a store: slug -> the creator and the card as published."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def beside(cls, db: str | Path) -> CardBook:
        db = Path(db)
        return cls(db.with_name(db.name + ".cards.json"))

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}

    def publish(self, card: Card) -> str:
        """Publish (or replace) the creator's card; its slug (kept across republishing)."""
        with self._lock:
            cards = self._read()
            slug = next((s for s, v in cards.items() if v["creator_id"] == card.creator_id), None)
            slug = slug or secrets.token_urlsafe(12)
            published = datetime.now(UTC).isoformat(timespec="seconds")
            cards[slug] = {"creator_id": card.creator_id, "published_at": published,
                           "card": card.to_json()}  # fmt: skip
            write_private_json(self.path, cards)
            return slug

    def revoke(self, creator_id: str) -> bool:
        """Take the creator's card down; whether there was one."""
        with self._lock:
            cards = self._read()
            kept = {s: v for s, v in cards.items() if v["creator_id"] != creator_id}
            if len(kept) == len(cards):
                return False
            write_private_json(self.path, kept)
            return True

    def get(self, slug: str) -> dict[str, Any] | None:
        entry = self._read().get(slug)
        return {**entry["card"], "published_at": entry["published_at"]} if entry else None
