"""An app token reaches nothing but the app API: on every other route of the service it is
refused (403), or gets no more than a request with no token at all; and no app answer,
whatever it asks, names a person."""

from __future__ import annotations

import re

import httpx
from starlette.routing import Route

from creatorlens.serve.app import create_app
from tests.apps.conftest import tokens_for
from tests.query.conftest import (
    ANA,
    BIA,
    CAIO,
    CREATOR,
    DUDA,
    ENZO,
    FABI,
    GABI,
    HAND_EVENTS,
    V1,
)

ALL_SCOPES = "overview.read videos.read audience.read followers.read"
APP_ROUTES = ("/v1/apps/", "/oauth/")
PEOPLE = (ANA, BIA, CAIO, DUDA, ENZO, FABI, GABI)


def every_route() -> list[tuple[str, str]]:
    """Every (method, path) the service routes, in or out of its OpenAPI document (static
    file mounts aside), through the routers included in routers."""

    def walk(routes, prefix: str = ""):
        for route in routes:
            if hasattr(route, "original_router"):  # a router included with its context
                inner = prefix + (route.include_context.prefix or "")
                yield from walk(route.original_router.routes, inner)
            elif isinstance(route, Route):
                for method in sorted(route.methods or ()):
                    if method != "HEAD":
                        yield method, prefix + route.path

    return list(walk(create_app().routes))


def filled(path: str, client_id: str) -> str:
    values = {"creator_id": CREATOR, "video_id": V1, "client_id": client_id, "slug": CREATOR}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)


def test_every_other_route_refuses_an_app_token(app_server) -> None:
    server, app, creator, db = app_server
    access = tokens_for(server, app, creator, ALL_SCOPES)["access_token"]
    routes = [r for r in every_route() if not r[1].startswith(APP_ROUTES)]
    assert len(routes) >= 20  # the creator API, the collector, LIVE, notifications, web...
    checked = []
    with httpx.Client(base_url=server.url, timeout=20) as http:
        for method, path in routes:
            url = filled(path, app.client_id)
            as_app = http.request(method, url, headers={"Authorization": f"Bearer {access}"})
            anonymous = http.request(method, url)
            if as_app.status_code in (403, 404, 405):
                checked.append(path)
                continue
            # Not refused: then the app token got exactly what anyone gets (a public page,
            # health, a public card), never more.
            assert as_app.status_code == anonymous.status_code, (method, path, as_app.text)
            assert not any(p in as_app.text for p in PEOPLE), (method, path)
    # Everything about a creator is refused outright: likers, LIVE, notifications, exports...
    for needle in ("likers", "live", "notifications", "export", "/v1/query", "/v1/grants"):
        assert any(needle in p for p in checked), needle
    likers = httpx.get(
        server.url + f"/v1/creators/{CREATOR}/videos/{V1}/likers",
        headers={"Authorization": f"Bearer {access}"},
    )
    assert likers.status_code == 403
    assert likers.json()["error"]["message"].startswith("an app token reads the app API")


def test_no_app_answer_names_a_person(app_server) -> None:
    server, app, creator, db = app_server
    access = tokens_for(server, app, creator, ALL_SCOPES)["access_token"]
    auth = {"Authorization": f"Bearer {access}"}
    actors = {e.get("actor_id") for e in HAND_EVENTS} - {None, CREATOR}
    assert set(PEOPLE) <= actors | {DUDA, CAIO, BIA}
    texts = []
    with httpx.Client(base_url=server.url, timeout=30, headers=auth) as http:
        for path, params in (
            ("/v1/apps/overview", {"period": "365d", "compare": "true"}),
            ("/v1/apps/videos", {"period": "365d", "limit": 50}),
            ("/v1/apps/audience", {"dimension": "age", "period": "365d"}),
            ("/v1/apps/audience", {"dimension": "country", "period": "365d"}),
            ("/v1/apps/followers", {"period": "365d"}),
        ):
            response = http.get(path, params=params)
            assert response.status_code == 200, response.text
            texts.append(response.text)
        for question in (
            {"metrics": ["reach", "views"], "dimensions": ["gender"], "period": "365d"},
            {"metrics": ["likes", "comments"], "dimensions": ["day"], "period": "28d"},
            {"metrics": ["views"], "dimensions": ["source"], "period": "365d"},
        ):
            response = http.post("/v1/apps/query", json=question)
            assert response.status_code == 200, response.text
            texts.append(response.text)
        # What an app may never ask, however it asks: city, hour, person filters.
        for question, field in (
            ({"metrics": ["reach"], "dimensions": ["city"]}, "dimensions"),
            ({"metrics": ["views"], "dimensions": ["hour"]}, "dimensions"),
            ({"metrics": ["views"], "filters": [["is", "country", ["BR"]]]}, "filters"),
            ({"metrics": ["engaged_audience"]}, "metrics"),
            ({"metrics": ["views"], "dimensions": ["day", "video"]}, "dimensions"),
        ):
            refused = http.post("/v1/apps/query", json=question)
            assert refused.status_code == 400, (question, refused.text)
            assert refused.json()["error"]["field"] == field
    for text in texts:
        assert not any(person in text for person in actors), text[:300]
