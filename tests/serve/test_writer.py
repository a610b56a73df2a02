"""The one writer on a real store: requests waiting together share a transaction yet each
gets its own records' outcome; a request given up on before its turn is not stored and
does not stop the writer."""

from __future__ import annotations

import json

from creatorlens.load import open_for_writing, read_json_array
from creatorlens.serve.writer import Job, Writer
from tests.serve.test_collector import ACCOUNTS, VIDEOS, view


def _job(entity: str, records: list[dict], name: str) -> Job:
    return Job(entity, read_json_array(json.dumps(records), entity), f"test {name}", name)


def _views(prefix: str, n: int) -> list[dict]:
    return [view(f"{prefix}-{i}", "va", "2026-11-02T10:00:00Z", 1_000 + i) for i in range(n)]


def test_grouped_requests_each_get_their_own_outcome(tmp_path) -> None:
    store = open_for_writing(tmp_path / "store.duckdb")
    writer = Writer(store, refresh_every=0.2)
    writer.start()
    try:
        for entity, records in (("accounts", ACCOUNTS), ("videos", VIDEOS)):
            assert writer.submit(_job(entity, records, entity)).result().accepted == len(records)
        busy = writer.submit(_job("events", _views("busy", 20_000), "busy"))
        jobs = []
        for k in range(3):
            records = _views(f"g{k}", 5)
            records.insert(k + 1, {"event_id": f"bad{k}", "type": "view"})  # no ts
            records.append(records[0])  # a repeat inside the request
            jobs.append(writer.submit(_job("events", records, f"g{k}")))
        assert busy.result().accepted == 20_000
        for k, future in enumerate(jobs):
            outcome = future.result()
            assert (outcome.accepted, outcome.duplicates, outcome.quarantined) == (5, 1, 1)
            assert [(r.index, r.field) for r in outcome.rejected] == [(k + 1, "ts")]
        again = writer.submit(_job("events", _views("g0", 5), "again")).result()
        assert (again.accepted, again.duplicates) == (0, 5)
    finally:
        writer.stop()
        store.close()


def test_a_request_given_up_on_is_not_stored_and_the_writer_goes_on(tmp_path) -> None:
    store = open_for_writing(tmp_path / "store.duckdb")
    writer = Writer(store)
    writer.start()
    try:
        writer.submit(_job("accounts", ACCOUNTS, "a")).result()
        writer.submit(_job("videos", VIDEOS, "v")).result()
        busy = writer.submit(_job("events", _views("busy", 20_000), "busy"))
        gone = writer.submit(_job("events", _views("gone", 3), "gone"))
        cancelled = gone.cancel()  # its client went away while it waited
        after = writer.submit(_job("events", _views("after", 3), "after"))
        assert busy.result().accepted == 20_000
        assert after.result().accepted == 3
        assert writer.running
        stored = (
            store.session()
            .execute("SELECT count(*) FROM events WHERE event_id LIKE 'gone-%'")
            .fetchone()[0]
        )
        assert stored == (0 if cancelled else 3)
    finally:
        writer.stop()
        store.close()
