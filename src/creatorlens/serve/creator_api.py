"""The creator API: a creator's analytics over HTTP, as the studio releases them.

Every answer comes from `creatorlens.studio` (the one door to released numbers): the
sections are the JSON of `creatorlens report --json`, section by section, and `/v1/query`
speaks the query model. A creator token reads its own creator only; any other creator id,
in a path, a query body or a video filter, is not found.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from creatorlens.load import Token
from creatorlens.query import QueryError
from creatorlens.query.metrics import DIMENSIONS, METRICS
from creatorlens.serve.auth import creator_token, own_creator
from creatorlens.serve.errors import ApiError, not_found, responses
from creatorlens.studio import Studio, open_studio
from creatorlens.studio.dashboard import build_section, likers_json, own_videos, video_likers

router = APIRouter(tags=["creator"])

_ERRORS = responses(400, 401, 403, 404, 429)


def json_response(data: Any) -> Response:
    """JSON written as `creatorlens report --json` writes it (dates as text), so an answer
    and the report are the same document."""
    return Response(json.dumps(data, default=str), media_type="application/json")


@contextmanager
def studio_for(request: Request, token: Token, creator_id: str | None) -> Iterator[Studio]:
    """The token's creator's studio on the store the service holds open."""
    creator = own_creator(token, creator_id)
    service = request.app.state.service
    try:
        with open_studio(service.store, creator, policy=service.policy) as studio:
            yield studio
    except QueryError as exc:
        if exc.field == "creator_id":  # the token's creator has no account (yet)
            raise not_found(f"no creator {creator!r} for this token", "creator_id") from None
        raise


# --- sections --------------------------------------------------------------------------------

PeriodName = Literal["7d", "28d", "60d", "365d"]
CreatorId = Annotated[str, Path(description="The token's own creator")]
VideoId = Annotated[str, Path(description="One of the creator's videos")]
PeriodParam = Annotated[
    PeriodName | None, Query(description="A named period ending on the creator's latest day")
]
FromParam = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD")]
ToParam = Annotated[date | None, Query(alias="to", description="Last day, YYYY-MM-DD")]
CreatorAuth = Annotated[Token, Depends(creator_token)]


class _Envelope(BaseModel):
    creator_id: str
    period: dict[str, str]
    notes: list[str]
    withheld: list[dict[str, Any]]


class OverviewSection(_Envelope):
    overview: dict[str, Any]


class VideosSection(_Envelope):
    videos: list[dict[str, Any]]


class VideoSection(_Envelope):
    video: dict[str, Any]


class FollowersSection(_Envelope):
    followers: dict[str, Any]


class LikersSection(BaseModel):
    creator_id: str
    video: str
    likers: dict[str, Any]


def _period(studio: Studio, period: str | None, start: date | None, end: date | None):
    if period is not None and (start is not None or end is not None):
        raise ApiError(400, "invalid_query", "give either period or from/to, not both", "period")
    return studio.period(period, start, end)


def _section(request, token, creator_id, name, period, start, end, **options) -> Response:
    with studio_for(request, token, creator_id) as studio:
        section = build_section(studio, _period(studio, period, start, end), name, **options)
        return json_response(section.to_json())


@router.get(
    "/v1/creators/{creator_id}/overview",
    summary="Overview: totals, previous period, daily series, audience, traffic sources",
    response_model=OverviewSection,
    responses=_ERRORS,
)
def overview(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    compare: Annotated[bool, Query(description="Compare with the previous period")] = False,
) -> Response:
    return _section(request, token, creator_id, "overview", period, start, end, compare=compare)


@router.get(
    "/v1/creators/{creator_id}/videos",
    summary="The top videos with their figures; the first ones with their detail",
    response_model=VideosSection,
    responses=_ERRORS,
)
def videos(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, most viewed first")] = 10,
    detail: Annotated[int, Query(ge=0, le=10, description="How many with their detail")] = 3,
) -> Response:
    return _section(
        request, token, creator_id, "videos", period, start, end,
        top_videos=limit, detail_videos=detail,
    )  # fmt: skip


@router.get(
    "/v1/creators/{creator_id}/videos/{video_id}",
    summary="One video with its detail (retention, likes by second, sources, likers)",
    response_model=VideoSection,
    responses=_ERRORS,
)
def video(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    video_id: VideoId,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> Response:
    return _section(request, token, creator_id, "videos", period, start, end, video_id=video_id)


@router.get(
    "/v1/creators/{creator_id}/videos/{video_id}/likers",
    summary="Who liked a video, as the likers rule lets the creator see them",
    response_model=LikersSection,
    responses=_ERRORS,
)
def likers(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    video_id: VideoId,
) -> Response:
    with studio_for(request, token, creator_id) as studio:
        panel = video_likers(studio, video_id)
        return json_response(
            {"creator_id": studio.creator_id, "video": video_id, "likers": likers_json(panel)}
        )


@router.get(
    "/v1/creators/{creator_id}/followers",
    summary="Followers: totals, growth, demographics, activity, videos they watched",
    response_model=FollowersSection,
    responses=_ERRORS,
)
def followers(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> Response:
    return _section(request, token, creator_id, "followers", period, start, end)


# --- export ------------------------------------------------------------------------------------

# What can be exported, and where each table is in its section's JSON.
EXPORTS = {
    "daily": ("overview", lambda s: s["overview"]["daily"]),
    "traffic_sources": ("overview", lambda s: s["overview"]["traffic_sources"]),
    "audience_country": ("overview", lambda s: s["overview"]["audience"]["country"]["rows"]),
    "audience_age": ("overview", lambda s: s["overview"]["audience"]["age"]["rows"]),
    "audience_gender": ("overview", lambda s: s["overview"]["audience"]["gender"]["rows"]),
    "videos": ("videos", lambda s: s["videos"]),
    "followers_growth": ("followers", lambda s: s["followers"]["growth"]),
}
ExportName = Literal[
    "daily",
    "traffic_sources",
    "audience_country",
    "audience_age",
    "audience_gender",
    "videos",
    "followers_growth",
]
PARQUET = "application/vnd.apache.parquet"


@router.get(
    "/v1/creators/{creator_id}/export",
    summary="A table of a section as a CSV or Parquet file, released as the section is",
    response_class=Response,
    responses={
        200: {
            "description": "The file",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                PARQUET: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **_ERRORS,
    },
)
def export(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    table: Annotated[ExportName, Query(description="Which table")] = "videos",
    format: Annotated[Literal["csv", "parquet"], Query(description="The file format")] = "csv",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> Response:
    section_name, rows_of = EXPORTS[table]
    with studio_for(request, token, creator_id) as studio:
        chosen = _period(studio, period, start, end)
        options = {"detail_videos": 0} if section_name == "videos" else {}
        section = build_section(studio, chosen, section_name, **options)
        # Through JSON, as the API answers: the file holds what the section shows.
        rows = json.loads(json.dumps(rows_of(section.to_json()), default=str))
    name = f"{studio.creator_id}-{table}-{chosen.start}-{chosen.end}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{_safe(name)}"'}
    if format == "csv":
        return Response(_csv(rows), media_type="text/csv", headers=headers)
    return Response(_parquet(rows), media_type=PARQUET, headers=headers)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def _csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = _columns(rows)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().encode()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def _parquet(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = _columns(rows)
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
    if not columns:
        table = pa.table({})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


# --- the query API ---------------------------------------------------------------------------


def _query_body() -> dict[str, Any]:
    """The OpenAPI description of a query (the query model as JSON)."""
    values = {
        "anyOf": [
            {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1},
            {"type": "string"},
        ]
    }
    metric = {"type": "string", "enum": sorted(METRICS)}
    dimension = {"type": "string", "enum": sorted(DIMENSIONS)}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "creator_id": {
                                "type": ["string", "null"],
                                "description": "The token's own creator (the default)",
                            },
                            "metrics": {"type": "array", "items": metric, "minItems": 1},
                            "dimensions": {"type": ["array", "null"], "items": dimension},
                            "filters": {
                                "type": ["array", "null"],
                                "items": {
                                    "type": "array",
                                    "description": "[operator, dimension, [values]]",
                                    "prefixItems": [
                                        {"type": "string", "enum": ["is", "is_not"]},
                                        dimension,
                                        values,
                                    ],
                                    "minItems": 3,
                                    "maxItems": 3,
                                },
                            },
                            "period": {
                                "type": ["string", "null"],
                                "enum": ["7d", "28d", "60d", "365d", None],
                                "description": "A named period (28d when neither it nor from/to "
                                "is given; from/to win when both are)",
                            },
                            "from": {"type": ["string", "null"], "format": "date"},
                            "to": {"type": ["string", "null"], "format": "date"},
                            "compare": {"type": "boolean"},
                            "order_by": {
                                "type": ["array", "null"],
                                "items": {"type": "array", "minItems": 2, "maxItems": 2},
                            },
                            "limit": {"type": ["integer", "null"], "minimum": 1},
                        },
                        "required": ["metrics"],
                        "dependentRequired": {"from": ["to"], "to": ["from"]},
                        "additionalProperties": False,
                    }
                }
            },
        }
    }


class QueryAnswer(BaseModel):
    """A released query result: rows, totals, comparison and what was withheld, and why."""

    query: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    comparison: dict[str, Any] | None
    withheld: list[dict[str, Any]]


@router.post(
    "/v1/query",
    summary="Ask the query model: metrics x dimensions x filters x period",
    response_model=QueryAnswer,
    responses={**_ERRORS, **responses(413, 415)},
    openapi_extra=_query_body(),
)
async def query(request: Request, token: CreatorAuth) -> Response:
    raw = await read_question(request)
    return await run_in_threadpool(_answer, request, token, raw)


async def read_question(request: Request) -> dict[str, Any]:
    """A query-model question posted as a JSON object of at most 64 KiB (the app API
    reads its questions the same way)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the query as application/json")
    body = await request.body()
    if len(body) > 65_536:
        raise ApiError(413, "too_large", "a query is at most 64 KiB", "body")
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_body", f"not valid JSON ({exc})", "body") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_query", "must be a JSON object", "query")
    return raw


def _answer(request: Request, token: Token, raw: dict[str, Any]) -> Response:
    creator = raw.get("creator_id")
    if creator is not None and not isinstance(creator, str):
        raise ApiError(400, "invalid_query", "must be a string", "creator_id")
    with studio_for(request, token, creator) as studio:
        query = studio.parse({k: v for k, v in raw.items() if k != "creator_id"})
        _own_videos(studio, query)
        return json_response(studio.answer(query).to_json())


def _own_videos(studio: Studio, query) -> None:
    """A filter naming another creator's video is not found, as that creator is not."""
    named = {v for f in query.filters if f.dimension == "video" for v in f.values}
    if named:
        missing = sorted(named - own_videos(studio, named))
        if missing:
            raise not_found(f"no video {missing[0]!r} of this creator", "filters")
