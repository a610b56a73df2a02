"""Notifications: new followers, likes, comments, mentions, duets and stitches, grouped as
people expect ("ana, ben and 12 others liked your video"), and the insights' virality
alerts ("Your video v1 is taking off: ..."), newest first, paged by cursor, read up to a
point.

The groups are derived from stored events (`notify.derive`); who is named is decided when
a page is read, by the rule of the likers list for likes and of public acts for the rest
(`privacy.likers.nameable_accounts`, the same SQL), so an account that turned private
since is no longer named, and an unnamed one is only counted. Virality alerts come from
the creator's studio, through the release stage, and are kept once per video and window
of its age (`notify.alerts`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from creatorlens.errors import UserError
from creatorlens.notify.alerts import ALERT_KIND, alert_message, record_alerts, times_usual
from creatorlens.notify.derive import (
    GROUPED_KINDS,
    KINDS,
    WINDOW_S,
    create_tables,
    refresh_notifications,
)
from creatorlens.privacy.likers import nameable_accounts
from creatorlens.query import QueryError
from creatorlens.store.database import has_table

__all__ = [
    "ALERT_KIND",
    "GROUPED_KINDS",
    "KINDS",
    "WINDOW_S",
    "Notification",
    "NotificationPage",
    "mark_read",
    "notification_page",
    "record_alerts",
    "refresh_notifications",
    "unread_count",
]

NAMES_SHOWN = 2  # names in a grouped notification; the rest are "and N others"
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class CursorError(UserError):
    """A cursor or notification id that is not one this service gave."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Notification:
    """One notification as the creator sees it."""

    id: str  # orders the feed: a cursor, and what `mark_read` takes
    kind: str
    at: datetime
    video_id: str | None
    names: list[str]  # accounts the creator may name, newest first
    others: int  # the people not named
    count: int  # everyone in it
    text: str | None  # a comment's or mention's text
    message: str
    unread: bool
    # A virality alert's figures (views and shares in its window, the usual ones, how many
    # times the usual, the window's hours); None for the other kinds.
    figures: dict[str, Any] | None = None


@dataclass(frozen=True)
class NotificationPage:
    creator_id: str
    notifications: list[Notification]
    next_cursor: str | None
    unread: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def notification_id(at_ms: int, group_id: str) -> str:
    return f"{at_ms}.{group_id}"


def parse_id(value: str, field: str) -> tuple[int, str]:
    """(at_ms, group_id) of a notification id or cursor."""
    head, dot, group = value.partition(".")
    if not dot or not head.isdigit() or len(head) > 16 or not group:
        raise CursorError(field, "not a notification id (give one this API returned)")
    return int(head), group


_VERBS = {
    "like": "liked your video",
    "follow": "started following you",
    "comment": "commented",
    "mention": "mentioned you",
    "duet": "duetted your video",
    "stitch": "stitched your video",
}


def message(kind: str, names: list[str], others: int, text: str | None) -> str:
    """The sentence of a notification: "ana, ben and 12 others liked your video"."""
    if names:
        who = ", ".join(names)
        if others:
            who += f" and {others} other{'s' if others != 1 else ''}"
        elif len(names) > 1:
            who = ", ".join(names[:-1]) + " and " + names[-1]
    else:
        who = "someone" if others == 1 else f"{others} people"
    sentence = f"{who} {_VERBS[kind]}"
    return f"{sentence}: {text}" if text else sentence


def _ready(con: Any) -> bool:
    return has_table(con, "notify_groups") and has_table(con, "notify_alerts")


# The creator's feed: the groups of events and the virality alerts, in one order.
_FEED = f"""
WITH feed AS (
    SELECT group_id, kind, video_id, at_ms, actors FROM notify_groups
    WHERE creator_id = $creator
    UNION ALL
    SELECT group_id, '{ALERT_KIND}', video_id, at_ms, 0 FROM notify_alerts
    WHERE creator_id = $creator
)
"""

_PAGE = (
    _FEED
    + """
SELECT group_id, kind, video_id, at_ms, actors FROM feed
WHERE $at::BIGINT IS NULL OR at_ms < $at OR (at_ms = $at AND group_id < $group)
ORDER BY at_ms DESC, group_id DESC
LIMIT $limit
"""
)

_ALERTS = """
SELECT group_id, window_hours, views, shares, usual_views, usual_shares FROM notify_alerts
WHERE creator_id = $creator AND group_id IN (SELECT unnest($groups::VARCHAR[]))
"""

# The newest `$cap` people of each group: names are the first nameable ones among them,
# so a group of 100,000 likes is not read whole for its two names.
_ACTORS = """
SELECT group_id, actor_id, text FROM notify_actors
WHERE creator_id = $creator AND group_id IN (SELECT unnest($groups::VARCHAR[]))
QUALIFY row_number() OVER (PARTITION BY group_id ORDER BY at_ms DESC, actor_id) <= $cap
ORDER BY group_id, at_ms DESC, actor_id
"""
ACTORS_READ = 64  # people read per group at first; more only where too few are nameable

_READ_MARK = "SELECT at_ms, group_id FROM notification_reads WHERE creator_id = $creator"

_UNREAD = (
    _FEED
    + """
SELECT count(*) FROM feed
WHERE $at::BIGINT IS NULL OR at_ms > $at OR (at_ms = $at AND group_id > $group)
"""
)

_NEWEST = _FEED + "SELECT at_ms, group_id FROM feed ORDER BY at_ms DESC, group_id DESC LIMIT 1"


def _mark(con: Any, creator_id: str) -> tuple[int | None, str]:
    row = con.execute(_READ_MARK, {"creator": creator_id}).fetchone()
    return (row[0], row[1]) if row else (None, "")


def unread_count(con: Any, creator_id: str) -> int:
    """How many of the creator's notifications are newer than what they marked read."""
    if not _ready(con):
        return 0
    at, group = _mark(con, creator_id)
    return int(
        con.execute(_UNREAD, {"creator": creator_id, "at": at, "group": group}).fetchone()[0]
    )


def notification_page(
    con: Any, creator_id: str, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> NotificationPage:
    """The creator's notifications, newest first, after `cursor` (the last id of the page
    before), `limit` of them; `con` reads the store."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise CursorError("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    at, group = parse_id(cursor, "cursor") if cursor else (None, "")
    if not _ready(con):
        return NotificationPage(creator_id, [], None, 0)
    rows = con.execute(
        _PAGE, {"creator": creator_id, "at": at, "group": group, "limit": limit + 1}
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    kinds = {r[0]: r[1] for r in rows}
    alerts = _alert_figures(con, creator_id, [g for g, k in kinds.items() if k == ALERT_KIND])
    people: dict[str, list[tuple[str, str | None]]] = {g: [] for g in kinds}
    nameable_likers: set[str] = set()
    nameable_actors: set[str] = set()
    wanted, cap = [g for g, k in kinds.items() if k != ALERT_KIND], ACTORS_READ
    while wanted:
        read: dict[str, list[tuple[str, str | None]]] = {g: [] for g in wanted}
        for group_id, actor, text in con.execute(
            _ACTORS, {"creator": creator_id, "groups": wanted, "cap": cap}
        ).fetchall():
            read[group_id].append((actor, text))
        people.update(read)
        likers = {a for g in wanted if kinds[g] == "like" for a, _ in read[g]}
        actors = {a for g in wanted if kinds[g] != "like" for a, _ in read[g]}
        nameable_likers |= nameable_accounts(con, creator_id, sorted(likers), as_likers=True)
        nameable_actors |= nameable_accounts(con, creator_id, sorted(actors), as_likers=False)
        # Groups read only in part whose part held too few names: read further.
        wanted = [
            g
            for g in wanted
            if len(read[g]) == cap
            and sum(a in (nameable_likers if kinds[g] == "like" else nameable_actors)
                    for a, _ in read[g]) < NAMES_SHOWN
        ]  # fmt: skip
        cap *= 16
    read_at, read_group = _mark(con, creator_id)
    out = []
    for group_id, kind, video_id, at_ms, count in rows:
        unread = read_at is None or (at_ms, group_id) > (read_at, read_group)
        if kind == ALERT_KIND:
            out.append(_alert(group_id, video_id, at_ms, alerts[group_id], unread))
            continue
        nameable = nameable_likers if kind == "like" else nameable_actors
        named = [a for a, _ in people[group_id] if a in nameable][:NAMES_SHOWN]
        text = people[group_id][0][1] if kind not in GROUPED_KINDS and people[group_id] else None
        others = int(count) - len(named)
        out.append(
            Notification(
                id=notification_id(at_ms, group_id),
                kind=kind,
                at=datetime.fromtimestamp(at_ms / 1000, UTC),
                video_id=video_id,
                names=named,
                others=others,
                count=int(count),
                text=text,
                message=message(kind, named, others, text),
                unread=unread,
            )
        )
    next_cursor = out[-1].id if more and out else None
    return NotificationPage(creator_id, out, next_cursor, unread_count(con, creator_id))


def _alert_figures(con: Any, creator_id: str, groups: list[str]) -> dict[str, dict[str, Any]]:
    if not groups:
        return {}
    rows = con.execute(_ALERTS, {"creator": creator_id, "groups": groups}).fetchall()
    return {
        g: {"window_hours": w, "views": v, "shares": s, "usual_views": uv, "usual_shares": us,
            "times_usual": round(times_usual(v, uv), 1)}
        for g, w, v, s, uv, us in rows
    }  # fmt: skip


def _alert(group_id: str, video_id: str, at_ms: int, figures: dict, unread: bool) -> Notification:
    """A virality alert as a notification: no one named, its figures and its sentence."""
    return Notification(
        id=notification_id(at_ms, group_id),
        kind=ALERT_KIND,
        at=datetime.fromtimestamp(at_ms / 1000, UTC),
        video_id=video_id,
        names=[],
        others=0,
        count=0,
        text=None,
        message=alert_message(
            video_id, figures["views"], figures["usual_views"], figures["window_hours"]
        ),
        unread=unread,
        figures=figures,
    )


# Marks are written by request threads on their own connections: one at a time.
_marking = threading.Lock()


def mark_read(con: Any, creator_id: str, up_to: str | None = None) -> int:
    """Mark the creator's notifications read up to the id `up_to` (default: the newest);
    a mark never moves back. The unread count after it."""
    create_tables(con)
    with _marking:
        if up_to is None:
            row = con.execute(_NEWEST, {"creator": creator_id}).fetchone()
            if row is None:
                return 0
            at, group = row
        else:
            at, group = parse_id(up_to, "up_to")
        old_at, old_group = _mark(con, creator_id)
        if old_at is None or (at, group) > (old_at, old_group):
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    "DELETE FROM notification_reads WHERE creator_id = $creator",
                    {"creator": creator_id},
                )
                con.execute(
                    "INSERT INTO notification_reads VALUES ($creator, $at, $group)",
                    {"creator": creator_id, "at": at, "group": group},
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    return unread_count(con, creator_id)


def notifications_of(
    db: Any, creator_id: str, *, cursor: str | None = None, limit: int = PAGE_SIZE, keys: Any = None
) -> NotificationPage:
    """A page of the creator's notifications from the store file at `db`, the notification
    tables brought up to date first and the virality alerts of now recorded (for the CLI:
    the store must not be held by a server)."""
    from creatorlens.store import Store
    from creatorlens.studio import open_studio

    with Store.open(db, keys=keys) as store:
        refresh_notifications(store)
        try:
            with open_studio(store, creator_id) as studio:
                record_alerts(store.con, studio)
        except (UserError, QueryError):
            pass  # no rollups yet, no such account, not an analytics one: nothing to alert
        return notification_page(store.con, creator_id, cursor=cursor, limit=limit)


__all__ += ["notifications_of"]
