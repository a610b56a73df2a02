"""The HTTP service as one ASGI app: the collector, the creator API and operations, on a
store this process holds open (DuckDB lets one process write a store file)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from creatorlens import __version__, apps, web
from creatorlens.lake import LakeFeed
from creatorlens.load import open_for_writing
from creatorlens.privacy import PrivacyPolicy, load_policy
from creatorlens.serve import collector, creator_api, errors, insights_api, live_api, operations
from creatorlens.serve.auth import Credentials, RateLimiter
from creatorlens.serve.operations import Metrics, RequestLog
from creatorlens.serve.writer import Writer
from creatorlens.web.refreshes import Refreshes
from creatorlens.web.session import Sessions

log = logging.getLogger("creatorlens.serve")


@dataclass(frozen=True)
class ServiceConfig:
    """How the service runs: its store and the limits it holds requests to."""

    db: Path
    keys: Path | None = None
    policy: Path | None = None
    max_body_bytes: int = 16 * 1024 * 1024  # on the wire and once gunzipped
    max_records: int = 100_000  # records in one request
    ingest_rate: float = 1_000.0  # requests a second per ingest key (bursts of twice that)
    creator_rate: float = 50.0  # requests a second per creator token (bursts of twice that)
    refresh_every: float = 1.0  # seconds between rollup refreshes while events arrive
    group_records: int = 50_000  # records of waiting requests stored in one transaction
    lake: Path | None = None  # the event lake the stored events are appended to, if any
    lake_every: float = 60.0  # seconds between appends to the lake while events arrive
    lake_events: int = 1_000_000  # an append to the lake as soon as this many events wait

    def lake_feed(self) -> LakeFeed | None:
        """How the writer feeds the lake (None: no lake)."""
        if self.lake is None:
            return None
        return LakeFeed(self.lake, every=self.lake_every, events=self.lake_events)


class Service:
    """What the endpoints share: the open store, its writer, the tokens, the limits."""

    def __init__(self, config: ServiceConfig):
        self.config = config
        self.policy: PrivacyPolicy = load_policy(config.policy)
        self.credentials = Credentials(config.db)
        self.ingest_limiter = RateLimiter(config.ingest_rate, 2 * config.ingest_rate)
        self.creator_limiter = RateLimiter(config.creator_rate, 2 * config.creator_rate)
        self.metrics = Metrics()
        self.sessions = Sessions(self.credentials)  # signed-in browsers (creatorlens.web)
        self.refreshes = Refreshes()  # tells the browsers' live streams of each refresh
        self.live_hub = live_api.LiveHub()  # wakes the LIVE streams when events are stored
        self.rooms = live_api.room_book(config.db)  # who is in each LIVE's room
        self.alert_watch = live_api.AlertWatch()  # when virality alerts were last looked for
        self.store: Any = None
        self.writer: Writer | None = None

    def open(self) -> None:
        """Open the store (a store held by another process, or a wrong key file, is a
        `UserError` here, before anything listens)."""
        if self.store is None:
            self.store = open_for_writing(
                self.config.db,
                keys=self.config.keys,
                view_threshold_ms=self.policy.view_threshold_ms,
            )

    def start(self) -> None:
        self.open()
        live_api.after_refresh(self)  # notifications caught up, ended rooms deleted
        self.writer = Writer(
            self.store,
            refresh_every=self.config.refresh_every,
            group_records=self.config.group_records,
            lake=self.config.lake_feed(),
            on_stored=self._stored,
            on_refreshed=self._refreshed,
        )
        self.writer.start()
        fields = {"db": str(self.config.db)}
        if self.config.lake is not None:
            fields["lake"] = str(self.config.lake)
        log.info("store open", extra={"fields": fields})

    def _refreshed(self, seconds: float) -> None:
        self.metrics.refresh.observe(seconds)
        self.refreshes.refreshed(seconds)
        live_api.after_refresh(self)

    def _stored(self, entity: str, summary: Any, seconds: float) -> None:
        self.metrics.stored(entity, summary, seconds)
        self.live_hub.stored()

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.stop()
        if self.store is not None:
            self.store.close()
            self.store = None


DESCRIPTION = """Privacy-first creator analytics over HTTP.

* **Collector** (`/v1/events`, `/v1/accounts`, `/v1/videos`, an ingest key): records as a
  JSON array or NDJSON, optionally gzip; validated, pseudonymized, stored exactly once.
* **Creator API** (a creator token): the sections of a creator's dashboard and the query
  model, every number through the privacy layer.
* **Apps** (`/oauth/authorize`, `/oauth/token`, `/v1/apps/...`, an app's access token):
  third-party apps granted scopes by a creator, answered with aggregates carrying
  differential-privacy noise within a monthly budget (docs/apps.md).
* **Operations**: `/healthz`, `/readyz`, `/v1/status`, `/metrics`.

Every error is a 4xx with `{"error": {"code", "field", "message"}}`.
"""


def create_app(config: ServiceConfig | None = None, *, service: Service | None = None) -> FastAPI:
    """The app (on a service already opened, if given); with neither it serves nothing but
    describes itself (`openapi()`)."""
    if service is None and config is not None:
        service = Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            service.start()
        try:
            yield
        finally:
            if service is not None:
                service.stop()

    app = FastAPI(
        title="creatorlens",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    errors.install(app)
    app.include_router(collector.router)
    app.include_router(creator_api.router)
    app.include_router(insights_api.router)  # insights and the brand card (issue 18)
    app.include_router(apps.router)  # consent page, token endpoint, app API, grants
    app.include_router(live_api.router)
    app.include_router(operations.router)
    web.install(app)
    app.add_middleware(RequestLog)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, without the validation-error schema it adds by default: the
    service answers bad input with its own error body, which each operation declares."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
