"""The likers rule's read: current likers by their settings, and the actors of public acts.

A like is visible by the actor's settings (DESIGN.md, "Privacy classes"): the liker is
named only if the account is public, or private and has approved the creator as a follower
(the creator follows them, they approved it, and it has not been undone since). Everyone
else, unknown accounts included, is counted as "and N others". The rule is one SQL view of
"accounts this creator may name", shared by likes and the other public acts, and the
unnamed ids never leave the database: only their count does.
"""

from __future__ import annotations

import duckdb

from creatorlens.errors import UserError

# Accounts in `candidates(account_id)` that `$creator` may name. A private account is
# nameable when the creator's latest follow of it is on, and the account approved the
# creator (follow_approve, actor = account, target = creator) at or after that follow
# began, i.e. after the last unfollow. Ties at one timestamp resolve to "not approved".
# `{settings}` is a relation of (account_id, is_private) covering every candidate the store
# knows; an account it does not know is never named.
_NAMEABLE = """
creator_follows AS (
    SELECT followee_id AS account_id, ts, following FROM follow_log
    WHERE follower_id = $creator AND followee_id IN (SELECT account_id FROM candidates)
),
follow_state AS (
    SELECT account_id,
           arg_max(following, (ts, NOT following)) AS following,
           max(ts) FILTER (NOT following) AS last_unfollow
    FROM creator_follows
    GROUP BY account_id
),
follow_began AS (
    SELECT s.account_id, min(f.ts) AS began
    FROM follow_state s
    JOIN creator_follows f ON f.account_id = s.account_id
    WHERE s.following AND f.following AND (s.last_unfollow IS NULL OR f.ts > s.last_unfollow)
    GROUP BY s.account_id
),
approved AS (
    SELECT DISTINCT b.account_id
    FROM follow_began b
    JOIN rollup_approvals_daily r
      ON r.creator_id = $creator AND r.actor_id = b.account_id AND r.last_approve_ts >= b.began
),
nameable AS (
    SELECT c.account_id
    FROM candidates c
    JOIN {settings} s ON s.account_id = c.account_id
    LEFT JOIN approved a ON a.account_id = c.account_id
    WHERE s.is_private IS NOT NULL AND (NOT s.is_private OR a.account_id IS NOT NULL)
)
"""

# Current likers: accounts whose last like/unlike of the video is a like (an unlike at the
# same instant wins), read from the likes rollup, their privacy from the creator's own
# liker accounts (kept current by ingest). Named ones newest like first; the rest only
# counted.
_LIKER_SETTINGS = """(
    SELECT actor_id AS account_id, is_private FROM rollup_liker_accounts
    WHERE creator_id = $creator
)"""

_CANDIDATES = """
last_act AS (
    SELECT actor_id AS account_id,
           max(last_like_ts) AS liked,
           max(last_unlike_ts) AS unliked
    FROM rollup_likes_daily
    WHERE creator_id = $creator AND video_id = $video_id
    GROUP BY actor_id
),
candidates AS (
    SELECT account_id, liked AS ts FROM last_act
    WHERE liked IS NOT NULL AND (unliked IS NULL OR liked > unliked)
)"""

_NAMED_AND_OTHERS = """
SELECT coalesce(list(c.account_id ORDER BY c.ts DESC, c.account_id)
                FILTER ({named}), []) AS named,
       count(*) FILTER (NOT coalesce({named}, false)) AS others"""

_LIKERS = f"""
WITH {_CANDIDATES},
{_NAMEABLE.format(settings=_LIKER_SETTINGS)}
{_NAMED_AND_OTHERS.format(named="n.account_id IS NOT NULL")}
FROM candidates c
LEFT JOIN nameable n ON n.account_id = c.account_id
"""

_PUBLIC_ACTOR = f"""
WITH candidates AS (SELECT $actor AS account_id),
{_NAMEABLE.format(settings="accounts")}
SELECT count(*) > 0 FROM nameable
"""


def read_likers(
    con: duckdb.DuckDBPyConnection, video_id: str, creator_id: str | None = None
) -> tuple[list[str], int]:
    """The current likers of a video its creator may name (newest like first), and how many
    others like it (`creator_id`, the video's creator, is looked up when not given).

    One statement whatever the likers' settings: how long the answer takes must not tell
    whether some unnamed liker once approved the creator."""
    if creator_id is None:
        found = con.execute(
            "SELECT creator_id FROM videos WHERE video_id = $video_id", {"video_id": video_id}
        ).fetchone()
        if found is None:
            raise UserError(f"unknown video {video_id}")
        creator_id = found[0]
    params = {"video_id": video_id, "creator": creator_id}
    named, others = con.execute(_LIKERS, params).fetchone()
    return list(named), int(others)


def is_public_actor(con: duckdb.DuckDBPyConnection, actor_id: str, creator_id: str) -> bool:
    """Whether the actor of a public act (comment, mention, duet, stitch, follow) is named.

    Public accounts are; a private account only once it has approved `creator_id` as a
    follower; an account the store does not know never is.
    """
    row = con.execute(_PUBLIC_ACTOR, {"actor": actor_id, "creator": creator_id}).fetchone()
    return bool(row and row[0])


_NAMEABLE_AMONG = """
WITH candidates AS (SELECT DISTINCT unnest($accounts::VARCHAR[]) AS account_id),
{nameable}
SELECT account_id FROM nameable
"""


def nameable_accounts(
    con: duckdb.DuckDBPyConnection, creator_id: str, account_ids: list[str], *, as_likers: bool
) -> set[str]:
    """Which of `account_ids` `creator_id` may name, by the same rule as the likers list
    (`as_likers`: the settings of the creator's liker accounts, as `read_likers` reads them)
    or as the actors of public acts (`is_public_actor`), in one statement for them all."""
    if not account_ids:
        return set()
    settings = _LIKER_SETTINGS if as_likers else "accounts"
    sql = _NAMEABLE_AMONG.format(nameable=_NAMEABLE.format(settings=settings))
    rows = con.execute(sql, {"accounts": account_ids, "creator": creator_id}).fetchall()
    return {a for (a,) in rows}
