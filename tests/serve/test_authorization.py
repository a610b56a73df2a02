"""Who may ask what: a creator reads only their own data, through every endpoint, filter and
query body; revoked and expired tokens fail; an ingest key cannot read; a creator token
cannot ingest."""

from __future__ import annotations

from datetime import timedelta

import pytest

from creatorlens.store.tokens import TokenBook, tokens_path
from tests.conftest import run_cli
from tests.query.conftest import CREATOR, OTHER_CREATOR, PERSONAL, V1, V_OTHER
from tests.serve.conftest import Server, create_token


# Every creator endpoint, for a creator id and a video of theirs.
def creator_paths(creator: str, video: str) -> list[str]:
    base = f"/v1/creators/{creator}"
    return [
        f"{base}/overview",
        f"{base}/overview?compare=true&period=7d",
        f"{base}/videos",
        f"{base}/videos/{video}",
        f"{base}/videos/{video}/likers",
        f"{base}/followers",
        f"{base}/export?table=daily",
        f"{base}/export?table=videos&format=parquet",
    ]


EVENT = [{"event_id": "auth-1", "type": "save", "ts": "2026-10-12T12:00:00Z",
          "actor_id": "ana-public", "video_id": V1}]  # fmt: skip


@pytest.fixture(scope="module")
def tokens(hand_copy) -> dict[str, str]:
    db = hand_copy
    out = {
        "creator": create_token(db, "--creator", CREATOR),
        "other": create_token(db, "--creator", OTHER_CREATOR, "--expires", "30d"),
        "ingest": create_token(db, "--ingest", "--name", "apps"),
        "to_revoke": create_token(db, "--creator", CREATOR, "--name", "leaked"),
    }
    # A token that has expired, and one for a personal account (the CLI refuses to create
    # it; an account can turn personal after its token was made).
    book = TokenBook.load(tokens_path(db))
    _, out["expired"] = book.create("creator", creator_id=CREATOR, expires_in=timedelta(-1))
    _, out["personal"] = book.create("creator", creator_id=PERSONAL)
    return out


@pytest.fixture(scope="module")
def server(hand_copy, tokens, module_server) -> Server:
    return module_server(hand_copy)


def test_a_creator_reads_their_own_data(server, tokens) -> None:
    with server.client(tokens["creator"]) as client:
        for path in creator_paths(CREATOR, V1):
            assert client.get(path).status_code == 200, path


def test_another_creator_is_not_found_through_any_endpoint(server, tokens) -> None:
    with server.client(tokens["creator"]) as client:
        for path in creator_paths(OTHER_CREATOR, V_OTHER) + creator_paths("no-such-one", "x"):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"
        # Their video under the creator's own id is not found either.
        for path in creator_paths(CREATOR, V_OTHER)[3:5]:
            assert client.get(path).status_code == 404, path
    with server.client(tokens["other"]) as client:
        # B, whose token works, cannot read A.
        assert client.get(f"/v1/creators/{OTHER_CREATOR}/overview").status_code == 200
        for path in creator_paths(CREATOR, V1):
            assert client.get(path).status_code == 404, path


def test_another_creator_is_not_found_through_a_query_body_or_filter(server, tokens) -> None:
    with server.client(tokens["creator"]) as client:
        cases = [
            {"metrics": ["views"], "creator_id": OTHER_CREATOR},
            {"metrics": ["views"], "filters": [["is", "video", [V_OTHER]]]},
            {"metrics": ["views"], "filters": [["is_not", "video", [V1, V_OTHER]]]},
            {"metrics": ["likes"], "dimensions": ["day"], "filters": [["is", "video", [V_OTHER]]]},
        ]
        for body in cases:
            response = client.post("/v1/query", json=body)
            assert response.status_code == 404, body
        assert client.post("/v1/query", json={"metrics": ["views"]}).status_code == 200


def test_missing_unknown_and_malformed_tokens_are_401(server, tokens) -> None:
    forged = tokens["creator"][:-4] + "AAAA"
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {tokens['expired']}"},
    ):
        with server.client() as client:
            response = client.get(f"/v1/creators/{CREATOR}/overview", headers=headers)
            assert response.status_code == 401, headers
            assert response.json()["error"]["field"] == "authorization"
            assert response.headers["www-authenticate"] == "Bearer"
            posted = client.post("/v1/events", json=EVENT, headers=headers)
            assert posted.status_code == 401, headers


def test_a_revoked_token_fails_from_its_next_request(server, tokens, hand_copy) -> None:
    with server.client(tokens["to_revoke"]) as client:
        assert client.get(f"/v1/creators/{CREATOR}/overview").status_code == 200
        token_id = tokens["to_revoke"].split("_")[2]
        proc = run_cli("tokens", "revoke", token_id, "--db", str(hand_copy), check=True)
        assert "revoked" in proc.stdout
        assert client.get(f"/v1/creators/{CREATOR}/overview").status_code == 401
        assert client.post("/v1/query", json={"metrics": ["views"]}).status_code == 401


def test_an_ingest_key_cannot_read(server, tokens) -> None:
    with server.client(tokens["ingest"]) as client:
        for path in creator_paths(CREATOR, V1):
            response = client.get(path)
            assert response.status_code == 403, path
            assert response.json()["error"]["code"] == "forbidden"
        assert client.post("/v1/query", json={"metrics": ["views"]}).status_code == 403


def test_a_creator_token_cannot_ingest(server, tokens) -> None:
    with server.client(tokens["creator"]) as client:
        for entity in ("events", "accounts", "videos"):
            response = client.post(f"/v1/{entity}", json=EVENT)
            assert response.status_code == 403, entity
    with server.client(tokens["ingest"]) as client:
        # The same body with the ingest key is stored.
        assert client.post("/v1/events", json=EVENT).json()["accepted"] == 1


def test_a_personal_account_is_told_to_switch(server, tokens) -> None:
    with server.client(tokens["personal"]) as client:
        for path in (f"/v1/creators/{PERSONAL}/overview", f"/v1/creators/{PERSONAL}/videos"):
            response = client.get(path)
            assert response.status_code == 403
            error = response.json()["error"]
            assert error["code"] == "not_a_creator_account"
            assert "creator or business account" in error["message"]
        answer = client.post("/v1/query", json={"metrics": ["views"]})
        assert answer.status_code == 403


def test_the_token_file_holds_no_secret(hand_copy, tokens) -> None:
    text = tokens_path(hand_copy).read_text()
    for secret in tokens.values():
        assert secret not in text
        assert secret.split("_")[2] in text  # the token id is kept, with a hash
