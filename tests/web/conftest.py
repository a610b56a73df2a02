"""The dashboard in a real browser: `creatorlens serve` on loopback (the service tests'
`Server`), a store made by the real pipeline, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import REPO, run_cli
from tests.serve.conftest import Server, create_token, module_server  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "web" / "artifacts"
# A platform big enough for most panels to clear the privacy thresholds, small enough to
# build in seconds: eight weeks, so 28 days have a previous period to compare with.
PLATFORM = ("--events", "80000", "--creators", "6", "--viewers", "3000", "--days", "56")


@dataclass
class Dashboard:
    """The server, its creators (most viewed first) and their tokens."""

    server: Server
    db: Path
    creators: list[str]
    tokens: dict[str, str]
    ingest: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, module_server) -> Dashboard:  # noqa: F811
    from creatorlens.studio import platform_creators

    work = tmp_path_factory.mktemp("web")
    platform, db = work / "platform", work / "store.duckdb"
    run_cli("generate", "--out", str(platform), "--seed", "7", *PLATFORM, check=True)
    files = [str(platform / f"{name}.ndjson") for name in ("accounts", "videos", "events")]
    run_cli("ingest", "--db", str(db), *files, check=True)
    creators = [c.creator_id for c in platform_creators(db, 2)]
    tokens = {c: create_token(db, "--creator", c) for c in creators}
    ingest = create_token(db, "--ingest")
    server = module_server(db)
    return Dashboard(server, db, creators, tokens, ingest)


def api(d: Dashboard, creator: str, path: str, **params) -> dict:
    """The creator API's answer for `path`, asked with the creator's bearer token."""
    response = httpx.get(
        f"{d.url}/v1/creators/{creator}/{path}",
        params=params,
        headers={"Authorization": f"Bearer {d.tokens[creator]}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


@dataclass
class Recorder:
    """Every request a page made, and every error it raised."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def off_loopback(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).hostname not in ("127.0.0.1", None)]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium: run scripts/setup")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def context(browser, recorder: Recorder) -> Iterator:
    """A fresh browser profile; at the end, no request left loopback and no script broke
    (a script refused by the Content-Security-Policy is an error too)."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.on("request", lambda request: recorder.requests.append(request.url))

    def watch(page) -> None:
        page.on("pageerror", lambda exc: recorder.errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda m: (
                recorder.errors.append(m.text)
                if "Content Security Policy" in m.text or "Refused to" in m.text
                else None
            ),
        )

    ctx.on("page", watch)
    yield ctx
    ctx.close()
    assert recorder.requests, "the browser made no request"
    assert recorder.off_loopback() == []
    assert recorder.errors == []


@pytest.fixture(scope="module")
def artifacts() -> Path:
    """Where the screenshots go (gitignored); emptied once per run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS
