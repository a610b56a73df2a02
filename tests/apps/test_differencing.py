"""Differencing: two app questions whose data differ by one viewer's events (the crowd's
days 1-7, and days 1-8, when one newcomer watched twice) cannot be told apart beyond what ε
allows. Shown by the distributions of many fresh draws of each answer (the release stage
itself, on the raw answers of the real store), not by one draw: every value either answer
takes is at most e^ε times likelier under one than under the other."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from creatorlens.privacy import DEFAULT_POLICY, App, DPPolicy, release
from creatorlens.query.runner import run_raw
from creatorlens.studio import open_studio
from tests.query.conftest import CROWD_CREATOR

DRAWS = 10_000


def draws(raw, app: App) -> dict[str, Counter]:
    """Each metric's answers over DRAWS fresh releases of one raw answer."""
    out: dict[str, Counter] = {m: Counter() for m in raw.query.metrics}
    for _ in range(DRAWS):
        totals = release(raw, DEFAULT_POLICY, app, secret=b"unused by apps").totals
        for m in out:
            out[m][totals[m]] += 1
    return out


def test_one_viewer_more_moves_no_answer_beyond_e_to_the_epsilon(crowd_db) -> None:
    dp = DPPolicy()
    app = App("app_diff", CROWD_CREATOR, frozenset({"overview.read"}), dp)
    with open_studio(crowd_db, CROWD_CREATOR) as studio:
        week = studio.parse(
            {"metrics": ["reach", "views"], "from": "2026-10-01", "to": "2026-10-07"}
        )
        with_newcomer = replace(
            week, period=replace(week.period, end=week.period.end.replace(day=8))
        )
        raw_week, raw_more = run_raw(studio._ctx, week), run_raw(studio._ctx, with_newcomer)
    # The two questions count the same people but one: the newcomer and their two views.
    assert raw_more.current.totals["reach"] == raw_week.current.totals["reach"] + 1
    assert raw_more.current.totals["views"] == raw_week.current.totals["views"] + 2

    week_draws, more_draws = draws(raw_week, app), draws(raw_more, app)
    for metric, change in (("reach", 1), ("views", 2)):
        # The loss one viewer can cause: their change over the metric's sensitivity, × ε.
        epsilon = dp.epsilon_per_number * change / dp.sensitivity(metric)
        a, b = week_draws[metric], more_draws[metric]
        compared = 0
        for value in set(a) | set(b):
            pa, pb = a[value] / DRAWS, b[value] / DRAWS
            if min(a[value], b[value]) < 150:
                continue  # too rare to estimate a ratio from
            # log p̂ has a standard error of about sqrt((1 - p) / (n p)); allow 5 of them.
            slack = 5 * (math.sqrt((1 - pa) / a[value]) + math.sqrt((1 - pb) / b[value]))
            assert abs(math.log(pa / pb)) <= epsilon + slack, (metric, value, pa, pb)
            compared += 1
        assert compared >= 5, metric
        # And the answers do differ in distribution (the mean moves by the change): noise
        # hides the viewer, it does not erase the data.
        mean_a = sum(v * n for v, n in a.items()) / DRAWS
        mean_b = sum(v * n for v, n in b.items()) / DRAWS
        alpha = math.exp(-1 / dp.scale(metric))
        spread = math.sqrt(2 * (2 * alpha / (1 - alpha) ** 2) / DRAWS)  # sd of the difference
        assert abs((mean_b - mean_a) - change) < 6 * spread, (metric, mean_a, mean_b)
