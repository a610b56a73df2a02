"""Ingest benchmark: creatorlens ingest vs a row-by-row INSERT loop and a bare read_json load.

    .venv/bin/python bench/ingest.py [--events 2000000] [--naive-sample 20000] [--workdir DIR]

Generates a platform with at least `--events` events (NDJSON), then, in this one run:
  ours   `creatorlens ingest` of the events file (validate, pseudonymize, dedupe, write),
         in a subprocess, timed end to end, with its peak RSS;
  bare   DuckDB `CREATE TABLE AS SELECT * FROM read_json(file)`: no checks at all;
  naive  a plain loop: json.loads each line, HMAC the viewer in Python, one parameterized
         INSERT per event, on the first `--naive-sample` events, scaled to events/s.
Ours and bare take turns `--rounds` times, each into a new store, and each is rated by its
fastest round: a load of a second and a half is easily slowed by other work on a shared
machine, and taking turns lets a slow spell fall on both. Prints every round, events/s for
each, peak RSS, and the two ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creatorlens.generate import generate_platform
from creatorlens.ingest.wire import EVENT_FIELDS

console = Console()

NAIVE_COLUMNS = (
    "event_id", "type", "ts", "creator_id", "actor_id", "viewer_pid", "video_id", "watched_ms",
    "source", "channel", "comment_id", "text", "target_id", "live_id", "gift_value",
)  # fmt: skip
ANONYMOUS = {"view", "profile_view", "share", "save"}


def run_measured(cmd: list[str]) -> tuple[float, int]:
    """Run a command; return its wall time and its own peak RSS in bytes."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024


def ours_ingest(platform_dir: Path, store: Path) -> tuple[float, int]:
    """Time `creatorlens ingest` of the events file into a store holding the platform's
    accounts and videos; return its wall time and peak RSS."""
    # Ingest as issue #2 defines it; the rollup refresh is measured by bench/query.py.
    for suffix in ("", ".wal", ".keys"):
        store.with_name(store.name + suffix).unlink(missing_ok=True)
    cli = [sys.executable, "-m", "creatorlens", "ingest", "--no-rollups", "--db", str(store)]
    run_measured(cli + [str(platform_dir / "accounts.ndjson"), str(platform_dir / "videos.ndjson")])
    return run_measured(cli + [str(platform_dir / "events.ndjson")])


def bare_load(events: Path, db: Path) -> float:
    """Time DuckDB loading the file into a table with no checks at all."""
    for suffix in ("", ".wal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    started = time.perf_counter()
    columns = {f: "VARCHAR" for f in EVENT_FIELDS} | {
        "watched_ms": "BIGINT",
        "gift_value": "DOUBLE",
    }
    con.execute(
        "CREATE TABLE events AS "
        "SELECT * FROM read_json(?, columns = ?, format = 'newline_delimited')",
        [str(events), columns],
    )
    con.execute("CHECKPOINT")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def naive_insert(events: Path, videos: Path, db: Path, sample: int) -> tuple[float, int]:
    """Time the obvious implementation: a Python loop with one INSERT per event."""
    creator_of = {}
    with videos.open() as f:
        for line in f:
            v = json.loads(line)
            creator_of[v["video_id"]] = v["creator_id"]
    secret = os.urandom(32)
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE events (event_id VARCHAR, type VARCHAR, ts TIMESTAMPTZ, "
        "creator_id VARCHAR, actor_id VARCHAR, viewer_pid UBIGINT, video_id VARCHAR, "
        "watched_ms BIGINT, source VARCHAR, channel VARCHAR, comment_id VARCHAR, text VARCHAR, "
        "target_id VARCHAR, live_id VARCHAR, gift_value DOUBLE)"
    )
    placeholders = ", ".join("?" for _ in NAIVE_COLUMNS)
    done = 0
    started = time.perf_counter()
    with events.open() as f:
        for line in f:
            if done >= sample:
                break
            e = json.loads(line)
            ts = e["ts"]
            if isinstance(ts, int):
                ts = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ts / 1000))
            creator = creator_of.get(e.get("video_id")) or e.get("target_id")
            actor, pid = e.get("actor_id"), None
            if e["type"] in ANONYMOUS:
                mac = hmac.new(secret, f"{creator}\0{actor}".encode(), hashlib.sha256).digest()
                actor, pid = None, int.from_bytes(mac[:8], "big")
            exists = con.execute(
                "SELECT 1 FROM events WHERE event_id = ?", [e["event_id"]]
            ).fetchone()
            if exists is None:
                row = dict(e, ts=ts, creator_id=creator, actor_id=actor, viewer_pid=pid)
                con.execute(
                    f"INSERT INTO events VALUES ({placeholders})",
                    [row.get(c) for c in NAIVE_COLUMNS],
                )
            done += 1
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed, done


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--naive-sample", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    platform_dir = args.workdir / f"platform-{args.events}-{args.seed}"
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        if not (platform_dir / "events.ndjson").exists():
            task = bar.add_task("generate platform", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"generate {stage}", completed=done, total=total)

            generate_platform(
                platform_dir,
                events=args.events,
                viewers=max(20_000, args.events // 40),
                creators=max(200, args.events // 5_000),
                seed=args.seed,
                progress=progress,
            )
            bar.update(task, completed=1, total=1)
        events = platform_dir / "events.ndjson"
        n_events = count_lines(events)
        dbs = args.workdir / "dbs"
        shutil.rmtree(dbs, ignore_errors=True)
        dbs.mkdir(parents=True)

        task = bar.add_task("ours and bare, taking turns", total=args.rounds)
        rounds = []
        for _ in range(args.rounds):
            ours = ours_ingest(platform_dir, dbs / "ours.duckdb")
            bare = bare_load(events, dbs / "bare.duckdb")
            rounds.append((ours, bare))
            bar.update(task, advance=1)
        ours_s = min(ours for (ours, _), _ in rounds)
        ours_rss = max(rss for (_, rss), _ in rounds)
        bare_s = min(bare for _, bare in rounds)

        task = bar.add_task(f"naive: row-by-row INSERT ({args.naive_sample:,} events)", total=1)
        naive_s, naive_n = naive_insert(
            events, platform_dir / "videos.ndjson", dbs / "naive.duckdb", args.naive_sample
        )
        bar.update(task, completed=1)

    ours_rate = n_events / ours_s
    bare_rate = n_events / bare_s
    naive_rate = naive_n / naive_s
    table = Table(
        title=f"Ingest of {n_events:,} events ({events.stat().st_size / 1e6:,.0f} MB NDJSON)"
    )
    table.add_column("run")
    table.add_column("seconds", justify="right")
    table.add_column("events/s", justify="right")
    table.add_row(
        "ours (validate, pseudonymize, dedupe, write)", f"{ours_s:.2f}", f"{ours_rate:,.0f}"
    )
    table.add_row("bare read_json load, no checks", f"{bare_s:.2f}", f"{bare_rate:,.0f}")
    table.add_row(
        f"naive row-by-row INSERT (sample of {naive_n:,}, scaled)",
        f"{n_events / naive_rate:.1f}",
        f"{naive_rate:,.0f}",
    )
    console.print(table)
    for n, ((ours, _), bare) in enumerate(rounds, 1):
        console.print(
            f"round {n}: ours {ours:.2f} s, bare {bare:.2f} s, ours / bare {bare / ours:.2f}"
        )
    console.print(f"each rated by its fastest of {args.rounds} rounds")
    console.print(f"peak RSS of ours: {ours_rss / 2**20:,.0f} MiB")
    console.print(f"ours / bare read_json: {ours_rate / bare_rate:.2f}  (share of bare-load speed)")
    console.print(f"ours / naive INSERT loop: {ours_rate / naive_rate:,.1f}x")


if __name__ == "__main__":
    main()
