"""The dashboard's pages: sign in and out, and a creator's Overview, Content, Video, Viewers,
Followers, Insights, LIVE and Notifications pages.

A page is a shell of HTML: its script asks the creator API for the section it shows (with
the session cookie) and draws it, so the page and its JSON link are two renderings of one
released answer. Nothing is computed here but who is signed in.
"""

from __future__ import annotations

import html
import secrets
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creatorlens.web.session import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Session,
    SessionEnded,
    same,
    same_origin,
    set_cookie,
)

HERE = Path(__file__).parent
FORM = "application/x-www-form-urlencoded"
TEMPLATES = HERE / "templates"

# No inline script or style, nothing from elsewhere: the pages load only this server's files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# The pages of a creator: path under /creators/{id}/, title, template.
PAGES = {
    "overview": "Overview",
    "content": "Content",
    "viewers": "Viewers",
    "followers": "Followers",
    "insights": "Insights",
    "live": "LIVE",
    "notifications": "Notifications",
}
NAV = [name for name in PAGES if name != "notifications"]  # the bell opens that one
# Pages of now, not of a period: no period picker.
TIMELESS = ("live", "notifications")

# What the sign-in page says when a browser is sent back to it.
REASONS = {
    "ended": "Your session has ended: sign in again.",
    "signed_out": "You are signed out.",
}

router = APIRouter(include_in_schema=False)


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text())


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})


def _signed_in(request: Request) -> Session | None:
    """The browser's session, or None (no cookie, or one that ended)."""
    try:
        found = request.app.state.service.sessions.find(request)
    except SessionEnded:
        return None
    return found[0] if found else None


def _to_signin(reason: str | None = None) -> RedirectResponse:
    url = "/signin" + (f"?reason={reason}" if reason else "")
    return RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})


# --- signing in and out ----------------------------------------------------------------------


def signin_page(request: Request, message: str = "", status: int = 200) -> HTMLResponse:
    """The sign-in form, with a fresh CSRF value in its cookie and in the form."""
    csrf = secrets.token_urlsafe(24)
    body = _template("signin.html").substitute(
        csrf=csrf,
        message=html.escape(message),
        message_hidden="" if message else "hidden",
    )
    response = _html(body, status)
    set_cookie(response, request, SIGNIN_COOKIE, csrf, path="/signin", max_age=3600)
    return response


@router.get("/signin")
def signin_form(request: Request, reason: str | None = None) -> Response:
    session = _signed_in(request)
    if session is not None and reason is None:
        return RedirectResponse(f"/creators/{session.creator_id}/overview", status_code=303)
    return signin_page(request, REASONS.get(reason or "", ""))


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form's fields (its first value each; anything else is empty)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return {}
    body = await request.body()
    if len(body) > 4096:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    return {name: values[0] for name, values in fields.items()}


@router.post("/signin")
async def signin(request: Request) -> Response:
    """Check the token once; on success a session cookie and the overview."""
    form = await _form(request)
    token, csrf = form.get("token", ""), form.get("csrf", "")
    if not same_origin(request) or not same(request.cookies.get(SIGNIN_COOKIE), csrf):
        return signin_page(request, "The sign-in form expired: please try again.", 403)
    service = request.app.state.service
    presented = token.strip()
    found = service.credentials.book().verify(presented) if presented else None
    if found is None:
        message = (
            "Enter your creator token."
            if not presented
            else "That token is unknown, revoked or expired: check it, or ask for a new one."
        )
        return signin_page(request, message, 401)
    if found.kind != "creator" or found.creator_id is None:
        return signin_page(request, "That is an ingest key: sign in with a creator token.", 403)
    cookie, session = service.sessions.open(found)
    response = RedirectResponse(f"/creators/{session.creator_id}/overview", status_code=303)
    set_cookie(response, request, SESSION_COOKIE, cookie)
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """End the session (a post from this server's page, with the session's CSRF value)."""
    csrf = (await _form(request)).get("csrf", "")
    session = _signed_in(request)
    if session is not None and (not same_origin(request) or not same(csrf, session.csrf)):
        return _html("<p>Sign-out refused: reload the page and try again.</p>", 403)
    request.app.state.service.sessions.close(request.cookies.get(SESSION_COOKIE))
    response = _to_signin("signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- a creator's pages -----------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    session = _signed_in(request)
    if session is None:
        return _to_signin()
    return RedirectResponse(f"/creators/{session.creator_id}/overview", status_code=303)


def _page(request: Request, creator_id: str, page: str, video_id: str = "") -> Response:
    try:
        found = request.app.state.service.sessions.find(request)
    except SessionEnded:
        return _to_signin("ended")
    if found is None:
        return _to_signin()
    session, _ = found
    if creator_id != session.creator_id:
        # Never a hint that another creator exists: the same page as a missing one.
        return _html(_template("missing.html").substitute(creator=session.creator_id), 404)
    policy = request.app.state.service.policy
    here = "content" if page == "video" else page
    nav = "\n".join(
        f'<a href="/creators/{creator_id}/{name}"'
        + (' aria-current="page"' if name == here else "")
        + f">{PAGES[name]}</a>"
        for name in NAV
    )
    title = PAGES.get(page, "Video")
    body = _template("page.html").substitute(
        title=html.escape(f"{title} {video_id}".strip()),
        page=page,
        creator=html.escape(creator_id),
        video=html.escape(video_id),
        csrf=session.csrf,
        k_min=policy.k_min,
        cell_min=policy.cell_min,
        nav=nav,
        bell_current=' aria-current="page"' if page == "notifications" else "",
        period_hidden="hidden" if page in TIMELESS else "",
        main=_template(f"{page}.html").substitute(
            creator=html.escape(creator_id), video=html.escape(video_id)
        ),
    )
    return _html(body)


@router.get("/creators/{creator_id}/overview")
def overview(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "overview")


@router.get("/creators/{creator_id}/content")
def content(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "content")


@router.get("/creators/{creator_id}/videos/{video_id}")
def video(request: Request, creator_id: str, video_id: str) -> Response:
    return _page(request, creator_id, "video", video_id)


@router.get("/creators/{creator_id}/viewers")
def viewers(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "viewers")


@router.get("/creators/{creator_id}/followers")
def followers(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "followers")


@router.get("/creators/{creator_id}/insights")
def insights(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "insights")


@router.get("/creators/{creator_id}/live")
def live(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "live")


@router.get("/creators/{creator_id}/notifications")
def notifications(request: Request, creator_id: str) -> Response:
    return _page(request, creator_id, "notifications")
