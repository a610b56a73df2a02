"""Creator fund rules: exactly what is missing, computed by hand."""

from __future__ import annotations

from creatorlens.insights.fund import FundRules, missing_for


def test_one_follower_short_is_told_exactly_that() -> None:
    assert missing_for(9_999, 150_000, FundRules()) == ["1 follower short"]


def test_views_short_are_given_as_of_the_goal() -> None:
    assert missing_for(10_000, 92_340, FundRules()) == ["92,340 of 100,000 views"]


def test_rules_are_configurable() -> None:
    assert missing_for(40, 10, FundRules(min_followers=42, min_views_30d=10)) == [
        "2 followers short"
    ]
