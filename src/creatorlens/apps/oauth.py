"""The OAuth 2 authorization server of third-party apps, built on Authlib: the
authorization-code grant with PKCE (S256, required) and rotating refresh tokens.

Authlib validates every request and issues the tokens; this module gives it the storage
(the operator's app register, the store's grant and token tables) and a request shape.
Access tokens (`cl_a_...`) live an hour, refresh tokens (`cl_r_...`) thirty days and
work once: each use returns a new pair, and a refresh token used a second time (a copy
in someone else's hands) revokes every token of that app for that creator.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge

from creatorlens.load import (
    AppBook,
    AppLedger,
    AuthorizationCode,
    IssuedToken,
    RegisteredApp,
    app_book,
)
from creatorlens.privacy.dp import SCOPES

ACCESS_PREFIX = "cl_a_"
REFRESH_PREFIX = "cl_r_"
CODE_SECONDS = 600
REFRESH_SECONDS = 30 * 24 * 3600
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def access_seconds() -> int:
    """How long an access token lives (an hour; CREATORLENS_APP_ACCESS_SECONDS to test)."""
    return int(os.environ.get("CREATORLENS_APP_ACCESS_SECONDS", "3600"))


# --- Authlib's models over ours --------------------------------------------------------------


@dataclass
class Client(ClientMixin):
    """A registered, unrevoked app as Authlib asks about it."""

    app: RegisteredApp

    def get_client_id(self) -> str:
        return self.app.client_id

    def get_default_redirect_uri(self) -> str:
        return self.app.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # An app names the scopes it asks for; none asked is an invalid request.
        wanted = scope_to_list(scope) if scope else []
        if not wanted or any(s not in SCOPES for s in wanted):
            return None
        return " ".join(s for s in SCOPES if s in wanted)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.app.redirect_uris  # exact match, no prefixes

    def check_client_secret(self, client_secret: str) -> bool:
        return self.app.check_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Code(AuthorizationCodeMixin):
    record: AuthorizationCode

    def get_redirect_uri(self) -> str:
        return self.record.redirect_uri

    def get_scope(self) -> str:
        return self.record.scopes

    @property
    def code_challenge(self) -> str:
        return self.record.challenge

    @property
    def code_challenge_method(self) -> str:
        return self.record.challenge_method


@dataclass
class Token(TokenMixin):
    record: IssuedToken

    def check_client(self, client: Client) -> bool:
        return self.record.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.record.scopes

    def get_expires_in(self) -> int:
        if self.record.expires_at is None:
            return 0
        return max(0, int((self.record.expires_at - datetime.now(UTC)).total_seconds()))

    def is_expired(self) -> bool:
        return self.record.expires_at is not None and self.record.expires_at <= datetime.now(UTC)

    def is_revoked(self) -> bool:
        return self.record.revoked_at is not None


# --- requests ----------------------------------------------------------------------------------


class _Payload(OAuth2Payload):
    def __init__(self, values: dict[str, list[str]]):
        self._datalist = defaultdict(list, values)
        self._data = {k: v[0] for k, v in values.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class Request(OAuth2Request):
    """An HTTP request as Authlib reads it: the query string and the form apart, and both
    together as its payload."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Any,
        args: dict[str, list[str]],
        form: dict[str, list[str]] | None = None,
    ):
        super().__init__(method, uri, headers=headers)
        self._args = {k: v[0] for k, v in args.items() if v}
        self._form = {k: v[0] for k, v in (form or {}).items() if v}
        merged: dict[str, list[str]] = defaultdict(list)
        for source in (args, form or {}):
            for k, v in source.items():
                merged[k].extend(v)
        self.payload = _Payload(dict(merged))

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# --- grants ------------------------------------------------------------------------------------


class S256Challenge(CodeChallenge):
    """PKCE required of every app, S256 only: a code is useless without its verifier."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        return super().validate_code_verifier(grant, result)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Request) -> None:
        data = request.payload.data
        self.server.ledger.save_code(
            code,
            AuthorizationCode(
                code_digest="",
                client_id=request.client.get_client_id(),
                creator_id=request.user,
                scopes=request.scope,
                redirect_uri=data.get("redirect_uri") or request.client.get_default_redirect_uri(),
                challenge=data["code_challenge"],
                challenge_method=data["code_challenge_method"],
                expires_at=datetime.now(UTC) + timedelta(seconds=CODE_SECONDS),
                used_at=None,
            ),
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        # Used up as it is looked up: two requests racing with one code get one token.
        record = self.server.ledger.code(code, client.get_client_id())
        if record is None or not self.server.ledger.use_code(record.code_digest):
            return None
        return Code(record)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        pass  # already used up by query_authorization_code

    def authenticate_user(self, authorization_code: Code) -> str | None:
        record = authorization_code.record
        grant = self.server.ledger.grant_of(record.client_id, record.creator_id)
        return record.creator_id if grant is not None and grant.revoked_at is None else None


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh token works once

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        ledger = self.server.ledger
        record = ledger.token(refresh_token)
        if record is None or record.kind != "refresh":
            return None
        if record.revoked_at is not None:
            # A rotated refresh token came back: someone holds a copy. End the grant's
            # tokens, so neither copy goes on working.
            ledger.revoke_tokens(record.client_id, record.creator_id)
            return None
        token = Token(record)
        if token.is_expired() or not self.server.standing(record):
            return None
        return token

    def authenticate_user(self, refresh_token: Token) -> str:
        return refresh_token.record.creator_id

    def revoke_old_credential(self, refresh_token: Token) -> None:
        self.server.ledger.revoke_token(refresh_token.record.token_digest)


# --- the server --------------------------------------------------------------------------------


class AppRegister:
    """The operator's app register, read again whenever its file changes."""

    def __init__(self, db):
        self._db = db
        self._book = app_book(db)
        self._stamp = self._file_stamp()

    def _file_stamp(self):
        try:
            stat = os.stat(self._book.path)
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def book(self) -> AppBook:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            self._book, self._stamp = app_book(self._db), stamp
        return self._book


class Server(AuthorizationServer):
    """Authlib's authorization server on the store's register and tables."""

    def __init__(self, register: AppRegister, ledger: AppLedger):
        super().__init__(scopes_supported=list(SCOPES))
        self.register = register
        self.ledger = ledger
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: ACCESS_PREFIX + generate_token(48),
                refresh_token_generator=lambda **_: REFRESH_PREFIX + generate_token(48),
                expires_generator=lambda client, grant_type: access_seconds(),
            ),
        )
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_grant(RefreshGrant)

    def query_client(self, client_id: str) -> Client | None:
        app = self.register.book().get(client_id)
        return Client(app) if app is not None and app.active else None

    def save_token(self, token: dict[str, Any], request: Request) -> None:
        now = datetime.now(UTC)
        common = {
            "client_id": request.client.get_client_id(),
            "creator_id": request.user,
            "scopes": token.get("scope", ""),
            "issued_at": now,
            "revoked_at": None,
            "token_digest": "",
        }
        self.ledger.save_token(
            token["access_token"],
            IssuedToken(
                kind="access", expires_at=now + timedelta(seconds=token["expires_in"]), **common
            ),
        )
        if "refresh_token" in token:
            self.ledger.save_token(
                token["refresh_token"],
                IssuedToken(
                    kind="refresh", expires_at=now + timedelta(seconds=REFRESH_SECONDS), **common
                ),
            )

    def standing(self, record: IssuedToken) -> bool:
        """Whether the grant and app a token was issued under still stand for it."""
        app = self.register.book().get(record.client_id)
        if app is None or not app.active:
            return False
        grant = self.ledger.grant_of(record.client_id, record.creator_id)
        if grant is None or grant.revoked_at is not None or grant.granted_at > record.issued_at:
            return False
        ended = self.register.book().revoked_since(record.client_id, record.creator_id)
        return ended is None or record.issued_at > ended

    def create_oauth2_request(self, request: Request) -> Request:
        return request

    def create_json_request(self, request):  # no JSON endpoints
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]):
        return status, body, headers

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass
