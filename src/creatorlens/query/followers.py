"""Follower scoping: the creator's followers at a day's end, counted and by attribute.

Follows are public acts, so the follower set is known to the creator; what may be shown of
its attributes is the privacy layer's decision. True counts only.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from creatorlens.store.ages import age_bucket_sql

if TYPE_CHECKING:
    from creatorlens.query.runner import Context

# Follows are public acts, so a creator knows who their followers are: anything split by
# follower status is about identifiable people and needs a follower population of k_min.
FOLLOWER_SCOPED = ("follower_viewers", "non_follower_viewers")


# The attributes followers are shown by: the name shown and the account column.
FOLLOWER_DIMENSIONS = (
    ("gender", "gender"),
    ("age", "birth_year"),
    ("country", "country"),
    ("city", "city"),
)

# Followers' ages at the end of the period, in the viewers' buckets (every minor is 13-17).
AGE_AT_END = age_bucket_sql("(year($end) - a.birth_year)")


def _open_at(end: str) -> str:
    """A follower span (`a`) open at the end of the day bound to parameter `end`, in the
    creator's time zone (`$tz`)."""
    midnight = f"timezone($tz, (${end} + INTERVAL 1 DAY)::TIMESTAMP)"
    return f"a.since < {midnight} AND (a.until IS NULL OR a.until >= {midnight})"


# A follower span of creator $c that is open at the end of day $end in time zone $tz.
_FOLLOWING_AT_END = f"a.creator_id = $c AND {_open_at('end')}"


def follower_cells(
    ctx: Context, creator_id: str, end: date
) -> dict[str, list[tuple[str, bool, int]]]:
    """The creator's followers at the end of `end` (in the creator's time zone) counted by
    (value, opted out) for each attribute of FOLLOWER_DIMENSIONS; true counts, for the
    privacy policy to protect. One read of the follower spans rollup (GROUPING SETS), once
    per context, for the demographics.
    """
    return ctx.once(
        ("followers", creator_id, end), lambda: _read_follower_cells(ctx, creator_id, end)
    )


def _read_follower_cells(
    ctx: Context, creator_id: str, end: date
) -> dict[str, list[tuple[str, bool, int]]]:
    values = {
        name: AGE_AT_END if name == "age" else f"a.{column}::VARCHAR"
        for name, column in FOLLOWER_DIMENSIONS
    }
    sets = ", ".join(f"(opted_out, {name})" for name in values)
    rows = ctx.con.execute(
        f"""
        WITH attributes AS (
            SELECT a.opt_out AS opted_out,
                   {", ".join(f"coalesce({v}, 'unknown') AS {n}" for n, v in values.items())}
            FROM rollup_follower_spans a
            WHERE {_FOLLOWING_AT_END}
        )
        SELECT {", ".join(f"GROUPING({n}) = 0" for n in values)}, opted_out,
               {", ".join(values)}, count(*)
        FROM attributes GROUP BY GROUPING SETS ({sets})
        """,
        {"c": creator_id, "end": end, "tz": ctx.timezone},
    ).fetchall()
    names = list(values)
    cells: dict[str, list[tuple[str, bool, int]]] = {n: [] for n in names}
    for row in rows:
        flags, opted_out = row[: len(names)], row[len(names)]
        attrs, people = row[len(names) + 1 : -1], row[-1]
        for name, on, value in zip(names, flags, attrs, strict=True):
            if on:
                cells[name].append((value, opted_out, int(people)))
    return cells


def followers_total(ctx: Context, creator_id: str, end: date) -> int:
    """Accounts following the creator at the end of `end` in the creator's time zone: the
    same spans `follower_cells` splits, only counted (read once per context and day)."""
    return ctx.once(
        ("followers total", creator_id, end),
        lambda: _count_followers(ctx, creator_id, [end])[0],
    )


def read_followers_totals(ctx: Context, creator_id: str, ends: set[date]) -> None:
    """`followers_total` at several ends not read yet, in one statement."""
    missing = sorted(e for e in ends if ("followers total", creator_id, e) not in ctx.memo)
    if len(missing) < 2:
        return
    for end, total in zip(missing, _count_followers(ctx, creator_id, missing), strict=True):
        ctx.memo[("followers total", creator_id, end)] = total


def _count_followers(ctx: Context, creator_id: str, ends: list[date]) -> list[int]:
    """The creator's followers at the end of each day of `ends`, in one read of its spans."""
    counts = ", ".join(f"count(*) FILTER ({_open_at(f'end{i}')})" for i in range(len(ends)))
    params = {"c": creator_id, "tz": ctx.timezone}
    params.update({f"end{i}": end for i, end in enumerate(ends)})
    row = ctx.con.execute(
        f"SELECT {counts} FROM rollup_follower_spans a WHERE a.creator_id = $c", params
    ).fetchone()
    return [int(n) for n in row]


def needs_followers(query) -> bool:
    """Whether a query splits by follower status or shows the follower count."""
    return "follower_status" in query.used_dimensions or any(
        m in FOLLOWER_SCOPED or m == "followers_total" for m in query.metrics
    )
