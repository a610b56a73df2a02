"""Errors as the service answers them: a 4xx status and one JSON shape naming the field.

Every refusal is `{"error": {"code": ..., "field": ..., "message": ...}}`. The errors of the
layers below (a query that cannot run, an account that is not a creator's, a question this
audience may not ask, a body with no records) are mapped here once.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from creatorlens.errors import UserError
from creatorlens.load import BodyError
from creatorlens.privacy import AnalyticsAccountError, NotForAudience
from creatorlens.query import QueryError


class ErrorDetail(BaseModel):
    code: str
    field: str | None = None
    message: str


class ErrorBody(BaseModel):
    """Every error the service answers."""

    error: ErrorDetail


class ApiError(Exception):
    """A refusal with its HTTP status, a stable code, the field at fault and plain words."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}


def not_found(message: str = "not found", field: str | None = None) -> ApiError:
    return ApiError(404, "not_found", message, field)


def error_response(error: ApiError) -> JSONResponse:
    body = {"error": {"code": error.code, "field": error.field, "message": error.message}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def as_api_error(exc: Exception) -> ApiError | None:
    """The answer to an error of the layers below, or None for a bug."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, BodyError):
        return ApiError(400, "malformed_body", exc.message, exc.field)
    if isinstance(exc, AnalyticsAccountError):
        return ApiError(403, "not_a_creator_account", str(exc), "creator_id")
    if isinstance(exc, NotForAudience):
        return not_found(str(exc))
    if isinstance(exc, QueryError):
        return ApiError(400, "invalid_query", exc.message, exc.field)
    if isinstance(exc, UserError):
        return ApiError(400, "bad_request", " ".join(str(exc).split()))
    return None


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def install(app: FastAPI) -> None:
    """Map every error an endpoint can raise to the service's error shape."""

    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        mapped = as_api_error(exc)
        assert mapped is not None
        return error_response(mapped)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
        # Pydantic's own words name the value's type or form, never echo the input.
        message = str(first.get("msg", "invalid value"))
        return error_response(ApiError(400, "invalid_parameter", message, ".".join(loc) or None))

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = _STATUS_CODES.get(exc.status_code, "error")
        status = exc.status_code if 400 <= exc.status_code < 500 else 400
        return error_response(
            ApiError(status, code, str(exc.detail), headers=dict(exc.headers or {}))
        )

    for kind in (ApiError, BodyError, AnalyticsAccountError, NotForAudience, QueryError, UserError):
        app.add_exception_handler(kind, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)


_DESCRIPTIONS = {
    400: "Bad input: the field and the reason",
    401: "Missing, unknown, revoked or expired token",
    403: "The token may not do this (an ingest key reading, a creator token ingesting)",
    404: "Not found (another creator's data is never found)",
    413: "Body too large",
    415: "Unsupported content type or encoding",
    429: "Past the key's rate limit, or the writer is full: retry after Retry-After seconds",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an operation, for its OpenAPI description."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": ErrorBody, "description": _DESCRIPTIONS[status]}
        if status == 429:
            entry["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}
            }
        out[status] = entry
    return out
