"""The wire format: the three entity kinds a platform sends, their fields and allowed values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from creatorlens.store.placement import ANONYMOUS_TYPES as STORE_ANONYMOUS_TYPES

ACCOUNT_KINDS = ("personal", "creator", "business")
GENDERS = ("female", "male", "other")

TRAFFIC_SOURCES = (
    "for_you",
    "following",
    "profile",
    "search",
    "hashtag",
    "sound",
    "share_link",
    "embed",
    "other",
)
SHARE_CHANNELS = (
    "in_app",
    "copy_link",
    "whatsapp",
    "instagram",
    "facebook",
    "x",
    "telegram",
    "sms",
    "email",
    "download",
    "embed",
    "other",
)

# Events whose actor is never identified to anyone: the actor id is replaced at ingest by a
# keyed per-creator pseudonym and the raw id is never written (the store's list, which its
# migrations read too).
ANONYMOUS_TYPES = STORE_ANONYMOUS_TYPES

# Fields each event type requires beyond event_id, type, ts and actor_id.
EVENT_REQUIRED: dict[str, tuple[str, ...]] = {
    "view": ("video_id", "watched_ms", "source"),
    "like": ("video_id",),
    "unlike": ("video_id",),
    "save": ("video_id",),
    "comment": ("video_id", "comment_id", "text"),
    "share": ("video_id", "channel"),
    "follow": ("target_id",),
    "unfollow": ("target_id",),
    "follow_approve": ("target_id",),
    "profile_view": ("target_id",),
    "duet": ("video_id", "new_video_id"),
    "stitch": ("video_id", "new_video_id"),
    "mention": ("target_id",),  # plus video_id or comment_id, checked separately
    "live_start": ("live_id",),
    "live_end": ("live_id",),
    "live_join": ("live_id",),
    "live_leave": ("live_id",),
    "live_comment": ("live_id", "text"),
    "live_gift": ("live_id", "gift_value"),
}
EVENT_TYPES = tuple(EVENT_REQUIRED)

# Event types whose creator is the owner of `video_id`; the rest name it by `target_id`
# (profile_view, follow, unfollow, follow_approve, mention) or by `live_id`.
VIDEO_TYPES = ("view", "like", "unlike", "save", "comment", "share", "duet", "stitch")
TARGET_TYPES = ("profile_view", "follow", "unfollow", "follow_approve", "mention")
LIVE_TYPES = ("live_start", "live_end", "live_join", "live_leave", "live_comment", "live_gift")

ACCOUNT_FIELDS = (
    "account_id",
    "kind",
    "is_private",
    "birth_year",
    "gender",
    "country",
    "city",
    "language",
    "timezone",
    "analytics_opt_out",
    "created_at",
    "updated_at",
)
VIDEO_FIELDS = (
    "video_id",
    "creator_id",
    "posted_at",
    "duration_ms",
    "caption",
    "hashtags",
    "sound_id",
    "category",
    "updated_at",
)
EVENT_FIELDS = (
    "event_id",
    "type",
    "ts",
    "actor_id",
    "video_id",
    "watched_ms",
    "source",
    "comment_id",
    "text",
    "reply_to",
    "channel",
    "target_id",
    "new_video_id",
    "live_id",
    "gift_value",
)

ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    "accounts": ACCOUNT_FIELDS,
    "videos": VIDEO_FIELDS,
    "events": EVENT_FIELDS,
}
ENTITIES = tuple(ENTITY_FIELDS)


@dataclass(frozen=True)
class WireFiles:
    """One file per entity kind in the wire format, with how many records each holds."""

    accounts: Path
    videos: Path
    events: Path
    n_accounts: int
    n_videos: int
    n_events: int

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        """The files in ingest order: accounts, videos, events."""
        return (self.accounts, self.videos, self.events)
