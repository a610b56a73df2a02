"""The insights through the CLI and the HTTP service (a real server in a subprocess)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.insights.conftest import VIRAL, WORKS
from tests.serve.conftest import create_token, module_server  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def policy_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_text("k_min = 2\ncell_min = 2\nnoise_scale = 1.0\n")
    return path


def test_the_cli_prints_every_insight(insights_db, policy_file) -> None:
    out = run_cli("insights", "--db", str(insights_db), "--creator", VIRAL, "--json",
                  "--policy", str(policy_file), check=True)  # fmt: skip
    found = json.loads(out.stdout)
    assert [a["video"] for a in found["virality"]["alerts"]] == ["v-viral"]
    assert set(found) >= {"best_times", "what_works", "trending", "sentiment", "virality",
                          "benchmark", "creator_fund"}  # fmt: skip
    text = run_cli("insights", "--db", str(insights_db), "--creator", WORKS,
                   "--policy", str(policy_file), check=True).stdout  # fmt: skip
    assert "s-double" in text and "Comment sentiment" in text


@pytest.fixture(scope="module")
def served(insights_db, tmp_path_factory, module_server):  # noqa: F811
    copy = tmp_path_factory.mktemp("served") / "store.duckdb"
    shutil.copy(insights_db, copy)
    shutil.copy(
        insights_db.with_name(insights_db.name + ".keys"), copy.with_name(copy.name + ".keys")
    )
    token = create_token(copy, "--creator", WORKS)
    server = module_server(copy)
    return server, token


def test_the_api_answers_the_insights_of_the_tokens_creator(served) -> None:
    server, token = served
    with server.client(token) as client:
        answer = client.get(f"/v1/creators/{WORKS}/insights", params={"period": "28d"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["creator_id"] == WORKS
        assert body["sentiment"]["non_english"] == 3
        other = client.get(f"/v1/creators/{VIRAL}/insights")
        assert other.status_code in (403, 404)


def test_a_card_is_published_read_by_anyone_and_revoked(served) -> None:
    server, token = served
    with server.client(token) as client:
        published = client.post(f"/v1/creators/{WORKS}/card")
        assert published.status_code == 200, published.text
        slug, card = published.json()["slug"], published.json()["card"]
        assert card["creator_id"] == WORKS and card["videos"] >= 1
    with server.client() as anyone:
        shown = anyone.get(f"/cards/{slug}")
        assert shown.status_code == 200
        assert shown.json()["avg_views_per_video"] == card["avg_views_per_video"]
        assert anyone.delete(f"/v1/creators/{WORKS}/card").status_code == 401
    with server.client(token) as client:
        revoked = client.delete(f"/v1/creators/{WORKS}/card")
        assert revoked.status_code == 200 and revoked.json()["revoked"] is True
        assert client.delete(f"/v1/creators/{WORKS}/card").status_code == 404
    with server.client() as anyone:
        gone = anyone.get(f"/cards/{slug}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
