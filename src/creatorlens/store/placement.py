"""What ingest works out about likes while it still can: the liker's play, by pseudonym.

A like event carries no playback position, so it is placed by the liker's own play: the
latest play of the same video by the same viewer that began at most
`LIKE_PLAY_WINDOW_DAYS` before the like and was still running when it came (start <= like
<= start + watched). Named events keep no pseudonym (the store must not link an account
to its anonymous views), so the match is made at ingest, inside the batch's transaction,
and only its outcome is stored: `events.play_position_ms`, the time since that play began
(NULL: outside any play). The rollups take it modulo the video's duration (a like during
the second loop lands where it was in the video). A play stored after its like (a later
batch) no longer places it.
"""

from __future__ import annotations

# The anonymous-class event types: stored under a pseudonym, never with the actor's id.
ANONYMOUS_TYPES = ("view", "profile_view", "share", "save")
ANONYMOUS_TYPES_SQL = "(" + ", ".join(f"'{t}'" for t in ANONYMOUS_TYPES) + ")"

LIKE_PLAY_WINDOW_DAYS = 1
_WINDOW_MS = LIKE_PLAY_WINDOW_DAYS * 86_400_000

# The start of an instant's quarter hour, as stored where a row must not point at one
# event (`engagement_marks`, `follower_plays`). Every time zone's offset is a multiple of
# 15 minutes, so the creator-local day of the quarter hour is the instant's own.
QUARTER_HOUR_SQL = "make_timestamp(epoch_us({ts}) // 900000000 * 900000000)::TIMESTAMPTZ"


def placement_sql(likes: str, plays: str) -> str:
    """SQL giving `like_no, play_position_ms` for each row of relation `likes` (`like_no`,
    `creator_id`, `video_id`, `pid`, `at_ms`), placed by relation `plays` (`creator_id`,
    `video_id`, `pid`, `start_ms`, `end_ms`): the latest play running at the like that
    began at most `LIKE_PLAY_WINDOW_DAYS` before it."""
    return f"""
    SELECT l.like_no, l.at_ms - max(p.start_ms) AS play_position_ms
    FROM {likes} l
    LEFT JOIN {plays} p
      ON p.creator_id = l.creator_id AND p.video_id = l.video_id AND p.pid = l.pid
     AND p.start_ms <= l.at_ms AND l.at_ms <= p.end_ms
     AND p.start_ms >= l.at_ms - {_WINDOW_MS}
    GROUP BY l.like_no, l.at_ms"""
