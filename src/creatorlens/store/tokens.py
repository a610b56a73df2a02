"""API credentials of a store: ingest keys and creator tokens, kept only as hashes.

The tokens live in a JSON file beside the store (`<db>.tokens`, mode 0600), not inside it:
DuckDB lets one process hold a store file, and that process is the server, so tokens are
created, listed and revoked from the command line while the server runs, and the server
reads the file again when it changes.

A token is `cl_<kind letter>_<token id>_<secret>`; the file keeps the id, what the token may
do and the SHA-256 of the whole token, never the token itself. The secret has 256 bits of
entropy, so one unsalted hash suffices (there is nothing to guess), and hashes are compared
in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from creatorlens.errors import UserError
from creatorlens.store.keys import write_private_json

INGEST = "ingest"
CREATOR = "creator"
KINDS = (INGEST, CREATOR)
_PREFIX = {INGEST: "cl_i", CREATOR: "cl_c"}


@dataclass(frozen=True)
class Token:
    """One credential as stored: what it may do, never its secret."""

    token_id: str
    kind: str  # "ingest" (the platform's collector key) or "creator" (reads one creator)
    name: str
    creator_id: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    digest: str  # SHA-256 of the whole token, hex

    def usable(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now`."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or now < self.expires_at

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


def tokens_path(db: str | Path) -> Path:
    """Where the tokens of the store at `db` are kept."""
    db = Path(db)
    return db.with_name(db.name + ".tokens")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenBook:
    """The tokens of one store, read from and written to their file."""

    def __init__(self, path: Path, tokens: list[Token]):
        self.path = path
        self.tokens = tokens
        self._by_id = {t.token_id: t for t in tokens}

    @classmethod
    def load(cls, path: str | Path) -> TokenBook:
        """Read the token file; a missing file is an empty book."""
        path = Path(path)
        if not path.exists():
            return cls(path, [])
        try:
            raw = json.loads(path.read_text())
            tokens = [
                Token(
                    token_id=t["token_id"],
                    kind=t["kind"],
                    name=t["name"],
                    creator_id=t.get("creator_id"),
                    created_at=_parse(t["created_at"]),
                    expires_at=_parse(t.get("expires_at")),
                    revoked_at=_parse(t.get("revoked_at")),
                    digest=t["digest"],
                )
                for t in raw["tokens"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"token file {path} is not a creatorlens token file ({exc})") from None
        return cls(path, tokens)

    def create(
        self,
        kind: str,
        *,
        name: str | None = None,
        creator_id: str | None = None,
        expires_in: timedelta | None = None,
    ) -> tuple[Token, str]:
        """Add a token; returns it with its secret, which is shown once and kept nowhere."""
        if kind not in KINDS:
            raise UserError(f"token kind must be one of {', '.join(KINDS)}")
        if (kind == CREATOR) != (creator_id is not None):
            raise UserError("a creator token names its creator; an ingest key names none")
        now = datetime.now(UTC).replace(microsecond=0)
        token_id = secrets.token_hex(6)
        secret = f"{_PREFIX[kind]}_{token_id}_{secrets.token_urlsafe(32)}"
        token = Token(
            token_id=token_id,
            kind=kind,
            name=name or (f"creator {creator_id}" if creator_id else "ingest"),
            creator_id=creator_id,
            created_at=now,
            expires_at=now + expires_in if expires_in else None,
            revoked_at=None,
            digest=digest(secret),
        )
        self.tokens.append(token)
        self._by_id[token_id] = token
        self._save()
        return token, secret

    def revoke(self, token_id: str) -> Token:
        """Revoke a token for good (it stays listed, as revoked)."""
        token = self._by_id.get(token_id)
        if token is None:
            raise UserError(f"no token {token_id} in {self.path}")
        if token.revoked_at is None:
            token = replace(token, revoked_at=datetime.now(UTC).replace(microsecond=0))
            self.tokens = [token if t.token_id == token_id else t for t in self.tokens]
            self._by_id[token_id] = token
            self._save()
        return token

    def verify(self, presented: str, now: datetime | None = None) -> Token | None:
        """The usable token `presented` is, or None (unknown, wrong, revoked or expired)."""
        parts = presented.split("_")
        if len(parts) < 4 or "_".join(parts[:2]) not in _PREFIX.values():
            return None
        token = self._by_id.get(parts[2])
        if token is None:
            return None
        if not hmac.compare_digest(token.digest, digest(presented)):
            return None
        return token if token.usable(now or datetime.now(UTC)) else None

    def _save(self) -> None:
        body = {"tokens": [_stored(t) for t in self.tokens]}
        write_private_json(self.path, body)


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m` or `2w` as a duration (for `--expires`)."""
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit() or int(number) < 1:
        raise UserError(
            f"--expires must be a positive number of m, h, d or w (as 30d), not {text!r}"
        )
    return timedelta(**{units[unit]: int(number)})


def _stored(token: Token) -> dict:
    out = asdict(token)
    for key in ("created_at", "expires_at", "revoked_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
