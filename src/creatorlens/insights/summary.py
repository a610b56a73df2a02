"""All of a creator's insights at once, as one value for the CLI, the API and the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from creatorlens.insights.benchmark import Benchmark, benchmark
from creatorlens.insights.best_times import BestTimes, best_times
from creatorlens.insights.fund import Fund, FundRules, creator_fund
from creatorlens.insights.sentiment import Sentiment, sentiment
from creatorlens.insights.trending import Trending, trending
from creatorlens.insights.virality import Virality, virality
from creatorlens.insights.what_works import WhatWorks, what_works
from creatorlens.query import Period
from creatorlens.studio import Studio
from creatorlens.studio.tasks import Panels


@dataclass
class Insights:
    creator_id: str
    period: Period
    best_times: BestTimes
    what_works: WhatWorks
    trending: Trending
    sentiment: Sentiment
    virality: Virality
    benchmark: Benchmark
    creator_fund: Fund

    def to_json(self) -> dict[str, Any]:
        return {
            "creator_id": self.creator_id,
            "period": {
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
                "label": self.period.label,
            },  # fmt: skip
            "best_times": self.best_times.to_json(),
            "what_works": self.what_works.to_json(),
            "trending": self.trending.to_json(),
            "sentiment": self.sentiment.to_json(),
            "virality": self.virality.to_json(),
            "benchmark": self.benchmark.to_json(),
            "creator_fund": self.creator_fund.to_json(),
        }


def creator_insights(studio: Studio, period: Period, rules: FundRules | None = None) -> Insights:
    """Every insight of the creator for one period (best times, sentiment); the others read
    their own windows: the history (what works), the latest hours (virality), the
    platform's latest weeks (trending, benchmark) and the last 30 days (fund).

    Each is a task of the dashboard's worker threads (`studio.tasks.Panels`), the longest
    queued first, each reading on its worker's own session of the store."""
    with Panels(studio, period) as panels:
        tasks = {
            "what_works": panels.submit(lambda run: what_works(run.studio)),
            "virality": panels.submit(lambda run: virality(run.studio)),
            "best_times": panels.submit(lambda run: best_times(run.studio, period)),
            "sentiment": panels.submit(lambda run: sentiment(run.studio, period)),
            "creator_fund": panels.submit(lambda run: creator_fund(run.studio, rules)),
            "trending": panels.submit(lambda run: trending(run.studio)),
            "benchmark": panels.submit(lambda run: benchmark(run.studio)),
        }
        found = {name: task.result() for name, task in tasks.items()}
    return Insights(studio.creator_id, period, **found)
