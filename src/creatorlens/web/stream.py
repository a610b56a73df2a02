"""Live numbers: a server-sent event stream telling a creator's open pages that new data is
ready, sent after every rollup refresh of the writer.

The stream carries no number, only that the rollups changed: the page then asks the creator
API again, so what it shows has passed the release stage like every other answer. Each
stream lasts `STREAM_SECONDS` and the browser reconnects by itself (its last event id says
which refresh it saw), so credentials are checked again at every reconnection and a server
stopping never waits on an open stream.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse

from creatorlens.load import Token
from creatorlens.serve.auth import creator_token, own_creator
from creatorlens.web.refreshes import Refreshes

STREAM_SECONDS = 25.0
KEEP_ALIVE_SECONDS = 10.0
RETRY_MS = 1000

router = APIRouter()


def _server_stopping() -> bool:
    """Whether uvicorn was asked to stop: it waits for open responses before it stops, so a
    stream ends at once rather than holding the server up to `STREAM_SECONDS`."""
    handler = signal.getsignal(signal.SIGTERM)
    return bool(getattr(getattr(handler, "__self__", None), "should_exit", False))


def _event(name: str, generation: int, data: dict) -> str:
    return f"id: {generation}\nevent: {name}\ndata: {json.dumps(data, default=str)}\n\n"


@router.get("/v1/creators/{creator_id}/stream", include_in_schema=False)
async def stream(
    request: Request,
    token: Annotated[Token, Depends(creator_token)],
    creator_id: str,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """`refreshed` events for the token's own creator's pages (text/event-stream)."""
    own_creator(token, creator_id)
    refreshes: Refreshes = request.app.state.service.refreshes
    try:
        seen = int(last_event_id) if last_event_id is not None else refreshes.generation
    except ValueError:
        seen = refreshes.generation

    async def events() -> AsyncIterator[str]:
        nonlocal seen
        loop = asyncio.get_running_loop()
        yield f"retry: {RETRY_MS}\nid: {seen}\nevent: hello\ndata: {{}}\n\n"
        end = loop.time() + STREAM_SECONDS
        quiet_since = loop.time()
        while loop.time() < end and not _server_stopping():
            if await refreshes.wait(seen, timeout=1.0):
                seen = refreshes.generation
                yield _event("refreshed", seen, {"rollups_as_of": refreshes.as_of})
                quiet_since = loop.time()
            elif loop.time() - quiet_since >= KEEP_ALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = loop.time()
        yield _event("bye", seen, {})

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
