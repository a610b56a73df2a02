"""Insights benchmark: every insight of the top creators of a 10M-event store, and the
virality test's false-alarm rate on the generator's data.

    .venv/bin/python bench/insights.py [--events 10000000] [--top 10] [--rounds 5]
                                       [--seed 11] [--days 56] [--workdir bench/out]
                                       [--alarm-creators 300]

The store is `bench/query.py`'s cached one (generated and ingested on first use, rollups
refreshed); its insights tables (comment sentiment, platform figures) are brought up to
date first, timed (`rollup.platform.refresh_insights`). Then, in this run, for the `--top`
most played creators, `--rounds` times each, one warm-up first:

  insights   `creator_insights(studio, last 28 days)`: best times, what works, trending,
             sentiment, virality, niche benchmark, creator fund (p50 / p95 / max);
  baseline   `Studio.dashboard(last 28 days, compare=True)` of the same creators, and the
             platform-wide reads the insights would make per request without the tables
             computed at refresh (trending and niche over the hourly rollup).

Goal: insights p95 under 200 ms. The false-alarm rate: for `--alarm-creators` creators
with enough videos, every video is tested at ages 6, 12, 24, 48 and 96 hours against the
creator's other videos at the same age (the alert's own test, `virality.test_window`); a
video "took off" when its first-week views are a robust-z outlier (z >= Z_ALERT) among the
creator's videos. False alarms are alerts on videos that did not take off, per test made.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creatorlens.insights import creator_insights
from creatorlens.insights.virality import MAX_AGE_H, Z_ALERT, is_alert, robust_z, test_window
from creatorlens.query.insights import VideoAgeHours
from creatorlens.rollup.platform import (
    CREATORS_SQL,
    TRENDING_SQL,
    creators_params,
    platform_latest,
    refresh_platform,
    trending_params,
)
from creatorlens.rollup.sentiment import refresh_sentiment
from creatorlens.store import Store
from creatorlens.studio import open_studio

HERE = Path(__file__).resolve().parent
console = Console(width=None if sys.stdout.isatty() else 150)
TARGET_P95_MS = 200.0
ALARM_AGES = (6, 12, 24, 48, 96)


def _query_bench():
    """`bench/query.py` as a module: its cached store is this bench's store."""
    spec = importlib.util.spec_from_file_location("bench_query", HERE / "query.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def top_creators(con, n: int) -> list[str]:
    return [
        c
        for (c,) in con.execute(
            """SELECT r.creator_id FROM rollup_video_hourly r
               JOIN accounts a ON a.account_id = r.creator_id
               WHERE a.kind IN ('creator', 'business')
               GROUP BY 1 ORDER BY sum(r.plays) DESC, 1 LIMIT $n""",
            {"n": n},
        ).fetchall()
    ]


def time_insights(store: Store, creators: list[str], rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"insights": [], "dashboard": [], "platform reads": []}
    with open_studio(store, creators[0]) as studio:  # warm-up
        creator_insights(studio, studio.period("28d"))
        studio.dashboard(studio.period("28d"), compare=True)
    for _ in range(rounds):
        for c in creators:
            with open_studio(store, c) as studio:
                period = studio.period("28d")
                t0 = time.perf_counter()
                creator_insights(studio, period)
                out["insights"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                studio.dashboard(period, compare=True)
                out["dashboard"].append(time.perf_counter() - t0)
    con = store.session()
    end = platform_latest(con)
    for _ in range(rounds):
        t0 = time.perf_counter()
        con.execute(TRENDING_SQL, trending_params(end)).fetchall()
        con.execute(CREATORS_SQL, creators_params(end)).fetchall()
        out["platform reads"].append(time.perf_counter() - t0)
    return out


def false_alarms(store: Store, n_creators: int) -> dict[str, float]:
    """Alerts per test on videos that did not take off, and on those that did."""
    con = store.session()
    creators = [
        c
        for (c,) in con.execute(
            """SELECT creator_id FROM videos GROUP BY 1 HAVING count(*) >= 12
               ORDER BY hash(creator_id) LIMIT $n""",
            {"n": n_creators},
        ).fetchall()
    ]
    tests = alarms = took_off_tests = detected = 0
    for c in creators:
        with open_studio(store, c) as studio:
            since = studio.first or studio.latest
            panel = studio.panel(VideoAgeHours(c, since, studio.latest, MAX_AGE_H))
        hours: dict[str, dict[int, tuple[int, int]]] = {}
        for video, age, views, shares in panel.rows:
            hours.setdefault(video, {})[age] = (views, shares)
        # Videos seen whole first week inside the data.
        full = [v for v, a in panel.age_now.items() if a >= MAX_AGE_H and panel.first_age[v] == 0]
        if len(full) < 6:
            continue
        week = {v: sum(x for x, _ in hours.get(v, {}).values()) for v in full}
        for v in full:
            others = np.array([week[o] for o in full if o != v], float)
            took_off = robust_z(week[v], others) >= Z_ALERT
            for a in ALARM_AGES:
                found = test_window(v, a, hours, panel.age_now, panel.first_age)
                if found is None:
                    continue
                if took_off:
                    took_off_tests += 1
                    detected += is_alert(found)
                else:
                    tests += 1
                    alarms += is_alert(found)
    return {
        "creators": len(creators),
        "tests": tests,
        "false_alarms": alarms,
        "rate": alarms / tests if tests else float("nan"),
        "took_off_tests": took_off_tests,
        "detected": detected,
        "detection": detected / took_off_tests if took_off_tests else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--workdir", type=Path, default=Path("bench/out"))
    parser.add_argument("--rollup-memory", default="6GB")
    parser.add_argument("--alarm-creators", type=int, default=300)
    args = parser.parse_args()
    query = _query_bench()
    ns = SimpleNamespace(workdir=args.workdir, seed=args.seed, days=args.days,
                         keep_files=False, rollup_memory=args.rollup_memory)  # fmt: skip
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console) as bar:  # fmt: skip
        db = query.store_for(ns, args.events, bar)
    with Store.open(db) as store:
        t0 = time.perf_counter()
        scored = refresh_sentiment(store)
        t1 = time.perf_counter()
        refresh_platform(store, force=True)
        t2 = time.perf_counter()
    console.print(f"refresh: {scored:,} comments scored in {t1 - t0:.1f} s; platform figures "
                  f"in {t2 - t1:.2f} s")  # fmt: skip
    with Store.open(db, read_only=True) as store:
        creators = top_creators(store.session(), args.top)
        timings = time_insights(store, creators, args.rounds)
        alarms = false_alarms(store, args.alarm_creators)
    table = Table(title=f"Insights of the top {len(creators)} creators, {args.events:,} events")
    for col in ("what", "runs", "p50 ms", "p95 ms", "max ms", "mean ms"):
        table.add_column(col, justify="right")
    for name, values in timings.items():
        ms = [v * 1000 for v in values]
        table.add_row(name, str(len(ms)), f"{pct(ms, 0.5):.1f}", f"{pct(ms, 0.95):.1f}",
                      f"{max(ms):.1f}", f"{statistics.mean(ms):.1f}")  # fmt: skip
    console.print(table)
    ins = [v * 1000 for v in timings["insights"]]
    dash = [v * 1000 for v in timings["dashboard"]]
    plat = [v * 1000 for v in timings["platform reads"]]
    console.print(
        f"insights p95 {pct(ins, 0.95):.1f} ms (goal {TARGET_P95_MS:.0f} ms: "
        f"{'met' if pct(ins, 0.95) < TARGET_P95_MS else 'NOT met'}); ratio insights / dashboard "
        f"p50 {pct(ins, 0.5) / pct(dash, 0.5):.2f}; platform reads per request would add "
        f"{pct(plat, 0.5):.0f} ms p50 (x{(pct(ins, 0.5) + pct(plat, 0.5)) / pct(ins, 0.5):.1f})"
    )
    console.print(
        f"virality on generator data: {alarms['creators']} creators, {alarms['tests']:,} tests "
        f"of videos that did not take off, {alarms['false_alarms']} alerts: false-alarm rate "
        f"{alarms['rate']:.4f}; {alarms['took_off_tests']} tests of videos that took off, "
        f"{alarms['detected']} alerted ({alarms['detection']:.2f})"
    )


if __name__ == "__main__":
    main()
