"""What the app release keeps of the privacy layer's rules, on noisy counts only: breakdowns
by a person's attribute from k_min viewers, rows from cell_min, never an opted-out viewer,
closed domains listed whole, open ones above their error bound; and what it costs."""

from __future__ import annotations

from datetime import date

from creatorlens.privacy import DEFAULT_POLICY, App, DPPolicy, release
from creatorlens.privacy.dp import question_cost
from creatorlens.query import parse_query
from creatorlens.query.runner import run_raw
from creatorlens.studio import open_studio
from tests.query.conftest import CROWD_CREATOR

SCOPES = frozenset({"overview.read", "videos.read", "audience.read", "followers.read"})


def released(db, question: dict):
    app = App("app_rel", CROWD_CREATOR, SCOPES, DPPolicy())
    with open_studio(db, CROWD_CREATOR) as studio:
        raw = run_raw(studio._ctx, studio.parse(question))
    return release(raw, DEFAULT_POLICY, app, secret=b"unused")


def test_audience_rows_are_the_crowd_never_the_newcomer_or_the_opted_out(crowd_db) -> None:
    question = {"metrics": ["reach"], "dimensions": ["country"], "from": "2026-10-01",
                "to": "2026-10-08"}  # fmt: skip
    for _ in range(20):  # fresh draws: the rule holds on every one
        answer = released(crowd_db, question)
        countries = {r["country"] for r in answer.rows}
        # 32-33 viewers in each of BR, US, PT, MX; the newcomer alone in AR; the 30 opted-out
        # Icelanders are counted in the total only.
        assert countries == {"BR", "US", "PT", "MX"}, answer.rows
        assert answer.totals["reach"] > 100
    # Under k_min viewers in all: the breakdown is withheld whole.
    small = released(crowd_db, {**question, "from": "2026-10-08"})
    assert small.rows == [] and small.withheld[0].reason == "population below k_min"


def test_closed_domains_are_listed_whole_and_cost_is_from_the_question(crowd_db) -> None:
    answer = released(
        crowd_db, {"metrics": ["views", "reach"], "dimensions": ["day"], "from": "2026-10-01",
                   "to": "2026-10-10"},
    )  # fmt: skip
    assert [r["day"] for r in answer.rows] == [f"2026-10-{d:02d}" for d in range(1, 11)]
    assert answer.numbers == 2 * (10 + 1) and answer.epsilon == 11.0
    ages = released(crowd_db, {"metrics": ["reach"], "dimensions": ["age"], "period": "28d"})
    assert ages.numbers == 8  # 7 buckets with unknown, and the total
    # The cost never depends on the data: the same question on an empty period costs the same.
    q = parse_query({"creator_id": CROWD_CREATOR, "metrics": ["reach"], "dimensions": ["video"],
                     "limit": 7}, latest=date(2030, 1, 1))  # fmt: skip
    assert question_cost(q, DPPolicy()) == (8, 4.0)
    assert question_cost(q, DPPolicy(epsilon_per_number=0.1)) == (8, 0.8)
