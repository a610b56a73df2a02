"""Creator Studio in the browser: the pages, their scripts and styles, and the live stream.

`install(app)` adds them to the service's app: the pages at `/`, this package's `static/`
folder at `/static`, the charting library (Apache ECharts, installed by `scripts/setup` from
`package-lock.json` into `node_modules`, never a CDN) at `/vendor/echarts`, and the stream
of rollup refreshes at `/v1/creators/{id}/stream`. Every number a page shows is an answer
of the creator API, fetched by the page with its session cookie.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from creatorlens.web import pages, stream
from creatorlens.web.refreshes import Refreshes
from creatorlens.web.session import Sessions

__all__ = ["Refreshes", "Sessions", "install"]

HERE = Path(__file__).parent
ECHARTS = HERE / "node_modules" / "echarts" / "dist"


def install(app: FastAPI) -> None:
    """Serve the dashboard from `app` (the service's sessions and refreshes back it)."""
    # Browsers run a module only when served as JavaScript; not every mime.types knows .mjs.
    mimetypes.add_type("text/javascript", ".mjs")
    app.include_router(pages.router)
    app.include_router(stream.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")
    # check_dir off: without `scripts/setup` the pages still show their tables, not charts.
    app.mount("/vendor/echarts", StaticFiles(directory=ECHARTS, check_dir=False), name="echarts")
