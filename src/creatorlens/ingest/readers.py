"""Reading NDJSON, CSV and Parquet files as streams of Arrow batches of text columns.

Every wire field arrives as VARCHAR (NULL when absent) so that one bad value never fails a
whole batch: typing and checks happen afterwards, per record, in `validate`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from creatorlens.errors import UserError
from creatorlens.ingest.wire import ENTITIES, ENTITY_FIELDS

FORMATS = {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson", ".csv": "csv"}
FORMATS[".parquet"] = "parquet"
FORMATS[".pq"] = "parquet"


_DONE = object()


@dataclass(frozen=True)
class SourceFile:
    """A file to ingest: its path, format and entity kind."""

    path: Path
    fmt: str
    entity: str

    @property
    def name(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class RejectedLine:
    """A line the file reader itself could not parse (CSV shape errors)."""

    record_no: int
    reason: str


def file_format(path: Path) -> str:
    """The format named by the file's extension (a trailing .gz is allowed)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise UserError(
            f"{path}: unknown format (use .ndjson/.jsonl, .csv or .parquet, optionally .gz)"
        )
    return fmt


def open_source(path: str | Path, entity: str | None = None) -> SourceFile:
    """Check a path exists and work out its format and entity kind."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    fmt = file_format(path)
    if path.stat().st_size == 0:
        raise UserError(f"{path}: empty file")
    if entity is None:
        entity = _entity_from_name(path) or _entity_from_columns(path, fmt)
    if entity not in ENTITIES:
        raise UserError(f"{path}: unknown entity kind {entity!r} (use {', '.join(ENTITIES)})")
    return SourceFile(path, fmt, entity)


def open_sources(paths: Iterable[str | Path], entity: str | None = None) -> list[SourceFile]:
    """The files to ingest: each file named, and the data files directly inside each
    directory named (in name order; files of other extensions and hidden ones are left)."""
    sources = []
    for path in map(Path, paths):
        if not path.is_dir():
            sources.append(open_source(path, entity))
            continue
        found = [
            open_source(p, entity)
            for p in sorted(path.iterdir())
            if p.is_file() and not p.name.startswith(".") and _has_data_extension(p)
        ]
        if not found:
            raise UserError(f"{path}: a directory with no .ndjson, .jsonl, .csv or .parquet files")
        sources += found
    return sources


def _has_data_extension(path: Path) -> bool:
    try:
        file_format(path)
    except UserError:
        return False
    return True


def _entity_from_name(path: Path) -> str | None:
    stem = path.name.lower()
    for entity in ENTITIES:
        if stem.startswith(entity) or stem.startswith(entity[:-1]):
            return entity
    return None


def _entity_from_columns(path: Path, fmt: str) -> str:
    con = duckdb.connect()
    try:
        columns = {
            row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {_scan(path, fmt)}").fetchall()
        }
    except duckdb.Error as exc:
        raise UserError(f"{path}: unreadable {fmt} file ({_first_line(exc)})") from None
    finally:
        con.close()
    if "event_id" in columns:
        return "events"
    if "creator_id" in columns and "video_id" in columns:
        return "videos"
    if "account_id" in columns:
        return "accounts"
    raise UserError(f"{path}: cannot tell accounts, videos or events from its columns")


def _scan(path: Path, fmt: str, entity: str | None = None) -> str:
    """The table function reading `path`; paths are quoted, never user SQL."""
    quoted = "'" + str(path).replace("'", "''") + "'"
    if fmt == "ndjson":
        if entity is None:
            return f"read_json({quoted}, format='newline_delimited', ignore_errors=true)"
        cols = ", ".join(f"'{f}': 'VARCHAR'" for f in ENTITY_FIELDS[entity])
        return (
            f"read_json({quoted}, columns={{{cols}}}, format='newline_delimited', "
            "records=true, ignore_errors=true, maximum_object_size=16777216)"
        )
    if fmt == "csv":
        # Rows of the wrong shape are set aside (and quarantined) rather than letting the
        # sniffer give up on the whole file's columns.
        return (
            f"read_csv({quoted}, all_varchar=true, header=true, store_rejects=true, "
            "null_padding=false)"
        )
    return f"read_parquet({quoted})"


# Bytes read from the start of a text file to estimate its record count: enough for a
# steady average line length, far less than the full pass a large file would cost.
_SAMPLE_BYTES = 1 << 20


def estimate_records(source: SourceFile) -> int | None:
    """About how many records the file holds, for progress bars (None if unknown).

    Exact for Parquet and for text files smaller than the sample; larger text files are
    estimated from the line length of their first megabyte instead of being read twice.
    """
    if source.fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(source.path).metadata.num_rows
        except (OSError, ValueError) as exc:
            raise UserError(f"{source.path}: unreadable parquet file ({exc})") from None
    if source.path.suffix.lower() == ".gz":
        return None
    size = source.path.stat().st_size
    with open(source.path, "rb") as f:
        sample = f.read(_SAMPLE_BYTES)
    lines = sample.count(b"\n")
    if len(sample) < size:
        lines = round(lines * size / max(len(sample), 1))
    elif sample and not sample.endswith(b"\n"):
        lines += 1
    return max(lines - (1 if source.fmt == "csv" else 0), 0)


class BatchReader:
    """Streams a source file as Arrow batches: one VARCHAR column per wire field."""

    def __init__(self, source: SourceFile, batch_rows: int = 750_000):
        self.source = source
        self.batch_rows = batch_rows
        self.rejected: list[RejectedLine] = []
        self._con = duckdb.connect()
        self._con.execute("SET TimeZone = 'UTC'")
        # One thread parses the file: it stays ahead of the store, which needs the other
        # cores, and two DuckDB instances each running a thread per core would only
        # take turns on the same cores.
        self._con.execute("SET threads = 1")
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None

    def __iter__(self) -> Iterator[pa.Table]:
        """Batches in file order; the next one is parsed while the caller stores this one."""
        handoff: queue.Queue = queue.Queue(maxsize=1)
        stop = self._stop

        def hand_over(item: object) -> bool:
            """Put an item for the consumer unless it has stopped listening."""
            while not stop.is_set():
                try:
                    handoff.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for table in self._batches():
                    if not hand_over(table):
                        return
                hand_over(_DONE)
            except BaseException as exc:  # handed to the consumer, raised there
                hand_over(exc)

        worker = threading.Thread(target=produce, name="creatorlens-reader", daemon=True)
        self._worker = worker
        worker.start()
        try:
            while True:
                item = handoff.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()

    def _batches(self) -> Iterator[pa.Table]:
        fields = ENTITY_FIELDS[self.source.entity]
        try:
            select = self._select_list(fields)
            scan = _scan(self.source.path, self.source.fmt, self.source.entity)
            sql = f"SELECT {select} FROM {scan}"
            reader = self._con.sql(sql).to_arrow_reader(self.batch_rows)
            # The reader hands out small chunks; a transaction per chunk would cost more
            # than the work, so chunks are gathered up to `batch_rows`.
            pending: list[pa.RecordBatch] = []
            rows = 0
            for batch in reader:
                pending.append(batch)
                rows += batch.num_rows
                if rows >= self.batch_rows:
                    yield pa.Table.from_batches(pending)
                    pending, rows = [], 0
            if rows:
                yield pa.Table.from_batches(pending)
        except duckdb.Error as exc:
            raise UserError(
                f"{self.source.path}: unreadable {self.source.fmt} file ({_first_line(exc)})"
            ) from None
        if self.source.fmt == "csv":
            self.rejected = [
                RejectedLine(int(line), f"CSV: {error}")
                for line, error in self._con.execute(
                    "SELECT line, error_message FROM reject_errors ORDER BY line"
                ).fetchall()
            ]

    def _select_list(self, fields: tuple[str, ...]) -> str:
        """Project the file's columns onto the wire fields, all as text."""
        if self.source.fmt == "ndjson":
            return ", ".join(f'"{f}"' for f in fields)
        described = self._con.execute(
            f"DESCRIBE SELECT * FROM {_scan(self.source.path, self.source.fmt)}"
        ).fetchall()
        types = {row[0]: row[1] for row in described}
        return ", ".join(f'{_as_text(f, types.get(f))} AS "{f}"' for f in fields)

    def close(self) -> None:
        """Stop the parsing thread (a caller may stop reading mid-file), then the parser."""
        if self._worker is not None and self._worker.is_alive():
            self._stop.set()
            self._con.interrupt()
            self._worker.join()
        self._con.close()


def _as_text(field: str, dtype: str | None) -> str:
    """SQL turning a typed column into the text the validator expects."""
    if dtype is None:
        return "NULL::VARCHAR"
    col = f'"{field}"'
    if dtype.endswith("[]") or dtype.startswith(("STRUCT", "MAP")):
        return f"to_json({col})::VARCHAR"
    if dtype.startswith("TIMESTAMP"):
        return f"epoch_ms({col})::VARCHAR"
    if dtype == "DATE":
        return f"strftime({col}, '%Y-%m-%dT00:00:00Z')"
    return f"{col}::VARCHAR"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
