"""The budget: ε per app × creator × calendar month, charged per distinct question, refused
when spent (with when it resets), reset on the first of the month, kept in the store."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import httpx
import pytest

from creatorlens.privacy import DEFAULT_POLICY, App, DPPolicy
from creatorlens.store import Store
from creatorlens.studio.apps import BudgetSpent, ask_as_app, month_of
from tests.apps.conftest import copy_store, register_app, tokens_for, write_policy
from tests.query.conftest import CREATOR, CROWD_CREATOR
from tests.serve.conftest import create_token


def question(day: int) -> dict:
    return {"metrics": ["reach"], "from": "2026-09-01", "to": f"2026-10-{day:02d}"}


def test_spent_budget_stops_answers_until_the_month_turns(crowd_db, tmp_path) -> None:
    db = copy_store(crowd_db, tmp_path / "budget")
    # One number per question (a total of one metric): ε 0.5 each, so 4 fit in 2.
    dp = DPPolicy(epsilon_per_number=0.5, monthly_epsilon=2.0)
    app = App("app_budget", CROWD_CREATOR, frozenset({"overview.read"}), dp)
    other = App("app_other", CROWD_CREATOR, frozenset({"overview.read"}), dp)
    clock = {"now": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)}

    def ask(store, who: App, day: int) -> dict:
        return ask_as_app(
            store, who, question(day), policy=DEFAULT_POLICY, now=lambda: clock["now"]
        )

    with Store.open(db) as store:
        first = [ask(store, app, d) for d in (10, 11, 12, 13)]
        assert [a["budget"]["epsilon_spent"] for a in first] == [0.5, 1.0, 1.5, 2.0]
        with pytest.raises(BudgetSpent) as refused:
            ask(store, app, 14)
        assert refused.value.resets_at == datetime(2027, 1, 1, tzinfo=UTC)
        assert "resets at 2027-01-01T00:00:00+00:00" in str(refused.value)
        # A repeat is still answered, with the same numbers, for nothing.
        assert ask(store, app, 10)["totals"] == first[0]["totals"]
        # Another app's budget for the same creator is its own; it gets the same answer
        # to the same question (one draw per question and state of the data).
        assert ask(store, other, 10)["totals"] == first[0]["totals"]
        assert ask(store, other, 10)["budget"]["epsilon_spent"] == 0.5

    # The server stops and starts again: the ledger is in the store.
    with Store.open(db) as store:
        with pytest.raises(BudgetSpent):
            ask(store, app, 14)
        clock["now"] = datetime(2027, 1, 1, tzinfo=UTC)  # the month turns
        fresh = ask(store, app, 14)
        assert fresh["budget"]["epsilon_spent"] == 0.5
        assert fresh["budget"]["month"] == "2027-01"
        assert fresh["budget"]["resets_at"] == "2027-02-01T00:00:00+00:00"


def test_month_of_names_the_calendar_month_and_its_end() -> None:
    assert month_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC))[1] == datetime(
        2027, 1, 1, tzinfo=UTC
    )
    start, end = month_of(datetime(2026, 2, 14, 3, tzinfo=UTC))
    assert (start.isoformat(), end.isoformat()) == ("2026-02-01", "2026-03-01T00:00:00+00:00")


def test_over_http_a_spent_budget_is_429_and_survives_a_restart(
    hand_db, tmp_path, server_factory
) -> None:
    db = copy_store(hand_db, tmp_path / "served")
    # The overview is 6 numbers, ε 3: one overview a month.
    policy = write_policy(tmp_path / "policy.toml", epsilon_per_number=0.5, monthly_epsilon=3.0)
    server = server_factory(db, "--policy", str(policy))
    app, creator = register_app(db), create_token(db, "--creator", CREATOR)
    tokens = tokens_for(server, app, creator, "overview.read")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    first = httpx.get(server.url + "/v1/apps/overview", params={"period": "28d"}, headers=auth)
    assert first.status_code == 200 and first.json()["budget"]["epsilon_remaining"] == 0
    spent = httpx.get(server.url + "/v1/apps/overview", params={"period": "7d"}, headers=auth)
    assert spent.status_code == 429
    error = spent.json()["error"]
    assert error["code"] == "budget_spent"
    resets = datetime.fromisoformat(error["resets_at"])
    assert resets.day == 1 and resets.hour == 0 and resets > datetime.now(UTC)
    wait = int(spent.headers["retry-after"])
    assert abs(wait - (resets - datetime.now(UTC)).total_seconds()) < 120
    assert math.isclose(
        httpx.get(server.url + "/v1/apps/budget", headers=auth).json()["budget"]["epsilon_spent"],
        3.0,
    )

    server.stop()
    server.start()
    again = httpx.get(server.url + "/v1/apps/overview", params={"period": "7d"}, headers=auth)
    assert again.status_code == 429
    repeat = httpx.get(server.url + "/v1/apps/overview", params={"period": "28d"}, headers=auth)
    assert repeat.status_code == 200
    assert repeat.json()["totals"] == first.json()["totals"]
