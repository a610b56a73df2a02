"""Creator fund: eligibility against configurable program rules, and an earnings range.

Definition (docs/insights.md): followers at the end of the latest day and views over the
last 30 local days, both released answers of the query model. Each rule unmet says exactly
what is missing ("1 follower short", "92,340 of 100,000 views"). Age is checked from the
creator's own account's birth year (only a year: in the year they turn 18 it cannot be
told, and is reported as not checked); the store holds no standing record (strikes,
bans), so good standing is always reported as not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from creatorlens.query import Period, Query
from creatorlens.query.insights import CreatorAccount
from creatorlens.studio import Studio


@dataclass(frozen=True)
class FundRules:
    min_followers: int = 10_000
    min_views_30d: int = 100_000
    min_age: int = 18
    usd_per_1000_views: tuple[float, float] = (0.02, 0.04)


@dataclass(frozen=True)
class Fund:
    eligible: bool | None  # None: a rule could not be checked from released figures
    followers: int | None
    views_30d: int | None
    missing: list[str]
    not_checked: list[str]
    monthly_usd: tuple[float, float] | None
    withheld: list[str] = field(default_factory=list)
    per_video_usd: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "followers": self.followers,
            "views_30d": self.views_30d,
            "missing": self.missing,
            "not_checked": self.not_checked,
            "monthly_usd": list(self.monthly_usd) if self.monthly_usd else None,
            "per_video_usd_30d": {v: list(r) for v, r in self.per_video_usd.items()},
            "withheld": self.withheld,
        }


def missing_for(followers: int | None, views: int | None, rules: FundRules) -> list[str]:
    out = []
    if followers is not None and followers < rules.min_followers:
        short = rules.min_followers - followers
        out.append(f"{short:,} follower{'s' if short != 1 else ''} short")
    if views is not None and views < rules.min_views_30d:
        out.append(f"{views:,} of {rules.min_views_30d:,} views")
    return out


def age_rule(birth_year: int | None, year: int, min_age: int) -> bool | None:
    """Whether the creator is at least `min_age` in `year` from a birth year only: True,
    False, or None when it cannot be told (no birth year, or the year they turn it)."""
    if birth_year is None:
        return None
    if year - birth_year > min_age:
        return True
    if year - birth_year < min_age:
        return False
    return None


def creator_fund(studio: Studio, rules: FundRules | None = None) -> Fund:
    rules = rules or FundRules()
    end = studio.latest
    start = end - timedelta(days=29)
    query = studio.parse(
        {"metrics": ["views", "followers_total"], "from": str(start), "to": str(end)}
    )
    result = studio.answer(query)
    followers = result.totals.get("followers_total")
    views = result.totals.get("views")
    missing = missing_for(followers, views, rules)
    account = studio.panel(CreatorAccount(studio.creator_id))
    adult = age_rule(account.birth_year, end.year, rules.min_age)
    not_checked = ["account in good standing (no standing record in the store)"]
    if adult is False:
        missing.append(f"under {rules.min_age}")
    elif adult is None:
        not_checked.insert(0, f"age {rules.min_age}+ (birth year only)")
    low, high = rules.usd_per_1000_views
    monthly = (views / 1000 * low, views / 1000 * high) if views is not None else None
    by_video = Query(studio.creator_id, ("views",), Period(start, end, "last 30 days"),
                     ("video",), order_by=(("views", "desc"), ("video", "asc")), limit=10,
                     totals=False)  # fmt: skip
    per_video = {
        str(r["video"]): (int(r["views"] or 0) / 1000 * low, int(r["views"] or 0) / 1000 * high)
        for r in studio.answer(by_video).rows
    }
    withheld = [f"{w.what}: {w.reason}" for w in result.withheld]
    eligible = False if missing else None
    return Fund(eligible, followers, views, missing, not_checked, monthly, withheld, per_video)
