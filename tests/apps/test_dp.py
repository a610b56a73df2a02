"""The noise an app gets: OpenDP's discrete Laplace at the configured scale, one draw per
distinct question over a state of the data, the same answer on every repeat, and none at
all in the creator's own answer.

OpenDP draws from the operating system's CSPRNG and cannot be seeded: the questions are
chosen with a fixed seed, and every statistical bound below is set so that a correct
mechanism fails it with probability far below one in a million (6 standard errors).
"""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from creatorlens.privacy import DEFAULT_POLICY, App, DPPolicy
from creatorlens.privacy.dp import error_bound, noisy, privacy_loss
from creatorlens.store import Store
from creatorlens.studio import open_studio
from creatorlens.studio.apps import ask_as_app
from tests.apps.conftest import copy_store
from tests.query.conftest import CROWD_CREATOR, crowd_platform

SEED = 17
NOW = datetime(2026, 12, 15, 12, tzinfo=UTC)


def alpha(scale: float) -> float:
    return math.exp(-1 / scale)


def variance(scale: float) -> float:
    """Var of the discrete Laplace P(k) ∝ α^|k| (the difference of two geometrics)."""
    a = alpha(scale)
    return 2 * a / (1 - a) ** 2


def pmf(k: int, scale: float) -> float:
    a = alpha(scale)
    return (1 - a) / (1 + a) * a ** abs(k)


def check_distribution(noise: list[int], scale: float) -> None:
    """Mean 0, the variance of the configured scale, and the probability of each small value,
    each within 6 standard errors."""
    n = len(noise)
    var = variance(scale)
    mean = sum(noise) / n
    assert abs(mean) < 6 * math.sqrt(var / n), mean
    second = sum(z * z for z in noise) / n
    fourth = sum(z**4 for z in noise) / n
    assert abs(second - var) < 6 * math.sqrt(max(fourth - var**2, 1e-9) / n), (second, var)
    counts = Counter(noise)
    for k in range(-3, 4):
        p = pmf(k, scale)
        assert abs(counts[k] / n - p) < 6 * math.sqrt(p * (1 - p) / n), (k, counts[k] / n, p)


@pytest.mark.parametrize("metric", ["reach", "views"])
def test_the_mechanism_has_the_configured_scale(metric: str) -> None:
    dp = DPPolicy()
    scale = dp.scale(metric)
    assert scale == dp.sensitivity(metric) / dp.epsilon_per_number
    # OpenDP's privacy map: this sensitivity at this scale costs epsilon_per_number.
    assert privacy_loss(dp.sensitivity(metric), scale) == pytest.approx(dp.epsilon_per_number)
    draws = [noisy(1_000, scale) - 1_000 for _ in range(10_000)]
    check_distribution(draws, scale)
    # The stated 95 % bound: at least 95 % of draws within it, and it is tight.
    bound = error_bound(scale, 0.95)
    inside = sum(abs(z) <= bound for z in draws) / len(draws)
    assert 0.95 - 6 * math.sqrt(0.05 * 0.95 / len(draws)) <= inside
    assert sum(pmf(k, scale) for k in range(-bound + 1, bound)) < 0.95 + 1e-9


@pytest.fixture(scope="module")
def crowd_store(crowd_db, tmp_path_factory):
    db = copy_store(crowd_db, tmp_path_factory.mktemp("dp-crowd"))
    with Store.open(db) as store:
        yield store


def crowd_views() -> list[tuple[date, str, int]]:
    """(São Paulo day, viewer, watched ms) of every view event of the crowd platform."""
    _, _, events = crowd_platform()
    out = []
    for e in events:
        local = datetime.fromisoformat(e["ts"].replace("Z", "+00:00")) - timedelta(hours=3)
        if e["type"] == "view":
            out.append((local.date(), e["actor_id"], e["watched_ms"]))
    return out


VIEWS = crowd_views()


def truth(start: date, end: date) -> dict[str, int]:
    """The crowd creator's reach, plays and views (plays of 3 s or more) in [start, end],
    counted from the platform's own events, independently of the store."""
    inside = [(viewer, ms) for day, viewer, ms in VIEWS if start <= day <= end]
    return {
        "reach": len({viewer for viewer, _ in inside}),
        "plays": len(inside),
        "views": sum(ms >= 3_000 for _, ms in inside),
    }


def test_distinct_questions_draw_noise_of_the_scale_repeats_do_not(crowd_store) -> None:
    dp = DPPolicy(monthly_epsilon=1e9)
    app = App("app_stat", CROWD_CREATOR, frozenset({"overview.read"}), dp)
    rng = random.Random(SEED)
    pairs = {
        (date(2026, 10, 1) - timedelta(days=rng.randrange(60)),
         date(2026, 10, 7) + timedelta(days=rng.randrange(80)))
        for _ in range(1_500)
    }  # fmt: skip
    pairs = sorted(pairs)[:700]
    metrics = ["reach", "plays", "views"]
    noise: dict[str, list[int]] = {m: [] for m in metrics}
    answers = {}
    for start, end in pairs:
        question = {"metrics": metrics, "from": start.isoformat(), "to": end.isoformat()}
        answer = ask_as_app(crowd_store, app, question, policy=DEFAULT_POLICY, now=lambda: NOW)
        exact = truth(start, end)
        if len(answers) % 50 == 0:  # the creator's own answer is exact: the truth itself
            with open_studio(crowd_store, CROWD_CREATOR) as studio:
                assert studio.answer(studio.parse(question)).totals == exact
        for m in metrics:
            noise[m].append(answer["totals"][m] - exact[m])
        answers[(start, end)] = answer
    # 700 distinct questions, 2,100 draws: reach at scale 2, plays and views at scale 20.
    assert len(pairs) == 700
    check_distribution(noise["reach"], dp.scale("reach"))
    check_distribution(noise["plays"] + noise["views"], dp.scale("views"))
    spent = answers[pairs[-1]]["budget"]["epsilon_spent"]
    assert spent == pytest.approx(700 * 3 * dp.epsilon_per_number)

    # Repeating a question, however often and however phrased, returns the same numbers
    # and costs nothing.
    for start, end in pairs[:25]:
        question = {"to": end.isoformat(), "metrics": metrics[::-1], "from": start.isoformat()}
        for _ in range(4):
            again = ask_as_app(crowd_store, app, question, policy=DEFAULT_POLICY, now=lambda: NOW)
            assert again["totals"] == answers[(start, end)]["totals"]
            assert again["budget"]["epsilon_spent"] == pytest.approx(spent)


def test_the_creators_own_answer_carries_no_noise(crowd_store) -> None:
    with open_studio(crowd_store, CROWD_CREATOR) as studio:
        for end in (date(2026, 10, 7), date(2026, 10, 8)):
            q = studio.parse({"metrics": ["reach", "views"], "from": "2026-10-01", "to": str(end)})
            first, second = studio.answer(q).totals, studio.answer(q).totals
            assert first == second
            expected = truth(date(2026, 10, 1), end)
            assert first == {"reach": expected["reach"], "views": expected["views"]}
    # 130 + 30 opted out (counted in totals) + the logged-out device on days 1-7.
    assert truth(date(2026, 10, 1), date(2026, 10, 7))["reach"] == 161
