"""The creator API answers what `creatorlens report --json` prints, section by section, and
the query model as JSON; exports hold the same released rows."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from tests.query.conftest import CREATOR, V1, V2, report_json
from tests.serve.conftest import Server, create_token

FROM, TO = "2026-10-10", "2026-10-16"
WINDOW = {"from": FROM, "to": TO}


@pytest.fixture(scope="module")
def served(hand_copy, module_server):
    """The reports printed by the CLI first (the server then holds the store), then the
    server with a creator token."""
    reports = {
        "plain": report_json(hand_copy, CREATOR, "--from", FROM, "--to", TO).data,
        "compare": report_json(hand_copy, CREATOR, "--from", FROM, "--to", TO, "--compare").data,
        "7d": report_json(hand_copy, CREATOR, "--period", "7d").data,
    }
    token = create_token(hand_copy, "--creator", CREATOR)
    server: Server = module_server(hand_copy)
    with server.client(token) as client:
        yield client, reports


def _get(client, path: str, **params) -> dict:
    response = client.get(f"/v1/creators/{CREATOR}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_overview_is_the_report_overview(served) -> None:
    client, reports = served
    plain = _get(client, "overview", **WINDOW)
    assert plain["overview"] == reports["plain"]["overview"]
    assert plain["period"] == reports["plain"]["period"]
    assert plain["notes"] == reports["plain"]["notes"]
    compared = _get(client, "overview", compare="true", **WINDOW)
    assert compared["overview"] == reports["compare"]["overview"]
    assert compared["notes"] == reports["compare"]["notes"]
    named = _get(client, "overview", period="7d")
    assert named["overview"] == reports["7d"]["overview"]
    # What the section withheld is among what the report withheld.
    assert all(w in reports["plain"]["withheld"] for w in plain["withheld"])


def test_the_hand_figures_come_through(served) -> None:
    # tests/query/test_metrics.py derives these by hand for the period.
    client, _ = served
    totals = _get(client, "overview", **WINDOW)["overview"]["totals"]
    assert totals["views"] == 8 and totals["plays"] == 10
    assert totals["total_watch_ms"] == 69_499
    assert totals["profile_views"] == 2 and totals["comments"] == 2 and totals["shares"] == 3


def test_videos_and_one_video_are_the_report_videos(served) -> None:
    client, reports = served
    assert _get(client, "videos", **WINDOW)["videos"] == reports["plain"]["videos"]
    by_id = {v["video"]: v for v in reports["plain"]["videos"]}
    for video in (V1, V2):
        answer = _get(client, f"videos/{video}", **WINDOW)
        assert answer["video"] == by_id[video]
    likers = _get(client, f"videos/{V1}/likers")
    assert likers["likers"] == by_id[V1]["likers"]


def test_followers_are_the_report_followers(served) -> None:
    client, reports = served
    assert _get(client, "followers", **WINDOW)["followers"] == reports["plain"]["followers"]


def test_query_answers_the_query_model(served) -> None:
    client, reports = served
    body = {"metrics": ["views", "plays", "total_watch_ms"], "dimensions": ["day"], **WINDOW}
    answer = client.post("/v1/query", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["totals"] == {"day": None, "views": 8, "plays": 10, "total_watch_ms": 69_499}
    daily = {r["day"]: r for r in reports["plain"]["overview"]["daily"]}
    for row in result["rows"]:
        assert row["views"] == daily[row["day"]]["views"]
    # The creator's own id in the body is allowed; a filter on its own video too.
    own = {**body, "creator_id": CREATOR, "filters": [["is", "video", [V2]]]}
    assert client.post("/v1/query", json=own).status_code == 200


def test_export_holds_the_section_rows(served) -> None:
    client, reports = served
    daily = reports["plain"]["overview"]["daily"]
    response = client.get(f"/v1/creators/{CREATOR}/export", params={"table": "daily", **WINDOW})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["day"] for r in rows] == [d["day"] for d in daily]
    assert [int(r["views"]) for r in rows] == [d["views"] for d in daily]
    parquet = client.get(
        f"/v1/creators/{CREATOR}/export", params={"table": "videos", "format": "parquet", **WINDOW}
    )
    assert parquet.status_code == 200
    table = pq.read_table(io.BytesIO(parquet.content))
    listed = [v["video"] for v in reports["plain"]["videos"]]
    assert table.column("video").to_pylist() == listed
    assert table.column("views").to_pylist() == [v["views"] for v in reports["plain"]["videos"]]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("overview", {"period": "9d"}, "period"),
        ("overview", {"from": "2026-10-16", "to": "2026-10-10"}, "to"),
        ("overview", {"from": "2026-10-10"}, "period"),
        ("overview", {"from": "2026-13-01", "to": "2026-13-02"}, "from"),
        ("overview", {"from": "yesterday", "to": "2026-10-10"}, "from"),
        ("overview", {"period": "7d", "from": FROM, "to": TO}, "period"),
        ("videos", {"limit": "0"}, "limit"),
        ("videos", {"limit": "many"}, "limit"),
        ("export", {"format": "xlsx"}, "format"),
        ("export", {"table": "viewers"}, "table"),
    ],
)
def test_bad_parameters_name_the_field(served, path, params, field) -> None:
    client, _ = served
    response = client.get(f"/v1/creators/{CREATOR}/{path}", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["code"] and error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": ["viewz"]}, "metrics"),
        ({"metrics": []}, "metrics"),
        ({"metrics": "views"}, "metrics"),
        ({"metrics": ["views"], "dimensions": ["shoe_size"]}, "dimensions"),
        ({"metrics": ["profile_views"], "dimensions": ["video"]}, "dimensions"),
        ({"metrics": ["views"], "from": TO, "to": FROM}, "to"),
        ({"metrics": ["views"], "period": "1y"}, "period"),
        ({"metrics": ["views"], "limit": -1}, "limit"),
        ({"metrics": ["views"], "compare": "yes"}, "compare"),
        ({"metrics": ["views"], "filters": [["like", "video", ["x"]]]}, "filters[0]"),
        ({"metrics": ["views"], "wat": 1}, "wat"),
        ({"metrics": ["views"], "creator_id": 7}, "creator_id"),
    ],
)
def test_bad_queries_name_the_field(served, body, field) -> None:
    client, _ = served
    response = client.post("/v1/query", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field


def test_malformed_query_bodies(served) -> None:
    client, _ = served
    cases = [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (json.dumps({"metrics": ["views"]}).encode(), "text/plain", 415),
        (b"{" + b" " * 70_000 + b"}", "application/json", 413),
    ]
    for content, media, status in cases:
        response = client.post("/v1/query", content=content, headers={"Content-Type": media})
        assert response.status_code == status, response.text
        assert set(response.json()["error"]) == {"code", "field", "message"}
