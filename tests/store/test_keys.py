"""The key ring a store was written with: recorded in the store, checked at every open."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from creatorlens.errors import UserError
from creatorlens.load import ingest_into
from creatorlens.store import KeyRing, Store, key_ring
from tests.conftest import write_platform as write_files

ACCOUNTS = [
    {"account_id": "c1", "kind": "creator", "is_private": False, "timezone": "UTC",
     "analytics_opt_out": False, "created_at": "2024-01-01T00:00:00Z"},
    {"account_id": "u1", "kind": "personal", "is_private": False, "timezone": "UTC",
     "analytics_opt_out": False, "created_at": "2024-01-01T00:00:00Z"},
]  # fmt: skip
VIDEOS = [{"video_id": "v1", "creator_id": "c1", "posted_at": "2026-10-01T00:00:00Z",
           "duration_ms": 15000}]  # fmt: skip
EVENTS = [{"event_id": "e1", "type": "view", "ts": "2026-10-02T10:00:00Z", "actor_id": "u1",
           "video_id": "v1", "watched_ms": 5000, "source": "for_you"}]  # fmt: skip


def write_platform(root: Path, *entities: list[dict]) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    return write_files(root, *entities)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    ingest_into(path, write_platform(tmp_path / "p", ACCOUNTS, VIDEOS, EVENTS), refresh=False)
    return path


def recorded(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {k for (k,) in con.execute("SELECT key_id FROM store_keys").fetchall()}
    finally:
        con.close()


def test_a_new_store_makes_its_ring_with_a_key_and_the_noise_secret(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Store.open(path) as store:
        ring = store.keys
    assert ring.path == tmp_path / "new.duckdb.keys" and ring.path.exists()
    assert len(ring.keys) == 1 and ring.keys[0].active
    assert ring.noise is not None and KeyRing.load(ring.path).noise == ring.noise
    assert recorded(path) == {ring.keys[0].key_id}


def test_a_key_used_for_ingest_is_recorded(db: Path, tmp_path: Path) -> None:
    old = key_ring(db).active()
    new = KeyRing.load(old_path := db.with_name(db.name + ".keys")).rotate()
    assert recorded(db) == {old.key_id}  # a rotation alone records nothing
    more = [{**EVENTS[0], "event_id": "e2"}]
    ingest_into(db, write_platform(tmp_path / "q", ACCOUNTS, VIDEOS, more), refresh=False)
    assert recorded(db) == {old.key_id, new.key_id}
    assert {k.key_id for k in KeyRing.load(old_path).keys} == recorded(db)


@pytest.mark.parametrize("read_only", [False, True])
def test_a_missing_key_file_is_an_error_naming_it(db: Path, read_only: bool) -> None:
    ring = db.with_name(db.name + ".keys")
    before = ring.read_bytes()
    ring.unlink()
    with pytest.raises(UserError, match=f"key file {ring} not found") as caught:
        Store.open(db, read_only=read_only)
    assert "\n" not in str(caught.value)
    assert not ring.exists()  # no fresh ring made in its place
    ring.write_bytes(before)
    Store.open(db, read_only=read_only).close()


@pytest.mark.parametrize("read_only", [False, True])
def test_another_stores_key_file_is_refused(db: Path, tmp_path: Path, read_only: bool) -> None:
    other = tmp_path / "other.keys"
    Store.open(tmp_path / "other.duckdb", keys=other).close()
    with pytest.raises(UserError, match=f"key file {other} lacks key k"):
        Store.open(db, keys=other, read_only=read_only)
    with pytest.raises(UserError, match="key file .*missing.keys not found"):
        ingest_into(db, [tmp_path / "p" / "events.ndjson"], keys=tmp_path / "missing.keys")
    assert not (tmp_path / "missing.keys").exists()


def test_a_key_file_without_the_noise_secret_is_refused(db: Path) -> None:
    ring = db.with_name(db.name + ".keys")
    body = json.loads(ring.read_text())
    ring.write_text(json.dumps({**body, "noise_secret": None}))
    with pytest.raises(UserError, match="has no noise secret"):
        Store.open(db, read_only=True)
    with pytest.raises(UserError, match="has no noise secret"):
        KeyRing.load(ring).noise_secret()  # a reader never makes its own


def test_a_store_written_before_keys_were_recorded_adopts_its_ring(db: Path) -> None:
    ring_path = db.with_name(db.name + ".keys")
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE store_keys")
    con.close()
    body = json.loads(ring_path.read_text())
    # Older rings were given their noise secret by the first reader.
    ring_path.write_text(json.dumps({**body, "noise_secret": None}))
    Store.open(db, read_only=True).close()  # nothing recorded yet: nothing to check
    with Store.open(db) as store:
        assert store.keys.noise is not None
    assert recorded(db) == {k["key_id"] for k in body["keys"]}
    # Without its ring it cannot adopt one: a fresh ring would give second pseudonyms.
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM store_keys")
    con.close()
    ring_path.rename(ring_path.with_name("aside.keys"))
    with pytest.raises(UserError, match="not found or empty, but store .* holds events"):
        Store.open(db)
    assert not ring_path.exists()


@pytest.mark.parametrize(
    "name", ["missing.ndjson", "empty-events.ndjson", "events.txt"], ids=["missing", "empty", "ext"]
)
def test_a_failed_first_ingest_leaves_no_store_behind(tmp_path: Path, name: str) -> None:
    source = tmp_path / name
    if name != "missing.ndjson":
        source.write_text("" if "empty" in name else '{"event_id": "e1"}\n')
    db = tmp_path / "store.duckdb"
    with pytest.raises(UserError):
        ingest_into(db, [source])
    assert sorted(p.name for p in tmp_path.iterdir()) == [name] * (name != "missing.ndjson")


def test_a_failing_ingest_into_a_new_store_removes_what_it_made(tmp_path: Path) -> None:
    # The files pass the first checks, but the Parquet file turns out unreadable once the
    # accounts and videos are in.
    files = write_platform(tmp_path / "p", ACCOUNTS, VIDEOS, EVENTS)
    broken = tmp_path / "p" / "events-2.parquet"
    broken.write_text("not parquet")
    db = tmp_path / "store.duckdb"
    with pytest.raises(UserError, match="parquet"):
        ingest_into(db, [*files[:2], broken])
    assert not db.exists() and not db.with_name(db.name + ".keys").exists()
    assert not db.with_name(db.name + ".wal").exists()
