"""Creator Studio: a creator's analytics as released answers, for every interface to render.

`open_studio` opens a creator's view of a store; `Studio.answer` runs a query of the query
model and `Studio.panel` a declared panel query, each through the release stage; the
dashboard (`Studio.dashboard`) is a set of them. Interfaces (report, serve, web, cli) read
here, never the store or the runner's raw results.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from creatorlens.errors import UserError
from creatorlens.privacy import (
    Audience,
    Creator,
    Operator,
    PrivacyPolicy,
    QueryResult,
    load_policy,
    release,
    require_analytics_account,
)
from creatorlens.privacy.panels import CreatorCard
from creatorlens.query import Context, Period, Query, QueryError, parse_query, resolve_period
from creatorlens.query.panels import Question, read_panel
from creatorlens.query.planner import prefetch
from creatorlens.query.raw import CreatorList
from creatorlens.query.runner import run_raw
from creatorlens.rollup.refresh import view_threshold_in_force
from creatorlens.store import Store
from creatorlens.store.database import has_table
from creatorlens.store.keys import KeyRing

__all__ = ["Studio", "open_studio", "platform_creators"]


@dataclass(frozen=True)
class Studio:
    """One creator's view of a store: every answer released to that creator."""

    creator_id: str
    policy: PrivacyPolicy
    latest: date  # the creator's last local day with data: named periods end here
    first: date | None  # the creator's first local day with data (None: no data at all)
    _ctx: Context
    _secret: bytes

    @property
    def timezone(self) -> str:
        return self._ctx.timezone

    def period(self, name: str | None, start: Any = None, end: Any = None) -> Period:
        """A named period ending on the latest day, or a custom range."""
        return resolve_period(name, start, end, self.latest)

    def parse(self, raw: dict[str, Any]) -> Query:
        """A query given as plain data; it must be about this creator."""
        query = parse_query({"creator_id": self.creator_id, **raw}, latest=self.latest)
        if query.creator_id != self.creator_id:
            raise QueryError("creator_id", "a creator reads only their own analytics")
        return query

    def answer(self, query: Query) -> QueryResult:
        """A query's answer as the creator may see it."""
        return release(run_raw(self._ctx, query), self.policy, self.audience, secret=self._secret)

    def panel(self, question: Question) -> Any:
        """A declared panel query's answer as the creator may see it."""
        raw = read_panel(self._ctx, question)
        return release(raw, self.policy, self.audience, secret=self._secret)

    @property
    def audience(self) -> Audience:
        return Creator(self.creator_id)

    def on_this_thread(self) -> Studio:
        """The same studio reading on the calling thread's own session of the store."""
        return replace(self, _ctx=replace(self._ctx, con=self._ctx.con.for_this_thread()))

    def prefetch(self, queries: list[Query]) -> None:
        """Read ahead, in one statement, the rollup reads of `queries` (nothing is shown)."""
        prefetch(self._ctx, queries)

    def dashboard(self, period: Period, **options: Any):
        """The creator's dashboard for one period (see `studio.dashboard.build_dashboard`)."""
        from creatorlens.studio.dashboard import build_dashboard

        return build_dashboard(self, period, **options)


@contextmanager
def open_studio(
    db: str | Path | Store,
    creator_id: str,
    *,
    policy: PrivacyPolicy | str | Path | None = None,
    keys: str | Path | None = None,
) -> Iterator[Studio]:
    """A creator's studio on a store file (opened read-only) or on a store kept open.

    Refuses accounts that are not creator or business accounts, as the platforms do, and a
    policy whose view threshold is not the one the rollups count views with.
    """
    if not isinstance(policy, PrivacyPolicy):
        policy = load_policy(policy)
    with _opened(db, keys) as store:
        con = store.session()
        threshold = _rollup_threshold(store)
        if threshold != policy.view_threshold_ms:
            raise UserError(
                f"the policy counts a view from {policy.view_threshold_ms} ms but the rollups "
                f"of {store.path} from {threshold} ms: run `creatorlens refresh --db "
                f"{store.path} --policy FILE` with this policy first"
            )
        row = con.execute(
            "SELECT kind, timezone FROM accounts WHERE account_id = ?", [creator_id]
        ).fetchone()
        if row is None:
            raise QueryError("creator_id", f"no account {creator_id!r} in this store")
        kind, timezone = row
        require_analytics_account(kind, creator_id)
        ctx = Context(con, timezone or "UTC")
        first, latest = _data_days(ctx, creator_id)
        secret = KeyRing.load(store.keys_path).noise_secret()
        yield Studio(creator_id, policy, latest, first, ctx, secret)


def platform_creators(
    db: str | Path, limit: int | None = None, audience: Audience | None = None
) -> list[CreatorCard]:
    """The platform's creator and business accounts, most viewed first, with their
    all-time totals as the audience (the operator by default) may see them."""
    with _opened(db, None) as store:
        _rollup_threshold(store)
        ctx = Context(store.session(), "UTC")
        raw = read_panel(ctx, CreatorList(limit))
        secret = KeyRing.load(store.keys_path).noise_secret()
    return release(raw, load_policy(None), audience or Operator(), secret=secret)


@contextmanager
def _opened(db: str | Path | Store, keys: str | Path | None) -> Iterator[Store]:
    if isinstance(db, Store):
        yield db
    else:
        if not Path(db).is_file():
            raise UserError(f"{db}: no such store")
        with Store.open(db, read_only=True, keys=keys) as store:
            yield store


def _rollup_threshold(store: Store) -> int:
    con = store.session()
    if not has_table(con, "rollup_state"):
        raise UserError(
            f"{store.path} has no rollups yet: run `creatorlens refresh --db {store.path}` "
            "(or ingest without --no-rollups)"
        )
    return view_threshold_in_force(con)


def _data_days(ctx: Context, creator_id: str) -> tuple[date | None, date]:
    """The creator's first and last local days with data (the last is today if none)."""
    first, last = ctx.con.execute(
        """
        SELECT min(f), max(l) FROM (
            SELECT min(local_date) AS f, max(local_date) AS l
            FROM rollup_video_hourly WHERE creator_id = $c
            UNION ALL
            SELECT min(local_date), max(local_date) FROM rollup_creator_daily
            WHERE creator_id = $c)
        """,
        {"c": creator_id},
    ).fetchone()
    return first, last or datetime.now(UTC).date()
