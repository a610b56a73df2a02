"""Concurrency of a LIVE's room from its joins and leaves, whatever order they arrived in.

The rule: a viewer is in the room from a join to the next leave after it by event time
(half-open, [join, leave)). Each viewer's events are taken in event-time order (a join
before a leave at the same instant); a join while already in the room changes nothing, a
leave while out of it changes nothing, and a join with no later leave lasts until the LIVE
ends (or, while it runs, until now). Counts at an instant are of the intervals covering
it, so a viewer leaving at the very instant another joins is not counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MINUTE_MS = 60_000

Interval = tuple[int, int | None]  # [start, end) in epoch ms; end None: still in the room


def presence(events: Iterable[tuple[int, str, int]]) -> dict[int, list[Interval]]:
    """Each viewer's intervals in the room from (ts_ms, "join" | "leave", viewer) events."""
    by_viewer: dict[int, list[tuple[int, int]]] = {}
    for ts, kind, viewer in events:
        by_viewer.setdefault(viewer, []).append((ts, 0 if kind == "join" else 1))
    out: dict[int, list[Interval]] = {}
    for viewer, acts in by_viewer.items():
        acts.sort()
        intervals: list[Interval] = []
        opened: int | None = None
        for ts, act in acts:
            if act == 0 and opened is None:
                opened = ts
            elif act == 1 and opened is not None:
                intervals.append((opened, ts))
                opened = None
        if opened is not None:
            intervals.append((opened, None))
        if intervals:
            out[viewer] = intervals
    return out


@dataclass(frozen=True)
class Concurrency:
    """How many were in the room: the peak, the time-weighted average, and per minute."""

    peak: int
    average: float
    per_minute: list[int]  # the peak of each minute from the start, [start + m min, +1 min)
    now: int  # viewers whose interval is still open


def concurrency(rooms: dict[int, list[Interval]], start_ms: int, end_ms: int) -> Concurrency:
    """The room's concurrency over [start_ms, end_ms) (open intervals end at `end_ms`);
    times before the start count from the start."""
    end_ms = max(end_ms, start_ms)
    points: list[tuple[int, int]] = []
    covered = 0
    now = 0
    for intervals in rooms.values():
        for a, b in intervals:
            if b is None:
                now += 1
            a = max(a, start_ms)
            b = end_ms if b is None else min(max(b, start_ms), end_ms)
            if b <= a:
                continue
            covered += b - a
            points.append((a, 1))
            points.append((b, -1))
    # Leaves before joins at one instant: the half-open intervals do not overlap there.
    points.sort(key=lambda p: (p[0], p[1]))
    minutes = max(1, -(-(end_ms - start_ms) // MINUTE_MS))
    per_minute = [0] * minutes
    count = peak = 0
    i = 0
    for m in range(minutes):
        begins = start_ms + m * MINUTE_MS
        edge = begins + MINUTE_MS
        while i < len(points) and points[i][0] <= begins:  # settle the minute's first instant
            count += points[i][1]
            i += 1
        best = count  # those in the room as the minute begins
        while i < len(points) and points[i][0] < edge:
            count += points[i][1]
            best = max(best, count)
            i += 1
        per_minute[m] = best
        peak = max(peak, best)
    duration = end_ms - start_ms
    return Concurrency(peak, covered / duration if duration else 0.0, per_minute, now)


def minute_of(ts_ms: int, start_ms: int, minutes: int) -> int:
    """The minute of the LIVE an instant falls in (before the start: the first)."""
    return min(max((ts_ms - start_ms) // MINUTE_MS, 0), max(minutes - 1, 0))
