"""The consent page in a real browser (Playwright driving Debian's Chromium): the creator
reads what the app asks, signs in with their creator token on the page, allows, and the
browser lands on the app's redirect with a code the app trades for tokens. Skipped only
where Chromium or Playwright is not installed."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.apps.conftest import authorize_params, exchange, pkce, register_app
from tests.query.conftest import CREATOR
from tests.serve.conftest import create_token

CHROMIUM = Path("/usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and shutil.which("chromium") is None, reason="no Chromium installed"
)


def test_a_creator_consents_in_the_browser(app_server) -> None:
    server, db = app_server.server, app_server.db
    # The app's redirect is a page of this server, so the browser really lands there.
    app = register_app(db, name="Browser App", redirect=server.url + "/healthz")
    creator = create_token(db, "--creator", CREATOR)
    verifier, challenge = pkce()
    params = authorize_params(app, "overview.read audience.read", challenge, state="br-7")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=["--no-sandbox"],
        )
        try:
            page = browser.new_page()
            page.goto(server.url + "/oauth/authorize?" + urlencode(params))
            assert page.locator("#app").inner_text() == "Browser App"
            scopes = page.locator("#scopes li").all_inner_texts()
            assert [s.split(":")[0] for s in scopes] == ["overview.read", "audience.read"]
            assert "who liked your videos" in page.content()
            page.fill("#creator_token", creator)
            with page.expect_navigation(url=lambda url: url.startswith(app.redirect)):
                page.click("#approve")
            landed = urlsplit(page.url)
            answer = {k: v[0] for k, v in parse_qs(landed.query).items()}
            assert answer["state"] == "br-7"

            # Signed in now: a second app's page knows the creator, no token asked.
            page.goto(server.url + "/oauth/authorize?" + urlencode(params))
            assert page.locator("#creator").inner_text() == CREATOR
            assert page.locator("#creator_token").count() == 0
        finally:
            browser.close()
    tokens = exchange(server, app, answer["code"], verifier)
    assert tokens.status_code == 200, tokens.text
    read = httpx.get(
        server.url + "/v1/apps/audience",
        params={"dimension": "age"},
        headers={"Authorization": f"Bearer {tokens.json()['access_token']}"},
    )
    assert read.status_code == 200, read.text
