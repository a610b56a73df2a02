"""Running the service: health, readiness, metrics, rate limits, logs that hold no person,
token or body, and the OpenAPI document as committed."""

from __future__ import annotations

import json
import time

import pytest

from creatorlens.serve.openapi import openapi_text
from tests.conftest import REPO
from tests.query.conftest import CREATOR, V1
from tests.serve.conftest import Server, create_token

CANARY = "device-canary-9c41d7"  # a viewer id that must never reach a log


@pytest.fixture(scope="module")
def ops(hand_copy, module_server):
    creator = create_token(hand_copy, "--creator", CREATOR)
    ingest = create_token(hand_copy, "--ingest")
    limited = create_token(hand_copy, "--creator", CREATOR, "--name", "limited")
    server: Server = module_server(hand_copy, "--creator-rate", "5")
    return server, {"creator": creator, "ingest": ingest, "limited": limited}


def test_health_and_readiness(ops) -> None:
    server, _ = ops
    with server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ready", "store": True, "writer": True}


def test_past_the_rate_limit_is_429_with_retry_after(ops) -> None:
    server, tokens = ops
    with server.client(tokens["limited"]) as client:
        statuses = [client.get("/v1/creators/other/overview").status_code for _ in range(40)]
        limited = client.get("/v1/creators/other/overview")
    assert 404 in statuses and 429 in statuses
    assert statuses.index(429) >= 10  # the burst (twice the rate) goes through first
    if limited.status_code == 429:
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
    # Another token has a bucket of its own.
    with server.client(tokens["creator"]) as client:
        assert client.get(f"/v1/creators/{CREATOR}/overview").status_code == 200
    time.sleep(1.2)
    with server.client(tokens["limited"]) as client:
        assert client.get(f"/v1/creators/{CREATOR}/overview").status_code == 200


def test_metrics_count_records_and_requests(ops) -> None:
    server, tokens = ops
    events = [
        {"event_id": "ops-1", "type": "view", "ts": "2026-10-12T12:00:00Z", "actor_id": CANARY,
         "video_id": V1, "watched_ms": 4000, "source": "for_you"},
        {"event_id": "ops-2", "type": "view", "ts": "2026-10-12T12:00:00Z", "actor_id": CANARY},
    ]  # fmt: skip
    with server.client(tokens["ingest"]) as client:
        assert client.post("/v1/events", json=events).json()["accepted"] == 1
        assert client.post("/v1/events", json=events).json()["duplicates"] == 1
    text = server.client().get("/metrics").text
    assert 'creatorlens_records_accepted_total{entity="events"} 1.0' in text
    assert 'creatorlens_records_duplicates_total{entity="events"} 1.0' in text
    assert 'creatorlens_records_quarantined_total{entity="events"} 2.0' in text
    assert 'creatorlens_http_request_seconds_count{method="POST",route="/v1/events"} 2.0' in text
    assert "creatorlens_rollup_lag_seconds" in text and "creatorlens_events_waiting" in text


def test_errors_are_json_everywhere(ops) -> None:
    server, _ = ops
    with server.client() as client:
        for response in (
            client.get("/no/such/page"),
            client.delete("/v1/events"),
            client.get("/v1/creators/x/overview"),
        ):
            assert 400 <= response.status_code < 500
            assert set(response.json()["error"]) == {"code", "field", "message"}


def test_logs_are_json_and_hold_no_person_token_or_body(ops) -> None:
    server, tokens = ops
    with server.client(tokens["creator"]) as client:
        client.get(f"/v1/creators/{CREATOR}/videos/{V1}/likers?period=28d")
        client.post("/v1/query", json={"metrics": ["views"], "filters": [["is", "city", [CANARY]]]})
    time.sleep(0.2)
    lines = server.logs().splitlines()
    records = [json.loads(line) for line in lines]  # every line is JSON
    requests = [r for r in records if r.get("msg") == "request"]
    assert requests and all({"route", "status", "ms"} <= set(r) for r in requests)
    assert any(r["route"] == "/v1/creators/{creator_id}/videos/{video_id}/likers" for r in requests)
    text = server.logs()
    for secret in tokens.values():
        assert secret not in text
    for leak in (CANARY, "ops-1", "ana-public", "for_you", "Bearer"):
        assert leak not in text


def test_the_served_openapi_is_the_committed_one(ops) -> None:
    server, _ = ops
    served = server.client().get("/openapi.json").json()
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert served == committed, (
        "docs/openapi.json is out of date: run "
        "`.venv/bin/python -m creatorlens.serve.openapi > docs/openapi.json`"
    )
    assert (REPO / "docs" / "openapi.json").read_text() == openapi_text()


def test_every_operation_declares_its_errors() -> None:
    document = json.loads(openapi_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "200" in codes, (method, path)
            assert "422" not in codes, (method, path)
            if path.startswith("/v1/") and path != "/v1/status":
                assert {"400", "401", "403", "429"} <= codes, (method, path)
