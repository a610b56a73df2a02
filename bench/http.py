"""HTTP benchmark: the collector under load, how fresh the creator API stays, and how fast it
answers meanwhile, against the same events through `creatorlens ingest` + refresh.

    .venv/bin/python bench/http.py [--events 10000000] [--seconds 60] [--batch 1000]
                                   [--senders 16] [--workdir DIR] [--keep]

The stored platform is `bench/query.py`'s cached store of `--events` events (generated and
ingested once, under `--workdir`). The load is what a collector receives as it happens: the
stored platform's last day again, live. It is another platform generated with the same
creators and viewers and the next seed over one day, the stored window's last (2026-10-31),
its videos renamed (`L` before each id) so that they are new videos of the stored creators,
its events played by the stored accounts; cached too: enough events for `--seconds` at the
100,000 events/s goal.

In this run, each on a fresh copy of the stored platform:
  baseline   the load's files through `ingest_into` (what `creatorlens ingest` runs) and the
             rollup refresh after it: events/s over both.
  service    `creatorlens serve` in a subprocess on a free loopback port; the load's accounts
             and videos posted first, then its events as NDJSON bodies of `--batch` events
             (built before the clock starts) by `--senders` threads back to back, for
             `--seconds` or until the load runs out. Meanwhile one thread polls `/v1/status`
             every 100 ms and one asks for the store's most viewed creator's overview
             (`/v1/creators/{id}/overview?period=28d`) in a loop.
Reported: collector events/s sustained (accepted events over the load's wall time, the
rollups kept fresh by the server's own refresh), freshness (from a batch's 200 to the first
status whose `rollups_as_of` is past it: p50 / p95 / max over every batch), overview
requests/s and p50 / p99 latency under the load, the baseline's events/s and the service /
baseline ratio, against the issue's goals (100,000 events/s, freshness p95 <= 5 s, overview
p99 <= 100 ms). The bench stops by itself: the request count is bounded by the load.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on the path, and its name would hide the
# standard library's `http` package from everything below (httpx, uvicorn).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import httpx
import msgspec
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creatorlens.generate import generate_platform
from creatorlens.load import ingest_into

console = Console(width=None if sys.stdout.isatty() else 150)
HERE = Path(__file__).resolve().parent
GOAL_EVENTS_PER_S = 100_000
GOAL_FRESH_P95_S = 5.0
GOAL_OVERVIEW_P99_MS = 100.0


def _query_bench():
    """`bench/query.py` as a module: its cached stores are this bench's stored platform."""
    spec = importlib.util.spec_from_file_location("bench_query", HERE / "query.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


# --- the platforms -------------------------------------------------------------------------


def stored_platform(args: argparse.Namespace, bar: Progress) -> Path:
    query = _query_bench()
    ns = argparse.Namespace(
        workdir=args.workdir, seed=args.seed, days=args.days, keep_files=False,
        rollup_memory=args.rollup_memory,
    )  # fmt: skip
    return query.store_for(ns, args.events, bar)


def load_platform(args: argparse.Namespace, bar: Progress):
    """The load: the stored platform's sizes, the next seed, enough events for the run."""
    n = int(GOAL_EVENTS_PER_S * args.seconds * 1.1)
    home = args.workdir / f"http-load-{n}-s{args.seed + 1}-live"
    task = bar.add_task("load: generate", total=None)

    def progress(stage: str, done: int, total: int) -> None:
        bar.update(task, description=f"load: generate {stage}", completed=done, total=total)

    files = [home / f"{kind}.ndjson" for kind in ("accounts", "videos", "events")]
    if not all(f.exists() for f in files) or not (home / "DONE").exists():
        generate_platform(
            home,
            events=n,
            creators=max(200, args.events // 5_000),
            viewers=max(20_000, args.events // 40),
            days=1,  # the window's last day: the generator's window ends where the store's does
            seed=args.seed + 1,
            progress=progress,
        )
        bar.update(task, description="load: new video ids")
        for path in files[1:]:
            rename_videos(path)
        (home / "DONE").write_text("ok\n")
    bar.update(task, description="load: generated", completed=1, total=1)
    return files


def rename_videos(path: Path) -> None:
    """Rewrite the file with `L` before every video id: the load's videos are new ones (a
    video of a stored id would replace the stored one, its duration and post time with it)."""
    decoder, encoder = msgspec.json.Decoder(), msgspec.json.Encoder()
    renamed = path.with_name(path.name + ".renamed")
    with path.open("rb") as f, renamed.open("wb") as out:
        for line in f:
            if not line.strip():
                continue
            record = decoder.decode(line)
            if record.get("video_id"):
                record["video_id"] = "L" + record["video_id"]
            out.write(encoder.encode(record) + b"\n")
    renamed.replace(path)


def fresh_copy(db: Path, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    copy = where / "store.duckdb"
    for suffix in ("", ".keys"):
        shutil.copyfile(db.with_name(db.name + suffix), copy.with_name(copy.name + suffix))
    os.chmod(copy.with_name(copy.name + ".keys"), 0o600)
    return copy


def top_creator(db: Path) -> str:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT creator_id FROM rollup_video_hourly GROUP BY 1 ORDER BY sum(views) DESC LIMIT 1"
        ).fetchone()[0]
    finally:
        con.close()


# --- the baseline --------------------------------------------------------------------------


def baseline(db: Path, files: list[Path], bar: Progress) -> tuple[int, float]:
    """(records accepted, seconds) through `ingest_into`, refresh included."""
    task = bar.add_task("baseline: ingest + refresh", total=None)
    started = time.perf_counter()
    summary = ingest_into(db, files)
    seconds = time.perf_counter() - started
    bar.update(task, completed=1, total=1)
    return summary.accepted, seconds


# --- the service ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cli(*args: str) -> str:
    exe = [sys.executable, "-m", "creatorlens", *args]
    return subprocess.run(exe, check=True, capture_output=True, text=True).stdout


def start_server(db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "creatorlens", "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server was not ready in 300 s")


def bodies(path: Path, per_body: int) -> list[bytes]:
    """The file's NDJSON lines in bodies of `per_body` records, built before the clock."""
    out, chunk = [], []
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                chunk.append(line)
                if len(chunk) == per_body:
                    out.append(b"".join(chunk))
                    chunk = []
    if chunk:
        out.append(b"".join(chunk))
    return out


@dataclass
class Load:
    """What the load threads saw."""

    accepted_at: list[tuple[float, int]] = field(default_factory=list)  # (wall time, n)
    request_s: list[float] = field(default_factory=list)
    statuses: list[tuple[float, float | None]] = field(default_factory=list)
    refresh_s: list[float] = field(default_factory=list)  # the server's refreshes, as polled
    overview_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    duplicates: int = 0
    quarantined: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_all(client: httpx.Client, entity: str, chunks: list[bytes], load: Load) -> None:
    for body in chunks:
        r = client.post(f"/v1/{entity}", content=body,
                        headers={"Content-Type": "application/x-ndjson"})  # fmt: skip
        if r.status_code != 200:
            load.errors.append(f"{entity}: {r.status_code} {r.text[:200]}")


def sender(url: str, key: str, queue: list[bytes], lock, stop_at: float, load: Load) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as c:
        while time.time() < stop_at:
            with lock:
                if not queue:
                    return
                body = queue.pop()
            t0 = time.perf_counter()
            r = c.post("/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"})
            done = time.time()
            if r.status_code != 200:
                with load.lock:
                    load.errors.append(f"events: {r.status_code} {r.text[:200]}")
                if r.status_code == 429:
                    time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            answer = r.json()
            with load.lock:
                load.request_s.append(time.perf_counter() - t0)
                load.accepted_at.append((done, answer["accepted"]))
                load.duplicates += answer["duplicates"]
                load.quarantined += answer["quarantined"]


def status_poller(url: str, stop: threading.Event, load: Load) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        while not stop.is_set():
            s = c.get("/v1/status").json()
            as_of = s["rollups_as_of"]
            at = datetime.fromisoformat(as_of).timestamp() if as_of else None
            load.statuses.append((time.time(), at))
            last = s.get("last_refresh_seconds")
            if last is not None and (not load.refresh_s or load.refresh_s[-1] != last):
                load.refresh_s.append(last)
            stop.wait(0.1)


def overview_asker(url: str, token: str, creator: str, stop: threading.Event, load: Load):
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        path = f"/v1/creators/{creator}/overview"
        while not stop.is_set():
            t0 = time.perf_counter()
            r = c.get(path, params={"period": "28d"})
            elapsed = (time.perf_counter() - t0) * 1000
            if r.status_code == 200:
                load.overview_ms.append(elapsed)
            else:
                load.errors.append(f"overview: {r.status_code} {r.text[:200]}")


def freshness(load: Load) -> list[float]:
    """Seconds from each batch's 200 to the first status whose rollups cover it."""
    out = []
    statuses = sorted(load.statuses)
    for done, _ in load.accepted_at:
        seen = next((t for t, at in statuses if at is not None and at >= done), None)
        if seen is not None:
            out.append(seen - done)
    return out


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_service(args, db: Path, files: list[Path], creator: str, bar: Progress) -> dict:
    videos, events = files
    log = db.with_name("server.log")
    key = cli("tokens", "create", "--db", str(db), "--ingest", "--name", "bench").split()[-1]
    token = cli("tokens", "create", "--db", str(db), "--creator", creator).split()[-1]
    proc, url = start_server(db, log)
    load = Load()
    try:
        task = bar.add_task("service: videos", total=None)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=300) as c:  # fmt: skip
            post_all(c, "videos", bodies(videos, 10_000), load)
        bar.update(task, completed=1, total=1)
        queue = bodies(events, args.batch)
        queue.reverse()  # popped from the end: the file's order
        n_bodies = len(queue)
        task = bar.add_task("service: events under load", total=n_bodies)
        stop = threading.Event()
        watchers = [
            threading.Thread(target=status_poller, args=(url, stop, load)),
            threading.Thread(target=overview_asker, args=(url, token, creator, stop, load)),
        ]
        for t in watchers:
            t.start()
        qlock = threading.Lock()
        started = time.time()
        stop_at = started + args.seconds
        senders = [
            threading.Thread(target=sender, args=(url, key, queue, qlock, stop_at, load))
            for _ in range(args.senders)
        ]
        for t in senders:
            t.start()
        while any(t.is_alive() for t in senders):
            bar.update(task, completed=n_bodies - len(queue))
            time.sleep(0.5)
        loaded = time.time() - started
        # The last batches' freshness: wait (bounded) until the rollups cover them.
        last = max((d for d, _ in load.accepted_at), default=started)
        deadline = time.time() + 120
        while time.time() < deadline and not any(
            at is not None and at >= last for _, at in load.statuses[-5:]
        ):
            time.sleep(0.2)
        stop.set()
        for t in watchers:
            t.join()
        bar.update(task, completed=n_bodies - len(queue))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
    accepted = sum(n for _, n in load.accepted_at)
    return {
        "accepted": accepted,
        "seconds": loaded,
        "load": load,
        "fresh": freshness(load),
    }


# --- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--senders", type=int, default=16)  # app servers posting at once
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--workdir", type=Path, default=HERE / "out")
    parser.add_argument("--rollup-memory", default="12GB")
    parser.add_argument("--keep", action="store_true", help="keep the run's store copies")
    args = parser.parse_args(argv)
    run_dir = args.workdir / "http-run"
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as bar:
        stored = stored_platform(args, bar)
        files = load_platform(args, bar)
        creator = top_creator(stored)
        task = bar.add_task("copies of the stored platform", total=2)
        base_db = fresh_copy(stored, run_dir / "baseline")
        bar.advance(task)
        service_db = fresh_copy(stored, run_dir / "service")
        bar.advance(task)
        # The load's accounts are left out: the stored platform has accounts of the same ids,
        # and replacing their settings (opt-outs) would rewrite their stored events first.
        files = files[1:]
        base_events, base_seconds = baseline(base_db, files, bar)
        service = run_service(args, service_db, files, creator, bar)
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)

    load: Load = service["load"]
    rate = service["accepted"] / service["seconds"] if service["seconds"] else 0.0
    base_rate = base_events / base_seconds if base_seconds else 0.0
    fresh = service["fresh"]
    overview = load.overview_ms
    table = Table(title=f"Service on a store of {args.events:,} events, loopback, "
                  f"batches of {args.batch:,} events, {args.senders} senders")  # fmt: skip
    for col in ("measure", "figure", "goal"):
        table.add_column(col, justify="right" if col != "measure" else "left")
    table.add_row("collector events/s (sustained)", f"{rate:,.0f}", f"{GOAL_EVENTS_PER_S:,}")
    table.add_row("events accepted / load seconds", f"{service['accepted']:,} / "
                  f"{service['seconds']:.1f} s", "")  # fmt: skip
    table.add_row("duplicates / quarantined", f"{load.duplicates:,} / {load.quarantined:,}", "0")
    table.add_row("request p50 / p99 (ms)", f"{pct(load.request_s, .5) * 1000:.0f} / "
                  f"{pct(load.request_s, .99) * 1000:.0f}", "")  # fmt: skip
    table.add_row("freshness p50 / p95 / max (s)", f"{pct(fresh, .5):.2f} / "
                  f"{pct(fresh, .95):.2f} / {max(fresh, default=float('nan')):.2f}",
                  f"p95 <= {GOAL_FRESH_P95_S:.0f}")  # fmt: skip
    table.add_row("server refresh p50 / max (s)", f"{pct(load.refresh_s, .5):.2f} / "
                  f"{max(load.refresh_s, default=float('nan')):.2f}", "")  # fmt: skip
    table.add_row(
        "overview requests/s under load",
        f"{len(overview) / service['seconds']:.1f}" if service["seconds"] else "-",
        "",
    )
    table.add_row("overview p50 / p99 (ms)", f"{pct(overview, .5):.0f} / {pct(overview, .99):.0f}",
                  f"p99 <= {GOAL_OVERVIEW_P99_MS:.0f}")  # fmt: skip
    table.add_row("baseline: ingest + refresh records/s", f"{base_rate:,.0f}",
                  f"{base_events:,} in {base_seconds:.1f} s")  # fmt: skip
    table.add_row("service / baseline", f"{rate / base_rate:.2f}x" if base_rate else "-", "")
    console.print(table)
    if load.errors:
        console.print(f"{len(load.errors)} failed requests, first: {load.errors[0]}")
    verdicts = [
        ("collector events/s", rate >= GOAL_EVENTS_PER_S),
        ("freshness p95", pct(fresh, 0.95) <= GOAL_FRESH_P95_S),
        ("overview p99", pct(overview, 0.99) <= GOAL_OVERVIEW_P99_MS),
    ]
    for name, met in verdicts:
        console.print(f"goal {name}: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
