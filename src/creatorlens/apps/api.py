"""The app API: what a third-party app reads with its access token (aggregates with
differential-privacy noise, within its budget), and the creator's grants.

Every read is a question of the query model asked through `creatorlens.studio.apps`: the
sections (`overview`, `videos`, `audience`, `followers`) are fixed questions, and
`/v1/apps/query` asks any question an app may. An access token reads only the creator who
granted it and only under the scopes granted: a question needing another scope is 403, and
nothing else of the service (the creator API, the collector) accepts an app token.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from creatorlens.apps.oauth import ACCESS_PREFIX, REFRESH_PREFIX
from creatorlens.apps.state import apps_state
from creatorlens.load import Grant, Token
from creatorlens.privacy import App, ScopeMissing
from creatorlens.privacy.dp import APP_DIMENSIONS, APP_FILTERS, APP_METRICS, SCOPES
from creatorlens.query import QueryError
from creatorlens.serve.auth import Bearer, creator_token
from creatorlens.serve.creator_api import read_question
from creatorlens.serve.errors import ApiError, ErrorBody, not_found, responses
from creatorlens.studio.apps import BudgetSpent, ask_as_app, budget_of
from creatorlens.studio.dashboard import own_videos

router = APIRouter(tags=["apps"])


@dataclass(frozen=True)
class AppAccess:
    """Who is asking with an access token: which app, for which creator, under which scopes."""

    client_id: str
    creator_id: str
    scopes: frozenset[str]


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message, "authorization", {"WWW-Authenticate": "Bearer"})


def app_token(request: Request, credentials: Bearer) -> AppAccess:
    """The standing access token behind an app read; else 401 (403 for another kind)."""
    presented = credentials.credentials if credentials else None
    if not presented:
        raise _unauthorized("an Authorization: Bearer access token is required")
    if not presented.startswith(ACCESS_PREFIX):
        if presented.startswith(REFRESH_PREFIX):
            raise _unauthorized("a refresh token is traded at /oauth/token, not presented")
        if presented.startswith(("cl_c_", "cl_i_")):
            raise ApiError(
                403, "forbidden", "the app API needs an app's access token", "authorization"
            )
        raise _unauthorized("the token is unknown, revoked or expired")
    state = apps_state(request)
    record = state.ledger.token(presented)
    now = datetime.now(UTC)
    if (
        record is None
        or record.kind != "access"
        or record.revoked_at is not None
        or (record.expires_at is not None and record.expires_at <= now)
        or not state.server.standing(record)
    ):
        raise _unauthorized("the token is unknown, revoked or expired")
    request.state.token_id = f"app:{record.client_id}"
    request.app.state.service.creator_limiter.take(f"app:{record.client_id}:{record.creator_id}")
    return AppAccess(record.client_id, record.creator_id, frozenset(record.scopes.split()))


AppAuth = Annotated[AppAccess, Depends(app_token)]


# --- answers -----------------------------------------------------------------------------------


class NoiseNote(BaseModel):
    mechanism: str
    noisy: list[str]
    exact: list[str]
    confidence: float
    error_bound: dict[str, int]
    scale: dict[str, float]
    sensitivity: dict[str, int]
    epsilon_per_number: float
    numbers: int
    epsilon: float


class BudgetNote(BaseModel):
    month: str
    epsilon_monthly: float
    epsilon_spent: float
    epsilon_remaining: float
    resets_at: str


class AppAnswer(BaseModel):
    """A noisy answer: rows and totals, which numbers are noisy and by how much they may be
    off, what was withheld, and the budget after it."""

    query: dict[str, Any]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    comparison: dict[str, Any] | None
    withheld: list[dict[str, Any]]
    noise: NoiseNote
    budget: BudgetNote


_ERRORS = {
    **responses(400, 401, 403, 404),
    429: {
        "model": ErrorBody,
        "description": "The app's ε for this creator this month is spent (or past the rate "
        "limit): retry after Retry-After seconds, when it resets",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
    },
}


def _ask(request: Request, access: AppAccess, question: dict[str, Any]) -> Response:
    state = apps_state(request)
    service = request.app.state.service
    app = App(access.client_id, access.creator_id, access.scopes, state.dp)

    def own(studio, query) -> None:
        named = {v for f in query.filters if f.dimension == "video" for v in f.values}
        if named and named - own_videos(studio, named):
            raise not_found("no such video of this creator", "filters")

    try:
        answer = ask_as_app(service.store, app, question, policy=service.policy, check=own)
    except ScopeMissing as exc:
        raise ApiError(403, "insufficient_scope", str(exc), "scope") from None
    except BudgetSpent as exc:
        wait = max(1, math.ceil((exc.resets_at - datetime.now(UTC)).total_seconds()))
        body = {
            "error": {
                "code": "budget_spent",
                "field": None,
                "message": str(exc),
                "resets_at": exc.resets_at.isoformat(),
            }
        }
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(wait)})
    except QueryError as exc:
        if exc.field == "creator_id":
            raise not_found(
                "the creator who granted this app has no analytics", "creator_id"
            ) from None
        raise
    return Response(json.dumps(answer, default=str), media_type="application/json")


def _period(period: str | None, start: date | None, end: date | None) -> dict[str, Any]:
    if period is not None and (start is not None or end is not None):
        raise ApiError(400, "invalid_query", "give either period or from/to, not both", "period")
    if start is not None or end is not None:
        return {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        }
    return {"period": period or "28d"}


PeriodParam = Annotated[
    Literal["7d", "28d", "60d", "365d"] | None,
    Query(description="A named period ending on the creator's latest day (28d by default)"),
]
FromParam = Annotated[date | None, Query(alias="from", description="First day, YYYY-MM-DD")]
ToParam = Annotated[date | None, Query(alias="to", description="Last day, YYYY-MM-DD")]

OVERVIEW_READ = ("views", "reach", "likes", "comments", "shares", "total_watch_ms")
VIDEOS_READ = ("views", "likes", "comments", "shares")
FOLLOWERS_READ = ("followers_gained", "followers_lost", "follower_viewers", "non_follower_viewers")


@router.get(
    "/v1/apps/overview",
    summary=f"Totals ({', '.join(OVERVIEW_READ)}), noisy; overview.read",
    response_model=AppAnswer,
    responses=_ERRORS,
)
def overview(
    request: Request,
    access: AppAuth,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    compare: Annotated[bool, Query(description="Also the previous period's totals")] = False,
) -> Response:
    question = {"metrics": list(OVERVIEW_READ), "compare": compare, **_period(period, start, end)}
    return _ask(request, access, question)


@router.get(
    "/v1/apps/videos",
    summary=f"Per video ({', '.join(VIDEOS_READ)}), the most viewed by noisy views; videos.read",
    response_model=AppAnswer,
    responses=_ERRORS,
)
def videos(
    request: Request,
    access: AppAuth,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
    limit: Annotated[int, Query(ge=1, le=50, description="How many videos at most")] = 5,
) -> Response:
    question = {
        "metrics": list(VIDEOS_READ),
        "dimensions": ["video"],
        "limit": limit,
        **_period(period, start, end),
    }
    return _ask(request, access, question)


@router.get(
    "/v1/apps/audience",
    summary="Viewers (reach) by country, age or gender, noisy and thresholded; audience.read",
    response_model=AppAnswer,
    responses=_ERRORS,
)
def audience(
    request: Request,
    access: AppAuth,
    dimension: Annotated[
        Literal["country", "age", "gender"], Query(description="The viewer attribute")
    ] = "country",
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> Response:
    question = {"metrics": ["reach"], "dimensions": [dimension], **_period(period, start, end)}
    return _ask(request, access, question)


@router.get(
    "/v1/apps/followers",
    summary=f"Totals ({', '.join(FOLLOWERS_READ)}), noisy; followers.read",
    response_model=AppAnswer,
    responses=_ERRORS,
)
def followers(
    request: Request,
    access: AppAuth,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> Response:
    question = {"metrics": list(FOLLOWERS_READ), **_period(period, start, end)}
    return _ask(request, access, question)


def _query_body() -> dict[str, Any]:
    """The OpenAPI description of an app's question (the query model, as apps may ask it)."""
    metric = {"type": "string", "enum": list(APP_METRICS)}
    dimension = {"type": "string", "enum": list(APP_DIMENSIONS)}
    values = {"type": "array", "items": {"type": "string"}, "minItems": 1}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "metrics": {"type": "array", "items": metric, "minItems": 1},
                            "dimensions": {"type": "array", "items": dimension, "maxItems": 1},
                            "filters": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "description": "[operator, dimension, [values]]",
                                    "prefixItems": [
                                        {"type": "string", "enum": ["is", "is_not"]},
                                        {"type": "string", "enum": list(APP_FILTERS)},
                                        values,
                                    ],
                                    "minItems": 3,
                                    "maxItems": 3,
                                },
                            },
                            "period": {"type": "string", "enum": ["7d", "28d", "60d", "365d"]},
                            "from": {"type": "string", "format": "date"},
                            "to": {"type": "string", "format": "date"},
                            "compare": {"type": "boolean"},
                            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
                        },
                        "required": ["metrics"],
                        "dependentRequired": {"from": ["to"], "to": ["from"]},
                        "additionalProperties": False,
                    }
                }
            },
        }
    }


@router.post(
    "/v1/apps/query",
    summary="Ask the query model as an app: noisy aggregates within the granted scopes",
    response_model=AppAnswer,
    responses={**_ERRORS, **responses(413, 415)},
    openapi_extra=_query_body(),
)
async def query(request: Request, access: AppAuth) -> Response:
    question = await read_question(request)
    creator = question.pop("creator_id", None)
    if creator is not None and creator != access.creator_id:
        raise not_found("no such creator for this token", "creator_id")
    return await run_in_threadpool(_ask, request, access, question)


class BudgetAnswer(BaseModel):
    client_id: str
    creator_id: str
    scopes: list[str]
    budget: BudgetNote


@router.get(
    "/v1/apps/budget",
    summary="The app's ε budget for this creator this month (costs nothing)",
    response_model=BudgetAnswer,
    responses=responses(400, 401, 403, 429),
)
def budget(request: Request, access: AppAuth) -> Response:
    state = apps_state(request)
    service = request.app.state.service
    spent = budget_of(
        service.store, access.client_id, access.creator_id, state.dp.monthly_epsilon,
        datetime.now(UTC),
    )  # fmt: skip
    body = {
        "client_id": access.client_id,
        "creator_id": access.creator_id,
        "scopes": [s for s in SCOPES if s in access.scopes],
        "budget": spent.to_json(),
    }
    return JSONResponse(body)


# --- the creator's grants ------------------------------------------------------------------------


def grants_of(request: Request, creator_id: str) -> list[dict[str, Any]]:
    """A creator's grants to apps, standing and ended, newest first (for a settings page):
    the app, its name, the scopes, when granted and when revoked."""
    state = apps_state(request)
    book = state.register.book()
    out = []
    for grant in state.ledger.grants_of(creator_id):
        out.append(_grant_json(grant, book))
    return out


def _grant_json(grant: Grant, book) -> dict[str, Any]:
    app = book.get(grant.client_id)
    ended = book.revoked_since(grant.client_id, grant.creator_id)
    revoked = grant.revoked_at
    if ended is not None and ended > grant.granted_at and (revoked is None or ended < revoked):
        revoked = ended
    if app is not None and app.revoked_at is not None and revoked is None:
        revoked = app.revoked_at
    return {
        "client_id": grant.client_id,
        "app_name": app.name if app else None,
        "scopes": list(grant.scopes),
        "granted_at": grant.granted_at.isoformat(),
        "revoked_at": revoked.isoformat() if revoked else None,
    }


class GrantView(BaseModel):
    client_id: str
    app_name: str | None
    scopes: list[str]
    granted_at: str
    revoked_at: str | None


class GrantList(BaseModel):
    creator_id: str
    grants: list[GrantView]


class RevokedGrant(BaseModel):
    client_id: str
    revoked_at: str


CreatorAuth = Annotated[Token, Depends(creator_token)]


@router.get(
    "/v1/grants",
    summary="The apps this creator has granted access to (creator token)",
    response_model=GrantList,
    responses=responses(400, 401, 403, 429),
    tags=["creator"],
)
def list_grants(request: Request, token: CreatorAuth) -> Response:
    assert token.creator_id is not None
    grants = grants_of(request, token.creator_id)
    return JSONResponse({"creator_id": token.creator_id, "grants": grants})


@router.delete(
    "/v1/grants/{client_id}",
    summary="Revoke an app's access: its tokens stop working at once (creator token)",
    response_model=RevokedGrant,
    responses=responses(400, 401, 403, 404, 429),
    tags=["creator"],
)
def revoke_grant(
    request: Request,
    token: CreatorAuth,
    client_id: Annotated[str, Path(description="The app's client id")],
) -> Response:
    assert token.creator_id is not None
    state = apps_state(request)
    if not state.ledger.revoke_grant(client_id, token.creator_id):
        raise not_found(f"no standing grant to app {client_id!r}", "client_id")
    grant = state.ledger.grant_of(client_id, token.creator_id)
    assert grant is not None and grant.revoked_at is not None
    return JSONResponse({"client_id": client_id, "revoked_at": grant.revoked_at.isoformat()})
