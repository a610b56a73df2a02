"""Collector -> rollups -> creator API on the real server, with figures worked out by hand,
and what the collector does with bad input: good records stored, bad ones named."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from tests.serve.conftest import Server, create_token

CREATOR = "cr-utc"
VIDEO = "vid-1"  # 10 s long
ACCOUNTS = [
    {"account_id": CREATOR, "kind": "creator", "is_private": False, "timezone": "UTC",
     "analytics_opt_out": False, "created_at": "2024-01-01T00:00:00Z"},
    *({"account_id": name, "kind": "personal", "is_private": private, "birth_year": 1990,
       "gender": "female", "country": "BR", "analytics_opt_out": False,
       "created_at": "2024-01-01T00:00:00Z"}
      for name, private in (("va", False), ("vb", False), ("vc", False), ("vd", True))),
]  # fmt: skip
VIDEOS = [{"video_id": VIDEO, "creator_id": CREATOR, "posted_at": "2026-11-01T08:00:00Z",
           "duration_ms": 10_000, "caption": "hello", "hashtags": ["fyp", "cats"]}]  # fmt: skip


def view(event_id, actor, ts, watched, source="for_you"):
    return {"event_id": event_id, "type": "view", "ts": ts, "actor_id": actor,
            "video_id": VIDEO, "watched_ms": watched, "source": source}  # fmt: skip


FIRST = [
    view("e1", "va", "2026-11-02T10:00:00Z", 5_000),  # a view
    view("e2", "vb", "2026-11-02T11:00:00Z", 2_000, "search"),  # a play, not a view
    view("e3", "vc", "2026-11-03T09:00:00Z", 12_000),  # a view, watched to the end
    {"event_id": "e4", "type": "like", "ts": "2026-11-02T10:00:03Z", "actor_id": "va",
     "video_id": VIDEO},
    {"event_id": "e5", "type": "comment", "ts": "2026-11-02T11:01:00Z", "actor_id": "vb",
     "video_id": VIDEO, "comment_id": "k1", "text": "hi"},
    {"event_id": "e6", "type": "share", "ts": "2026-11-03T09:01:00Z", "actor_id": "vc",
     "video_id": VIDEO, "channel": "whatsapp"},
    {"event_id": "e7", "type": "follow", "ts": "2026-11-02T12:00:00Z", "actor_id": "va",
     "target_id": CREATOR},
    {"event_id": "e8", "type": "profile_view", "ts": "2026-11-03T10:00:00Z", "actor_id": "vb",
     "target_id": CREATOR},
]  # fmt: skip
BAD = [
    {"event_id": "b1", "type": "view", "ts": "2026-11-02T10:00:00Z", "actor_id": "va",
     "video_id": VIDEO, "source": "for_you"},  # no watched_ms
    {"event_id": "b2", "type": "teleport", "ts": "2026-11-02T10:00:00Z", "actor_id": "va"},
    {"event_id": "b3", "type": "view", "ts": "yesterday", "actor_id": "va", "video_id": VIDEO,
     "watched_ms": 1000, "source": "for_you"},
    {"event_id": "b4", "type": "view", "ts": "2026-11-02T10:00:00Z", "actor_id": "va",
     "video_id": VIDEO, "watched_ms": "lots", "source": "for_you"},
]  # fmt: skip
WINDOW = {"from": "2026-11-02", "to": "2026-11-03"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory, module_server):
    """A server on a new store; its keys are made while it runs, as an operator would."""
    db = tmp_path_factory.mktemp("collector") / "store.duckdb"
    server: Server = module_server(db, "--max-body-bytes", "65536", "--max-records", "500")
    ingest = create_token(db, "--ingest")
    creator = create_token(db, "--creator", CREATOR)
    with server.client(ingest) as apps, server.client(creator) as studio:
        yield server, apps, studio


def _post(client, entity, records, **kw):
    response = client.post(f"/v1/{entity}", json=records, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def test_events_reach_the_creator_api_with_the_hand_figures(platform) -> None:
    server, apps, studio = platform
    assert _post(apps, "accounts", ACCOUNTS)["accepted"] == 5
    assert _post(apps, "videos", VIDEOS)["accepted"] == 1
    sent = time.time()
    answer = _post(apps, "events", FIRST[:3] + BAD + FIRST[3:])
    assert answer["accepted"] == 8 and answer["duplicates"] == 0
    assert answer["quarantined"] == 4
    fields = {r["index"]: r["field"] for r in answer["rejected"]}
    assert fields == {3: "watched_ms", 4: "type", 5: "ts", 6: "watched_ms"}
    assert all(r["reason"] for r in answer["rejected"])
    server.wait_fresh(sent)

    overview = studio.get(f"/v1/creators/{CREATOR}/overview", params=WINDOW).json()["overview"]
    totals = overview["totals"]
    assert totals["plays"] == 3  # e1, e2, e3
    assert totals["views"] == 2  # e2 played 2 s, under the 3 s of a view
    assert totals["total_watch_ms"] == 19_000
    assert totals["avg_watch_ms"] == pytest.approx(19_000 / 3)
    assert totals["full_watch_rate"] == pytest.approx(1 / 3)  # e3 watched 12 s of 10
    assert totals["reach"] == 3
    assert (totals["likes"], totals["comments"], totals["shares"]) == (1, 1, 1)
    assert totals["profile_views"] == 1
    assert (totals["followers_gained"], totals["followers_net"]) == (1, 1)
    daily = {d["day"]: d for d in overview["daily"]}
    assert (daily["2026-11-02"]["plays"], daily["2026-11-02"]["views"]) == (2, 1)
    assert (daily["2026-11-03"]["plays"], daily["2026-11-03"]["views"]) == (1, 1)

    # A second batch, as NDJSON in gzip, with a retry of e1 in it: e1 counts once.
    late = view("e9", "vd", "2026-11-03T15:00:00Z", 3_000, "profile")  # exactly 3 s: a view
    body = gzip.compress("\n".join(json.dumps(e) for e in (FIRST[0], late)).encode())
    sent = time.time()
    response = apps.post(
        "/v1/events",
        content=body,
        headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"},
    )
    assert response.json() == {"accepted": 1, "duplicates": 1, "quarantined": 0, "rejected": []}
    server.wait_fresh(sent)
    overview = studio.get(f"/v1/creators/{CREATOR}/overview", params=WINDOW).json()["overview"]
    totals = overview["totals"]
    assert (totals["plays"], totals["views"], totals["reach"]) == (4, 3, 4)
    assert totals["total_watch_ms"] == 22_000
    assert {d["day"]: d["views"] for d in overview["daily"]} == {
        "2026-11-02": 1,
        "2026-11-03": 2,
    }
    videos = studio.get(f"/v1/creators/{CREATOR}/videos", params=WINDOW).json()["videos"]
    assert [(v["video"], v["plays"], v["views"], v["caption"]) for v in videos] == [
        (VIDEO, 4, 3, "hello")
    ]
    assert videos[0]["hashtags"] == ["fyp", "cats"]
    sources = {s["source"]: s["plays"] for s in videos[0]["traffic_sources"]}
    assert sources == {"for_you": 2, "search": 1, "profile": 1}

    # Re-sending the whole first batch stores nothing twice.
    again = _post(apps, "events", FIRST)
    assert (again["accepted"], again["duplicates"]) == (0, len(FIRST))


def test_status_says_how_fresh(platform) -> None:
    server, _, _ = platform
    status = server.client().get("/v1/status").json()
    assert set(status) >= {"rollups_as_of", "events_waiting", "records_queued"}
    assert status["writer_running"] is True


def test_ndjson_with_a_broken_line_keeps_the_good_lines(platform) -> None:
    server, apps, _ = platform
    lines = [
        json.dumps(view("n1", "va", "2026-11-03T12:00:00Z", 4_000)),
        '{"event_id": "n2", "type": "view", ',  # cut short
        "",
        "[1, 2]",
        json.dumps(view("n3", "vb", "2026-11-03T12:05:00Z", 4_000)),
    ]
    response = apps.post(
        "/v1/events", content="\n".join(lines), headers={"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 200
    answer = response.json()
    assert (answer["accepted"], answer["quarantined"]) == (2, 2)
    assert [(r["index"], r["field"]) for r in answer["rejected"]] == [(1, "record"), (3, "record")]
    assert "JSON" in answer["rejected"][0]["reason"]


def test_bad_records_of_every_entity_are_named(platform) -> None:
    _, apps, _ = platform
    accounts = _post(apps, "accounts", [{"account_id": "zz", "kind": "robot"}, "x"])
    assert accounts["accepted"] == 0 and accounts["quarantined"] == 2
    assert {r["index"] for r in accounts["rejected"]} == {0, 1}
    negative = {"video_id": "vv", "creator_id": CREATOR, "posted_at": "2026-11-01T00:00:00Z",
                "duration_ms": -5}  # fmt: skip
    videos = _post(apps, "videos", [negative])
    assert videos["rejected"][0]["field"] == "duration_ms"
    assert _post(apps, "events", []) == {
        "accepted": 0, "duplicates": 0, "quarantined": 0, "rejected": []
    }  # fmt: skip


@pytest.mark.parametrize(
    ("content", "headers", "status", "field"),
    [
        (b"[{]", {"Content-Type": "application/json"}, 400, "body"),
        (b'{"event_id": "x"}', {"Content-Type": "application/json"}, 400, "body"),
        (b"\xff\xfe[]", {"Content-Type": "application/json"}, 400, "body"),
        (b"[]", {"Content-Type": "text/csv"}, 415, "content-type"),
        (b"[]", {}, 415, "content-type"),
        (b"[]", {"Content-Type": "application/json", "Content-Encoding": "br"}, 415,
         "content-encoding"),
        (b"not gzip", {"Content-Type": "application/json", "Content-Encoding": "gzip"}, 400,
         "content-encoding"),
        (b"[" + b" " * 70_000 + b"]", {"Content-Type": "application/json"}, 413, "body"),
        (gzip.compress(b"[" + b" " * 1_000_000 + b"]"),
         {"Content-Type": "application/json", "Content-Encoding": "gzip"}, 413, "body"),
        (json.dumps([{"event_id": f"m{i}"} for i in range(501)]).encode(),
         {"Content-Type": "application/json"}, 413, "body"),
    ],
)  # fmt: skip
def test_bodies_that_hold_no_records_are_refused(platform, content, headers, status, field):
    _, apps, _ = platform
    response = apps.post("/v1/events", content=content, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field and error["message"]
