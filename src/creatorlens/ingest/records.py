"""Wire records sent in memory (an HTTP request body) as the batch of text columns ingest
takes, with the records that are not even JSON objects set apart by their position.

A value becomes the text the NDJSON file reader gives it (numbers and booleans as written,
lists and objects as compact JSON), so a record validates the same whether it came in a
file or in a request. Nothing here is written anywhere: the body stays in memory.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from creatorlens.errors import UserError
from creatorlens.ingest.wire import ENTITY_FIELDS


class BodyError(UserError):
    """A body that holds no records at all (not JSON, not an array), naming where."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Unreadable:
    """A record that is not a JSON object: its position in the body and why."""

    index: int
    reason: str


@dataclass
class Records:
    """The records of one body: the readable ones as wire columns, and the others."""

    table: pa.Table
    positions: list[int]  # each row's position in the body (array index or NDJSON line)
    unreadable: list[Unreadable] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.table.num_rows + len(self.unreadable)


def read_json_array(text: str, entity: str) -> Records:
    """A JSON array of records; a body that is not one is refused whole (`BodyError`)."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BodyError(
            "body", f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(items, list):
        raise BodyError("body", "must be a JSON array of records (or NDJSON, one per line)")
    return _records(entity, list(enumerate(items)))


def read_ndjson(text: str, entity: str) -> Records:
    """One record per line; blank lines are skipped (and still counted as lines)."""
    items: list[tuple[int, Any]] = []
    for i, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        try:
            items.append((i, json.loads(line)))
        except json.JSONDecodeError as exc:
            items.append((i, _NotJson(f"not valid JSON ({exc.msg} at column {exc.colno})")))
    return _records(entity, items)


class _NotJson:
    def __init__(self, reason: str):
        self.reason = reason


def _records(entity: str, items: list[tuple[int, Any]]) -> Records:
    readable, positions, unreadable = [], [], []
    for i, value in items:
        if isinstance(value, dict):
            readable.append(value)
            positions.append(i)
        elif isinstance(value, _NotJson):
            unreadable.append(Unreadable(i, value.reason))
        else:
            unreadable.append(Unreadable(i, "a record must be a JSON object"))
    return Records(wire_table(entity, readable), positions, unreadable)


def wire_table(entity: str, records: Sequence[dict[str, Any]]) -> pa.Table:
    """The entity's wire fields of `records` as text columns (NULL where absent)."""
    columns = {}
    for name in ENTITY_FIELDS[entity]:
        values = [r.get(name) for r in records]
        try:
            columns[name] = pa.array(values, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            texts = [v if v is None or type(v) is str else _text(v) for v in values]
            columns[name] = pa.array(texts, pa.string())
    return pa.table(columns)


def _text(value: Any) -> str:
    """A JSON value as the NDJSON reader gives it to a text column."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
