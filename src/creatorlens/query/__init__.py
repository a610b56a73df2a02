"""The query model: one typed query, one runner, one result type, for every interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

from creatorlens.errors import UserError
from creatorlens.ingest.pseudonym import KeyRing
from creatorlens.privacy.policy import PrivacyPolicy, load_policy, require_analytics_account
from creatorlens.query.model import Filter, Period, Query, QueryError, parse_query
from creatorlens.query.result import QueryResult, Withheld
from creatorlens.query.runner import Context, run_query
from creatorlens.store import Store
from creatorlens.store.database import has_table

__all__ = [
    "Context",
    "Filter",
    "Period",
    "PrivacyPolicy",
    "Query",
    "QueryError",
    "QueryResult",
    "Withheld",
    "creator_context",
    "parse_query",
    "run_query",
]


@contextmanager
def creator_context(
    db: str | Path | Store,
    creator_id: str,
    *,
    policy: PrivacyPolicy | str | Path | None = None,
    keys: str | Path | None = None,
) -> Iterator[tuple[Context, date]]:
    """The run context of one creator and its latest data day.

    `db` is a store file, opened read-only for this context, or a store kept open (as a
    server keeps it, with its buffer pool warm). Either way the context reads on the
    calling thread's session of the store.
    Refuses accounts that are not creator or business accounts, as the platforms do.
    """
    if not isinstance(policy, PrivacyPolicy):
        policy = load_policy(policy)
    with _opened(db, keys) as store:
        con = store.session()
        if not has_table(con, "rollup_state"):
            raise UserError(
                f"{store.path} has no rollups yet: run `creatorlens refresh --db {store.path}` "
                "(or ingest without --no-rollups)"
            )
        row = con.execute(
            "SELECT kind, timezone FROM accounts WHERE account_id = ?", [creator_id]
        ).fetchone()
        if row is None:
            raise QueryError("creator_id", f"no account {creator_id!r} in this store")
        kind, timezone = row
        require_analytics_account(kind, creator_id)
        secret = KeyRing.load(store.keys_path).noise_secret()
        ctx = Context(con, policy, secret, timezone or "UTC")
        yield ctx, latest_day(ctx, creator_id)


@contextmanager
def _opened(db: str | Path | Store, keys: str | Path | None) -> Iterator[Store]:
    if isinstance(db, Store):
        yield db
    else:
        with Store.open(db, read_only=True, keys=keys) as store:
            yield store


def latest_day(ctx: Context, creator_id: str) -> date:
    """The last local day with data for the creator (today if none): named periods end here."""
    row = ctx.con.execute(
        """
        SELECT max(d) FROM (
            SELECT max(local_date) AS d FROM rollup_video_hourly WHERE creator_id = $c
            UNION ALL
            SELECT max(local_date) FROM rollup_creator_daily WHERE creator_id = $c)
        """,
        {"c": creator_id},
    ).fetchone()
    return row[0] if row and row[0] else datetime.now(UTC).date()
