"""Third-party apps as the store keeps them: the operator's register of apps, and the grants,
codes, tokens, privacy budget and noisy answers the server writes.

Two places, for the same reason as the API tokens (`store.tokens`): the operator registers
and revokes apps with the command line while the server holds the store, so the register
is a JSON file beside the store (`<db>.apps`, mode 0600, read again when it changes). What
the server alone writes while it answers (a creator's grant, an authorization code, the
tokens, every ε an app spends and the noisy answer it got) is in the store itself, in the
tables below, so the budget's accounting survives a restart with the data it protects.

Secrets are kept only as SHA-256 digests: client secrets, codes and tokens carry 256 bits
from `secrets`, so one unsalted hash suffices, and digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import weakref
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from creatorlens.errors import UserError
from creatorlens.store.keys import write_private_json


def digest(secret: str) -> str:
    """The SHA-256 of a secret, hex: what is stored in its place."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# --- the operator's register (<db>.apps) ---------------------------------------------------


@dataclass(frozen=True)
class RegisteredApp:
    """A registered third-party app (an OAuth 2 client), never its secret."""

    client_id: str
    name: str
    redirect_uris: tuple[str, ...]
    secret_digest: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def check_secret(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_digest, digest(secret))


@dataclass(frozen=True)
class GrantRevocation:
    """The operator ended one creator's grant to an app: tokens issued before `at` fail."""

    client_id: str
    creator_id: str
    at: datetime


def apps_path(db: str | Path) -> Path:
    """Where the app register of the store at `db` is kept."""
    db = Path(db)
    return db.with_name(db.name + ".apps")


@dataclass
class AppBook:
    """The apps of one store, read from and written to their file."""

    path: Path
    apps: list[RegisteredApp] = field(default_factory=list)
    revocations: list[GrantRevocation] = field(default_factory=list)

    @classmethod
    def load(cls, path: str | Path) -> AppBook:
        """Read the register; a missing file is an empty one."""
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            raw = json.loads(path.read_text())
            apps = [
                RegisteredApp(
                    client_id=a["client_id"],
                    name=a["name"],
                    redirect_uris=tuple(a["redirect_uris"]),
                    secret_digest=a["secret_digest"],
                    created_at=datetime.fromisoformat(a["created_at"]),
                    revoked_at=_parse(a.get("revoked_at")),
                )
                for a in raw["apps"]
            ]
            revocations = [
                GrantRevocation(r["client_id"], r["creator_id"], datetime.fromisoformat(r["at"]))
                for r in raw.get("revocations", [])
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"app file {path} is not a creatorlens app file ({exc})") from None
        return cls(path, apps, revocations)

    def get(self, client_id: str) -> RegisteredApp | None:
        return next((a for a in self.apps if a.client_id == client_id), None)

    def create(self, name: str, redirect_uris: list[str]) -> tuple[RegisteredApp, str]:
        """Register an app; returns it with its client secret, shown once and kept nowhere."""
        if not name.strip():
            raise UserError("--name must not be empty")
        if not redirect_uris:
            raise UserError("give at least one --redirect URL")
        for uri in redirect_uris:
            _check_redirect(uri)
        client_id = f"app_{secrets.token_hex(8)}"
        secret = f"cl_s_{secrets.token_urlsafe(32)}"
        app = RegisteredApp(client_id, name.strip(), tuple(redirect_uris), digest(secret), _now())
        self.apps.append(app)
        self._save()
        return app, secret

    def revoke(self, client_id: str) -> RegisteredApp:
        """Revoke an app for good: every grant and token of it fails from now on."""
        app = self.get(client_id)
        if app is None:
            raise UserError(f"no app {client_id} in {self.path}")
        if app.revoked_at is None:
            app = replace(app, revoked_at=_now())
            self.apps = [app if a.client_id == client_id else a for a in self.apps]
            self._save()
        return app

    def revoke_grant(self, client_id: str, creator_id: str) -> GrantRevocation:
        """End one creator's grant to an app (the creator may grant it again later)."""
        if self.get(client_id) is None:
            raise UserError(f"no app {client_id} in {self.path}")
        revocation = GrantRevocation(client_id, creator_id, datetime.now(UTC))
        self.revocations.append(revocation)
        self._save()
        return revocation

    def revoked_since(self, client_id: str, creator_id: str) -> datetime | None:
        """When the operator last ended this creator's grant to the app, if ever."""
        times = [
            r.at for r in self.revocations if (r.client_id, r.creator_id) == (client_id, creator_id)
        ]
        return max(times) if times else None

    def _save(self) -> None:
        body = {
            "apps": [
                {
                    **asdict(a),
                    "redirect_uris": list(a.redirect_uris),
                    "created_at": a.created_at.isoformat(),
                    "revoked_at": a.revoked_at.isoformat() if a.revoked_at else None,
                }
                for a in self.apps
            ],
            "revocations": [
                {"client_id": r.client_id, "creator_id": r.creator_id, "at": r.at.isoformat()}
                for r in self.revocations
            ],
        }
        write_private_json(self.path, body)


def _check_redirect(uri: str) -> None:
    """A redirect URL is absolute https, or http on a loopback host (RFC 8252), with no
    fragment: a code must never travel in clear over the network."""
    from urllib.parse import urlsplit

    parts = urlsplit(uri)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if (
        parts.fragment
        or not parts.hostname
        or not (parts.scheme == "https" or (parts.scheme == "http" and loopback))
    ):
        raise UserError(
            f"--redirect {uri!r}: must be an https URL (or http on localhost), without a #fragment"
        )


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# --- what the server writes (tables of the store) ------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS app_grants (
    client_id   VARCHAR NOT NULL,
    creator_id  VARCHAR NOT NULL,
    scopes      VARCHAR NOT NULL,  -- space-separated, as OAuth 2 spells them
    granted_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS app_codes (
    code_digest     VARCHAR NOT NULL,
    client_id       VARCHAR NOT NULL,
    creator_id      VARCHAR NOT NULL,
    scopes          VARCHAR NOT NULL,
    redirect_uri    VARCHAR NOT NULL,
    challenge       VARCHAR NOT NULL,
    challenge_method VARCHAR NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS app_tokens (
    token_digest VARCHAR NOT NULL,
    kind         VARCHAR NOT NULL,  -- access or refresh
    client_id    VARCHAR NOT NULL,
    creator_id   VARCHAR NOT NULL,
    scopes       VARCHAR NOT NULL,
    issued_at    TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
-- Every ε an app spent on a creator's data in a calendar month, one row per distinct
-- question (its answer's key): a repeat is answered from app_answers and charged nothing.
CREATE TABLE IF NOT EXISTS app_budget (
    client_id   VARCHAR NOT NULL,
    creator_id  VARCHAR NOT NULL,
    month       DATE NOT NULL,
    answer_key  VARCHAR NOT NULL,
    epsilon     DOUBLE NOT NULL,
    charged_at  TIMESTAMPTZ NOT NULL
);
-- The noisy answer drawn once for a question over a state of the data: noisy aggregates
-- only, what was already released.
CREATE TABLE IF NOT EXISTS app_answers (
    answer_key  VARCHAR NOT NULL,
    answer      VARCHAR NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
"""


@dataclass(frozen=True)
class Grant:
    """A creator's consent to an app: which scopes, since when, and whether it stands."""

    client_id: str
    creator_id: str
    scopes: tuple[str, ...]
    granted_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuthorizationCode:
    """A code issued on consent, bound to its app, redirect and PKCE challenge."""

    code_digest: str
    client_id: str
    creator_id: str
    scopes: str
    redirect_uri: str
    challenge: str
    challenge_method: str
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """An access or refresh token as stored (its digest, never itself)."""

    token_digest: str
    kind: str
    client_id: str
    creator_id: str
    scopes: str
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


# One process (the server) writes these tables; this lock keeps each check-and-write whole
# (a code used once, a budget never overspent by two requests at once).
_LOCK = threading.RLock()
# Stores whose app tables this process has made sure of.
_READY: weakref.WeakSet = weakref.WeakSet()


class AppLedger:
    """The app tables of a store kept open by its one writing process."""

    def __init__(self, store: Any):
        self.store = store
        self.lock = _LOCK
        with self.lock:
            if store not in _READY:
                self._con().execute(SCHEMA)
                _READY.add(store)

    def _con(self):
        return self.store.session()

    def _rows(self, sql: str, params: Any) -> list[tuple]:
        return self._con().execute(sql, params).fetchall()

    def _write(self, *statements: tuple[str, Any]) -> None:
        con = self._con()
        with self.lock:
            con.execute("BEGIN TRANSACTION")
            try:
                for sql, params in statements:
                    con.execute(sql, params)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # --- grants -----------------------------------------------------------------------------

    def grant(self, client_id: str, creator_id: str, scopes: tuple[str, ...]) -> Grant:
        """Record (or renew) a creator's consent; a renewed grant has the scopes just
        approved, and tokens issued under an earlier one stop working."""
        now = datetime.now(UTC)
        self._write(
            (
                "DELETE FROM app_grants WHERE client_id = ? AND creator_id = ?",
                [client_id, creator_id],
            ),
            (
                "INSERT INTO app_grants VALUES (?, ?, ?, ?, NULL)",
                [client_id, creator_id, " ".join(scopes), now],
            ),
        )
        return Grant(client_id, creator_id, scopes, now, None)

    def grant_of(self, client_id: str, creator_id: str) -> Grant | None:
        rows = self._rows(
            "SELECT client_id, creator_id, scopes, granted_at, revoked_at FROM app_grants "
            "WHERE client_id = ? AND creator_id = ?",
            [client_id, creator_id],
        )
        return _grant(rows[0]) if rows else None

    def grants_of(self, creator_id: str) -> list[Grant]:
        """A creator's grants, standing and revoked, newest first."""
        rows = self._rows(
            "SELECT client_id, creator_id, scopes, granted_at, revoked_at FROM app_grants "
            "WHERE creator_id = ? ORDER BY granted_at DESC, client_id",
            [creator_id],
        )
        return [_grant(r) for r in rows]

    def revoke_grant(self, client_id: str, creator_id: str) -> bool:
        """End a standing grant and every token under it; False when there was none."""
        grant = self.grant_of(client_id, creator_id)
        if grant is None or grant.revoked_at is not None:
            return False
        now = datetime.now(UTC)
        self._write(
            (
                "UPDATE app_grants SET revoked_at = ? WHERE client_id = ? AND creator_id = ?",
                [now, client_id, creator_id],
            ),
            (
                "UPDATE app_tokens SET revoked_at = ? WHERE client_id = ? AND creator_id = ? "
                "AND revoked_at IS NULL",
                [now, client_id, creator_id],
            ),
        )
        return True

    # --- authorization codes ----------------------------------------------------------------

    def save_code(self, code: str, record: AuthorizationCode) -> None:
        values = asdict(replace(record, code_digest=digest(code)))
        self._write(
            ("INSERT INTO app_codes VALUES (" + ", ".join("?" * 9) + ")", [*values.values()])
        )

    def code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """The unused, unexpired code of this app, if it is one."""
        rows = self._rows(
            "SELECT * FROM app_codes WHERE code_digest = ? AND client_id = ? "
            "AND used_at IS NULL AND expires_at > ?",
            [digest(code), client_id, datetime.now(UTC)],
        )
        return AuthorizationCode(*rows[0]) if rows else None

    def use_code(self, code_digest: str) -> bool:
        """Mark a code used; False when it already was (a code works once)."""
        with self.lock:
            rows = self._rows("SELECT used_at FROM app_codes WHERE code_digest = ?", [code_digest])
            if not rows or rows[0][0] is not None:
                return False
            self._write(
                (
                    "UPDATE app_codes SET used_at = ? WHERE code_digest = ?",
                    [datetime.now(UTC), code_digest],
                )
            )
            return True

    # --- tokens -------------------------------------------------------------------------------

    def save_token(self, token: str, record: IssuedToken) -> None:
        values = asdict(replace(record, token_digest=digest(token)))
        self._write(
            ("INSERT INTO app_tokens VALUES (" + ", ".join("?" * 8) + ")", [*values.values()])
        )

    def token(self, token: str) -> IssuedToken | None:
        """The stored record of a token presented (revoked and expired ones included)."""
        rows = self._rows("SELECT * FROM app_tokens WHERE token_digest = ?", [digest(token)])
        return IssuedToken(*rows[0]) if rows else None

    def revoke_token(self, token_digest: str) -> None:
        self._write(
            (
                "UPDATE app_tokens SET revoked_at = ? WHERE token_digest = ? "
                "AND revoked_at IS NULL",
                [datetime.now(UTC), token_digest],
            )
        )

    def revoke_tokens(self, client_id: str, creator_id: str) -> None:
        """Revoke every token of an app for a creator (a refresh token used twice)."""
        self._write(
            (
                "UPDATE app_tokens SET revoked_at = ? WHERE client_id = ? AND creator_id = ? "
                "AND revoked_at IS NULL",
                [datetime.now(UTC), client_id, creator_id],
            )
        )

    # --- the privacy budget and the answers it paid for ---------------------------------------

    def charged(self, client_id: str, creator_id: str, month: date, answer_key: str) -> bool:
        rows = self._rows(
            "SELECT 1 FROM app_budget WHERE client_id = ? AND creator_id = ? AND month = ? "
            "AND answer_key = ?",
            [client_id, creator_id, month, answer_key],
        )
        return bool(rows)

    def spent(self, client_id: str, creator_id: str, month: date) -> float:
        """ε spent by an app on a creator's data in one month."""
        rows = self._rows(
            "SELECT coalesce(sum(epsilon), 0) FROM app_budget WHERE client_id = ? "
            "AND creator_id = ? AND month = ?",
            [client_id, creator_id, month],
        )
        return float(rows[0][0])

    def answer(self, answer_key: str) -> dict | None:
        rows = self._rows("SELECT answer FROM app_answers WHERE answer_key = ?", [answer_key])
        return json.loads(rows[0][0]) if rows else None

    def charge(
        self,
        client_id: str,
        creator_id: str,
        month: date,
        answer_key: str,
        epsilon: float,
        answer: dict | None,
    ) -> None:
        """Charge a distinct question, storing its answer when it was just drawn, in one
        transaction: no answer leaves unpaid, none is paid twice."""
        now = datetime.now(UTC)
        statements: list[tuple[str, Any]] = [
            (
                "INSERT INTO app_budget VALUES (?, ?, ?, ?, ?, ?)",
                [client_id, creator_id, month, answer_key, epsilon, now],
            )
        ]
        if answer is not None:
            statements.append(
                (
                    "INSERT INTO app_answers VALUES (?, ?, ?)",
                    [answer_key, json.dumps(answer, default=str), now],
                )
            )
        self._write(*statements)


def _grant(row: tuple) -> Grant:
    client_id, creator_id, scopes, granted_at, revoked_at = row
    return Grant(client_id, creator_id, tuple(scopes.split()), granted_at, revoked_at)
