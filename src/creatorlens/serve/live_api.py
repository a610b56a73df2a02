"""LIVE and notifications over HTTP: a creator's running LIVEs (and a stream of them), and
their notifications, read up to a point. Creator token only; another creator is not found.

The stream (server-sent events) sends the LIVE view whenever the writer has stored events
(`LiveHub.stored`, called on the writer thread right after each batch commits), so a
viewer who joins shows within a second or so of the collector accepting the join; it ends
by itself once no LIVE of the creator runs (after sending its summary), as EventSource
clients reconnect by themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from creatorlens.errors import UserError
from creatorlens.live import LiveView, expire_rooms, live_summaries, live_view, room_book
from creatorlens.load import Token
from creatorlens.notify import (
    CursorError,
    mark_read,
    notification_page,
    record_alerts,
    refresh_notifications,
    unread_count,
)
from creatorlens.query import QueryError
from creatorlens.serve.auth import own_creator
from creatorlens.serve.creator_api import CreatorAuth, CreatorId, studio_for
from creatorlens.serve.errors import ApiError, responses

__all__ = ["AlertWatch", "LiveHub", "after_refresh", "room_book", "router"]

log = logging.getLogger("creatorlens.serve")

router = APIRouter(tags=["live and notifications"])

_ERRORS = responses(400, 401, 403, 404, 429)


class LiveHub:
    """Wakes the LIVE streams whenever the writer stored something (from its thread)."""

    def __init__(self) -> None:
        self.version = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def stored(self, *_: Any) -> None:
        with self._lock:
            self.version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait(self, version: int, timeout: float) -> int:
        """Until the version passes `version` or `timeout` seconds went by; the version."""
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        with self._lock:
            if self.version != version:
                return self.version
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(entry)
        return self.version


def after_refresh(service: Any) -> None:
    """What follows each rollup refresh on the writer thread: the notifications catch up,
    rooms past their retention are deleted, and the streams are woken."""
    try:
        refresh_notifications(service.store)
        expire_rooms(service.store, service.policy)
    except Exception as exc:  # the writer goes on; tried again after the next refresh
        log.error("notifications or LIVE rooms", extra={"fields": {"error": type(exc).__name__}})
    hub = getattr(service, "live_hub", None)
    if hub is not None:
        hub.stored()


# --- LIVE -----------------------------------------------------------------------------------


class LiveSection(BaseModel):
    creator_id: str
    running: list[dict[str, Any]]
    last: dict[str, Any] | None


def _view(request: Request, creator: str) -> LiveView:
    service = request.app.state.service
    return live_view(service.store.session(), service.rooms, creator, service.policy)


def _json(data: Any) -> str:
    return json.dumps(data, default=str)


@router.get(
    "/v1/creators/{creator_id}/live",
    summary="LIVE now: viewers, peak, uniques, per minute, the room; the last summary",
    response_model=LiveSection,
    responses=_ERRORS,
)
def live(request: Request, token: CreatorAuth, creator_id: CreatorId) -> Response:
    creator = own_creator(token, creator_id)
    return Response(_json(_view(request, creator).to_json()), media_type="application/json")


class LiveSummaries(BaseModel):
    creator_id: str
    summaries: list[dict[str, Any]]


@router.get(
    "/v1/creators/{creator_id}/live/summaries",
    summary="The creator's ended LIVEs, newest first: aggregates only, no viewer named",
    response_model=LiveSummaries,
    responses=_ERRORS,
)
def summaries(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first")] = 10,
) -> Response:
    creator = own_creator(token, creator_id)
    service = request.app.state.service
    ended = live_summaries(service.store.session(), creator, service.policy)
    newest = sorted(ended, key=lambda s: (s.ended_at, s.live_id), reverse=True)[:limit]
    body = {"creator_id": creator, "summaries": [asdict(s) for s in newest]}
    return Response(_json(body), media_type="application/json")


@router.get(
    "/v1/creators/{creator_id}/live/stream",
    summary="LIVE now as server-sent events, on every change; ends when no LIVE runs",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`live` events"}}
    | _ERRORS,
)
async def live_stream(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    max_seconds: Annotated[
        int, Query(ge=1, le=3600, description="End the stream after this long")
    ] = 600,
) -> StreamingResponse:
    creator = own_creator(token, creator_id)
    service = request.app.state.service
    hub: LiveHub = service.live_hub

    async def events() -> AsyncIterator[str]:
        yield "retry: 3000\n\n"
        deadline = time.monotonic() + max_seconds
        sent = None
        version = hub.version
        while True:
            view = await run_in_threadpool(_view, request, creator)
            body = _json(view.to_json())
            if body != sent:
                yield f"event: live\ndata: {body}\n\n"
                sent = body
            if not view.running or time.monotonic() >= deadline:
                return
            if await request.is_disconnected():
                return
            before = version
            version = await hub.wait(version, min(15.0, max(deadline - time.monotonic(), 0)))
            if version == before:
                yield ": still here\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


# --- notifications -----------------------------------------------------------------------------


class NotificationsSection(BaseModel):
    creator_id: str
    notifications: list[dict[str, Any]]
    next_cursor: str | None
    unread: int


class UnreadCount(BaseModel):
    creator_id: str
    unread: int


class ReadMark(BaseModel):
    up_to: str | None = None  # a notification id; none: everything up to the newest


class AlertWatch:
    """Which rollup refresh each creator's virality alerts were last looked for at: the
    alerts change only when the rollups do, so a bell asking every few seconds costs one
    look per refresh, not one per request."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def due(self, creator: str, generation: int) -> bool:
        with self._lock:
            return self._seen.get(creator) != generation

    def looked(self, creator: str, generation: int) -> None:
        with self._lock:
            self._seen[creator] = generation


def _record_alerts(request: Request, token: Token, creator: str) -> None:
    """The creator's virality alerts of now recorded as notifications (once per refresh)."""
    service = request.app.state.service
    generation = service.refreshes.generation
    if not service.alert_watch.due(creator, generation):
        return
    try:
        with studio_for(request, token, creator) as studio:
            record_alerts(service.store.session(), studio)
    except (ApiError, QueryError, UserError):
        pass  # no account, or not an analytics one: no insights to alert from
    service.alert_watch.looked(creator, generation)


def _cursor_error(exc: CursorError) -> ApiError:
    return ApiError(400, "invalid_parameter", exc.message, exc.field)


@router.get(
    "/v1/creators/{creator_id}/notifications",
    summary="Notifications, newest first, grouped; paged by cursor",
    response_model=NotificationsSection,
    responses=_ERRORS,
)
def notifications(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    cursor: Annotated[str | None, Query(description="next_cursor of the page before")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    creator = own_creator(token, creator_id)
    _record_alerts(request, token, creator)
    con = request.app.state.service.store.session()
    try:
        page = notification_page(con, creator, cursor=cursor, limit=limit)
    except CursorError as exc:
        raise _cursor_error(exc) from None
    return Response(_json(page.to_json()), media_type="application/json")


@router.get(
    "/v1/creators/{creator_id}/notifications/unread",
    summary="How many notifications are unread",
    response_model=UnreadCount,
    responses=_ERRORS,
)
def unread(request: Request, token: CreatorAuth, creator_id: CreatorId) -> UnreadCount:
    creator = own_creator(token, creator_id)
    _record_alerts(request, token, creator)
    con = request.app.state.service.store.session()
    return UnreadCount(creator_id=creator, unread=unread_count(con, creator))


@router.post(
    "/v1/creators/{creator_id}/notifications/read",
    summary="Mark notifications read up to an id (default: all); the unread count after",
    response_model=UnreadCount,
    responses=_ERRORS,
)
def read(
    request: Request,
    token: CreatorAuth,
    creator_id: Annotated[str, Path(description="The token's own creator")],
    mark: Annotated[ReadMark | None, Body()] = None,
) -> UnreadCount:
    creator = own_creator(token, creator_id)
    con = request.app.state.service.store.session()
    try:
        left = mark_read(con, creator, mark.up_to if mark else None)
    except CursorError as exc:
        raise _cursor_error(exc) from None
    return UnreadCount(creator_id=creator, unread=left)
