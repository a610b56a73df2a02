"""The event collector: a platform's apps post accounts, videos and events as they happen.

Each request is a JSON array or NDJSON (optionally gzip), read in memory and handed to the
one writer, which runs the same validation, pseudonymization, exactly-once dedupe by
`event_id` and quarantine as `creatorlens ingest`. The answer says what became of each
record; the good records of a request are stored whatever the bad ones, and a request sent
again stores nothing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from creatorlens.ingest.wire import ENTITY_FIELDS
from creatorlens.load import Records, Token, read_json_array, read_ndjson
from creatorlens.serve.auth import ingest_key
from creatorlens.serve.errors import ApiError, responses
from creatorlens.serve.writer import Job, Outcome, WriterBusy

JSON = "application/json"
NDJSON = "application/x-ndjson"


class Rejected(BaseModel):
    index: int  # the record's position: its index in the array, or its line in NDJSON
    field: str
    reason: str


class IngestResult(BaseModel):
    """What became of a request's records."""

    accepted: int
    duplicates: int
    quarantined: int
    rejected: list[Rejected]


def _media_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media in (JSON, NDJSON):
        return media
    raise ApiError(
        415,
        "unsupported_media_type",
        f"send {JSON} (an array of records) or {NDJSON} (one record a line)",
        "content-type",
    )


async def _body(request: Request, limit: int) -> bytes:
    """The request body as sent, refused (413) past `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413, "too_large", f"the body is over {limit:,} bytes: send smaller batches", "body"
    )


def _decoded(body: bytes, encoding: str, limit: int) -> str:
    """The body as text: gunzipped when it says so (at most `limit` bytes), then UTF-8."""
    encoding = encoding.strip().lower()
    if encoding == "gzip":
        inflate = zlib.decompressobj(wbits=31)
        try:
            body = inflate.decompress(body, limit + 1)
        except zlib.error:
            raise ApiError(400, "malformed_body", "not valid gzip", "content-encoding") from None
        if len(body) > limit or inflate.unconsumed_tail:
            raise _too_large(limit)
        if not inflate.eof:
            raise ApiError(400, "malformed_body", "the gzip stream is cut short", "body")
    elif encoding not in ("", "identity"):
        raise ApiError(
            415, "unsupported_media_type", "Content-Encoding may be gzip only", "content-encoding"
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(
            400, "malformed_body", f"not UTF-8 text (at byte {exc.start})", "body"
        ) from None


def _parse(text: str, media: str, entity: str) -> Records:
    return read_ndjson(text, entity) if media == NDJSON else read_json_array(text, entity)


async def collect(request: Request, entity: str, token: Token) -> IngestResult:
    """Read, check and store one request's records of `entity`."""
    service = request.app.state.service
    config = service.config
    media = _media_type(request)
    body = await _body(request, config.max_body_bytes)
    text = _decoded(body, request.headers.get("content-encoding", ""), config.max_body_bytes)
    # Parsing a large body is CPU work: off the event loop, so other requests go on.
    records = await run_in_threadpool(_parse, text, media, entity)
    if records.count > config.max_records:
        raise ApiError(
            413,
            "too_many_records",
            f"{records.count:,} records; at most {config.max_records:,} a request",
            "body",
        )
    job = Job(
        entity,
        records,
        source=f"http {request.url.path} (key {token.token_id})",
        digest="http:" + hashlib.sha256(body).hexdigest()[:32],
    )
    try:
        future = service.writer.submit(job)
    except WriterBusy as exc:
        raise ApiError(429, "writer_busy", str(exc), headers={"Retry-After": "1"}) from None
    try:
        outcome: Outcome = await asyncio.wrap_future(future)
    except WriterBusy as exc:
        raise ApiError(429, "writer_busy", str(exc), headers={"Retry-After": "1"}) from None
    return IngestResult(
        accepted=outcome.accepted,
        duplicates=outcome.duplicates,
        quarantined=outcome.quarantined,
        rejected=[
            Rejected(index=r.index, field=r.field, reason=r.reason) for r in outcome.rejected
        ],
    )


def _request_body(entity: str) -> dict[str, Any]:
    """The OpenAPI description of a collector body: records of `entity`, as JSON or NDJSON."""
    value = {"type": ["string", "number", "integer", "boolean", "array", "object", "null"]}
    # Any JSON value is taken as a record: one that is not an object, or whose fields are
    # wrong, is quarantined and named in `rejected` (the request is still a 200).
    record = {
        "description": f"A record of {entity} (see the README's wire format)",
        "properties": {name: value for name in ENTITY_FIELDS[entity]},
        "additionalProperties": True,
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": {"type": "array", "items": record}},
                NDJSON: {"schema": {"type": "string", "description": "one JSON record a line"}},
            },
        }
    }


router = APIRouter(tags=["collector"])
IngestKey = Annotated[Token, Depends(ingest_key)]

_ERRORS = responses(400, 401, 403, 413, 415, 429)


def _route(entity: str, summary: str):
    async def endpoint(request: Request, token: IngestKey) -> IngestResult:
        return await collect(request, entity, token)

    endpoint.__name__ = f"post_{entity}"
    router.add_api_route(
        f"/v1/{entity}",
        endpoint,
        methods=["POST"],
        response_model=IngestResult,
        summary=summary,
        responses=_ERRORS,
        openapi_extra=_request_body(entity),
    )


_route("events", "Post events (views, likes, follows, LIVE...)")
_route("accounts", "Post accounts (upserts by updated_at)")
_route("videos", "Post videos (upserts by updated_at)")
