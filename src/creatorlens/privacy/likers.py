"""Who may be named to a creator: likers by their settings, and the actors of public acts.

A like is visible by the actor's settings (DESIGN.md, "Privacy classes"): the liker is
named only if the account is public, or private and has approved the creator as a follower
(the creator follows them, they approved it, and it has not been undone since). Everyone
else, unknown accounts included, is counted as "and N others". The rule is one SQL view of
"accounts this creator may name" (`creatorlens.query.likers`), shared by likes and the
other public acts; the unnamed ids never leave the database, only their count does.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from creatorlens.query.likers import is_public_actor, nameable_accounts, read_likers

__all__ = ["Likers", "is_public_actor", "nameable_accounts", "visible_likers"]


@dataclass(frozen=True, slots=True)
class Likers:
    """The likers a creator may see: named accounts, and how many others liked."""

    named: list[str]
    others: int

    def __str__(self) -> str:
        if not self.named:
            return f"{self.others} likes"
        names = ", ".join(self.named)
        return f"{names} and {self.others} others" if self.others else names


def visible_likers(
    con: duckdb.DuckDBPyConnection, video_id: str, creator_id: str | None = None
) -> Likers:
    """The current likers of a video as its creator may see them."""
    named, others = read_likers(con, video_id, creator_id)
    return Likers(named, others)
