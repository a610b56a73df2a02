"""Tests of the realistic platform generator, computed independently from the written files."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import pytz

from creatorlens.generate import GeneratedPlatform, generate_platform
from creatorlens.ingest.wire import (
    ACCOUNT_KINDS,
    EVENT_REQUIRED,
    EVENT_TYPES,
    GENDERS,
    LIVE_TYPES,
    SHARE_CHANNELS,
    TRAFFIC_SOURCES,
)

END = datetime(2026, 11, 1, tzinfo=UTC)
TINY = dict(creators=5, viewers=150, days=2)
DAYS = 10


def _read_ndjson(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def _instant(ts) -> datetime:
    if isinstance(ts, int):
        return datetime.fromtimestamp(ts / 1000, UTC)
    return datetime.fromisoformat(ts)


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> tuple[GeneratedPlatform, list[dict], list[dict], list[dict]]:
    out = tmp_path_factory.mktemp("platform")
    gen = generate_platform(out, creators=40, viewers=2500, days=DAYS, seed=11)
    accounts = _read_ndjson(gen.accounts)
    videos = _read_ndjson(gen.videos)
    events = _read_ndjson(gen.events)
    return gen, accounts, videos, events


# ---- API, determinism, formats ------------------------------------------------------------------


def test_result_paths_and_counts(platform):
    gen, accounts, videos, events = platform
    assert gen.accounts.name == "accounts.ndjson"
    assert gen.videos.name == "videos.ndjson"
    assert gen.events.name == "events.ndjson"
    assert (gen.n_accounts, gen.n_videos, gen.n_events) == (
        len(accounts),
        len(videos),
        len(events),
    )
    with pytest.raises(AttributeError):
        gen.n_events = 0  # frozen


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = generate_platform(tmp_path / "a", seed=5, **TINY)
    b = generate_platform(tmp_path / "b", seed=5, **TINY)
    c = generate_platform(tmp_path / "c", seed=6, **TINY)
    for name in ("accounts", "videos", "events"):
        pa_, pb, pc = getattr(a, name), getattr(b, name), getattr(c, name)
        assert pa_.read_bytes() == pb.read_bytes(), name
        assert pa_.read_bytes() != pc.read_bytes(), name


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_other_formats_hold_the_same_records(tmp_path, fmt):
    ref = generate_platform(tmp_path / "ndjson", seed=3, **TINY)
    other = generate_platform(tmp_path / fmt, seed=3, fmt=fmt, **TINY)
    for name in ("accounts", "videos", "events"):
        path = getattr(other, name)
        assert path.name == f"{name}.{fmt}"
        want = [_norm(r) for r in _read_ndjson(getattr(ref, name))]
        got = (
            _read_csv(path) if fmt == "csv" else [_norm(r) for r in pq.read_table(path).to_pylist()]
        )
        assert got == want, name


def test_reruns_are_identical_in_parquet_and_csv(tmp_path):
    for fmt in ("csv", "parquet"):
        a = generate_platform(tmp_path / f"{fmt}1", seed=9, fmt=fmt, **TINY)
        b = generate_platform(tmp_path / f"{fmt}2", seed=9, fmt=fmt, **TINY)
        assert a.events.read_bytes() == b.events.read_bytes()


def _norm(record: dict) -> dict[str, str]:
    """A record as field -> text, nulls dropped (how NDJSON, CSV and parquet can be compared)."""
    out = {}
    for key, value in record.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list):
            out[key] = json.dumps(value)
        else:
            out[key] = str(value)
    return out


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        rec = {k: v for k, v in row.items() if v != ""}
        if "hashtags" in rec:  # JSON array text
            rec["hashtags"] = json.dumps(json.loads(rec["hashtags"]))
        out.append(rec)
    return out


def test_events_target_and_progress(tmp_path):
    calls = []
    gen = generate_platform(
        tmp_path,
        creators=10,
        viewers=800,
        days=4,
        events=30_000,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    assert 27_000 <= gen.n_events <= 33_000
    stages = {c[0] for c in calls}
    assert {"accounts", "videos", "events"} <= stages
    last = [c for c in calls if c[0] == "events"][-1]
    assert last[1] == last[2]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        generate_platform(tmp_path, fmt="xml", **TINY)
    with pytest.raises(ValueError):
        generate_platform(tmp_path, creators=0, viewers=10, days=1)


# ---- wire format and references --------------------------------------------------------------


def test_accounts_fields(platform):
    _, accounts, _, _ = platform
    ids = [a["account_id"] for a in accounts]
    assert len(set(ids)) == len(ids)
    zones = set(pytz.all_timezones)
    for a in accounts:
        assert a["kind"] in ACCOUNT_KINDS
        assert isinstance(a["is_private"], bool) and isinstance(a["analytics_opt_out"], bool)
        assert a.get("gender") is None or a["gender"] in GENDERS
        assert a.get("timezone") is None or a["timezone"] in zones
        assert a.get("country") is None or (len(a["country"]) == 2 and a["country"].isupper())
        assert a.get("birth_year") is None or isinstance(a["birth_year"], int)
        created = datetime.fromisoformat(a["created_at"])
        assert created.tzinfo is not None and created < END
    kinds = Counter(a["kind"] for a in accounts)
    assert kinds["business"] >= 1 and kinds["personal"] > kinds["creator"]


def test_videos_fields(platform):
    _, accounts, videos, _ = platform
    creators = {a["account_id"] for a in accounts if a["kind"] in ("creator", "business")}
    for v in videos:
        assert v["creator_id"] in creators
        assert datetime.fromisoformat(v["posted_at"]) < END
        assert isinstance(v["duration_ms"], int) and 1000 <= v["duration_ms"] <= 180_000
        assert isinstance(v["hashtags"], list) and all(isinstance(t, str) for t in v["hashtags"])
        assert isinstance(v["caption"], str)
    durations = sorted(v["duration_ms"] for v in videos)
    median = durations[len(durations) // 2]
    assert 7_000 <= median <= 60_000
    assert sum(7_000 <= d <= 60_000 for d in durations) / len(durations) > 0.75


def test_every_event_has_its_required_fields(platform):
    _, _, _, events = platform
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)
    assert {e["type"] for e in events} == set(EVENT_TYPES)
    for e in events:
        assert e["type"] in EVENT_REQUIRED
        for field in ("event_id", "ts", "actor_id", *EVENT_REQUIRED[e["type"]]):
            assert e.get(field) is not None, (e["type"], field, e)
        if e["type"] == "mention":
            assert e.get("video_id") or e.get("comment_id")
        if e["type"] == "view":
            assert e["source"] in TRAFFIC_SOURCES and isinstance(e["watched_ms"], int)
        if e["type"] == "share":
            assert e["channel"] in SHARE_CHANNELS
        if e["type"] == "live_gift":
            assert isinstance(e["gift_value"], int | float) and e["gift_value"] > 0


def test_timestamps(platform):
    _, accounts, _, events = platform
    start = END - timedelta(days=DAYS)
    zone = {a["account_id"]: a.get("timezone") or "UTC" for a in accounts}
    epoch = 0
    prev = None
    for i, e in enumerate(events):
        t = _instant(e["ts"])
        assert start <= t < END
        if prev is not None:
            assert t >= prev  # written in time order
        prev = t
        if isinstance(e["ts"], int):
            epoch += 1
        elif i % 7 == 0 and e["actor_id"] in zone:  # the offset is the actor's own
            tz = pytz.timezone(zone[e["actor_id"]])
            assert t.utcoffset() == t.astimezone(tz).utcoffset(), e
    assert 0.05 < epoch / len(events) < 0.15


def test_references(platform):
    _, accounts, videos, events = platform
    acc = {a["account_id"]: a for a in accounts}
    posted = {v["video_id"]: datetime.fromisoformat(v["posted_at"]) for v in videos}
    creator_of = {v["video_id"]: v["creator_id"] for v in videos}
    comments: dict[str, tuple[str, datetime]] = {}
    for e in events:
        t = _instant(e["ts"])
        actor = e["actor_id"]
        if actor not in acc:
            assert actor.startswith("dev-") and e["type"] == "view", e
        if e.get("video_id"):
            assert e["video_id"] in posted, e
            assert t > posted[e["video_id"]], e
        if e.get("target_id"):
            assert e["target_id"] in acc, e
            assert e["target_id"] != actor, e
        if e["type"] in ("duet", "stitch"):
            new = e["new_video_id"]
            assert creator_of[new] == actor and acc[actor]["kind"] in ("creator", "business")
            assert creator_of[e["video_id"]] != actor
        if e["type"] == "comment":
            assert e["comment_id"] not in comments
            if e.get("reply_to"):
                parent_video, parent_t = comments[e["reply_to"]]  # an earlier comment
                assert parent_video == e["video_id"] and parent_t < t
            comments[e["comment_id"]] = (e["video_id"], t)
        if e["type"] == "mention" and e.get("comment_id"):
            assert e["comment_id"] in comments


def test_undo_and_approval_order(platform):
    _, accounts, _, events = platform
    private = {a["account_id"] for a in accounts if a["is_private"]}
    liked: set[tuple[str, str]] = set()
    followed: set[tuple[str, str]] = set()
    n_approve = 0
    for e in events:  # the file is in time order
        if e["type"] == "like":
            liked.add((e["actor_id"], e["video_id"]))
        elif e["type"] == "unlike":
            assert (e["actor_id"], e["video_id"]) in liked, e
            liked.discard((e["actor_id"], e["video_id"]))
        elif e["type"] == "follow":
            followed.add((e["actor_id"], e["target_id"]))
        elif e["type"] == "unfollow":
            assert (e["actor_id"], e["target_id"]) in followed, e
            followed.discard((e["actor_id"], e["target_id"]))
        elif e["type"] == "follow_approve":
            n_approve += 1
            assert e["actor_id"] in private
            assert (e["target_id"], e["actor_id"]) in followed, e
    follows_of_private = sum(
        1 for e in events if e["type"] == "follow" and e["target_id"] in private
    )
    assert 0 < n_approve <= follows_of_private


def test_live_sessions(platform):
    _, accounts, _, events = platform
    minors = {
        a["account_id"]
        for a in accounts
        if a.get("birth_year") is not None and 2026 - a["birth_year"] < 18
    }
    start, end, host = {}, {}, {}
    for e in events:
        if e["type"] == "live_start":
            assert e["live_id"] not in start
            start[e["live_id"]], host[e["live_id"]] = _instant(e["ts"]), e["actor_id"]
        elif e["type"] == "live_end":
            end[e["live_id"]] = _instant(e["ts"])
            assert e["actor_id"] == host[e["live_id"]]
    assert start and start.keys() == end.keys()
    for e in events:
        if e["type"] in LIVE_TYPES and e["type"] not in ("live_start", "live_end"):
            t = _instant(e["ts"])
            assert start[e["live_id"]] < t <= end[e["live_id"]], e
            assert e["actor_id"] != host[e["live_id"]]
        if e["type"] in ("live_start", "live_gift"):  # LIVE hosting and gifting are 18+
            assert e["actor_id"] not in minors, e


# ---- realism ------------------------------------------------------------------------------------


def test_account_demographics(platform):
    _, accounts, _, _ = platform
    n = len(accounts)
    private = sum(a["is_private"] for a in accounts) / n
    opt_out = sum(a["analytics_opt_out"] for a in accounts) / n
    minors = sum(1 for a in accounts if a.get("birth_year") and 13 <= 2026 - a["birth_year"] <= 17)
    assert 0.20 <= private <= 0.30
    assert 0.02 <= opt_out <= 0.06
    assert 0.06 <= minors / n <= 0.14
    assert len({a.get("country") for a in accounts}) >= 8


def test_views_sources_watch_time_and_tail(platform):
    _, _, videos, events = platform
    duration = {v["video_id"]: v["duration_ms"] for v in videos}
    views = [e for e in events if e["type"] == "view"]
    sources = Counter(e["source"] for e in views)
    top, top_n = sources.most_common(1)[0]
    assert top == "for_you" and 0.55 <= top_n / len(views) <= 0.80
    short = sum(e["watched_ms"] < 3000 for e in views) / len(views)
    assert 0.05 <= short <= 0.40  # exists, and is a minority
    loops = sum(e["watched_ms"] > duration[e["video_id"]] for e in views) / len(views)
    assert 0.02 <= loops <= 0.30
    per_video = sorted(Counter(e["video_id"] for e in views).values(), reverse=True)
    top1 = max(1, len(per_video) // 100)
    assert sum(per_video[:top1]) / len(views) >= 0.15  # 1 % of videos, >= 15 % of views
    logged_out = sum(e["actor_id"].startswith("dev-") for e in views) / len(views)
    assert 0.01 <= logged_out <= 0.10


def test_engagement_rates(platform):
    _, _, _, events = platform
    n = Counter(e["type"] for e in events)
    views = n["view"]
    assert 0.05 <= n["like"] / views <= 0.12
    assert 0.002 <= n["comment"] / views <= 0.012
    assert 0.001 <= n["share"] / views <= 0.012
    assert n["unlike"] < n["like"] and n["unfollow"] < n["follow"]
    channels = Counter(e["channel"] for e in events if e["type"] == "share")
    assert len(channels) >= 6


def test_daily_and_weekly_rhythm(platform):
    _, accounts, _, events = platform
    zone = {a["account_id"]: pytz.timezone(a.get("timezone") or "UTC") for a in accounts}
    hours = Counter()
    for e in events:
        if e["type"] == "view" and e["actor_id"] in zone:
            hours[_instant(e["ts"]).astimezone(zone[e["actor_id"]]).hour] += 1
    evening = sum(hours[h] for h in range(18, 23))
    night = sum(hours[h] for h in range(2, 7))
    assert evening > 4 * night


def test_comment_texts_have_tones(platform):
    _, _, _, events = platform
    texts = [e["text"] for e in events if e["type"] == "comment"]
    positive = ("love", "amazing", "awesome", "great", "beautiful", "best", "wonderful")
    negative = ("hate", "terrible", "awful", "worst", "boring", "horrible", "bad")
    low = [t.lower() for t in texts]
    assert any(any(w in t for w in positive) for t in low)
    assert any(any(w in t for w in negative) for t in low)
    assert any(not any(w in t for w in positive + negative) for t in low)  # neutral ones
    assert len(set(texts)) > len(texts) // 4
    assert any(ord(ch) > 0x2000 for t in texts for ch in t)  # a few emoji


def test_follow_graph_mixes_creators_and_friends(platform):
    _, accounts, _, events = platform
    kind = {a["account_id"]: a["kind"] for a in accounts}
    targets = defaultdict(int)
    for e in events:
        if e["type"] == "follow":
            targets[kind[e["target_id"]]] += 1
    assert targets["creator"] + targets["business"] > 0 and targets["personal"] > 0


def test_bad_arguments_and_output_directories_are_user_errors(tmp_path):
    from creatorlens.errors import UserError
    from creatorlens.generate import GenerateError

    assert issubclass(GenerateError, UserError) and issubclass(GenerateError, ValueError)
    with pytest.raises(GenerateError, match="seed must be 0 or more, not -3"):
        generate_platform(tmp_path / "a", seed=-3, **TINY)
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(GenerateError, match="is a file, not a directory"):
        generate_platform(afile, **TINY)
    assert afile.read_text() == "x"


def test_output_directory_rules(tmp_path):
    from creatorlens.generate import GenerateError, prepare_output

    out = tmp_path / "p"
    ndjson = generate_platform(out, seed=1, **TINY)
    assert json.loads((out / ".creatorlens-generate").read_text()) == {
        "files": ["accounts.ndjson", "events.ndjson", "videos.ndjson"]
    }
    # the same directory again, the same format: replaced, byte for byte what a fresh run writes
    again = generate_platform(out, seed=2, **TINY)
    fresh = generate_platform(tmp_path / "fresh", seed=2, **TINY)
    assert again.events.read_bytes() == fresh.events.read_bytes() != b""
    assert ndjson.events == again.events
    # another format: the earlier run's files go, so that `ingest DIR` reads one platform
    generate_platform(out, seed=2, fmt="parquet", **TINY)
    assert sorted(p.name for p in out.iterdir()) == [
        ".creatorlens-generate",
        "accounts.parquet",
        "events.parquet",
        "videos.parquet",
    ]
    # files generate did not write are never overwritten nor removed
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "videos.jsonl").write_text("{}\n")
    with pytest.raises(GenerateError, match=r"already holds videos\.jsonl, not written by"):
        prepare_output(theirs, fmt="csv")
    assert (theirs / "videos.jsonl").read_text() == "{}\n"
    assert not (theirs / ".creatorlens-generate").exists()
    # other files (not entity data) are left alone and do not stop it
    (out / "README.txt").write_text("mine\n")
    assert prepare_output(out, fmt="parquet") == out
    assert (out / "README.txt").read_text() == "mine\n"
