"""Loading a store: ingest files, then bring the rollups up to date.

Ingest (`creatorlens.ingest`) writes the store only, and the rollups (`creatorlens.rollup`)
read what it recorded; this module, above both, does one after the other. It is also what a
long-running writer (the HTTP service) writes through: a store kept open, batches of records
sent in memory, rollups refreshed while it runs, and the store's API tokens.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from creatorlens.ingest import IngestSummary, Progress, ingest_paths, open_sources
from creatorlens.ingest.pipeline import ingest_batch, quarantine_unreadable
from creatorlens.ingest.readers import RejectedLine
from creatorlens.ingest.records import (
    BodyError,
    Records,
    Unreadable,
    read_json_array,
    read_ndjson,
)
from creatorlens.rollup.platform import refresh_insights
from creatorlens.rollup.refresh import RefreshSummary, refresh_rollups
from creatorlens.store import Store
from creatorlens.store.apps import (
    AppBook,
    AppLedger,
    AuthorizationCode,
    Grant,
    IssuedToken,
    RegisteredApp,
    apps_path,
)
from creatorlens.store.tokens import Token, TokenBook, parse_duration, tokens_path

ROLLUP_MEMORY_LIMIT = os.environ.get("CREATORLENS_ROLLUP_MEMORY_LIMIT", "8GB")

__all__ = [
    "ROLLUP_MEMORY_LIMIT",
    "AppBook",
    "AppLedger",
    "AuthorizationCode",
    "Grant",
    "IssuedToken",
    "RegisteredApp",
    "app_book",
    "BodyError",
    "IngestSummary",
    "Records",
    "RefreshSummary",
    "RollupFreshness",
    "Token",
    "TokenBook",
    "Unreadable",
    "ingest_into",
    "ingest_records",
    "open_for_writing",
    "parse_duration",
    "quarantine_records",
    "read_json_array",
    "read_ndjson",
    "refresh",
    "rollup_freshness",
    "token_book",
]


def ingest_into(
    db: str | Path,
    paths: Iterable[str | Path],
    *,
    keys: str | Path | None = None,
    entity: str | None = None,
    batch_rows: int = 750_000,
    progress: Progress | None = None,
    refresh: bool = True,
    rollup_progress: Callable[[str, int, int], None] | None = None,
    view_threshold_ms: int | None = None,
) -> IngestSummary:
    """Open the store at `db` (creating it if needed), ingest the files, refresh rollups.

    The files are checked (they exist, have a known format and are not empty) before the
    store is opened, and a store this call created is removed again, with its key file,
    when the ingest fails: a failed first ingest leaves nothing behind.
    """
    sources = open_sources(paths, entity)
    db = Path(db)
    keys_path = Path(keys) if keys else db.with_name(db.name + ".keys")
    created = [p for p in _store_files(db, keys_path) if not p.exists()]
    try:
        with Store.open(db, keys=keys) as store:
            summary = ingest_paths(store, sources, batch_rows=batch_rows, progress=progress)
            if refresh:
                # Dashboards read rollups only: bring them up to date with what just landed.
                # Rebuilding per-viewer rollups of a large store needs more room than a batch
                # of ingest, and cannot spill (raw ids never reach disk, so spilling is off).
                store.con.execute(f"SET memory_limit = '{ROLLUP_MEMORY_LIMIT}'")
                summary.rollups = refresh_rollups(
                    store, view_threshold_ms, progress=rollup_progress
                )
                refresh_insights(store)  # comments scored, platform figures (issue 18)
            return summary
    except BaseException:
        if db in created:
            for path in created:
                path.unlink(missing_ok=True)
        raise


def _store_files(db: Path, keys_path: Path) -> list[Path]:
    """The files a store's first open may create: the store, its write-ahead log, its
    key file (and the key file's temporary copy)."""
    return [
        db,
        db.with_name(db.name + ".wal"),
        keys_path,
        keys_path.with_name(keys_path.name + ".tmp"),
    ]


# --- a store kept open by one writer (the HTTP service) ---------------------------------------


def open_for_writing(
    db: str | Path, *, keys: str | Path | None = None, view_threshold_ms: int | None = None
) -> Store:
    """Open (creating if needed) the store a long-running process writes, with its rollups
    brought up to date (counting views from `view_threshold_ms`, the policy's, when given:
    a new threshold rebuilds them), so that reads can start at once. The caller closes it."""
    store = Store.open(db, keys=keys)
    try:
        # A refresh may recompute large creators whole; it cannot spill (see ingest_into).
        store.con.execute(f"SET memory_limit = '{ROLLUP_MEMORY_LIMIT}'")
        refresh_rollups(store, view_threshold_ms)
        refresh_insights(store)
    except BaseException:
        store.close()
        raise
    return store


def ingest_records(
    store: Store,
    entity: str,
    table: pa.Table,
    source: str,
    *,
    first_no: int = 1,
) -> IngestSummary:
    """Ingest one batch of wire records held in memory, in one transaction, as `creatorlens
    ingest` does a file's batch; the summary says what became of each record not stored as
    new (`outcomes`). The rollups are not refreshed: a writer calls `refresh` on its own
    schedule."""
    if table.num_rows == 0:
        return IngestSummary(outcomes=[])
    return ingest_batch(store, entity, table, source, first_no, outcomes=True)


def quarantine_records(
    store: Store, entity: str, source: str, body: str, unreadable: list[Unreadable]
) -> IngestSummary:
    """Quarantine the records of a body that are not records at all, by their position in
    it; `body` (a digest of the request, say) names them, so a request sent again is
    quarantined once."""
    lines = [RejectedLine(u.index, u.reason) for u in unreadable]
    return quarantine_unreadable(store, entity, source, body, lines)


def refresh(store: Store) -> RefreshSummary:
    """Bring the rollups of a store kept open up to date (incremental, as `creatorlens
    refresh` is), and the insights' tables (`rollup.platform.refresh_insights`)."""
    summary = refresh_rollups(store)
    refresh_insights(store)
    return summary


@dataclass(frozen=True)
class RollupFreshness:
    """How far the rollups are behind the events stored."""

    refreshed_at: datetime | None  # when the last refresh began: it holds what was stored
    events_waiting: int  # events stored since, not yet in the rollups


def rollup_freshness(store: Store) -> RollupFreshness:
    """The rollups' state as the store records it (read on the calling thread's session)."""
    con = store.session()
    row = con.execute("SELECT watermark, refreshed_at FROM rollup_state").fetchone()
    if row is None:
        waiting = con.execute("SELECT count(*) FROM events").fetchone()[0]
        return RollupFreshness(None, waiting)
    watermark, refreshed_at = row
    if watermark is None:
        waiting = con.execute("SELECT count(*) FROM events").fetchone()[0]
    else:
        waiting = con.execute(
            "SELECT count(*) FROM events WHERE ingested_at > $w", {"w": watermark}
        ).fetchone()[0]
    return RollupFreshness(refreshed_at, waiting)


def token_book(db: str | Path) -> TokenBook:
    """The API tokens of the store at `db` (kept beside it in `<db>.tokens`)."""
    return TokenBook.load(tokens_path(db))


def app_book(db: str | Path) -> AppBook:
    """The third-party apps registered for the store at `db` (kept beside it in
    `<db>.apps`); their grants and tokens are in the store (`AppLedger`)."""
    return AppBook.load(apps_path(db))
