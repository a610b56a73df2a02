"""Third-party apps against the real server: an app registered with `creatorlens apps
create`, a creator consenting on the page, the OAuth 2 code flow with PKCE over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import run_cli
from tests.query.conftest import crowd_db, hand_db  # noqa: F401 (fixtures)
from tests.serve.conftest import Server, create_token, server_factory  # noqa: F401

REDIRECT = "http://127.0.0.1:9/callback"  # never followed: the code is read off the redirect


@dataclass(frozen=True)
class RegisteredApp:
    client_id: str
    secret: str
    redirect: str


def register_app(db: Path, name: str = "Acme Stats", redirect: str = REDIRECT) -> RegisteredApp:
    """`creatorlens apps create`, as the operator runs it: the secret is the last line."""
    out = run_cli(
        "apps", "create", "--db", str(db), "--name", name, "--redirect", redirect, check=True
    ).stdout
    client_id = re.search(r"client_id: (\S+)", out).group(1)
    return RegisteredApp(client_id, out.strip().splitlines()[-1], redirect)


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636), computed here independently."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize_params(app: RegisteredApp, scope: str, challenge: str, state: str = "st-1"):
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def consent(server: Server, params: dict, creator_token: str, decision: str = "approve"):
    """Load the consent page and submit its form, as a browser would (cookies kept)."""
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        page = browser.get("/oauth/authorize", params=params)
        assert page.status_code == 200, page.text
        csrf = re.search(r'name=csrf_token value="([^"]+)"', page.text).group(1)
        form = {**params, "csrf_token": csrf, "creator_token": creator_token, "decision": decision}
        return browser.post("/oauth/authorize", data=form)


def redirect_query(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(server: Server, app: RegisteredApp, code: str, verifier: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": app.redirect,
        "code_verifier": verifier,
    }
    return httpx.post(server.url + "/oauth/token", data=form, auth=(app.client_id, app.secret))


def refresh(server: Server, app: RegisteredApp, token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": token}
    return httpx.post(server.url + "/oauth/token", data=form, auth=(app.client_id, app.secret))


def tokens_for(server: Server, app: RegisteredApp, creator_token: str, scope: str) -> dict:
    """The whole flow: consent, code, tokens."""
    verifier, challenge = pkce()
    answer = redirect_query(consent(server, authorize_params(app, scope, challenge), creator_token))
    response = exchange(server, app, answer["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()


def copy_store(db: Path, target: Path) -> Path:
    """A writable copy of a store (and its key file) in `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for path in db.parent.glob(db.name + "*"):
        if not path.name.endswith((".tokens", ".apps")):
            shutil.copy(path, target / path.name)
    return target / db.name


def write_policy(path: Path, **apps: float) -> Path:
    """A policy file: the privacy defaults, and these `[apps]` settings."""
    lines = ["[privacy]", "", "[apps]", *(f"{k} = {v!r}" for k, v in apps.items())]
    path.write_text("\n".join(lines) + "\n")
    return path


class AppServer(NamedTuple):
    server: Server
    app: RegisteredApp  # registered before the server started
    creator: str  # a creator token of CREATOR
    db: Path


@pytest.fixture(scope="session")
def app_server(hand_db, tmp_path_factory) -> Iterator[AppServer]:  # noqa: F811
    """One server for the app tests: a copy of the hand-made store, an app registered, a
    creator token. Tests register their own apps when they end one."""
    from tests.query.conftest import CREATOR

    db = copy_store(hand_db, tmp_path_factory.mktemp("apps-served"))
    # A budget the tests' questions cannot spend (the budget's own tests set small ones).
    policy = write_policy(db.with_name("policy.toml"), monthly_epsilon=100_000.0)
    app, creator = register_app(db), create_token(db, "--creator", CREATOR)
    server = Server(db, ("--creator-rate", "10000", "--policy", str(policy))).start()
    yield AppServer(server, app, creator, db)
    server.stop()
