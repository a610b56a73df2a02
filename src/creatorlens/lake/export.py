"""Writing a store's events to the lake, exactly once, each commit whole or not at all.

Delta Lake (delta-rs, the `deltalake` package) keeps the commit log: a write adds Parquet
files and becomes visible only when its JSON commit lands, atomically, so a writer killed
half way leaves files no version names and readers never see them. Events are appended
in order of (`ingested_at`, `event_id`), and each append's commit records the last event
it holds and how many events the lake then has (`creatorlens.cursor`): a rerun resumes
after the last committed event, so every event is in the lake once. Events below the
cursor that the lake has not seen (a writer that committed late, or deleted events)
rewrite the lake whole, as such a change rebuilds the store's own rollups.

Before the events of an export, the tables derived from them (`engagement_marks`,
`follower_plays`) get every date the new events fall on replaced from the store, and the
small tables are replaced whole when their content changed (a digest of their rows rides
in each replacement's commit): both are idempotent, so a rerun after a crash simply does
them again. Then every date holding more small files than allowed is compacted
(`optimize`), so the lake does not become a swarm of small files; the compaction's commit
carries the cursor on, so the newest commit always says where the lake stands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
from deltalake import CommitProperties, write_deltalake

from creatorlens.errors import UserError
from creatorlens.ingest import ingest_paths, open_sources
from creatorlens.lake.tables import EVENT_DATE, EVENTS, PARTITIONED, SNAPSHOTS, open_table
from creatorlens.store import Store

CURSOR = "creatorlens.cursor"
DIGEST = "creatorlens.digest"
# Events per append commit: memory stays bounded by one chunk.
EXPORT_CHUNK_EVENTS = 1_000_000
# Compacted files aim at this size (Parquet, compressed).
TARGET_FILE_BYTES = 128 * 1024 * 1024

Progress = Callable[[str, int, int], None]

_ORDER = "ingested_at, event_id"
_AFTER = (
    "(ingested_at > CAST($at AS TIMESTAMPTZ)"
    " OR (ingested_at = CAST($at AS TIMESTAMPTZ) AND event_id > $id))"
)


@dataclass
class ExportSummary:
    """What one export did."""

    mode: str  # "full", "incremental" or "unchanged" (no events appended)
    events: int = 0  # events appended
    tables: int = 0  # small tables replaced (their rows had changed)
    commits: int = 0  # event commits made
    dates: list[date] = field(default_factory=list)  # event dates touched
    lake_events: int = 0  # events in the lake afterwards
    seconds: float = 0.0


@dataclass(frozen=True)
class Cursor:
    """The last event the lake's events table holds, in export order, and how many it has."""

    ingested_at: str | None
    event_id: str | None
    events: int

    def to_json(self) -> str:
        return json.dumps(
            {"ingested_at": self.ingested_at, "event_id": self.event_id, "events": self.events}
        )


def committed_cursor(lake: str | Path) -> Cursor | None:
    """The cursor of the latest event commit (None: the lake has no events table)."""
    table = open_table(lake, EVENTS.name)
    if table is None:
        return None
    # The newest commit carries it (appends and compactions alike); a lake compacted before
    # compactions carried it is read further back.
    for limit in (1, None):
        for commit in table.history(limit):
            if CURSOR in commit:
                c = json.loads(commit[CURSOR])
                return Cursor(c["ingested_at"], c["event_id"], c["events"])
    return Cursor(None, None, 0)


@dataclass(frozen=True)
class _Plan:
    """Which of the store's events an export appends: all of them (`full`, the lake
    rewritten), or those after the committed cursor."""

    cursor: Cursor
    full: bool
    after: str
    params: dict[str, object]

    def new_events(self, con) -> int:
        return con.execute(
            f"SELECT count(*) FROM events WHERE {self.after}", self.params
        ).fetchone()[0]


def _plan(con, lake: Path) -> _Plan:
    cursor = committed_cursor(lake)
    full = cursor is None or cursor.ingested_at is None
    if not full:
        below = con.execute(
            f"SELECT count(*) FROM events WHERE NOT {_AFTER}", _bound(cursor)
        ).fetchone()[0]
        full = below != cursor.events
    if full:
        return _Plan(Cursor(None, None, 0), True, "true", {})
    return _Plan(cursor, False, _AFTER, _bound(cursor))


def events_behind(store: Store, lake: str | Path) -> int:
    """How many of the store's events the lake's next export would append (all of them
    when the lake must be rewritten)."""
    return _plan(store.con, Path(lake)).new_events(store.con)


def export_store(
    store: Store,
    lake: str | Path,
    *,
    chunk_events: int = EXPORT_CHUNK_EVENTS,
    small_files: int = 1,
    progress: Progress | None = None,
) -> ExportSummary:
    """Bring the lake up to date with the store's events (and what the rollups read with
    them); a rerun after any crash completes it without writing an event twice. A date
    is compacted once it holds more than `small_files` files under the target size."""
    started = time.perf_counter()
    lake = Path(lake)
    lake.mkdir(parents=True, exist_ok=True)
    con = store.con
    plan = _plan(con, lake)
    cursor, full, after, params = plan.cursor, plan.full, plan.after, plan.params
    new = plan.new_events(con)
    dates = [
        d for (d,) in con.execute(
            f"SELECT DISTINCT CAST(ts AS DATE) FROM events WHERE {after} ORDER BY 1", params
        ).fetchall()
    ]  # fmt: skip
    summary = ExportSummary("full" if full else "incremental", dates=dates)
    steps = len(SNAPSHOTS) + len(PARTITIONED) - 1 + max(1, -(-new // chunk_events)) + 1
    done = 0
    for table in SNAPSHOTS:
        summary.tables += _replace_snapshot(con, lake, table.name, table.select)
        done += 1
        _report(progress, done, steps)
    if not full and new == 0:
        summary.mode = "unchanged"
        summary.lake_events = cursor.events
        summary.seconds = time.perf_counter() - started
        return summary
    for table in PARTITIONED[1:]:
        _replace_dates(con, lake, table.name, table.select, dates, full)
        done += 1
        _report(progress, done, steps)
    first = True
    while True:
        chunk = _arrow(
            con,
            f"SELECT * FROM ({EVENTS.select}) WHERE {after} ORDER BY {_ORDER} LIMIT $n",
            {**params, "n": chunk_events},
        )
        if chunk.num_rows == 0:
            break
        # Arrow output does not keep the ORDER BY: the cursor is the chunk's greatest key.
        chunk = chunk.sort_by([("ingested_at", "ascending"), ("event_id", "ascending")])
        last = chunk.slice(chunk.num_rows - 1)
        at = last.column("ingested_at")[0].as_py()
        cursor = Cursor(at.isoformat(), last.column("event_id")[0].as_py(),
                        cursor.events + chunk.num_rows)  # fmt: skip
        write_deltalake(
            str(EVENTS.path(lake)),
            chunk,
            mode="overwrite" if full and first else "append",
            schema_mode="overwrite" if full and first else None,
            partition_by=[EVENT_DATE],
            commit_properties=_cursor_commit(cursor),
        )
        first = False
        summary.events += chunk.num_rows
        summary.commits += 1
        after, params = _AFTER, _bound(cursor)
        done += 1
        _report(progress, done, steps)
    for table in PARTITIONED:
        _compact(lake, table.name, small_files, cursor if table is EVENTS else None)
    _report(progress, steps, steps)
    summary.lake_events = cursor.events
    summary.seconds = time.perf_counter() - started
    return summary


def ingest_to_lake(
    db: str | Path,
    paths: Iterable[str | Path],
    lake: str | Path,
    *,
    keys: str | Path | None = None,
    entity: str | None = None,
    batch_rows: int = 750_000,
    progress=None,
    export_progress: Progress | None = None,
):
    """Ingest files through the store at `db` (the validation, pseudonyms and exactly-once
    state), then export what it holds to the lake. Returns (ingest, export) summaries."""
    sources = open_sources(paths, entity)
    with Store.open(db, keys=keys) as store:
        ingested = ingest_paths(store, sources, batch_rows=batch_rows, progress=progress)
        exported = export_store(store, lake, progress=export_progress)
    return ingested, exported


@contextmanager
def open_store_for_export(db: str | Path, keys: str | Path | None = None) -> Iterator[Store]:
    """The store at `db`, opened read-only: an export only reads it."""
    if not Path(db).is_file():
        raise UserError(f"{db}: no such store")
    with Store.open(db, keys=keys, read_only=True) as store:
        yield store


def _arrow(con, sql: str, params: dict[str, object] | None = None):
    """A query's rows as an Arrow table (a relation's, which DuckDB does not copy)."""
    return con.sql(sql, params=params or None).to_arrow_table()


def _bound(cursor: Cursor) -> dict[str, object]:
    return {"at": cursor.ingested_at, "id": cursor.event_id}


def _replace_dates(con, lake: Path, name: str, select: str, dates: list[date], full: bool) -> None:
    """Replace the dates `dates` of derived table `name` with the store's rows (all of it
    when `full`)."""
    path = str(lake / name)
    existing = open_table(lake, name)
    if full or existing is None:
        arrow = _arrow(con, select)
        write_deltalake(path, arrow, mode="overwrite", schema_mode="overwrite",
                        partition_by=[EVENT_DATE])  # fmt: skip
        return
    if not dates:
        return
    listed = ", ".join(f"'{d.isoformat()}'" for d in dates)
    arrow = _arrow(con, f"SELECT * FROM ({select}) WHERE {EVENT_DATE} IN ({listed})")
    write_deltalake(path, arrow, mode="overwrite", partition_by=[EVENT_DATE],
                    predicate=f"{EVENT_DATE} IN ({listed})")  # fmt: skip


def _cursor_commit(cursor: Cursor) -> CommitProperties:
    return CommitProperties(custom_metadata={CURSOR: cursor.to_json()})


def _replace_snapshot(con, lake: Path, name: str, select: str) -> int:
    """Replace small table `name` with the store's rows, unless the lake holds them
    already (same digest); 1 if it was replaced."""
    ((digest,),) = con.execute(
        f"SELECT count(*) || ':' || coalesce(sum(hash(t)::HUGEINT), 0) FROM ({select}) t"
    ).fetchall()
    existing = open_table(lake, name)
    if existing is not None and existing.history(1)[0].get(DIGEST) == digest:
        return 0
    write_deltalake(
        str(lake / name), _arrow(con, select), mode="overwrite", schema_mode="overwrite",
        commit_properties=CommitProperties(custom_metadata={DIGEST: digest}),
    )  # fmt: skip
    return 1


def _compact(lake: Path, name: str, small_files: int, cursor: Cursor | None) -> None:
    """Merge the small files of every date holding more than `small_files` of them into
    files of about TARGET_FILE_BYTES (files of that size are left as they are)."""
    table = open_table(lake, name)
    if table is None:
        return
    actions = pa.table(table.get_add_actions(flatten=True)).to_pydict()
    small: dict[str, int] = {}
    for size, day in zip(actions["size_bytes"], actions[f"partition.{EVENT_DATE}"], strict=True):
        if size < TARGET_FILE_BYTES:
            key = str(day)
            small[key] = small.get(key, 0) + 1
    crowded = sorted(day for day, n in small.items() if n > small_files)
    if not crowded:
        return
    table.optimize.compact(
        partition_filters=[(EVENT_DATE, "in", crowded)],
        target_size=TARGET_FILE_BYTES,
        commit_properties=_cursor_commit(cursor) if cursor is not None else None,
    )


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress("export", done, total)


__all__ = [
    "ExportSummary",
    "committed_cursor",
    "events_behind",
    "export_store",
    "ingest_to_lake",
    "open_store_for_export",
]
