"""Ingest: validate, pseudonymize, dedupe and store platform records.

Ingest writes the store only; bringing the rollups up to date after it is the rollup
floor's work (`creatorlens.load.ingest_into` does both). What ingest changed in place, the
rollup refresh reads from store tables (`changed_creators`, `privacy_changes`,
`follower_plays_changed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from creatorlens.ingest.pipeline import (
    IngestSummary,
    Progress,
    ingest_batch,
    ingest_file,
    ingest_paths,
)
from creatorlens.ingest.readers import open_sources
from creatorlens.store import Store, key_ring

__all__ = [
    "IngestSummary",
    "Progress",
    "QuarantinedRecord",
    "ingest_batch",
    "ingest_file",
    "ingest_paths",
    "key_ring",
    "open_sources",
    "quarantined",
]


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
