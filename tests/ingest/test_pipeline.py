"""Ingest behaviour: exactly once, quarantine with reasons, pseudonyms, follower state."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from pathlib import Path

import duckdb
import pytest

from creatorlens.ingest.pseudonym import FOLLOWER_SPACE, pseudonym, space_secret
from creatorlens.ingest.readers import BatchReader, open_source
from creatorlens.load import ingest_into
from creatorlens.store import key_ring
from tests.conftest import synthetic_platform, write_ndjson

CREATOR = {
    "account_id": "c1",
    "kind": "creator",
    "is_private": False,
    "birth_year": 1990,
    "gender": "female",
    "country": "US",
    "city": "Austin",
    "language": "en",
    "timezone": "America/Chicago",
    "analytics_opt_out": False,
    "created_at": "2024-01-01T00:00:00Z",
}


def account(account_id: str, **changes) -> dict:
    return {**CREATOR, "account_id": account_id, "kind": "personal", **changes}


VIDEO = {
    "video_id": "v1",
    "creator_id": "c1",
    "posted_at": "2026-10-01T10:00:00+02:00",
    "duration_ms": 15000,
    "caption": "hello",
    "hashtags": ["fyp"],
}


def view(event_id: str, actor: str, ts: str = "2026-10-02T10:00:00Z", **extra) -> dict:
    return {
        "event_id": event_id,
        "type": "view",
        "ts": ts,
        "actor_id": actor,
        "video_id": "v1",
        "watched_ms": 4000,
        "source": "for_you",
        **extra,
    }


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def base(tmp_path: Path) -> dict[str, Path]:
    return {
        "accounts": write_ndjson(
            tmp_path / "accounts.ndjson",
            [CREATOR, account("u1"), account("u2", is_private=True)],
        ),
        "videos": write_ndjson(tmp_path / "videos.ndjson", [VIDEO]),
    }


def test_same_file_twice_stores_every_event_once(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "p", 3_000)
    bad = len([i for i in range(3_000) if i % 997 == 0])  # type 'teleport'
    db = tmp_path / "s.duckdb"
    first = ingest_into(db, files.values())
    second = ingest_into(db, files.values())
    assert first.accepted == 5_000 + 200 + 3_000 - bad
    assert first.quarantined == bad
    assert second.accepted == 0
    assert second.duplicates == 5_000 + 200 + 3_000 - bad
    assert rows(db, "SELECT count(*), count(DISTINCT event_id) FROM events") == [
        (3_000 - bad, 3_000 - bad)
    ]
    assert rows(db, "SELECT count(*) FROM quarantine") == [(bad,)]


def test_a_directory_stands_for_the_data_files_in_it(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "p", 3_000)
    bad = len([i for i in range(3_000) if i % 997 == 0])  # type 'teleport'
    # Left alone: other extensions and hidden files (a partial upload, say).
    (tmp_path / "p" / "notes.txt").write_text("not data")
    (tmp_path / "p" / ".events-partial.ndjson").write_text("{broken\n")
    assert sorted(p.name for p in files.values()) == [
        "accounts.ndjson",
        "events.ndjson",
        "videos.ndjson",
    ]  # by name, events come before the videos they need
    db = tmp_path / "s.duckdb"
    summary = ingest_into(db, [tmp_path / "p"])
    assert summary.accepted == 5_000 + 200 + 3_000 - bad
    assert rows(db, "SELECT count(*) FROM quarantine") == [(bad,)]


def test_overlapping_files_store_the_union_once(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "p", 1_000)
    lines = files["events"].read_text().splitlines(keepends=True)
    part_a = tmp_path / "events-a.ndjson"
    part_b = tmp_path / "events-b.ndjson"
    part_a.write_text("".join(lines[:600]))
    part_b.write_text("".join(lines[400:]))
    db = tmp_path / "s.duckdb"
    ingest_into(db, [files["accounts"], files["videos"], part_a])
    summary = ingest_into(db, [part_b])
    good_overlap = len([i for i in range(400, 600) if i % 997 != 0])
    assert summary.duplicates == good_overlap
    assert rows(db, "SELECT count(*) FROM events") == [(1_000 - 2,)]  # ids 0 and 997 are bad


def test_bad_records_are_quarantined_with_reason_and_good_ones_kept(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    events = tmp_path / "events.ndjson"
    good = [
        view("g1", "u1"),
        {"event_id": "g2", "type": "like", "ts": 1790000000000, "actor_id": "u1", "video_id": "v1"},
        {
            "event_id": "g3",
            "type": "comment",
            "ts": "2026-10-02T10:00:00-05:00",
            "actor_id": "u2",
            "video_id": "v1",
            "comment_id": "cm1",
            "text": "love it",
        },
    ]
    bad = {
        "b1": ("watched_ms", view("b1", "u1", watched_ms="lots")),
        "b2": ("source", view("b2", "u1", source="tv")),
        "b3": ("ts", view("b3", "u1", ts="2026-10-02 10:00:00")),
        "b4": ("video_id", view("b4", "u1", video_id="v404")),
        "b5": (
            "type",
            {"event_id": "b5", "type": "teleport", "ts": 1790000000000, "actor_id": "u1"},
        ),
        "b6": (
            "channel",
            {
                "event_id": "b6",
                "type": "share",
                "ts": 1790000000000,
                "actor_id": "u1",
                "video_id": "v1",
            },
        ),
        "b7": ("ts", view("b7", "u1", ts=1790000000)),  # epoch seconds, not ms
        "b8": ("actor_id", view("b8", None)),
        "b9": (
            "gift_value",
            {
                "event_id": "b9",
                "type": "live_gift",
                "ts": 1790000000000,
                "actor_id": "u1",
                "live_id": "L1",
                "gift_value": "x",
            },
        ),
    }
    lines = [json.dumps(r) for r in good[:2]]
    lines += [json.dumps(record) for _, record in bad.values()]
    lines += ["{this is not json", json.dumps(good[2])]
    events.write_text("\n".join(lines) + "\n")

    db = tmp_path / "s.duckdb"
    summary = ingest_into(db, [base["accounts"], base["videos"], events])

    assert sorted(r[0] for r in rows(db, "SELECT event_id FROM events")) == ["g1", "g2", "g3"]
    stored = dict(rows(db, "SELECT event_id, field FROM quarantine WHERE event_id IS NOT NULL"))
    assert stored == {event_id: field for event_id, (field, _) in bad.items()}
    malformed = rows(db, "SELECT record_no, field FROM quarantine WHERE event_id IS NULL")
    assert malformed == [(len(good[:2]) + len(bad) + 1, "record")]
    assert summary.quarantined == len(bad) + 1
    assert all(reason for (_, reason) in summary.reasons)


def test_each_rfc_3339_form_is_stored_at_the_instant_it_names(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    # Every form below names 2026-10-02 10:00:00 UTC (worked out by hand from its offset).
    forms = {
        "lower": "2026-10-02t10:00:00z",  # RFC 3339 allows a lower-case t and z
        "fraction": "2026-10-02T12:00:00.000+02:00",
        "nanos": "2026-10-02T10:00:00.000000000Z",
        "space": "2026-10-02 05:00:00 -0500",  # a space for the T and before the offset
        "unknown-offset": "2026-10-02T10:00:00-00:00",
        "quarter-hour": "2026-10-02T15:45:00+05:45",
        "epoch-ms": 1790935200000,
    }
    events = write_ndjson(
        tmp_path / "events.ndjson",
        [view(name, "u1", ts=ts) for name, ts in forms.items()]
        + [view("no-offset", "u1", ts="2026-10-02T10:00:00")],
    )
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], base["videos"], events], refresh=False)

    stored = rows(db, "SELECT event_id, epoch(ts) FROM events ORDER BY event_id")
    assert stored == sorted((name, 1790935200.0) for name in forms)
    assert rows(db, "SELECT event_id, field FROM quarantine") == [("no-offset", "ts")]


def test_viewer_pseudonym_is_the_keyed_hmac_per_creator(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    events = write_ndjson(
        tmp_path / "events.ndjson",
        [
            view("e1", "u1"),
            {
                "event_id": "e2",
                "type": "profile_view",
                "ts": 1790000000000,
                "actor_id": "u1",
                "target_id": "c9",
            },
        ],
    )
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], base["videos"], events])
    secret = key_ring(db).active().secret
    assert secret is not None

    def expected(creator: str) -> int:
        # The documented definition, computed here with the standard library.
        mac = hmac.new(secret, b"u1", hashlib.sha256).digest()
        return int.from_bytes(hashlib.md5(mac + creator.encode()).digest()[:8], "little")

    got = dict(rows(db, "SELECT creator_id, viewer_pid FROM events"))
    assert got == {"c1": expected("c1"), "c9": expected("c9")}
    assert got["c1"] != got["c9"]  # not joinable across creators
    assert rows(db, "SELECT count(*) FROM events WHERE actor_id IS NOT NULL") == [(0,)]


def test_follower_status_is_taken_at_the_time_of_the_view(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    def follow(event_id: str, kind: str, ts: str) -> dict:
        return {"event_id": event_id, "type": kind, "ts": ts, "actor_id": "u1", "target_id": "c1"}

    events = write_ndjson(
        tmp_path / "events.ndjson",
        [
            view("before", "u1", ts="2026-10-02T09:00:00Z"),
            follow("f1", "follow", "2026-10-02T10:00:00Z"),
            view("during", "u1", ts="2026-10-02T11:00:00Z"),
            follow("f2", "unfollow", "2026-10-02T12:00:00Z"),
            view("after", "u1", ts="2026-10-02T13:00:00Z"),
            view("other", "u2", ts="2026-10-02T11:00:00Z"),
        ],
    )
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], base["videos"], events])
    got = dict(rows(db, "SELECT event_id, actor_is_follower FROM events WHERE type = 'view'"))
    assert got == {"before": False, "during": True, "after": False, "other": False}


def test_viewer_attributes_are_taken_at_ingest(tmp_path: Path, base: dict[str, Path]) -> None:
    accounts = write_ndjson(
        tmp_path / "accounts-more.ndjson",
        [account("teen", birth_year=2011, country="BR", gender="male")],
    )
    events = write_ndjson(tmp_path / "events.ndjson", [view("e1", "teen"), view("e2", "dev-9")])
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], accounts, base["videos"], events])
    got = rows(
        db,
        "SELECT event_id, actor_age_bucket, actor_gender, actor_country "
        "FROM events_with_attributes "
        "ORDER BY event_id",
    )
    # born 2011, viewing in 2026: 15, a minor, only ever in the 13-17 bucket.
    assert got == [("e1", "13-17", "male", "BR"), ("e2", None, None, None)]


def test_opting_out_later_reaches_past_pseudonymous_events(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    events = write_ndjson(tmp_path / "events.ndjson", [view("e1", "u1"), view("e2", "u2")])
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], base["videos"], events])
    assert rows(db, "SELECT count(*) FROM events WHERE actor_opt_out") == [(0,)]
    change = write_ndjson(
        tmp_path / "accounts-change.ndjson",
        [account("u1", analytics_opt_out=True)],  # no updated_at: arrival time
    )
    ingest_into(db, [change])
    assert rows(db, "SELECT event_id FROM events WHERE actor_opt_out") == [("e1",)]
    assert rows(db, "SELECT analytics_opt_out FROM accounts WHERE account_id = 'u1'") == [(True,)]
    # An older version arriving late does not undo the newer choice.
    stale = write_ndjson(
        tmp_path / "accounts-stale.ndjson",
        [account("u1", analytics_opt_out=False, updated_at="2026-10-01T00:00:00Z")],
    )
    ingest_into(db, [stale])
    assert rows(db, "SELECT analytics_opt_out FROM accounts WHERE account_id = 'u1'") == [(True,)]


def test_key_rotation_starts_new_pseudonyms_and_destroyed_keys_are_gone(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    db = tmp_path / "s.duckdb"
    ingest_into(
        db,
        [
            base["accounts"],
            base["videos"],
            write_ndjson(tmp_path / "events-1.ndjson", [view("e1", "u1")]),
        ],
    )
    ring = key_ring(db)
    old = ring.active()
    new = ring.rotate()
    ingest_into(db, [write_ndjson(tmp_path / "events-2.ndjson", [view("e2", "u1")])])
    got = rows(db, "SELECT event_id, key_id, viewer_pid FROM events ORDER BY event_id")
    assert [(e, k) for e, k, _ in got] == [("e1", old.key_id), ("e2", new.key_id)]
    assert got[0][2] != got[1][2]  # the same viewer is unlinkable across keys

    destroyed = key_ring(db).destroy(old.key_id)
    assert destroyed.secret is None
    assert old.secret.hex() not in (tmp_path / "s.duckdb.keys").read_text()
    with pytest.raises(Exception, match="active"):
        key_ring(db).destroy(new.key_id)


def test_csv_and_parquet_store_the_same_events_as_ndjson(tmp_path: Path) -> None:
    files = synthetic_platform(tmp_path / "p", 500)
    con = duckdb.connect()
    converted = {}
    for fmt in ("csv", "parquet"):
        converted[fmt] = {}
        for entity, path in files.items():
            target = tmp_path / f"{entity}.{fmt}"
            option = "(FORMAT parquet)" if fmt == "parquet" else "(FORMAT csv, HEADER)"
            select = f"SELECT * FROM read_json('{path}')"
            if fmt == "csv" and entity == "videos":
                select = (
                    f"SELECT * REPLACE (to_json(hashtags) AS hashtags) FROM read_json('{path}')"
                )
            con.execute(f"COPY ({select}) TO '{target}' {option}")
            converted[fmt][entity] = target
    con.close()
    query = (
        "SELECT event_id, type, ts, creator_id, viewer_pid, watched_ms, source, channel "
        "FROM events ORDER BY event_id"
    )
    keys = tmp_path / "shared.keys"
    results = {}
    for name, paths in {"ndjson": files, **converted}.items():
        db = tmp_path / f"{name}.duckdb"
        ingest_into(db, paths.values(), keys=keys)
        results[name] = rows(db, query)
    assert len(results["ndjson"]) == 500 - 1
    assert results["csv"] == results["ndjson"]
    assert results["parquet"] == results["ndjson"]


def test_plays_by_followers_are_counted_for_the_followed_creator(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    other = write_ndjson(
        tmp_path / "videos-other.ndjson",
        [{**VIDEO, "video_id": "v2", "creator_id": "c2"}],
    )
    follow = {
        "event_id": "f1",
        "type": "follow",
        "ts": "2026-10-02T10:00:00Z",
        "actor_id": "u1",
        "target_id": "c1",
    }
    events = write_ndjson(
        tmp_path / "events.ndjson",
        [
            follow,
            view("before", "u1", ts="2026-10-02T09:00:00Z"),  # not yet a follower
            view("after", "u1", ts="2026-10-02T11:00:00Z", watched_ms=7000),
            view("elsewhere", "u1", ts="2026-10-03T11:00:00Z", video_id="v2"),
            view("stranger", "u2", ts="2026-10-03T11:00:00Z", video_id="v2"),
        ],
    )
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], base["videos"], other, events])
    secret = key_ring(db).active().secret
    u1 = pseudonym(space_secret(secret, FOLLOWER_SPACE), "c1", "u1")
    got = rows(
        db,
        "SELECT followed_id, video_id, ts::VARCHAR, follower_pid, plays, watched_ms, opt_out "
        "FROM follower_plays ORDER BY ALL",
    )
    # u1 follows c1 from 10:00: its plays at 11:00 (v1) and the next day (v2) count for c1,
    # under its pseudonym as c1's follower (never its viewer pseudonym), per quarter hour.
    assert got == [
        ("c1", "v1", "2026-10-02 11:00:00+00", u1, 1, 7000, False),
        ("c1", "v2", "2026-10-03 11:00:00+00", u1, 1, 4000, False),
    ]
    viewer_pids = {p for (p,) in rows(db, "SELECT viewer_pid FROM events")}
    assert u1 not in viewer_pids
    assert rows(
        db,
        "SELECT creator_id, video_id, local_date::VARCHAR, follower_pid, plays, watch_ms "
        "FROM rollup_follower_watch ORDER BY ALL",
    ) == [("c1", "v1", "2026-10-02", u1, 1, 7000), ("c1", "v2", "2026-10-03", u1, 1, 4000)]


def test_a_csv_row_of_the_wrong_shape_is_quarantined_and_the_rest_kept(tmp_path: Path) -> None:
    header = (
        "account_id,kind,is_private,birth_year,gender,country,city,language,timezone,"
        "analytics_opt_out,created_at"
    )
    good = "a{n},personal,false,1990,female,US,,en,UTC,false,2024-01-01T00:00:00Z"
    lines = [header, good.format(n=1), good.format(n=2) + ",EXTRA", good.format(n=3)]
    path = tmp_path / "accounts.csv"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "s.duckdb"
    summary = ingest_into(db, [path], refresh=False)
    assert sorted(r[0] for r in rows(db, "SELECT account_id FROM accounts")) == ["a1", "a3"]
    assert summary.quarantined == 1
    ((field, reason),) = rows(db, "SELECT field, reason FROM quarantine")
    assert field == "record" and reason.startswith("CSV:")


def test_a_reader_stopped_mid_file_closes_cleanly(tmp_path: Path) -> None:
    records = [view(f"e{i}", "u1") for i in range(100_000)]
    path = write_ndjson(tmp_path / "events.ndjson", records)
    reader = BatchReader(open_source(path), batch_rows=80_000)
    batches = iter(reader)
    first = next(batches)
    reader.close()  # its parsing thread is reading ahead: it is stopped, not raced
    assert first.column("event_id").to_pylist()[:3] == ["e0", "e1", "e2"]
    assert "creatorlens-reader" not in {t.name for t in threading.enumerate()}


def test_actors_alike_share_one_profile_and_attributes_read_back(
    tmp_path: Path, base: dict[str, Path]
) -> None:
    accounts = write_ndjson(
        tmp_path / "accounts-more.ndjson",
        [
            account("twin-a", city=None),
            account("twin-b", city=None),  # same as twin-a: Austin-less, female, US, en
            account("blank", gender=None, country=None, city=None, language=None),
        ],
    )
    first = write_ndjson(
        tmp_path / "events-1.ndjson",
        [view("e1", "twin-a"), view("e2", "twin-b"), view("e3", "u1"), view("e4", "blank")],
    )
    second = write_ndjson(tmp_path / "events-2.ndjson", [view("e5", "twin-b"), view("e6", "u2")])
    db = tmp_path / "s.duckdb"
    ingest_into(db, [base["accounts"], accounts, base["videos"], first], refresh=False)
    ingest_into(db, [second], refresh=False)
    # Two combinations exist: (female, US, NULL, en) and (female, US, Austin, en); the
    # account with none of the four attributes has no profile, like a device id would.
    assert rows(db, "SELECT count(*) FROM actor_profiles") == [(2,)]
    profile = dict(rows(db, "SELECT event_id, actor_profile FROM events"))
    assert profile["e1"] == profile["e2"] == profile["e5"]
    assert profile["e3"] == profile["e6"] != profile["e1"]
    assert profile["e4"] is None
    got = rows(
        db,
        "SELECT event_id, actor_gender, actor_country, actor_city, actor_language "
        "FROM events_with_attributes ORDER BY event_id",
    )
    assert got == [
        ("e1", "female", "US", None, "en"),
        ("e2", "female", "US", None, "en"),
        ("e3", "female", "US", "Austin", "en"),
        ("e4", None, None, None, None),
        ("e5", "female", "US", None, "en"),
        ("e6", "female", "US", "Austin", "en"),
    ]
