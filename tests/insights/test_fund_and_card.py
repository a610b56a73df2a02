"""The creator fund on the hand-made platform, and the brand card against the report."""

from __future__ import annotations

import json

from creatorlens.insights import FundRules, brand_card, creator_fund
from creatorlens.insights.fund import age_rule
from creatorlens.studio import open_studio
from tests.insights.conftest import KID, POLICY
from tests.query.conftest import CROWD_CREATOR


def test_one_follower_short_and_under_age_are_told_exactly(insights_db) -> None:
    rules = FundRules(min_followers=10, min_views_30d=20)
    with open_studio(insights_db, KID, policy=POLICY) as studio:
        fund = creator_fund(studio, rules)
    assert fund.followers == 9 and fund.views_30d == 20
    assert fund.missing == ["1 follower short", "under 18"]  # born 2010: 16 in 2026
    assert fund.eligible is False
    assert fund.per_video_usd == {"kid-1": (20 / 1000 * 0.02, 20 / 1000 * 0.04)}


def test_age_from_a_birth_year() -> None:
    assert age_rule(2007, 2026, 18) is True  # 19 this year: 18 at least
    assert age_rule(2008, 2026, 18) is None  # 18 this year: maybe not yet
    assert age_rule(2009, 2026, 18) is False
    assert age_rule(None, 2026, 18) is None


def test_the_card_holds_nothing_the_report_withholds(crowd_db) -> None:
    with open_studio(crowd_db, CROWD_CREATOR) as studio:
        period = studio.period("28d")
        card = brand_card(studio, period)
        dashboard = studio.dashboard(period, compare=False)
    shown = json.dumps(card.to_json())
    for dim, rows in card.audience.items():
        part = dashboard.overview.audience[dim]
        report = {r[dim]: r["reach"] for r in part.rows}
        total = part.total["reach"]
        for row in rows:
            assert row["value"] in report  # a row the report shows
            assert row["share_of_reach"] == round(report[row["value"]] / total, 4)
        for note in part.withheld:
            assert note.to_json()["what"] in shown  # what was withheld is said, not shown
    assert card.videos == 1
    assert card.followers == dashboard.followers.totals["followers_total"]
    assert "crowd-" not in shown  # nobody named
