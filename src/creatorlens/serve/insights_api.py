"""The insights over HTTP (issue 18): a creator's insights, and the brand card they publish.

`GET /v1/creators/{id}/insights` is the JSON of `creatorlens insights --json` (a creator
token, its own creator only). The brand-partnership card is published by its creator
(`POST /v1/creators/{id}/card`, built from released numbers at that moment), revoked by
them (`DELETE`), and read by anyone who has its link (`GET /cards/{slug}`, no token).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel

from creatorlens.insights import CardBook, brand_card, creator_insights
from creatorlens.serve.creator_api import (
    CreatorAuth,
    CreatorId,
    FromParam,
    PeriodParam,
    ToParam,
    _period,
    json_response,
    studio_for,
)
from creatorlens.serve.errors import not_found, responses

router = APIRouter(tags=["insights"])

_ERRORS = responses(400, 401, 403, 404, 429)


class InsightsAnswer(BaseModel):
    creator_id: str
    period: dict[str, str]
    best_times: dict[str, Any]
    what_works: dict[str, Any]
    trending: dict[str, Any]
    sentiment: dict[str, Any]
    virality: dict[str, Any]
    benchmark: dict[str, Any]
    creator_fund: dict[str, Any]


class CardBody(BaseModel):
    creator_id: str
    period: dict[str, str]
    videos: int
    avg_views_per_video: float | None
    engagement_rate: float | None
    followers: int | None
    audience: dict[str, list[dict[str, Any]]]
    withheld: list[dict[str, Any]]


class PublishedCard(BaseModel):
    slug: str
    url: str
    card: CardBody


class RevokedCard(BaseModel):
    creator_id: str
    revoked: bool


class PublicCard(CardBody):
    published_at: str


def _book(request: Request) -> CardBook:
    return CardBook.beside(request.app.state.service.config.db)


@router.get(
    "/v1/creators/{creator_id}/insights",
    summary="Insights: best times, what works, trending, sentiment, virality, niche, fund",
    response_model=InsightsAnswer,
    responses=_ERRORS,
)
def insights(
    request: Request,
    token: CreatorAuth,
    creator_id: CreatorId,
    period: PeriodParam = None,
    start: FromParam = None,
    end: ToParam = None,
) -> Response:
    with studio_for(request, token, creator_id) as studio:
        found = creator_insights(
            studio, _period(studio, period or _default(start, end), start, end)
        )
        return json_response(found.to_json())


def _default(start: date | None, end: date | None) -> str | None:
    return None if start is not None or end is not None else "28d"


@router.post(
    "/v1/creators/{creator_id}/card",
    summary="Publish (or refresh) the creator's brand-partnership card at a public link",
    response_model=PublishedCard,
    responses=_ERRORS,
)
def publish_card(request: Request, token: CreatorAuth, creator_id: CreatorId) -> Response:
    with studio_for(request, token, creator_id) as studio:
        card = brand_card(studio)
    slug = _book(request).publish(card)
    return json_response({"slug": slug, "url": f"/cards/{slug}", "card": card.to_json()})


@router.delete(
    "/v1/creators/{creator_id}/card",
    summary="Revoke the creator's published card: its link stops answering",
    response_model=RevokedCard,
    responses=_ERRORS,
)
def revoke_card(request: Request, token: CreatorAuth, creator_id: CreatorId) -> Response:
    with studio_for(request, token, creator_id) as studio:
        creator = studio.creator_id
    if not _book(request).revoke(creator):
        raise not_found("no published card for this creator", "creator_id")
    return json_response({"creator_id": creator, "revoked": True})


@router.get(
    "/cards/{slug}",
    summary="A published brand-partnership card (public: no token)",
    response_model=PublicCard,
    responses=responses(400, 404),
)
def public_card(
    request: Request, slug: str = PathParam(description="The card's link", max_length=64)
) -> Response:
    card = _book(request).get(slug)
    if card is None:
        raise not_found("no such card (never published, or revoked)", "slug")
    return json_response(card)
