"""Signed-in browsers: a session per sign-in, kept in this process, named by a random id in
an HttpOnly, SameSite=Strict cookie.

The cookie never holds the creator token: signing in checks the token once and keeps only
its id, so a stolen cookie value is worth one session on this server, ended by signing out,
by a restart, after `SESSION_HOURS` or when the token is revoked or expires (checked on
every request). Each session has its own CSRF value, asked of every form post and of any
request other than a GET made with the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from fastapi.responses import Response

from creatorlens.load import Token

SESSION_COOKIE = "cl_session"
SIGNIN_COOKIE = "cl_signin"  # the sign-in form's CSRF value, before there is a session
CSRF_HEADER = "x-csrf-token"
SESSION_HOURS = 12
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Session:
    """One signed-in browser: whose token, until when, and its CSRF value."""

    token_id: str
    creator_id: str
    csrf: str
    expires_at: datetime


class SessionEnded(Exception):
    """A session cookie that no longer signs anyone in (signed out, expired, revoked)."""


class Sessions:
    """The sessions of this process, checked against the store's tokens as they are now."""

    def __init__(self, credentials, hours: float = SESSION_HOURS):
        self._credentials = credentials  # serve.auth.Credentials: the token book, re-read
        self._hours = hours
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token: Token) -> tuple[str, Session]:
        """A new session for a verified creator token: its cookie value and the session."""
        assert token.creator_id is not None
        now = datetime.now(UTC)
        until = now + timedelta(hours=self._hours)
        if token.expires_at is not None:
            until = min(until, token.expires_at)
        cookie = secrets.token_urlsafe(32)
        session = Session(token.token_id, token.creator_id, secrets.token_urlsafe(24), until)
        with self._lock:
            self._drop_ended(now)
            self._sessions[_key(cookie)] = session
        return cookie, session

    def close(self, cookie: str | None) -> None:
        if cookie:
            with self._lock:
                self._sessions.pop(_key(cookie), None)

    def find(self, request: Request) -> tuple[Session, Token] | None:
        """The request's session and its token; None without a cookie; `SessionEnded` for a
        cookie that no longer signs anyone in."""
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        with self._lock:
            session = self._sessions.get(_key(cookie))
        now = datetime.now(UTC)
        if session is None or now >= session.expires_at:
            raise SessionEnded("your session has ended: sign in again")
        token = next(
            (t for t in self._credentials.book().tokens if t.token_id == session.token_id), None
        )
        if token is None or not token.usable(now) or token.kind != "creator":
            self.close(cookie)
            raise SessionEnded("your token was revoked or has expired: sign in with a new one")
        return session, token

    def token(self, request: Request) -> Token | None:
        """The creator token a browser's request is made with, or None: a GET with the
        session cookie, or any other method with the session's CSRF header too."""
        found = self.find(request)
        if found is None:
            return None
        session, token = found
        if request.method not in SAFE_METHODS and not same(
            request.headers.get(CSRF_HEADER), session.csrf
        ):
            return None
        return token

    def _drop_ended(self, now: datetime) -> None:
        for key in [k for k, s in self._sessions.items() if now >= s.expires_at]:
            del self._sessions[key]


def _key(cookie: str) -> str:
    # Kept by digest: the cookie values themselves are in no memory of this process.
    return hashlib.sha256(cookie.encode()).hexdigest()


def same(presented: str | None, expected: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    path: str = "/",
    max_age: int | None = None,
) -> None:
    """An HttpOnly, SameSite=Strict cookie (Secure when the request came over HTTPS)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def same_origin(request: Request) -> bool:
    """Whether a form post comes from this server's own pages (browsers send Origin on
    every POST; a post without it is from no browser page at all)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.url.netloc}"
