"""Loading a store: ingest files, then bring the rollups up to date.

Ingest (`creatorlens.ingest`) writes the store only, and the rollups (`creatorlens.rollup`)
read what it recorded; this module, above both, does one after the other.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from creatorlens.ingest import IngestSummary, Progress, ingest_paths, open_sources
from creatorlens.rollup.refresh import refresh_rollups
from creatorlens.store import Store

ROLLUP_MEMORY_LIMIT = os.environ.get("CREATORLENS_ROLLUP_MEMORY_LIMIT", "8GB")

__all__ = ["ROLLUP_MEMORY_LIMIT", "ingest_into"]


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
