"""Spark benchmark: the rollups on Spark over the lake vs the embedded DuckDB rollups.

    .venv/bin/python bench/spark.py [--sizes 1000000,10000000] [--seed 11] [--days 56]
                                    [--workdir bench/out] [--master local[2]]
                                    [--driver-memory 10g] [--shuffle-partitions 8]

For each size, a store of that many generated events (taken from `bench/query.py`'s cache,
`bench/out/query-N-sS-dD`, copied while no writer holds it, else generated and ingested
here), then, in this run:
  duckdb    a full rebuild of every rollup in the store (`rollup.refresh.rebuild_rollups`),
  export    the store's events written to a fresh lake (`lake.export_store`),
  spark     a full run of the same rollup definitions on Spark over that lake, on a session
            started before the timer (its start is reported apart),
  check     Spark's output loaded into a serving store, every rollup's row count equal to
            the embedded one's,
and prints events/s of each, the Spark / DuckDB ratio, and how each engine's time grows
from the smallest size to the largest (1.0: linear in the events); the figures are also
written to `WORKDIR/spark-results.json`.

Memory, for 1M and 10M in one run on a 24 GiB machine: DuckDB is held to
`--duckdb-memory` and the Spark driver's heap (in local mode the executors too) to
`--driver-memory`; they take turns, DuckDB in this process, Spark in its JVM, which spills
its shuffles to its local folder when the heap is short.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creatorlens.generate import generate_platform
from creatorlens.lake import export_store, load_rollups, run_spark_rollups
from creatorlens.load import ingest_into
from creatorlens.rollup.refresh import rebuild_rollups
from creatorlens.rollup.spark import OUTPUT_COLUMNS, spark_session
from creatorlens.store import Store

console = Console()


def source_store(args: argparse.Namespace, n: int, home: Path, bar: Progress) -> Path:
    """This run's own store of `n` events (the query bench's copied, or made here)."""
    db = home / "store.duckdb"
    if (home / "READY").exists():
        return db
    home.mkdir(parents=True, exist_ok=True)
    cached = args.workdir / f"query-{n}-s{args.seed}-d{args.days}" / "store.duckdb"
    task = bar.add_task(f"{n:,}: store", total=None)
    try:
        # A read-only connection holds the file against writers while it is copied.
        with duckdb.connect(str(cached), read_only=True):
            shutil.copyfile(cached, db)
            shutil.copyfile(
                cached.with_name(cached.name + ".keys"), db.with_name(db.name + ".keys")
            )
    except (duckdb.Error, OSError):
        platform = home / "platform"
        generate_platform(
            platform, events=n, creators=max(200, n // 5_000), viewers=max(20_000, n // 40),
            days=args.days, seed=args.seed, fmt="parquet",
        )  # fmt: skip
        db.unlink(missing_ok=True)
        ingest_into(db, [platform], refresh=False)
        shutil.rmtree(platform)
    (home / "READY").write_text(f"{n}\n")
    bar.update(task, completed=1, total=1)
    return db


def measure(args: argparse.Namespace, n: int, spark, bar: Progress) -> dict[str, float]:
    home = args.workdir / f"spark-{n}-s{args.seed}-d{args.days}"
    db = source_store(args, n, home, bar)
    lake, out, served = home / "lake", home / "out", home / "served.duckdb"
    for path in (lake, out):
        shutil.rmtree(path, ignore_errors=True)
    for path in (served, served.with_name(served.name + ".keys")):
        path.unlink(missing_ok=True)
    row: dict[str, float] = {}
    with Store.open(db) as store:
        row["events"] = store.con.execute("SELECT count(*) FROM events").fetchone()[0]
        store.con.execute(f"SET memory_limit = '{args.duckdb_memory}'")
        task = bar.add_task(f"{n:,}: duckdb rollups", total=None)
        started = time.perf_counter()
        rebuild_rollups(store, progress=lambda s, d, t: bar.update(task, completed=d, total=t))
        row["duckdb"] = time.perf_counter() - started
        task = bar.add_task(f"{n:,}: export to lake", total=None)
        started = time.perf_counter()
        export_store(store, lake, progress=lambda s, d, t: bar.update(task, completed=d, total=t))
        row["export"] = time.perf_counter() - started
    task = bar.add_task(f"{n:,}: spark rollups", total=None)
    started = time.perf_counter()
    run_spark_rollups(
        lake, out, spark=spark, full=True,
        progress=lambda s, d, t: bar.update(task, completed=d, total=t,
                                            description=f"{n:,}: spark {s}"),
    )  # fmt: skip
    row["spark"] = time.perf_counter() - started
    shutil.copyfile(db.with_name(db.name + ".keys"), served.with_name(served.name + ".keys"))
    load_rollups(out, served, keys=served.with_name(served.name + ".keys"))
    with duckdb.connect(str(served), read_only=True) as con:
        con.execute(f"ATTACH '{db}' AS duck (READ_ONLY)")
        for table in OUTPUT_COLUMNS:
            a, b = con.execute(
                f"SELECT (SELECT count(*) FROM {table}), (SELECT count(*) FROM duck.{table})"
            ).fetchone()
            if a != b:
                raise SystemExit(f"{n:,}: {table} has {a:,} rows from Spark, {b:,} from DuckDB")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="10g")
    parser.add_argument("--shuffle-partitions", default="8")
    parser.add_argument("--duckdb-memory", default="8GB")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    started = time.perf_counter()
    spark = spark_session(
        args.master,
        {
            "spark.driver.memory": args.driver_memory,
            "spark.sql.shuffle.partitions": args.shuffle_partitions,
        },
    )
    jvm = time.perf_counter() - started
    rows = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    ) as bar:  # fmt: skip
        for n in sizes:
            rows[n] = measure(args, n, spark, bar)
    spark.stop()

    table = Table(title=f"Rollups: Spark ({args.master}) vs DuckDB, full rebuild")
    for col in ("events", "duckdb s", "duckdb ev/s", "spark s", "spark ev/s",
                "spark / duckdb time", "export s", "export ev/s"):  # fmt: skip
        table.add_column(col, justify="right")
    for r in rows.values():
        e = r["events"]
        table.add_row(
            f"{e:,.0f}", f"{r['duckdb']:.1f}", f"{e / r['duckdb']:,.0f}", f"{r['spark']:.1f}",
            f"{e / r['spark']:,.0f}", f"{r['spark'] / r['duckdb']:.2f}x", f"{r['export']:.1f}",
            f"{e / r['export']:,.0f}",
        )  # fmt: skip
    console.print(table)
    console.print(f"Spark session start (JVM, outside the timings): {jvm:.1f} s")
    results = args.workdir / "spark-results.json"
    results.write_text(json.dumps({"master": args.master, "jvm_start_s": jvm,
                                   "rows": [rows[n] for n in sizes]}, indent=2) + "\n")  # fmt: skip
    if len(rows) > 1:
        small, big = rows[sizes[0]], rows[sizes[-1]]
        growth = big["events"] / small["events"]
        for engine in ("duckdb", "spark", "export"):
            factor = big[engine] / small[engine]
            console.print(
                f"{engine}: {growth:.1f}x the events took {factor:.1f}x the time "
                f"(time per event x{factor / growth:.2f})"
            )


if __name__ == "__main__":
    main()
