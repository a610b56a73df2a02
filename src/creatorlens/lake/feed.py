"""The collector's feed of the lake: what a serving store stored, appended in batches.

A request of the collector holds a few thousand events; a Parquet commit each would leave
the lake a swarm of tiny files and a commit log that grows by the second. The serving
store is already the exactly-once record of what was accepted, so the lake follows it as
`export` does: the writer appends what is new after the cursor the lake's last commit
records, every `every` seconds or as soon as `events` wait, and compacts a date once it
holds more than `small_files` small files. A server killed half way through an append
leaves the commit out whole; its next start appends it again from the same cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from creatorlens.lake.export import ExportSummary, events_behind, export_store
from creatorlens.store import Store

# A date's small files merged once there are more than this: a day being written keeps a
# handful of files, not one per append.
FEED_SMALL_FILES = 8


@dataclass(frozen=True)
class LakeFeed:
    """Where the collector's events go besides the store, and how often."""

    lake: Path
    every: float = 60.0  # seconds between appends while events arrive
    events: int = 1_000_000  # an append as soon as this many events wait
    small_files: int = FEED_SMALL_FILES

    def behind(self, store: Store) -> int:
        """Events the store holds that the lake does not (yet)."""
        return events_behind(store, self.lake)

    def append(self, store: Store) -> ExportSummary:
        """Append what the store holds beyond the lake's cursor (and the small tables
        that changed); exactly once, whatever came before."""
        return export_store(store, self.lake, small_files=self.small_files)
