"""Dated pseudonym keys and the keyed per-creator viewer pseudonym.

The key file lives outside the database. A viewer's pseudonym for a creator is

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
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from creatorlens.errors import UserError

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


@dataclass(frozen=True)
class PseudonymKey:
    """One dated key: active until retired; once destroyed its secret is gone for good."""

    key_id: str
    created_at: str
    retired_at: str | None = None
    destroyed_at: str | None = None
    secret: bytes | None = None

    @property
    def active(self) -> bool:
        return self.retired_at is None and self.secret is not None


class KeyRing:
    """The instance's pseudonym keys, kept in a JSON file beside (never inside) the store."""

    def __init__(self, path: Path, keys: list[PseudonymKey], noise: bytes | None = None):
        self.path = path
        self.keys = keys
        self.noise = noise

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """Read the key file, or start an empty ring if it does not exist yet."""
        if not path.exists():
            return cls(path, [])
        try:
            raw = json.loads(path.read_text())
            keys = [
                PseudonymKey(
                    key_id=k["key_id"],
                    created_at=k["created_at"],
                    retired_at=k.get("retired_at"),
                    destroyed_at=k.get("destroyed_at"),
                    secret=bytes.fromhex(k["secret"]) if k.get("secret") else None,
                )
                for k in raw["keys"]
            ]
            noise = bytes.fromhex(raw["noise_secret"]) if raw.get("noise_secret") else None
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"key file {path} is not a creatorlens key file ({exc})") from None
        return cls(path, keys, noise)

    def active(self) -> PseudonymKey:
        """The key new pseudonyms are made with; created on first use."""
        for key in self.keys:
            if key.active:
                return key
        return self.rotate()

    def noise_secret(self) -> bytes:
        """The secret that seeds consistent noise in results; created on first use.

        Kept apart from the pseudonym keys so rotating or destroying those does not change
        the noise, which would let a creator average fresh draws of the same answer.
        """
        if self.noise is None:
            self.noise = secrets.token_bytes(32)
            self._save()
        return self.noise

    def usable(self) -> list[PseudonymKey]:
        """Keys whose secret still exists (the active one and retired, undestroyed ones)."""
        return [k for k in self.keys if k.secret is not None]

    def rotate(self) -> PseudonymKey:
        """Retire the active key (if any) and start a new one."""
        now = _now()
        self.keys = [replace(k, retired_at=now) if k.active else k for k in self.keys]
        stamp = now.replace("-", "").replace(":", "")[:15]
        key = PseudonymKey(
            key_id=f"k{stamp}-{secrets.token_hex(3)}",
            created_at=now,
            secret=secrets.token_bytes(32),
        )
        self.keys.append(key)
        self._save()
        return key

    def destroy(self, key_id: str) -> PseudonymKey:
        """Erase a retired key's secret: its pseudonyms can never be linked to anyone again."""
        for i, key in enumerate(self.keys):
            if key.key_id != key_id:
                continue
            if key.active:
                raise UserError(f"key {key_id} is active; rotate first, then destroy it")
            if key.secret is None:
                return key
            self.keys[i] = replace(key, secret=None, destroyed_at=_now())
            self._save()
            return self.keys[i]
        raise UserError(f"no key {key_id} in {self.path}")

    def _save(self) -> None:
        body = {
            "keys": [
                {
                    "key_id": k.key_id,
                    "created_at": k.created_at,
                    "retired_at": k.retired_at,
                    "destroyed_at": k.destroyed_at,
                    "secret": k.secret.hex() if k.secret else None,
                }
                for k in self.keys
            ],
            "noise_secret": self.noise.hex() if self.noise else None,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(body, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
