"""The app door: a third-party app's question answered with differential privacy, once per
distinct question and state of the data, within the app's monthly budget for the creator.

OpenDP draws its noise from the operating system's CSPRNG and cannot be seeded, so
consistency comes from the store: an answer, once drawn, is kept under
`key = HMAC(noise secret, normalized question, data state)` and every repeat of the
question over that state gets it back unchanged, at no further cost. The data state is
the hour (UTC) of the rollups' last refresh: answers follow the data at most hourly, and
whether a new draw is made never depends on any one count (keying by the counts
themselves would let an app tell, by an answer that did not move, that a count had not
changed). Each distinct question charges `question_cost` ε to the app × creator × month
ledger in the same transaction that stores its answer; a question the budget cannot pay
for is refused with the time the budget resets.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from creatorlens.errors import UserError
from creatorlens.privacy import App, release
from creatorlens.privacy.dp import check_app_question, question_cost
from creatorlens.query import Query
from creatorlens.query.runner import run_raw
from creatorlens.store.apps import AppLedger
from creatorlens.studio import open_studio

_DOMAIN = b"creatorlens/app_answer/v1"


class BudgetSpent(UserError):
    """The app's ε for this creator and month would be overspent by this question."""

    def __init__(self, spent: float, cost: float, monthly: float, resets_at: datetime):
        self.spent, self.cost, self.monthly, self.resets_at = spent, cost, monthly, resets_at
        super().__init__(
            f"this question costs ε {cost:g} and the app has spent ε {spent:g} of its "
            f"{monthly:g} for this creator this month; the budget resets at "
            f"{resets_at.isoformat()}"
        )


@dataclass(frozen=True)
class Budget:
    """An app's budget for one creator in one month, as an answer reports it."""

    month: date
    monthly: float
    spent: float
    resets_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month.isoformat()[:7],
            "epsilon_monthly": self.monthly,
            "epsilon_spent": round(self.spent, 9),
            "epsilon_remaining": round(max(0.0, self.monthly - self.spent), 9),
            "resets_at": self.resets_at.isoformat(),
        }


def month_of(now: datetime) -> tuple[date, datetime]:
    """The calendar month (UTC) `now` is in, and when the next one begins."""
    now = now.astimezone(UTC)
    first = date(now.year, now.month, 1)
    following = date(now.year + now.month // 12, now.month % 12 + 1, 1)
    return first, datetime(following.year, following.month, 1, tzinfo=UTC)


def data_state(store: Any) -> str:
    """The state of the data answers are drawn on: the hour of the last rollup refresh."""
    row = store.session().execute("SELECT refreshed_at FROM rollup_state").fetchone()
    at = row[0] if row and row[0] is not None else None
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H") if at else "never"


def normalized(query: Query) -> dict[str, Any]:
    """What a question asks, in one spelling: resolved dates, names in a fixed order."""
    return {
        "creator_id": query.creator_id,
        "metrics": sorted(query.metrics),
        "dimensions": list(query.dimensions),
        "filters": sorted([f.dimension, f.op, sorted(set(f.values))] for f in query.filters),
        "from": query.period.start.isoformat(),
        "to": query.period.end.isoformat(),
        "compare": query.compare,
        "order_by": [list(o) for o in query.order_by],
        "limit": query.limit,
    }


def answer_key(secret: bytes, query: Query, state: str) -> str:
    """HMAC(secret, question, data state): names a drawn answer without revealing either."""
    message = _DOMAIN + json.dumps([normalized(query), state], sort_keys=True).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def budget_of(store: Any, client_id: str, creator_id: str, monthly: float, now: datetime) -> Budget:
    """How much of a month's ε an app has spent on a creator's data."""
    month, resets = month_of(now)
    spent = AppLedger(store).spent(client_id, creator_id, month)
    return Budget(month, monthly, spent, resets)


def ask_as_app(
    store: Any,
    app: App,
    question: dict[str, Any],
    *,
    policy: Any,
    check: Callable[[Any, Query], None] | None = None,
    now: Callable[[], datetime] | None = None,
) -> dict[str, Any]:
    """The answer to an app's question (a query of the query model, as plain data) about
    the creator who granted it, with the budget after it; `check` refuses a parsed query
    before anything is charged (an interface's own rules, e.g. videos of this creator)."""
    clock = now or (lambda: datetime.now(UTC))
    with open_studio(store, app.creator_id, policy=policy) as studio:
        query = studio.parse(question)
        check_app_question(query, app)
        if check is not None:
            check(studio, query)
        _, cost = question_cost(query, app.dp)
        key = answer_key(studio._secret, query, data_state(store))
        ledger = AppLedger(store)
        month, resets = month_of(clock())
        with ledger.lock:
            spent = ledger.spent(app.client_id, app.creator_id, month)
            if not ledger.charged(app.client_id, app.creator_id, month, key):
                if spent + cost > app.dp.monthly_epsilon + 1e-9:
                    raise BudgetSpent(spent, cost, app.dp.monthly_epsilon, resets)
                answer = ledger.answer(key)
                drawn = None
                if answer is None:
                    raw = run_raw(studio._ctx, query)
                    released = release(raw, studio.policy, app, secret=studio._secret)
                    drawn = answer = released.to_json()
                ledger.charge(app.client_id, app.creator_id, month, key, cost, drawn)
                spent += cost
            else:
                answer = ledger.answer(key)
    assert answer is not None
    budget = Budget(month, app.dp.monthly_epsilon, spent, resets)
    return {**answer, "budget": budget.to_json()}
