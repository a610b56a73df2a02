"""Who is asking: bearer tokens checked against the store's token file, and a rate limit
per token.

An ingest key may only post to the collector; a creator token may only read its own
creator's analytics. Tokens are created, listed and revoked with `creatorlens tokens` while
the server runs: the file is read again whenever it changes.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from creatorlens.load import Token, TokenBook, token_book
from creatorlens.serve.errors import ApiError, not_found

bearer = HTTPBearer(auto_error=False, description="An ingest key or a creator token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


class Credentials:
    """The store's tokens as the file holds them now."""

    def __init__(self, db: Path):
        self._book = token_book(db)
        self._path = self._book.path
        self._stamp = self._file_stamp()
        self._lock = threading.Lock()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self._path)
        except FileNotFoundError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def book(self) -> TokenBook:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                self._book, self._stamp = TokenBook.load(self._path), stamp
        return self._book

    def verify(self, presented: str | None) -> Token:
        """The token presented, if usable; else 401."""
        if not presented:
            raise _unauthorized("an Authorization: Bearer token is required")
        token = self.book().verify(presented, datetime.now(UTC))
        if token is None:
            raise _unauthorized("the token is unknown, revoked or expired")
        return token


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, "authorization", {"WWW-Authenticate": "Bearer"})


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per key: `rate` requests a second on average, bursts of `burst`."""

    def __init__(self, rate: float, burst: float):
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Count one request of `key`; 429 with Retry-After when its bucket is empty."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return
            wait = math.ceil((1 - bucket.tokens) / self.rate)
        raise ApiError(
            429,
            "rate_limited",
            f"more than {self.rate:g} requests a second with this token; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def _service(request: Request):
    return request.app.state.service


def _presented(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials else None


def _refuse_app_token(credentials: HTTPAuthorizationCredentials | None) -> None:
    """A third-party app's token (creatorlens.apps) reads the app API only: 403 here."""
    if (_presented(credentials) or "").startswith(("cl_a_", "cl_r_")):
        raise ApiError(
            403, "forbidden", "an app token reads the app API (/v1/apps/...) only", "authorization"
        )


def ingest_key(request: Request, credentials: Bearer) -> Token:
    """The platform's ingest key behind a collector request."""
    service = _service(request)
    _refuse_app_token(credentials)
    token = service.credentials.verify(_presented(credentials))
    request.state.token_id = token.token_id
    if token.kind != "ingest":
        raise ApiError(403, "forbidden", "a creator token cannot ingest: use an ingest key")
    service.ingest_limiter.take(token.token_id)
    return token


def creator_token(request: Request, credentials: Bearer) -> Token:
    """The creator token behind a read of analytics: a bearer token, or a signed-in browser's
    session cookie (`creatorlens.web.session`: on a GET, else with its CSRF header)."""
    service = _service(request)
    _refuse_app_token(credentials)
    token = None if credentials else _browser_token(service, request)
    if token is None:
        token = service.credentials.verify(_presented(credentials))
    request.state.token_id = token.token_id
    if token.kind != "creator":
        raise ApiError(403, "forbidden", "an ingest key cannot read analytics: use a creator token")
    service.creator_limiter.take(token.token_id)
    return token


def _browser_token(service, request: Request) -> Token | None:
    from creatorlens.web.session import SessionEnded  # here: the web package imports this one

    try:
        return service.sessions.token(request)
    except SessionEnded as exc:
        raise _unauthorized(str(exc)) from None


def own_creator(token: Token, creator_id: str | None) -> str:
    """The creator a request is about: the token's own, else 404 (never a hint that another
    creator exists)."""
    if creator_id is not None and creator_id != token.creator_id:
        raise not_found(f"no creator {creator_id!r} for this token", "creator_id")
    assert token.creator_id is not None
    return token.creator_id
