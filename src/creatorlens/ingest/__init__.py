"""Ingest: validate, pseudonymize, dedupe and store platform records."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from creatorlens.ingest.pipeline import (
    IngestSummary,
    Progress,
    ingest_batch,
    ingest_file,
    ingest_paths,
)
from creatorlens.ingest.pseudonym import KeyRing
from creatorlens.rollup.refresh import refresh_rollups
from creatorlens.store import Store

ROLLUP_MEMORY_LIMIT = os.environ.get("CREATORLENS_ROLLUP_MEMORY_LIMIT", "8GB")

__all__ = [
    "IngestSummary",
    "QuarantinedRecord",
    "ingest_batch",
    "ingest_file",
    "ingest_into",
    "ingest_paths",
    "key_ring",
    "quarantined",
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
) -> IngestSummary:
    """Open the store at `db` (creating it if needed), ingest the files, refresh rollups."""
    paths = list(paths)
    with Store.open(db, keys=keys) as store:
        summary = ingest_paths(
            store, paths, entity=entity, batch_rows=batch_rows, progress=progress
        )
        if refresh:
            # Dashboards read rollups only: bring them up to date with what just landed.
            # Rebuilding per-viewer rollups of a large store needs more room than a batch of
            # ingest, and cannot spill (raw ids never reach disk, so spilling is off).
            store.con.execute(f"SET memory_limit = '{ROLLUP_MEMORY_LIMIT}'")
            summary.rollups = refresh_rollups(store, progress=rollup_progress)
        return summary


def key_ring(db: str | Path, keys: str | Path | None = None) -> KeyRing:
    """The pseudonym key ring of the store at `db` (by default `<db>.keys`)."""
    path = Path(keys) if keys else Path(db).with_name(Path(db).name + ".keys")
    return KeyRing.load(path)


@dataclass(frozen=True)
class QuarantinedRecord:
    """A record ingest refused, with where it came from and why."""

    entity: str
    source: str
    record_no: int
    event_id: str | None
    type: str | None
    field: str
    reason: str
    record: str | None


def quarantined(db: str | Path, limit: int | None = None) -> list[QuarantinedRecord]:
    """The quarantined records of the store at `db`, oldest first."""
    with Store.open(db, read_only=True) as store:
        rows = store.con.execute(
            """
            SELECT entity, source, record_no, event_id, type, field, reason, record
            FROM quarantine ORDER BY quarantined_at, source, record_no LIMIT $limit
            """,
            {"limit": limit if limit is not None else 2**62},
        ).fetchall()
    return [QuarantinedRecord(*row) for row in rows]
