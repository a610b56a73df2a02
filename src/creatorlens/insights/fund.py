"""Creator fund: eligibility against configurable program rules, and an earnings range.

Definition (docs/insights.md): followers at the end of the latest day and views over the
last 30 local days, both released answers of the query model. Each rule unmet says exactly
what is missing ("1 follower short", "92,340 of 100,000 views"). Age and good standing have
no released source yet and are reported as not checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "followers": self.followers,
            "views_30d": self.views_30d,
            "missing": self.missing,
            "not_checked": self.not_checked,
            "monthly_usd": list(self.monthly_usd) if self.monthly_usd else None,
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
    not_checked = [f"age {rules.min_age}+", "account in good standing"]
    low, high = rules.usd_per_1000_views
    monthly = (views / 1000 * low, views / 1000 * high) if views is not None else None
    withheld = [f"{w.what}: {w.reason}" for w in result.withheld]
    eligible = False if missing else None
    return Fund(eligible, followers, views, missing, not_checked, monthly, withheld)
