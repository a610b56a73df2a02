"""The OAuth 2 flow against the real server over HTTP: consent, code with PKCE, tokens,
scoped reads, refresh rotation, revocation by the creator and by the operator, expiry."""

from __future__ import annotations

import re
import time

import httpx

from tests.apps.conftest import (
    authorize_params,
    consent,
    copy_store,
    exchange,
    pkce,
    redirect_query,
    refresh,
    register_app,
    tokens_for,
)
from tests.conftest import run_cli
from tests.query.conftest import CREATOR, OTHER_CREATOR
from tests.serve.conftest import create_token


def get(server, token: str, path: str, **params) -> httpx.Response:
    return httpx.get(
        server.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_consent_code_tokens_and_scoped_reads(app_server) -> None:
    server, app, creator, db = app_server
    verifier, challenge = pkce()
    params = authorize_params(app, "overview.read followers.read", challenge, state="s-42")
    page = httpx.get(server.url + "/oauth/authorize", params=params)
    # The page names the app and each scope asked for, and what no app ever gets.
    assert "Acme Stats" in page.text
    assert "overview.read" in page.text and "followers.read" in page.text
    assert "videos.read" not in page.text
    assert "who liked your videos" in page.text
    assert page.headers["x-frame-options"] == "DENY"

    answer = redirect_query(consent(server, params, creator))
    assert answer["state"] == "s-42" and len(answer["code"]) >= 40
    response = exchange(server, app, answer["code"], verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "overview.read followers.read"

    access = tokens["access_token"]
    overview = get(server, access, "/v1/apps/overview", period="28d")
    assert overview.status_code == 200, overview.text
    body = overview.json()
    assert body["query"]["creator_id"] == CREATOR
    assert set(body["totals"]) == {
        "views",
        "reach",
        "likes",
        "comments",
        "shares",
        "total_watch_ms",
    }
    assert all(isinstance(v, int) and v >= 0 for v in body["totals"].values())
    assert sorted(body["noise"]["noisy"]) == sorted(body["totals"])
    assert body["noise"]["error_bound"]["reach"] > 0
    assert body["budget"]["epsilon_spent"] == body["noise"]["epsilon"] == 3.0
    assert get(server, access, "/v1/apps/followers").status_code == 200

    # Scopes not granted: 403, naming the scope.
    for path in ("/v1/apps/videos", "/v1/apps/audience"):
        refused = get(server, access, path)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "insufficient_scope"
    asked = httpx.post(
        server.url + "/v1/apps/query",
        json={"metrics": ["views"], "dimensions": ["video"]},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert asked.status_code == 403 and "videos.read" in asked.json()["error"]["message"]
    # Another creator's data is not found for this token.
    other = httpx.post(
        server.url + "/v1/apps/query",
        json={"creator_id": OTHER_CREATOR, "metrics": ["views"]},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert other.status_code == 404


def test_pkce_is_required_and_checked(app_server) -> None:
    server, app, creator, db = app_server
    # No challenge: the app is told, by redirect, that its request is invalid.
    verifier, challenge = pkce()
    params = authorize_params(app, "overview.read", challenge)
    plain = {**params, "code_challenge_method": "plain", "code_challenge": verifier}
    told = httpx.get(server.url + "/oauth/authorize", params=plain)
    assert redirect_query(told)["error"] == "invalid_request"
    missing = {k: v for k, v in params.items() if not k.startswith("code_challenge")}
    assert (
        redirect_query(httpx.get(server.url + "/oauth/authorize", params=missing))["error"]
        == "invalid_request"
    )
    # A wrong verifier: invalid_grant; and the code is then used up.
    code = redirect_query(consent(server, params, creator))["code"]
    wrong = exchange(server, app, code, pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert exchange(server, app, code, verifier).json()["error"] == "invalid_grant"


def test_a_code_works_once_and_only_for_its_app(app_server) -> None:
    server, app, creator, db = app_server
    other_app = register_app(db, name="Other App")
    verifier, challenge = pkce()
    code = redirect_query(
        consent(server, authorize_params(app, "overview.read", challenge), creator)
    )["code"]
    stolen = exchange(server, other_app, code, verifier)
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    verifier, challenge = pkce()
    code = redirect_query(
        consent(server, authorize_params(app, "overview.read", challenge), creator)
    )["code"]
    assert exchange(server, app, code, verifier).status_code == 200
    again = exchange(server, app, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # A wrong client secret: 401.
    bad = httpx.post(
        server.url + "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        auth=(app.client_id, "cl_s_wrong"),
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_consent_page_refuses_bad_requests_and_forms(app_server) -> None:
    server, app, creator, db = app_server
    _, challenge = pkce()
    params = authorize_params(app, "overview.read", challenge)
    # An unknown app or redirect is never redirected to.
    for changed in ({"client_id": "app_nope"}, {"redirect_uri": "https://evil.example/cb"}):
        page = httpx.get(server.url + "/oauth/authorize", params={**params, **changed})
        assert page.status_code == 400 and "location" not in page.headers
    # A scope that is never grantable (or unknown): the app is told invalid_scope.
    for scope in ("likers.read", "overview.read notifications.read", ""):
        told = httpx.get(server.url + "/oauth/authorize", params={**params, "scope": scope})
        assert redirect_query(told)["error"] == "invalid_scope", scope
    # A form posted without the page's CSRF cookie (another site's form): 403.
    form = {**params, "csrf_token": "x.y", "creator_token": creator, "decision": "approve"}
    forged = httpx.post(server.url + "/oauth/authorize", data=form)
    assert forged.status_code == 403 and "location" not in forged.headers
    # A wrong creator token: the page again, saying so, and no code.
    wrong = consent(server, params, "cl_c_nope_nope")
    assert wrong.status_code == 401 and "not a usable creator token" in wrong.text
    # The creator denies: the app is told access_denied.
    assert redirect_query(consent(server, params, creator, "deny"))["error"] == "access_denied"


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_grant(app_server) -> None:
    server, app, creator, db = app_server
    first = tokens_for(server, app, creator, "overview.read")
    second = refresh(server, app, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert get(server, second["access_token"], "/v1/apps/budget").status_code == 200
    # The old refresh token comes back (a stolen copy): refused, and every token of the
    # app for this creator ends with it.
    replay = refresh(server, app, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert get(server, second["access_token"], "/v1/apps/budget").status_code == 401
    assert refresh(server, app, second["refresh_token"]).status_code == 400


def test_revoked_by_the_creator_or_the_operator_is_401(app_server) -> None:
    server, app, creator, db = app_server
    tokens = tokens_for(server, app, creator, "overview.read")
    access = tokens["access_token"]
    grants = get(server, creator, "/v1/grants").json()["grants"]
    mine = [g for g in grants if g["client_id"] == app.client_id]
    assert mine[0]["app_name"] == "Acme Stats" and mine[0]["revoked_at"] is None
    gone = httpx.delete(
        server.url + f"/v1/grants/{app.client_id}", headers={"Authorization": f"Bearer {creator}"}
    )
    assert gone.status_code == 200 and gone.json()["revoked_at"]
    assert get(server, access, "/v1/apps/overview").status_code == 401
    assert refresh(server, app, tokens["refresh_token"]).status_code == 400
    again = httpx.delete(
        server.url + f"/v1/grants/{app.client_id}", headers={"Authorization": f"Bearer {creator}"}
    )
    assert again.status_code == 404
    listed = get(server, creator, "/v1/grants").json()["grants"]
    assert [g["revoked_at"] is not None for g in listed if g["client_id"] == app.client_id][0]

    # Granted again, then the operator ends this creator's grant from the command line.
    access = tokens_for(server, app, creator, "overview.read")["access_token"]
    assert get(server, access, "/v1/apps/budget").status_code == 200
    run_cli("apps", "revoke", app.client_id, "--db", str(db), "--creator", CREATOR, check=True)
    assert get(server, access, "/v1/apps/budget").status_code == 401
    # ... and revokes another app whole: its tokens fail, its consent page is gone.
    other = register_app(db, name="Doomed App")
    access = tokens_for(server, other, creator, "overview.read")["access_token"]
    assert get(server, access, "/v1/apps/budget").status_code == 200
    run_cli("apps", "revoke", other.client_id, "--db", str(db), check=True)
    assert get(server, access, "/v1/apps/budget").status_code == 401
    listing = run_cli("apps", "list", "--db", str(db), check=True).stdout
    assert re.search(rf"{other.client_id}.*revoked", listing)
    _, challenge = pkce()
    page = httpx.get(
        server.url + "/oauth/authorize", params=authorize_params(other, "overview.read", challenge)
    )
    assert page.status_code == 400


def test_an_expired_access_token_is_401(hand_db, tmp_path, server_factory, monkeypatch) -> None:
    monkeypatch.setenv("CREATORLENS_APP_ACCESS_SECONDS", "1")
    db = copy_store(hand_db, tmp_path / "expiry")
    server = server_factory(db)
    app, creator = register_app(db), create_token(db, "--creator", CREATOR)
    tokens = tokens_for(server, app, creator, "overview.read")
    assert tokens["expires_in"] == 1
    time.sleep(1.5)  # let the token's lifetime pass (nothing here is timed)
    assert get(server, tokens["access_token"], "/v1/apps/budget").status_code == 401
    renewed = refresh(server, app, tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text


def test_oauth_over_plain_http_to_a_public_host_is_refused(app_server) -> None:
    server, app, creator, db = app_server
    _, challenge = pkce()
    params = authorize_params(app, "overview.read", challenge)
    # As reached through a proxy that did not say it terminated TLS: refused, never a 5xx.
    public = {"Host": "stats.example.com"}
    page = httpx.get(server.url + "/oauth/authorize", params=params, headers=public)
    assert page.status_code == 400 and "insecure_transport" in page.text
    token = httpx.post(
        server.url + "/oauth/token", data={"grant_type": "refresh_token"}, headers=public
    )
    assert token.status_code == 400 and token.json()["error"] == "insecure_transport"
