"""Insights a creator acts on, computed only from released answers (issue 18).

Every figure here comes from `Studio.panel` / `Studio.answer`, so the privacy layer's
release stage is the only door a number passes through; nothing here reads the store
(the card book, a file of published cards beside it, is the one thing written).
"""

from creatorlens.insights.benchmark import Benchmark, benchmark
from creatorlens.insights.best_times import BestTimes, Slot, best_times
from creatorlens.insights.card import Card, CardBook, brand_card
from creatorlens.insights.fund import Fund, FundRules, creator_fund
from creatorlens.insights.sentiment import Sentiment, sentiment
from creatorlens.insights.summary import Insights, creator_insights
from creatorlens.insights.trending import Trending, trending
from creatorlens.insights.virality import Alert, Virality, virality
from creatorlens.insights.what_works import Claim, WhatWorks, what_works

__all__ = [
    "Alert",
    "BestTimes",
    "Benchmark",
    "Card",
    "CardBook",
    "Claim",
    "Fund",
    "FundRules",
    "Insights",
    "Sentiment",
    "Slot",
    "Trending",
    "Virality",
    "WhatWorks",
    "benchmark",
    "best_times",
    "brand_card",
    "creator_fund",
    "creator_insights",
    "sentiment",
    "trending",
    "virality",
    "what_works",
]
