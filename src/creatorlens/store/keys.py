"""The instance's pseudonym key ring: dated keys and the noise secret, in a JSON file kept
beside (never inside) the store.

The store records the ids of the keys it was written with (`store_keys`), and opening it
checks that the ring given holds all of them (see `Store.open`): a wrong or missing key
file is an error, never a fresh ring, which would give the same viewers second
pseudonyms and change every noisy answer. A ring is created only with a new store, and
with both its first key and its noise secret.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from creatorlens.errors import UserError


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
    """The instance's pseudonym keys and noise secret, kept in a JSON file."""

    def __init__(self, path: Path, keys: list[PseudonymKey], noise: bytes | None = None):
        self.path = path
        self.keys = keys
        self.noise = noise

    @classmethod
    def load(cls, path: str | Path) -> KeyRing:
        """Read the key file; a file that does not exist reads as an empty ring (which
        `Store.open` refuses for a store that has keys recorded)."""
        path = Path(path)
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

    @classmethod
    def create(cls, path: str | Path) -> KeyRing:
        """A new ring with its first key and its noise secret, written to `path`."""
        ring = cls(Path(path), [], secrets.token_bytes(32))
        ring.rotate()
        return ring

    @property
    def key_ids(self) -> set[str]:
        """Every key the ring knows, destroyed ones included (their ids stay)."""
        return {k.key_id for k in self.keys}

    def active(self) -> PseudonymKey:
        """The key new pseudonyms are made with (a ring whose keys are all retired or
        destroyed starts a new one)."""
        for key in self.keys:
            if key.active:
                return key
        return self.rotate()

    def noise_secret(self) -> bytes:
        """The secret that seeds consistent noise in results, made with the ring.

        Kept apart from the pseudonym keys so rotating or destroying those does not change
        the noise, which would let a creator average fresh draws of the same answer. Never
        made here: a reader that made its own would answer with different noise.
        """
        if self.noise is None:
            raise UserError(f"key file {self.path} has no noise secret")
        return self.noise

    def ensure_noise(self) -> None:
        """Give a ring written before noise secrets were made with it its own (writers
        only, when the store adopts the ring)."""
        if self.noise is None:
            self.noise = secrets.token_bytes(32)
            self._save()

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
        write_private_json(self.path, body)


def write_private_json(path: Path, body: object) -> None:
    """Write `body` as JSON to `path`, readable by its owner only, whole or not at all (a
    temporary file synced, then renamed over the old one)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(body, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
