"""Chunked, deterministic writers: one file per entity, appended to chunk by chunk.

* ``ndjson`` — one JSON object per line, keys in wire order, null fields omitted. Lines are
  assembled by DuckDB (``to_json`` escapes the free texts) and their UTF-8 bytes written straight
  from the Arrow buffer. A column may carry a raw-JSON expression instead (the event ``ts`` is a
  JSON string or an integer of epoch milliseconds).
* ``csv`` — pyarrow's streaming CSV writer, one header; lists (``hashtags``) are JSON array text.
* ``parquet`` — pyarrow's ``ParquetWriter``, one row group per chunk.

Columns whose name starts with ``_`` are helpers for the NDJSON expressions and never written.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FORMATS = ("ndjson", "csv", "parquet")


def _json_value_sql(name: str, typ: pa.DataType, safe: bool) -> str:
    col = f'"{name}"'
    if pa.types.is_boolean(typ):
        return f"CASE WHEN {col} THEN 'true' WHEN NOT {col} THEN 'false' END"
    if pa.types.is_integer(typ):
        return f"CAST({col} AS VARCHAR)"
    if pa.types.is_floating(typ):
        return f"CAST(to_json({col}) AS VARCHAR)"
    if (pa.types.is_string(typ) or pa.types.is_large_string(typ)) and safe:
        return "'\"' || " + col + " || '\"'"
    return f"CAST(to_json({col}) AS VARCHAR)"


class EntityWriter:
    """Writes the rows of DuckDB queries of one entity to one file, query after query."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path,
        fmt: str,
        schema: pa.Schema,
        *,
        safe: tuple[str, ...] = (),
        raw: dict[str, str] | None = None,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {sorted(FORMATS)}")
        self.con = con
        self.path = Path(path)
        self.fmt = fmt
        self.schema = schema  # the written schema (helpers excluded)
        self.rows = 0
        self._file = None
        self._writer = None
        if fmt == "ndjson":
            parts = []
            for field in schema:
                value = (raw or {}).get(field.name) or _json_value_sql(
                    field.name, field.type, field.name in safe
                )
                parts.append(f"'\"{field.name}\":' || ({value})")
            self._wrap = (
                "SELECT '{' || concat_ws(',', " + ", ".join(parts) + ") || '}' || chr(10) AS line"
            )
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            return
        cols = []
        for f in schema:
            if fmt == "csv" and pa.types.is_list(f.type):  # lists as JSON array text
                cols.append(f'CAST(to_json("{f.name}") AS VARCHAR) AS "{f.name}"')
            else:
                cols.append(f'"{f.name}"')
        self._wrap = "SELECT " + ", ".join(cols)
        if fmt == "csv":
            self._out_schema = pa.schema(
                [pa.field(f.name, pa.string()) if pa.types.is_list(f.type) else f for f in schema]
            )
            self._file = open(self.path, "wb")  # noqa: SIM115
            self._writer = pacsv.CSVWriter(
                self._file,
                self._out_schema,
                write_options=pacsv.WriteOptions(quoting_style="needed"),
            )
        else:
            self._out_schema = schema
            self._writer = pq.ParquetWriter(self.path, schema, compression="zstd")

    def write_query(self, sql: str, tables: dict[str, pa.Table]) -> None:
        """Append the rows of ``sql`` (a SELECT over ``tables``, registered under their keys)."""
        for name, table in tables.items():
            self.con.register(name, table)
        try:
            reader = self.con.sql(f"{self._wrap} FROM ({sql})").arrow()
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                self.rows += batch.num_rows
                if self.fmt == "ndjson":
                    _write_string_bytes(self._file, batch.column(0))
                else:
                    table = pa.Table.from_batches([batch]).cast(self._out_schema)
                    self._writer.write_table(table)
        finally:
            for name in tables:
                self.con.unregister(name)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None


def _write_string_bytes(fh, arr: pa.Array) -> None:
    """Write the concatenated UTF-8 bytes of a (non-null) string array."""
    if pa.types.is_string_view(arr.type):
        arr = arr.cast(pa.string())
    if pa.types.is_large_string(arr.type):
        width = np.int64
    elif pa.types.is_string(arr.type):
        width = np.int32
    else:  # pragma: no cover - DuckDB always hands back strings here
        raise TypeError(f"unexpected line type {arr.type}")
    if len(arr) == 0:
        return
    bufs = arr.buffers()
    offs = np.frombuffer(
        bufs[1], dtype=width, count=len(arr) + 1, offset=arr.offset * width(0).nbytes
    )
    fh.write(memoryview(bufs[2])[int(offs[0]) : int(offs[-1])])
