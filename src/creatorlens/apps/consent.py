"""The consent page and the token endpoint: where a creator grants an app its scopes, and
where the app trades the code for tokens.

`GET /oauth/authorize` checks the app's request (Authlib) and shows the app, the scopes it
asks for and what no app ever gets; the creator signs in on the page with a creator token
(or is still signed in by the page's own cookie) and approves or denies. The form carries
a CSRF token that must match a cookie the page set (double submit, signed with a secret of
this server process), and the page may not be framed. `POST /oauth/token` is OAuth 2's
token endpoint: its errors are OAuth 2's (`{"error", "error_description"}`), as clients
expect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
from typing import Annotated, Any
from urllib.parse import parse_qs

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from creatorlens.apps.oauth import Request as OAuthRequest
from creatorlens.apps.scopes import NEVER_GRANTED, SCOPE_TEXT
from creatorlens.apps.state import apps_state
from creatorlens.serve.errors import ApiError

router = APIRouter(tags=["oauth"])

CSRF_COOKIE = "cl_csrf"
SESSION_COOKIE = "cl_session"
SESSION_SECONDS = 3600
# The parameters of an authorization request the form carries back.
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
MAX_FORM_BYTES = 16_384


# --- signed values (CSRF token, session) -------------------------------------------------------


def _sign(secret: bytes, value: str) -> str:
    mac = hmac.new(secret, value.encode(), hashlib.sha256).digest()
    return value + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _unsign(secret: bytes, signed: str | None) -> str | None:
    if not signed or "." not in signed:
        return None
    value = signed.rsplit(".", 1)[0]
    return value if hmac.compare_digest(_sign(secret, value), signed) else None


def _session_creator(request: Request) -> str | None:
    """The creator signed in by this page's cookie, while the token they signed in with
    still works."""
    state = apps_state(request)
    value = _unsign(state.signing, request.cookies.get(SESSION_COOKIE))
    if value is None:
        return None
    try:
        session = json.loads(base64.urlsafe_b64decode(value.encode()))
        creator, token_id, until = session["creator"], session["token"], session["until"]
    except (ValueError, KeyError, TypeError):
        return None
    if time.time() > until:
        return None
    service = request.app.state.service
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    for token in service.credentials.book().tokens:
        if token.token_id == token_id and token.kind == "creator" and token.usable(now):
            return creator if token.creator_id == creator else None
    return None


def _session_cookie(request: Request, creator: str, token_id: str) -> str:
    body = {"creator": creator, "token": token_id, "until": int(time.time()) + SESSION_SECONDS}
    value = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    return _sign(apps_state(request).signing, value)


# --- the page ----------------------------------------------------------------------------------


def _oauth_request(request: Request, values: dict[str, list[str]], form=None) -> OAuthRequest:
    return OAuthRequest(request.method, str(request.url), request.headers, values, form)


def _error_page(status: int, message: str) -> HTMLResponse:
    body = _page("Cannot continue", f"<p class=error>{html.escape(message)}</p>")
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _page(title: str, content: str) -> str:
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · creatorlens</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 34rem; margin: 3rem auto;
       padding: 0 1rem; color: #1c1c1c; }}
h1 {{ font-size: 1.4rem; }} .error {{ color: #a40000; font-weight: 600; }}
li {{ margin: .3rem 0; }} .never li {{ color: #555; }}
input[type=password] {{ width: 100%; padding: .5rem; font: inherit; }}
button {{ font: inherit; padding: .5rem 1.2rem; margin: 1rem .5rem 0 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
{content}
</body></html>"""


def _consent(
    request: Request,
    values: dict[str, str],
    app_name: str,
    scopes: list[str],
    creator: str | None,
    csrf: str,
    problem: str | None = None,
) -> str:
    hidden = "".join(
        f'<input type=hidden name="{k}" value="{html.escape(values[k])}">'
        for k in REQUEST_FIELDS
        if k in values
    )
    asked = "".join(f"<li><b>{s}</b>: {html.escape(SCOPE_TEXT[s])}</li>" for s in scopes)
    never = "".join(f"<li>{html.escape(n)}</li>" for n in NEVER_GRANTED)
    if creator:
        who = f"<p>Signed in as creator <b id=creator>{html.escape(creator)}</b>.</p>"
    else:
        who = (
            "<p><label for=creator_token>Sign in with your creator token</label><br>"
            "<input type=password id=creator_token name=creator_token autocomplete=off "
            "required></p>"
        )
    error = f"<p class=error role=alert>{html.escape(problem)}</p>" if problem else ""
    content = f"""
<p><b id=app>{html.escape(app_name)}</b> asks to read your analytics:</p>
<ul id=scopes>{asked}</ul>
<p>Apps get aggregates only, with differential-privacy noise, within a monthly budget.
No app ever gets:</p>
<ul class=never>{never}</ul>
<p>You can revoke this access at any time.</p>
{error}
<form method=post action="/oauth/authorize">
{hidden}<input type=hidden name=csrf_token value="{html.escape(csrf)}">
{who}
<button type=submit name=decision value=approve id=approve>Allow</button>
<button type=submit name=decision value=deny id=deny formnovalidate>Deny</button>
</form>"""
    return _page(f"Allow {app_name}?", content)


def _redirect(status: int, headers: list[tuple[str, str]]) -> Response:
    location = dict(headers).get("Location", "")
    return RedirectResponse(location, status_code=302 if status == 302 else status)


def _consent_grant(request: Request, values: dict[str, list[str]], creator: str | None):
    """Authlib's check of an authorization request: its grant, or the answer to a bad one
    (the app told by redirect when its redirect is known, else an error page). Plain http
    to anything but a loopback address is refused here (Authlib's insecure_transport)."""
    state = apps_state(request)
    try:
        oauth = _oauth_request(request, values)
        return state.server.get_consent_grant(request=oauth, end_user=creator)
    except OAuth2Error as error:
        if error.redirect_uri:  # the app and its redirect are known: tell the app
            try:
                return _redirect(*error(None)[::2])
            except ValueError:  # a description Authlib will not put in a URL
                pass
        return _error_page(400, f"{error.error}: {error.description or 'invalid request'}")
    except ValueError:  # Authlib refuses to echo a value it was sent (not ASCII...)
        return _error_page(400, "invalid_request: a parameter holds characters it may not")


def _show(request: Request, values: dict[str, list[str]], problem: str | None, status: int):
    """Check an authorization request and show its consent page (or why it cannot go on)."""
    state = apps_state(request)
    grant = _consent_grant(request, values, None)
    if isinstance(grant, Response):
        return grant
    client = grant.request.client
    scopes = grant.request.scope.split()
    flat = {k: v[0] for k, v in values.items() if v}
    nonce = secrets.token_urlsafe(24)
    csrf = _sign(state.signing, nonce)
    creator = _session_creator(request)
    page = _consent(request, flat, client.app.name, scopes, creator, csrf, problem)
    response = HTMLResponse(page, status_code=status, headers=PAGE_HEADERS)
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        httponly=True,
        samesite="strict",
        path="/oauth",
        max_age=3600,
        secure=request.url.scheme == "https",
    )
    return response


_PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The consent page",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    302: {"description": "Back to the app with a code (or an OAuth 2 error) and its state"},
    400: {
        "description": "A request that names no known app or redirect (never redirected)",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    401: {
        "description": "The creator token given on the page is not a usable creator token",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
    403: {
        "description": "The form's CSRF token does not match the page's cookie",
        "content": {"text/html": {"schema": {"type": "string"}}},
    },
}


@router.get(
    "/oauth/authorize",
    summary="The consent page: which app, which scopes; the creator signs in and decides",
    response_class=HTMLResponse,
    responses={k: v for k, v in _PAGE_RESPONSES.items() if k in (200, 302, 400)},
)
def authorize_page(
    request: Request,
    response_type: Annotated[str | None, Query(description="code")] = None,
    client_id: Annotated[str | None, Query(description="The app's client id")] = None,
    redirect_uri: Annotated[str | None, Query(description="One the app registered")] = None,
    scope: Annotated[str | None, Query(description="Space-separated scopes")] = None,
    state: Annotated[str | None, Query(description="Returned to the app unchanged")] = None,
    code_challenge: Annotated[str | None, Query(description="PKCE S256 challenge")] = None,
    code_challenge_method: Annotated[str | None, Query(description="S256")] = None,
) -> Response:
    values = parse_qs(request.url.query, keep_blank_values=True)
    return _show(request, values, None, 200)


@router.post(
    "/oauth/authorize",
    summary="The creator's decision on the consent page (a form with its CSRF token)",
    response_class=HTMLResponse,
    responses=_PAGE_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            **{k: {"type": "string"} for k in REQUEST_FIELDS},
                            "csrf_token": {"type": "string"},
                            "creator_token": {"type": "string"},
                            "decision": {"type": "string", "enum": ["approve", "deny"]},
                        },
                    }
                }
            },
        }
    },
)
async def authorize_decision(request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _error_page(400, "the form is too large")
    try:
        form = parse_qs(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return _error_page(400, "the form is not UTF-8")
    return await run_in_threadpool(_decide, request, form)


def _decide(request: Request, form: dict[str, list[str]]) -> Response:
    state = apps_state(request)
    first = {k: v[0] for k, v in form.items() if v}
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = first.get("csrf_token")
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        return _error_page(403, "the form expired or did not come from this page: reload it")
    if _unsign(state.signing, sent) is None:
        return _error_page(403, "the form did not come from this server: reload it")
    values = {k: form[k] for k in REQUEST_FIELDS if k in form}
    creator, token_id = _session_creator(request), None
    if creator is None and first.get("decision") == "approve":
        presented = first.get("creator_token", "")
        book = request.app.state.service.credentials
        try:
            token = book.verify(presented)
        except ApiError:
            token = None
        if token is None or token.kind != "creator" or token.creator_id is None:
            return _show(request, values, "That is not a usable creator token.", 401)
        creator, token_id = token.creator_id, token.token_id
    grant = _consent_grant(request, values, creator)
    if isinstance(grant, Response):
        return grant
    oauth = grant.request
    if first.get("decision") == "approve":
        state.ledger.grant(
            grant.request.client.get_client_id(), creator, tuple(grant.request.scope.split())
        )
        status, _, headers = state.server.create_authorization_response(
            request=oauth, grant_user=creator, grant=grant
        )
    else:
        status, _, headers = state.server.create_authorization_response(
            request=oauth, grant_user=None, grant=grant
        )
    response = _redirect(status, headers)
    response.delete_cookie(CSRF_COOKIE, path="/oauth")
    if token_id is not None:
        response.set_cookie(
            SESSION_COOKIE,
            _session_cookie(request, creator, token_id),
            httponly=True,
            samesite="lax",
            path="/oauth",
            max_age=SESSION_SECONDS,
            secure=request.url.scheme == "https",
        )
    return response


# --- the token endpoint ------------------------------------------------------------------------


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str | None = None


_TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/oauth/token",
    summary="OAuth 2 token endpoint: authorization_code (with code_verifier) or refresh_token",
    response_model=TokenAnswer,
    responses={
        400: {"model": OAuthErrorBody, "description": "An OAuth 2 error (invalid_grant...)"},
        401: {"model": OAuthErrorBody, "description": "The app's credentials are wrong"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "grant_type": {
                                "type": "string",
                                "enum": ["authorization_code", "refresh_token"],
                            },
                            "code": {"type": "string"},
                            "redirect_uri": {"type": "string"},
                            "code_verifier": {"type": "string"},
                            "refresh_token": {"type": "string"},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                        },
                        "required": ["grant_type"],
                    }
                }
            },
        }
    },
)
async def token(request: Request) -> Response:
    body = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
        return _oauth_error(400, "invalid_request", "send a form (x-www-form-urlencoded)")
    try:
        form = parse_qs(body.decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "the form is not UTF-8")
    return await run_in_threadpool(_token, request, form)


def _token(request: Request, form: dict[str, list[str]]) -> Response:
    state = apps_state(request)
    try:
        oauth = OAuthRequest("POST", str(request.url), request.headers, {}, form)
    except OAuth2Error as error:  # plain http to anything but a loopback address
        return _oauth_error(400, error.error, "OAuth 2 needs https (or a loopback address)")
    try:
        status, payload, headers = state.server.create_token_response(oauth)
    except ValueError:  # an error description Authlib refuses to echo
        return _oauth_error(400, "invalid_request", "invalid request")
    if isinstance(payload, list | tuple):
        payload = dict(payload)
    out = {**dict(headers), **_TOKEN_HEADERS}
    out.pop("Content-Type", None)
    status = status if status in (200, 400, 401) else 400
    return JSONResponse(payload, status_code=status, headers=out)


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=_TOKEN_HEADERS)
