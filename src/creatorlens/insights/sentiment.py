"""Comment sentiment: how the audience feels, per video and over time.

Definition (docs/insights.md): each comment is scored once, at refresh, by VADER
(`rollup.sentiment`): positive (compound >= 0.05), negative (<= -0.05), neutral between;
a comment whose words are mostly not English is labelled `non_english` and not scored.
Shares are of the English comments scored; themes are the words and hashtags most used
by positive and by negative comments, each word in at least `THEME_MIN_COMMENTS`
comments, so no aggregate quotes a single comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from creatorlens.query import Period
from creatorlens.query.insights import CommentSentiment
from creatorlens.studio import Studio

TONES = ("positive", "neutral", "negative")


def shares(counts: dict[str, int]) -> dict[str, float | None]:
    """Shares of positive, neutral and negative among the scored (English) comments."""
    scored = sum(counts.get(t, 0) for t in TONES)
    return {t: (round(counts.get(t, 0) / scored, 4) if scored else None) for t in TONES}


@dataclass
class Sentiment:
    comments: int
    non_english: int
    shares: dict[str, float | None]
    by_video: dict[str, dict[str, Any]]
    by_day: list[dict[str, Any]]
    themes: dict[str, list[dict[str, Any]]]
    note: str | None = None
    withheld: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "comments": self.comments,
            "non_english": self.non_english,
            "shares": self.shares,
            "by_video": self.by_video,
            "by_day": self.by_day,
            "themes": self.themes,
            "note": self.note,
            "withheld": self.withheld,
        }


def _entry(counts: dict[str, int]) -> dict[str, Any]:
    return {"comments": sum(counts.values()), "non_english": counts.get("non_english", 0),
            **shares(counts)}  # fmt: skip


def sentiment(studio: Studio, period: Period) -> Sentiment:
    """The period's comment sentiment, as the release lets through."""
    panel = studio.panel(CommentSentiment(studio.creator_id, period))
    withheld = [f"{w.what}: {w.reason}" for w in panel.withheld]
    total = sum(panel.totals.values())
    by_day = [{"day": d.isoformat() if isinstance(d, date) else str(d), **_entry(c)}
              for d, c in panel.by_day.items()]  # fmt: skip
    themes = {label: [{"word": w, "comments": n} for w, n in words]
              for label, words in panel.themes.items()}  # fmt: skip
    note = None
    if not panel.scored:
        note = "comments not scored yet"
    elif total == 0:
        note = "no comments in this period"
    return Sentiment(total, panel.totals.get("non_english", 0), shares(panel.totals),
                     {v: _entry(c) for v, c in sorted(panel.by_video.items())}, by_day, themes,
                     note, withheld)  # fmt: skip
