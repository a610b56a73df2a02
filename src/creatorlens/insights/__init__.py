"""Insights a creator acts on, computed only from released answers (issue 18).

Every figure here comes from `Studio.panel` / `Studio.answer`, so the privacy layer's
release stage is the only door a number passes through; nothing here reads the store.
"""

from creatorlens.insights.best_times import BestTimes, Slot, best_times
from creatorlens.insights.fund import Fund, FundRules, creator_fund

__all__ = ["BestTimes", "Fund", "FundRules", "Slot", "best_times", "creator_fund"]
