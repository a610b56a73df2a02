"""LIVE analytics: what a creator sees while a LIVE runs, its summary after, and the end of
its named room list.

Everything is computed from the stored `live_*` events (a LIVE is small: its own events
are read, never a rollup), with the viewers' concurrency by the rule of `live.room`. While
a LIVE runs its host sees the room by name, as on TikTok, except viewers who are private or
opted out (`privacy.live_viewers`); once it has ended (a `live_end`, or no event for the
policy's idle timeout) only aggregates are shown, and `expire_rooms` deletes the room's
names when the policy's retention has passed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from creatorlens.live.room import MINUTE_MS, concurrency, minute_of, presence
from creatorlens.privacy import PrivacyPolicy
from creatorlens.privacy.live_viewers import PRIVATE_VIEWER, named_viewers
from creatorlens.store.rooms import RoomBook

__all__ = [
    "PRIVATE_VIEWER",
    "LiveMinute",
    "LiveNow",
    "LiveSummary",
    "LiveView",
    "expire_rooms",
    "live_view",
]


@dataclass(frozen=True)
class LiveMinute:
    """One minute of a LIVE, counted from its start."""

    minute: int
    viewers: int  # the most in the room at once during the minute
    joins: int
    leaves: int
    comments: int
    gifts: int
    gift_value: float


@dataclass(frozen=True)
class LiveNow:
    """A running LIVE as its host sees it."""

    live_id: str
    started_at: datetime
    viewers_now: int
    peak: int
    unique_viewers: int
    comments: int
    gifts: int
    gift_value: float
    minutes: list[LiveMinute]
    # Viewers in the room now: the nameable ones by account id, newest join first, and
    # how many others are in it (each shown as "a private viewer").
    named_viewers: list[str]
    private_viewers: int

    @property
    def room(self) -> list[str]:
        """The room list as shown: names, then "a private viewer" for each other one."""
        return self.named_viewers + [PRIVATE_VIEWER] * self.private_viewers


@dataclass(frozen=True)
class LiveSummary:
    """An ended LIVE: aggregates only, no viewer named."""

    live_id: str
    started_at: datetime
    ended_at: datetime
    ended_by: str  # "live_end" or "idle_timeout"
    duration_s: float
    peak: int
    average_viewers: float
    unique_viewers: int
    new_followers: int
    comments: int
    gifts: int
    gift_value: float
    curve: list[int]  # the most in the room at once, minute by minute


@dataclass(frozen=True)
class LiveView:
    """A creator's LIVEs now: those running, and the summary of the last one ended."""

    creator_id: str
    running: list[LiveNow] = field(default_factory=list)
    last: LiveSummary | None = None

    def to_json(self) -> dict[str, Any]:
        running = []
        for live in self.running:
            body = asdict(live)
            body["room"] = live.room
            running.append(body)
        return {
            "creator_id": self.creator_id,
            "running": running,
            "last": asdict(self.last) if self.last else None,
        }


# --- reading a LIVE's events ------------------------------------------------------------------

_LIVES = """
SELECT l.live_id, epoch_ms(l.started_at),
       epoch_ms(max(e.ts) FILTER (WHERE e.type = 'live_end')),
       epoch_ms(max(e.ts))
FROM lives l LEFT JOIN events e ON e.live_id = l.live_id
WHERE l.creator_id = $creator
GROUP BY ALL
ORDER BY 2
"""

_EVENTS = """
SELECT type, epoch_ms(ts), viewer_pid, gift_value FROM events
WHERE live_id = $live AND type IN ('live_join', 'live_leave', 'live_comment', 'live_gift')
"""

_NEW_FOLLOWERS = """
SELECT count(DISTINCT actor_id) FROM events
WHERE creator_id = $creator AND type = 'follow' AND ts >= make_timestamptz($start * 1000)
  AND ts <= make_timestamptz($end * 1000)
"""


@dataclass(frozen=True)
class _Live:
    live_id: str
    start_ms: int
    end_ms: int | None  # None: running
    ended_by: str | None


def _lives(con: Any, creator_id: str, policy: PrivacyPolicy, now_ms: int) -> list[_Live]:
    out = []
    rows = con.execute(_LIVES, {"creator": creator_id}).fetchall()
    for live_id, start, ended, last in rows:
        out.append(_ended(live_id, start, ended, last, policy, now_ms))
    return out


def _ended(live_id, start, ended, last, policy: PrivacyPolicy, now_ms: int) -> _Live:
    """Whether a LIVE has ended: its live_end, else no event for the idle timeout (it is
    taken to have ended at its last event)."""
    if ended is not None:
        return _Live(live_id, start, ended, "live_end")
    last = start if last is None else max(last, start)
    if now_ms - last >= policy.live_idle_timeout_s * 1000:
        return _Live(live_id, start, last, "idle_timeout")
    return _Live(live_id, start, None, None)


def _tally(events, start_ms: int, end_ms: int):
    rooms = presence(
        (ts, "join" if kind == "live_join" else "leave", pid)
        for kind, ts, pid, _ in events
        if kind in ("live_join", "live_leave") and pid is not None
    )
    crowd = concurrency(rooms, start_ms, end_ms)
    n = len(crowd.per_minute)
    counts = [[0, 0, 0, 0, 0.0] for _ in range(n)]
    for kind, ts, _, value in events:
        m = counts[minute_of(ts, start_ms, n)]
        if kind == "live_join":
            m[0] += 1
        elif kind == "live_leave":
            m[1] += 1
        elif kind == "live_comment":
            m[2] += 1
        else:
            m[3] += 1
            m[4] += value or 0.0
    minutes = [
        LiveMinute(i, crowd.per_minute[i], c[0], c[1], c[2], c[3], round(c[4], 2))
        for i, c in enumerate(counts)
    ]
    return rooms, crowd, minutes


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _running(con: Any, book: RoomBook, live: _Live, now_ms: int) -> LiveNow:
    events = con.execute(_EVENTS, {"live": live.live_id}).fetchall()
    end = max([now_ms, live.start_ms] + [ts for _, ts, _, _ in events])
    rooms, crowd, minutes = _tally(events, live.start_ms, end)
    inside = sorted(
        ((iv[-1][0], pid) for pid, iv in rooms.items() if iv[-1][1] is None), reverse=True
    )
    names = book.names(live.live_id)
    accounts = [names[pid] for _, pid in inside if pid in names]
    nameable = named_viewers(con, accounts)
    named = [a for a in accounts if a in nameable]
    return LiveNow(
        live_id=live.live_id,
        started_at=_at(live.start_ms),
        viewers_now=crowd.now,
        peak=crowd.peak,
        unique_viewers=len(rooms),
        comments=sum(m.comments for m in minutes),
        gifts=sum(m.gifts for m in minutes),
        gift_value=round(sum(v or 0.0 for k, _, _, v in events if k == "live_gift"), 2),
        minutes=minutes,
        named_viewers=named,
        private_viewers=len(inside) - len(named),
    )


def _summary(con: Any, creator_id: str, live: _Live) -> LiveSummary:
    assert live.end_ms is not None and live.ended_by is not None
    events = con.execute(_EVENTS, {"live": live.live_id}).fetchall()
    rooms, crowd, minutes = _tally(events, live.start_ms, live.end_ms)
    followers = con.execute(
        _NEW_FOLLOWERS, {"creator": creator_id, "start": live.start_ms, "end": live.end_ms}
    ).fetchone()[0]
    return LiveSummary(
        live_id=live.live_id,
        started_at=_at(live.start_ms),
        ended_at=_at(live.end_ms),
        ended_by=live.ended_by,
        duration_s=(live.end_ms - live.start_ms) / 1000,
        peak=crowd.peak,
        average_viewers=round(crowd.average, 2),
        unique_viewers=len(rooms),
        new_followers=int(followers),
        comments=sum(m.comments for m in minutes),
        gifts=sum(m.gifts for m in minutes),
        gift_value=round(sum(v or 0.0 for k, _, _, v in events if k == "live_gift"), 2),
        curve=crowd.per_minute,
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def live_view(
    con: Any,
    rooms: RoomBook,
    creator_id: str,
    policy: PrivacyPolicy,
    *,
    at_ms: int | None = None,
) -> LiveView:
    """The creator's running LIVEs (room by name) and the summary of the last one ended,
    as of `at_ms` (default: now). `con` reads the store (a connection or a session)."""
    at = now_ms() if at_ms is None else at_ms
    lives = _lives(con, creator_id, policy, at)
    running = [_running(con, rooms, live, at) for live in lives if live.end_ms is None]
    ended = [live for live in lives if live.end_ms is not None]
    last = None
    if ended:
        last = _summary(con, creator_id, max(ended, key=lambda live: live.end_ms or 0))
    return LiveView(creator_id, running, last)


def live_summaries(con: Any, creator_id: str, policy: PrivacyPolicy, *, at_ms: int | None = None):
    """Every ended LIVE of the creator, oldest first, as summaries."""
    at = now_ms() if at_ms is None else at_ms
    return [
        _summary(con, creator_id, live)
        for live in _lives(con, creator_id, policy, at)
        if live.end_ms is not None
    ]


# --- the end of a room's names ---------------------------------------------------------------

_ROOM_STATE = """
SELECT epoch_ms(min(l.started_at)),
       epoch_ms(max(e.ts) FILTER (WHERE e.type = 'live_end')),
       epoch_ms(max(e.ts)), epoch_ms(min(e.ts))
FROM events e LEFT JOIN lives l ON l.live_id = e.live_id
WHERE e.live_id = $live
"""


def expire_rooms(store: Any, policy: PrivacyPolicy, *, at_ms: int | None = None) -> int:
    """Delete the room list of every LIVE that ended at least the policy's retention ago
    (a LIVE never started, whose viewers' names came alone, by its idle timeout); how
    many were deleted. Runs where the store is written (the server's writer thread)."""
    at = now_ms() if at_ms is None else at_ms
    book = RoomBook(store.path)
    if not book.kept():
        return 0
    deleted = 0
    retention = policy.live_room_retention_s * 1000
    for path in sorted(book.path.glob("*.ndjson")):
        live_id = _live_of(path)
        if live_id is None:
            continue
        start, ended, last, first = store.con.execute(_ROOM_STATE, {"live": live_id}).fetchone()
        if last is None:  # no event stored names it (a batch rolled back): nothing to show
            if book.delete(live_id):
                deleted += 1
            continue
        live = _ended(live_id, start if start is not None else first, ended, last, policy, at)
        if live.end_ms is not None and at - live.end_ms >= retention and book.delete(live_id):
            deleted += 1
    return deleted


def _live_of(path) -> str | None:
    try:
        with path.open() as f:
            return json.loads(f.readline())["live_id"]
    except (OSError, ValueError, KeyError):
        return None


def room_book(db: Any) -> RoomBook:
    """The room files of the store at `db` (for the interfaces, which never open the store)."""
    return RoomBook(db)


__all__ += ["MINUTE_MS", "RoomBook", "live_summaries", "now_ms", "room_book"]


def live_view_of(
    db: Any, creator_id: str, policy: PrivacyPolicy, *, keys: Any = None, expire: bool = False
) -> LiveView:
    """`live_view` of the store file at `db`, opened for this read only (for the CLI); with
    `expire`, opened for writing so that rooms past their retention are deleted first."""
    from creatorlens.store import Store

    with Store.open(db, keys=keys, read_only=not expire) as store:
        if expire:
            expire_rooms(store, policy)
        return live_view(store.con, RoomBook(db), creator_id, policy)


__all__ += ["live_view_of"]
