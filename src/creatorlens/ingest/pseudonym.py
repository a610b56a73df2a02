"""The keyed per-creator viewer pseudonym (the keys themselves are in `store.keys`).

A viewer's pseudonym for a creator is

    pid = first 8 bytes of MD5( HMAC-SHA256(secret, viewer_id) || creator_id )

read as an unsigned little-endian 64-bit integer. Without the secret the HMAC cannot be
computed, so a pid can neither be recomputed from a guessed viewer id nor linked to the
same viewer's pid for another creator. Ingest computes it inside DuckDB from the HMAC
pads: the HMAC once per distinct viewer of a batch (`VIEWER_MAC_SQL`), then the cheap
outer hash per event (`PSEUDONYM_SQL`; most (creator, viewer) pairs of a batch are
distinct, so grouping them first costs more than it saves); `pseudonym()` is the same
function in Python.

The outer hash only mixes a 256-bit secret (the HMAC) with a public creator id, one way:
learning the HMAC back from a pid would take an MD5 preimage, and the best known preimage
attack on MD5 costs about 2^123 operations (its practical weakness is collisions, which
link nothing here). DuckDB's `md5_number` gives the digest as a number directly, where
SHA-256 went through hex text and cost a quarter of storing each event.

Pseudonyms of other spaces (a follower as seen by the creator they follow, in "videos
your followers watched") are made the same way under a key of their own,
`space_secret(secret, space)` = HMAC-SHA256(secret, "creatorlens pseudonym space " ||
space): no pseudonym of one space equals or can be linked to one of another without the
secret.
"""

from __future__ import annotations

import hashlib
import hmac

# The key ring lives in the store floor (the query side needs its noise secret); it is
# re-exported here for the callers that imported it from ingest.
from creatorlens.store.keys import KeyRing, PseudonymKey

__all__ = [
    "PSEUDONYM_SQL",
    "VIEWER_MAC_SQL",
    "FOLLOWER_SPACE",
    "KeyRing",
    "PseudonymKey",
    "hmac_pads",
    "pseudonym",
    "space_secret",
]

_BLOCK = 64  # SHA-256 block size, for the HMAC pads

# $ipad / $opad are bound parameters: the secret never appears in SQL text or in the store.
VIEWER_MAC_SQL = "unhex(sha256($opad || unhex(sha256($ipad || encode({viewer})))))"
PSEUDONYM_SQL = "(md5_number({mac} || encode({creator})) & 18446744073709551615::UHUGEINT)::UBIGINT"


def pseudonym(secret: bytes, creator_id: str, viewer_id: str) -> int:
    """The pseudonym of `viewer_id` as seen by `creator_id` under `secret`."""
    mac = hmac.new(secret, viewer_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(hashlib.md5(mac + creator_id.encode()).digest()[:8], "little")


def hmac_pads(secret: bytes) -> tuple[bytes, bytes]:
    """The inner and outer HMAC pads of `secret`, to compute HMAC inside SQL."""
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    padded = secret.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in padded), bytes(b ^ 0x5C for b in padded)


# The space of `follower_plays.follower_pid`: each follower as seen by a creator they follow.
FOLLOWER_SPACE = "follower"


def space_secret(secret: bytes, space: str) -> bytes:
    """The key of pseudonym space `space` derived from a ring key's secret."""
    label = b"creatorlens pseudonym space " + space.encode()
    return hmac.new(secret, label, hashlib.sha256).digest()
