"""The rollups on Spark (local mode, two cores) over the lake give the embedded path's
answers: every rollup row, and every metric of every creator's report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from creatorlens.lake import export_store, load_rollups, run_spark_rollups
from creatorlens.load import ingest_into
from creatorlens.rollup.spark import spark_session
from creatorlens.store import Store
from tests.lake.conftest import (
    creator_reports,
    creators_of,
    differing_rollups,
    generated_store,
    keys_of,
    stored_events,
)

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Path]:
    """At least 200,000 generated events in a DuckDB store (rollups refreshed) and the lake
    exported from it."""
    root = tmp_path_factory.mktemp("spark")
    db = generated_store(root, events=215_000, creators=40, viewers=4_000, days=21)
    assert stored_events(db) >= 200_000
    lake = root / "lake"
    with Store.open(db, read_only=True) as store:
        export_store(store, lake)
    return {"root": root, "db": db, "lake": lake, "out": root / "out"}


def _serve(world: dict[str, Path], name: str) -> Path:
    """A serving store loaded from Spark's output (with the instance's key file, whose
    noise secret the release stage uses)."""
    served = world["root"] / f"{name}.duckdb"
    shutil.copy(keys_of(world["db"]), keys_of(served))
    load_rollups(world["out"], served, keys=keys_of(served))
    return served


def test_spark_and_duckdb_give_every_creator_the_same_report(spark, world) -> None:
    summary = run_spark_rollups(world["lake"], world["out"], spark=spark)
    assert summary.mode == "full"
    assert summary.events == stored_events(world["db"])
    served = _serve(world, "served")
    assert differing_rollups(world["db"], served) == {}
    creators = creators_of(world["db"])
    assert len(creators) == 40
    expected = creator_reports(world["db"], creators)
    got = creator_reports(served, creators)
    assert [c for c in creators if got[c] != expected[c]] == []
    # The reports have something in them: most creators had views and likes.
    totals = [json.loads(r)["overview"]["totals"] for r in expected.values()]
    assert sum(bool(t["views"]) and bool(t["likes"]) for t in totals) > 20


def test_a_second_run_recomputes_only_the_days_new_events_touch(spark, world) -> None:
    # Late and new events on two UTC dates: copies of stored ones under new ids.
    extra = world["root"] / "extra.parquet"
    source = world["root"] / "platform" / "events.parquet"
    duckdb.sql(
        f"""COPY (SELECT * FROM (
                      SELECT * REPLACE (event_id || '-again' AS event_id) FROM '{source}'
                      WHERE substr(ts, 1, 10) IN ('2026-10-14', '2026-10-29'))
                  USING SAMPLE 600 ROWS (reservoir, 5))
            TO '{extra}' (FORMAT parquet)"""
    )
    before = stored_events(world["db"])
    ingest_into(world["db"], [extra], entity="events")
    assert stored_events(world["db"]) == before + 600
    with Store.open(world["db"], read_only=True) as store:
        exported = export_store(store, world["lake"])
    assert exported.mode == "incremental" and exported.events == 600
    summary = run_spark_rollups(world["lake"], world["out"], spark=spark)
    assert summary.mode == "incremental"
    # The creator-local days within a day of the touched UTC dates, and no others.
    assert {d.isoformat() for d in summary.days} <= {
        f"2026-10-{d:02}" for d in (11, 12, 13, 14, 15, 16, 17, 26, 27, 28, 29, 30, 31)
    }
    served = _serve(world, "served-again")
    # Equal rollup tables give equal reports (the first test); a few creators' to be sure.
    assert differing_rollups(world["db"], served) == {}
    creators = creators_of(world["db"])[:5]
    assert creator_reports(served, creators) == creator_reports(world["db"], creators)
    # Nothing new: nothing recomputed.
    assert run_spark_rollups(world["lake"], world["out"], spark=spark).mode == "unchanged"
