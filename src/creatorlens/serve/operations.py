"""Running the service: health and readiness, freshness, Prometheus metrics, JSON logs.

Logs are one JSON object a line and hold what an operator needs (route, status, latency,
the token's id, counts), never a request body, a token, or a query string (which may name
people); errors are logged by their type only, since a database message may quote a value.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creatorlens.load import IngestSummary
from creatorlens.serve.errors import ApiError, error_response

log = logging.getLogger("creatorlens.serve")


class Metrics:
    """The service's Prometheus metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "creatorlens_records_accepted", "Records stored as new", ["entity"], registry=r
        )
        self.duplicates = Counter(
            "creatorlens_records_duplicates",
            "Records already stored (a retry, an overlap)",
            ["entity"],
            registry=r,
        )
        self.quarantined = Counter(
            "creatorlens_records_quarantined", "Records refused, kept with the reason",
            ["entity"], registry=r,
        )  # fmt: skip
        self.requests = Counter(
            "creatorlens_http_requests", "Requests answered", ["route", "method", "status"],
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "creatorlens_http_request_seconds",
            "Time to answer a request, by route",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.refresh = Histogram(
            "creatorlens_rollup_refresh_seconds",
            "Time of one incremental rollup refresh",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            registry=r,
        )
        self.batch = Histogram(
            "creatorlens_writer_batch_seconds",
            "Time of one write transaction (the records of the requests waiting together)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.batch_records = Histogram(
            "creatorlens_writer_batch_records",
            "Records stored in one write transaction",
            buckets=(1, 10, 100, 1_000, 5_000, 10_000, 25_000, 50_000, 100_000),
            registry=r,
        )
        self.rollup_lag = Gauge(
            "creatorlens_rollup_lag_seconds",
            "Age of the rollups when events are waiting for them (0 when none wait)",
            registry=r,
        )
        self.events_waiting = Gauge(
            "creatorlens_events_waiting", "Events stored, not yet in the rollups", registry=r
        )
        self.records_queued = Gauge(
            "creatorlens_records_queued", "Records received, waiting for the writer", registry=r
        )
        self.lake_events_waiting = Gauge(
            "creatorlens_lake_events_waiting",
            "Events stored, not yet appended to the event lake (0 without a lake)",
            registry=r,
        )

    def stored(self, entity: str, summary: IngestSummary, seconds: float) -> None:
        self.batch.observe(seconds)
        self.batch_records.observe(summary.records)
        self.accepted.labels(entity).inc(summary.accepted)
        self.duplicates.labels(entity).inc(summary.duplicates)
        self.quarantined.labels(entity).inc(summary.quarantined)

    def render(self, writer) -> bytes:
        if writer is not None:
            status = writer.status()
            self.events_waiting.set(status.events_waiting)
            self.records_queued.set(status.records_queued)
            self.lake_events_waiting.set(status.lake_events_waiting or 0)
            lag = 0.0
            if status.events_waiting and status.rollups_as_of is not None:
                lag = (datetime.now(UTC) - status.rollups_as_of).total_seconds()
            self.rollup_lag.set(lag)
        return generate_latest(self.registry)


# --- logs ----------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(getattr(record, "fields", {}))
        return json.dumps(out, default=str)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """The logging setup for the service and uvicorn: JSON lines on stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            "creatorlens.serve": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


class RequestLog:
    """ASGI middleware: times and logs each request, counts it in the metrics, and answers
    any error that escaped the handlers with a JSON body (never a traceback)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        error_type = None
        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            error_type = type(exc).__name__
            if status["code"] == 0:
                status["code"] = 500
                response = error_response(
                    ApiError(500, "internal", "the service failed on this request")
                )
                await response(scope, receive, send)
        seconds = time.perf_counter() - started
        route = _route(scope)
        method = scope.get("method", "")
        service = getattr(scope.get("app"), "state", None)
        metrics = getattr(getattr(service, "service", None), "metrics", None)
        if metrics is not None:
            metrics.requests.labels(route, method, str(status["code"])).inc()
            metrics.latency.labels(route, method).observe(seconds)
        state = scope.get("state") or {}
        fields = {
            "method": method,
            "route": route,
            "status": status["code"],
            "ms": round(seconds * 1000, 2),
            "token_id": state.get("token_id"),
        }
        if error_type:
            fields["error_type"] = error_type
        log.log(logging.ERROR if error_type else logging.INFO, "request", extra={"fields": fields})


def _route(scope: Scope) -> str:
    """The route's template (`/v1/creators/{creator_id}/overview`), never the path's values."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path or "unmatched"


# --- endpoints -----------------------------------------------------------------------------


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    store: bool
    writer: bool


class Status(BaseModel):
    """How fresh the creator API's numbers are."""

    rollups_as_of: datetime | None
    events_waiting: int
    records_queued: int
    last_refresh_seconds: float | None
    writer_running: bool
    lake_events_waiting: int | None = None  # stored, not yet in the event lake (no lake: null)
    lake_as_of: datetime | None = None  # every event stored before this is in the lake


router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="The store is open and the writer running",
    responses={503: {"model": Readiness, "description": "Not ready"}},
)
def readyz(request: Request) -> Any:
    service = request.app.state.service
    store = service is not None and service.store is not None
    writer = service is not None and service.writer is not None and service.writer.running
    body = Readiness(
        status="ready" if store and writer else "not ready", store=store, writer=writer
    )
    if store and writer:
        return body
    return JSONResponse(body.model_dump(), status_code=503)


@router.get("/v1/status", response_model=Status, summary="How fresh the rollups are")
def status(request: Request) -> Status:
    s = request.app.state.service.writer.status()
    return Status(
        rollups_as_of=s.rollups_as_of,
        events_waiting=s.events_waiting,
        records_queued=s.records_queued,
        last_refresh_seconds=s.last_refresh_seconds,
        writer_running=s.running,
        lake_events_waiting=s.lake_events_waiting,
        lake_as_of=s.lake_as_of,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    service = request.app.state.service
    body = service.metrics.render(service.writer)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def setup_logging(level: str = "INFO") -> None:
    """JSON logs on stderr (for running the app without `creatorlens serve`)."""
    import logging.config

    logging.config.dictConfig(logging_config(level))
    sys.stderr.flush()
