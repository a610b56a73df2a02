"""The one writer: a thread that owns the store's write connection, stores the collector's
batches in order and keeps the rollups fresh.

DuckDB lets one process write a store file, and one connection write at a time does best:
requests hand their records to this thread and wait for their own outcome. Requests of the
same kind waiting together are stored in one transaction (a transaction costs about the
same for 1,000 records as for 20,000), and about every second, when anything was stored,
the rollups are refreshed incrementally, so an accepted event shows in the creator API a
second or two later. Reads never wait for it: they run on their own sessions.

With a lake (`LakeFeed`), the same thread appends what was stored to the event lake every
`lake.every` seconds, or as soon as `lake.events` wait: in batches, so the lake gets a
commit a minute rather than one per request, and behind the store, whose exactly-once
record the lake's cursor follows. It runs between two groups, on the write connection,
so no batch is half in the store while the lake reads it.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from creatorlens.lake import LakeFeed
from creatorlens.load import (
    IngestSummary,
    Records,
    ingest_records,
    quarantine_records,
    refresh,
    rollup_freshness,
)

log = logging.getLogger("creatorlens.serve")


@dataclass(frozen=True)
class Rejection:
    index: int
    field: str
    reason: str


@dataclass
class Outcome:
    """What became of one request's records."""

    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@dataclass
class Job:
    """One request's records, waiting for the writer."""

    entity: str
    records: Records
    source: str  # what the quarantine says they came from
    digest: str  # names the request's unreadable records, so a retry quarantines them once
    future: Future = field(default_factory=Future)

    @property
    def size(self) -> int:
        return self.records.count


class WriterBusy(Exception):
    """More records are waiting than the writer is allowed to hold."""


@dataclass(frozen=True)
class WriterStatus:
    running: bool
    records_queued: int
    events_waiting: int  # stored, not yet in the rollups
    rollups_as_of: datetime | None  # every event stored before this is in the rollups
    last_refresh_seconds: float | None
    lake_events_waiting: int | None = None  # stored, not yet in the lake (None: no lake)
    lake_as_of: datetime | None = None  # every event stored before this is in the lake


class Writer:
    """The store's single writer thread (see the module's docstring)."""

    def __init__(
        self,
        store,
        *,
        refresh_every: float = 1.0,
        group_records: int = 50_000,
        max_queued_records: int = 1_000_000,
        lake: LakeFeed | None = None,
        on_stored: Callable[[str, IngestSummary, float], None] | None = None,
        on_refreshed: Callable[[float], None] | None = None,
    ):
        self.store = store
        self.refresh_every = refresh_every
        self.group_records = group_records
        self.max_queued_records = max_queued_records
        self._on_stored = on_stored
        self._on_refreshed = on_refreshed
        self._queue: deque[Job] = deque()
        self._queued = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._next_no = 1
        self._working = False  # a batch being stored, or a refresh running
        freshness = rollup_freshness(store)
        self._waiting = freshness.events_waiting
        self._changed = freshness.events_waiting > 0
        self._as_of = freshness.refreshed_at
        self._last_refresh = time.monotonic()
        self._refresh_seconds: float | None = None
        self.lake = lake
        # Events the lake lacks; any record stored makes an append due (the small tables
        # the rollups join travel with the events).
        self._lake_waiting = lake.behind(store) if lake is not None else 0
        self._lake_due = self._lake_waiting > 0
        self._lake_as_of: datetime | None = None if self._lake_due else datetime.now(UTC)
        self._last_append = time.monotonic()
        self.failed: BaseException | None = None

    # --- the requests' side ---------------------------------------------------------------

    def submit(self, job: Job) -> Future:
        """Queue a request's records; its future gives the request's `Outcome`."""
        with self._cond:
            if self._stopping or not self.running:
                raise WriterBusy("the writer is not running")
            if self._queued and self._queued + job.size > self.max_queued_records:
                raise WriterBusy(f"{self._queued:,} records are waiting to be stored")
            self._queue.append(job)
            self._queued += job.size
            self._cond.notify()
        return job.future

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.failed is None

    def status(self) -> WriterStatus:
        with self._cond:
            as_of = self._as_of
            if not (self._queue or self._working or self._changed):
                # Nothing received is missing from the rollups: they are as of now.
                as_of = datetime.now(UTC)
            lake_waiting = self._lake_waiting if self.lake is not None else None
            return WriterStatus(
                self.running,
                self._queued,
                self._waiting,
                as_of,
                self._refresh_seconds,
                lake_waiting,
                self._lake_as_of,
            )

    # --- the thread -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="creatorlens-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Store what is queued, refresh the rollups and append to the lake once more, and
        end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                group = self._next_group()
                if group is None:
                    break
                if group:
                    self._store(group)
                with self._cond:
                    self._working = False
                if self._changed and (
                    self._stopping_empty()
                    or time.monotonic() - self._last_refresh >= self.refresh_every
                ):
                    self._refresh()
                if self._lake_due_in() == 0:
                    self._append_lake()
        except BaseException as exc:  # the writer is down: readiness says so, requests fail
            self.failed = exc
            log.error("writer stopped", extra={"fields": {"error_type": type(exc).__name__}})
            with self._cond:
                for job in self._queue:
                    if job.future.set_running_or_notify_cancel():
                        job.future.set_exception(WriterBusy("the writer stopped"))
                self._queue.clear()
                self._queued = 0

    def _stopping_empty(self) -> bool:
        with self._cond:
            return self._stopping and not self._queue

    def _refresh_due_in(self) -> float | None:
        """Seconds until a refresh is due (None: nothing to refresh)."""
        if not self._changed:
            return None
        return self.refresh_every - (time.monotonic() - self._last_refresh)

    def _lake_due_in(self) -> float | None:
        """Seconds until an append to the lake is due, 0 once it is (None: nothing to
        append)."""
        if self.lake is None or not self._lake_due:
            return None
        if self._lake_waiting >= self.lake.events or self._stopping_empty():
            return 0
        return max(0.0, self.lake.every - (time.monotonic() - self._last_append))

    def _next_group(self) -> list[Job] | None:
        """The jobs to store next: the first waiting and those of the same entity right
        behind it, up to `group_records`; [] when only a refresh is due; None to end."""
        with self._cond:
            while not self._queue:
                if self._stopping:
                    return [] if self._changed or self._lake_due else None
                waits = [w for w in (self._refresh_due_in(), self._lake_due_in()) if w is not None]
                if not waits:
                    self._cond.wait()
                elif min(waits) <= 0:
                    return []
                else:
                    self._cond.wait(min(waits))
            first = self._queue.popleft()
            group, size = [first], first.size
            while (
                self._queue
                and self._queue[0].entity == first.entity
                and size + self._queue[0].size <= self.group_records
            ):
                job = self._queue.popleft()
                group.append(job)
                size += job.size
            self._queued -= size
            self._working = True
        # A request given up on (its client gone) before its turn is not stored: it was never
        # answered, so its client sends it again. Once running, a job can no longer be
        # cancelled and its outcome is always delivered.
        return [job for job in group if job.future.set_running_or_notify_cancel()]

    def _store(self, group: list[Job]) -> None:
        try:
            outcomes = self._ingest(group)
        except Exception as exc:
            if len(group) == 1:
                group[0].future.set_exception(WriterBusy("the batch could not be stored"))
                fields = {"records": group[0].size, "error_type": type(exc).__name__}
                log.error("batch not stored", extra={"fields": fields})
                return
            # One request's records broke the shared transaction: store each on its own.
            for job in group:
                self._store([job])
            return
        for job, outcome in zip(group, outcomes, strict=True):
            job.future.set_result(outcome)

    def _ingest(self, group: list[Job]) -> list[Outcome]:
        entity = group[0].entity
        tables = [job.records.table for job in group]
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        first_no = self._next_no
        self._next_no += table.num_rows
        source = group[0].source if len(group) == 1 else f"{group[0].source} and others"
        began = time.monotonic()
        summary = ingest_records(self.store, entity, table, source, first_no=first_no)
        starts, offset = [], first_no
        for job in group:
            starts.append(offset)
            offset += job.records.table.num_rows
        outcomes = [Outcome(accepted=job.records.table.num_rows) for job in group]
        for record_no, status, bad_field, bad_reason in summary.outcomes or []:
            k = bisect.bisect_right(starts, record_no) - 1
            outcome = outcomes[k]
            outcome.accepted -= 1
            if status == "dup":
                outcome.duplicates += 1
            else:
                outcome.quarantined += 1
                index = group[k].records.positions[record_no - starts[k]]
                outcome.rejected.append(Rejection(index, bad_field or "record", bad_reason or ""))
        for job, outcome in zip(group, outcomes, strict=True):
            unreadable = job.records.unreadable
            if unreadable:
                quarantine_records(self.store, entity, job.source, job.digest, unreadable)
                outcome.quarantined += len(unreadable)
                outcome.rejected += [Rejection(u.index, "record", u.reason) for u in unreadable]
                outcome.rejected.sort(key=lambda r: r.index)
        accepted = sum(o.accepted for o in outcomes)
        with self._cond:
            if entity == "events":
                self._waiting += accepted
                self._lake_waiting += accepted if self.lake is not None else 0
            self._changed = self._changed or accepted > 0
            self._lake_due = self.lake is not None and (self._lake_due or accepted > 0)
        if self._on_stored:
            summary.quarantined += sum(len(job.records.unreadable) for job in group)
            self._on_stored(entity, summary, time.monotonic() - began)
        return outcomes

    def _refresh(self) -> None:
        with self._cond:
            waiting = self._waiting
            self._changed = False
            self._working = True
        started = datetime.now(UTC)
        began = time.monotonic()
        try:
            refresh(self.store)
        except Exception as exc:  # tried again at the next turn; reads go on meanwhile
            log.error("rollup refresh failed", extra={"fields": {"error_type": type(exc).__name__}})
            with self._cond:
                # Tried again later; when stopping, the next start refreshes instead.
                self._changed = not self._stopping
                self._working = False
                self._last_refresh = time.monotonic()
            return
        seconds = time.monotonic() - began
        with self._cond:
            self._waiting -= waiting
            self._as_of = started
            # The next refresh counts from this one's end: under load, batches get at least
            # `refresh_every` seconds of the writer between two refreshes.
            self._last_refresh = time.monotonic()
            self._refresh_seconds = seconds
            self._working = False
        if self._on_refreshed:
            self._on_refreshed(seconds)

    def _append_lake(self) -> None:
        assert self.lake is not None
        with self._cond:
            self._lake_due = False
        started = datetime.now(UTC)
        began = time.monotonic()
        try:
            summary = self.lake.append(self.store)
        except Exception as exc:  # tried again after `lake.every`; the store has the events
            log.error("lake append failed", extra={"fields": {"error_type": type(exc).__name__}})
            with self._cond:
                # When stopping, the next start appends instead (from the lake's cursor).
                self._lake_due = not self._stopping
                self._last_append = time.monotonic()
            return
        with self._cond:
            # This thread stores the batches too: nothing was stored while it appended.
            self._lake_waiting = 0
            self._lake_as_of = started
            self._last_append = time.monotonic()
        fields = {
            "events": summary.events,
            "commits": summary.commits,
            "tables": summary.tables,
            "lake_events": summary.lake_events,
            "seconds": round(time.monotonic() - began, 3),
        }
        log.info("lake append", extra={"fields": fields})
