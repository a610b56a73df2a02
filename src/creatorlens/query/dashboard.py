"""A creator's dashboard: overview, videos, followers and what was withheld, as one value.

Every figure comes from `run_query` (or, for panels the generic query cannot express, from
a rollup read that goes through the same privacy functions), so the terminal report, the
JSON and the web page are renderings of the same result.
"""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import Any

from creatorlens.privacy.likers import visible_likers
from creatorlens.privacy.policy import UNKNOWN
from creatorlens.privacy.suppression import Cell, digest, suppress_breakdown
from creatorlens.query.model import Filter, Period, Query
from creatorlens.query.result import Withheld
from creatorlens.query.runner import (
    Context,
    follower_cells,
    followers_clear,
    prefetch,
    run_query,
)

OVERVIEW_METRICS = (
    "views",
    "plays",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "saves",
    "followers_gained",
    "followers_lost",
    "followers_net",
    "total_watch_ms",
    "avg_watch_ms",
    "full_watch_rate",
    "reach",
    "engaged_audience",
    "new_viewers",
    "returning_viewers",
    "follower_viewers",
    "non_follower_viewers",
)
DAILY_METRICS = (
    "views",
    "plays",
    "likes",
    "comments",
    "shares",
    "profile_views",
    "followers_net",
    "reach",
)
VIDEO_METRICS = (
    "views",
    "plays",
    "likes",
    "comments",
    "shares",
    "saves",
    "total_watch_ms",
    "avg_watch_ms",
    "full_watch_rate",
    "reach",
)
VIDEO_DETAIL_METRICS = (
    "new_viewers",
    "returning_viewers",
    "follower_viewers",
    "non_follower_viewers",
    "engaged_audience",
)
AUDIENCE_DIMENSIONS = ("country", "age", "gender")


@dataclass
class Dashboard:
    """Everything a creator sees for one period, already through the privacy policy."""

    creator_id: str
    period: Period
    overview: dict[str, Any]
    videos: list[dict[str, Any]]
    followers: dict[str, Any]
    withheld: list[Withheld] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "creator_id": self.creator_id,
            "period": {
                "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(),
                "label": self.period.label,
            },
            "overview": self.overview,
            "videos": self.videos,
            "followers": self.followers,
            "withheld": [vars(w) for w in self.withheld],
        }


def build_dashboard(
    ctx: Context,
    creator_id: str,
    period: Period,
    *,
    compare: bool = True,
    top_videos: int = 10,
    detail_videos: int = 1,
) -> Dashboard:
    """Assemble the dashboard's panels from queries over the rollups.

    Each panel is a task of its own, read on one of two connections at once, as a
    dashboard loads its panels in parallel; a detailed video's panels are tasks too, queued
    once the video list is known. Each task keeps its own list of what was withheld, and
    the lists are joined in a fixed order, so the result is the same whatever finishes
    first.
    """
    with _Panels(ctx, creator_id, period) as panels:
        # The video list first: the detail panels it queues can only start after it.
        videos = panels.submit(lambda run: _video_list(panels, run, top_videos, detail_videos))
        overview = panels.submit(
            lambda run: run.all(
                summary=run.query(OVERVIEW_METRICS, compare=compare),
                daily=run.query(DAILY_METRICS, ("day",)),
                sources=run.query(("plays", "views"), ("source",), order_by=(("plays", "desc"),)),
            )
        )
        audience = panels.submit(
            lambda run: run.all(
                **{dim: run.query(("reach", "views"), (dim,)) for dim in AUDIENCE_DIMENSIONS}
            )
        )
        followers = panels.submit(
            lambda run: _followers(run.ctx, creator_id, period, run, run.withheld)
        )
        video_rows, details = videos.result()
        for video, panel in zip(video_rows, details, strict=False):
            video.update(_gathered(panel))
        read = overview.result()
        summary = read["summary"]
        overview_panel = {
            "totals": summary.totals,
            "previous": summary.comparison,
            "change": _change(summary.totals, summary.comparison),
            "daily": _fill_days(read["daily"].rows, period, DAILY_METRICS),
            "audience": {dim: _breakdown_rows(r) for dim, r in audience.result().items()},
            "traffic_sources": read["sources"].rows,
        }
        followers_panel = followers.result()
    order = [overview, audience, videos, *_flat(details), followers]
    withheld = [w for task in order for w in task.withheld]
    return Dashboard(creator_id, period, overview_panel, video_rows, followers_panel, withheld)


class _Runner:
    """`run(metrics, dimensions, filters, ...)` for one panel: its queries and what the
    privacy policy withheld from them."""

    def __init__(self, ctx: Context, creator_id: str, period: Period):
        self.ctx = ctx
        self.creator_id = creator_id
        self.period = period
        self.withheld: list[Withheld] = []

    def query(self, metrics, dimensions=(), filters=(), **kw) -> Query:
        return Query(
            self.creator_id,
            tuple(metrics),
            self.period,
            tuple(dimensions),
            tuple(filters),
            compare=kw.pop("compare", False),
            # A breakdown's totals line is read only where a panel shows it.
            totals=kw.pop("totals", not dimensions),
            **kw,
        )

    def __call__(self, metrics, dimensions=(), filters=(), **kw):
        return self.run(self.query(metrics, dimensions, filters, **kw))

    def run(self, query: Query):
        result = run_query(self.ctx, query)
        self.withheld.extend(
            Withheld(f"{w.what} ({', '.join(query.dimensions) or 'total'})", w.reason, w.detail)
            for w in result.withheld
        )
        return result

    def all(self, **queries: Query) -> dict[str, Any]:
        """Several queries of one panel, their rollup reads made in one statement."""
        prefetch(self.ctx, list(queries.values()))
        return {name: self.run(query) for name, query in queries.items()}


class _Task:
    """A panel being read: its result when done, and what it withheld."""

    def __init__(self, future: Future, runner: _Runner):
        self._future = future
        self._runner = runner

    def result(self):
        return self._future.result()

    @property
    def withheld(self) -> list[Withheld]:
        return self._runner.withheld


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="dashboard")


class _Panels:
    """The tasks of one dashboard on the two worker threads, each thread reading on its own
    session of the store. The tasks share the context's memo.

    The dashboard keeps its own queue of tasks: each job given to the pool runs whichever
    task is at its head when a thread is free, so a task can be queued ahead of those
    already waiting."""

    def __init__(self, ctx: Context, creator_id: str, period: Period):
        self.ctx = ctx
        self.creator_id = creator_id
        self.period = period
        self._local = threading.local()
        self._lock = threading.Lock()
        self._futures: list[Future] = []
        self._waiting: deque[tuple[Any, Future]] = deque()

    def submit(self, panel, *, ahead: bool = False) -> _Task:
        """Queue `panel(run)` (`ahead`: before the tasks waiting); `run.ctx` is the
        worker's context."""
        runner = _Runner(self.ctx, self.creator_id, self.period)

        def task():
            runner.ctx = self._worker_ctx()
            return panel(runner)

        future: Future = Future()
        with self._lock:
            (self._waiting.appendleft if ahead else self._waiting.append)((task, future))
            self._futures.append(future)
        _pool().submit(self._run_next)
        return _Task(future, runner)

    def _run_next(self) -> None:
        """Run the task at the head of the queue (one job is given to the pool per task)."""
        with self._lock:
            task, future = self._waiting.popleft()
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(task())
        except BaseException as exc:  # handed to whoever waits on the task
            future.set_exception(exc)

    def _worker_ctx(self) -> Context:
        worker = getattr(self._local, "ctx", None)
        if worker is None:
            worker = self._local.ctx = replace(self.ctx, con=self.ctx.con.for_this_thread())
        return worker

    def __enter__(self) -> _Panels:
        return self

    def __exit__(self, *exc) -> None:
        # Every task, those queued by other tasks included, has finished before the
        # dashboard is done: none may still be reading when the context closes.
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                break
            wait(pending)


def _flat(details: list[dict[str, _Task]]) -> list[_Task]:
    return [task for panel in details for task in panel.values()]


def _gathered(panel: dict[str, _Task]) -> dict[str, Any]:
    """A detailed video's panels in display order: its figures, retention, likers."""
    figures = panel["figures"].result()
    return {
        **figures.pop("totals"),
        **figures,
        **panel["positions"].result(),
        "likers": panel["likers"].result(),
    }


def _video_list(
    panels: _Panels, run: _Runner, top: int, detailed: int
) -> tuple[list[dict[str, Any]], list[dict[str, _Task]]]:
    """The top videos with their metadata, and the detail panels of the first `detailed`
    of them, queued as tasks of their own."""
    videos = run(
        VIDEO_METRICS, ("video",), order_by=(("views", "desc"), ("video", "asc")), limit=top
    ).rows
    meta = _video_meta(run.ctx, [v["video"] for v in videos])
    for video in videos:
        video.update(meta.get(video["video"], {}))
    details = [_video_detail(panels, v["video"]) for v in videos[:detailed]]
    return videos, details


def _change(now: dict, before: dict | None) -> dict[str, float | None]:
    if not before:
        return {}
    out = {}
    for key, value in now.items():
        old = before.get(key)
        if isinstance(value, int | float) and isinstance(old, int | float) and old:
            out[key] = round((value - old) / old, 4)
        else:
            out[key] = None
    return out


def _fill_days(rows: list[dict], period: Period, metrics: tuple[str, ...]) -> list[dict]:
    """One row per day of the period, zeros where nothing happened."""
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(period.days):
        day = (period.start + timedelta(days=i)).isoformat()
        out.append(by_day.get(day) or {"day": day, **{m: 0 for m in metrics}})
    return out


def _breakdown_rows(result) -> dict[str, Any]:
    return {
        "rows": result.rows,
        "total": result.totals,
        "withheld": [vars(w) for w in result.withheld],
    }


def _video_meta(ctx: Context, video_ids: list[str]) -> dict[str, dict]:
    if not video_ids:
        return {}
    rows = ctx.con.execute(
        "SELECT video_id, creator_id, posted_at, duration_ms, caption, hashtags FROM videos "
        "WHERE video_id IN (SELECT unnest($ids))",
        {"ids": video_ids},
    ).fetchall()
    for v, creator, _, d, _, _ in rows:
        ctx.memo[("video", v)] = (creator, d)  # for the detail panels
    return {
        v: {
            "posted_at": p.isoformat() if p else None,
            "duration_ms": d,
            "caption": c,
            "hashtags": list(h or []),
        }
        for v, _, p, d, c, h in rows
    }


def _video_detail(panels: _Panels, video_id: str) -> dict[str, _Task]:
    """A video's detail panels as three tasks: its figures (viewers, sources, channels),
    retention and likes by second, and the likers list."""
    only = (Filter("video", "is", (video_id,)),)
    period = panels.period

    def likers(run: _Runner) -> dict[str, Any]:
        video_row = _video_row(run.ctx, video_id)
        found = visible_likers(run.ctx.con, video_id, video_row[0] if video_row else None)
        return {"named": list(found.named), "others": found.others}

    def figures(run: _Runner) -> dict[str, Any]:
        read = run.all(
            totals=run.query(VIDEO_DETAIL_METRICS, (), only),
            traffic_sources=run.query(
                ("plays", "views"), ("source",), only, order_by=(("plays", "desc"),)
            ),
            share_channels=run.query(
                ("shares",), ("channel",), only, order_by=(("shares", "desc"),)
            ),
        )
        return {
            "totals": read["totals"].totals,
            "traffic_sources": read["traffic_sources"].rows,
            "share_channels": read["share_channels"].rows,
        }

    def positions(run: _Runner) -> dict[str, Any]:
        return {
            "retention": retention_curve(run.ctx, video_id, period),
            "likes_by_second": likes_by_second(run.ctx, video_id, period),
        }

    # Ahead of the panels still waiting, so the dashboard does not end on a detail read
    # alone while the other thread has nothing left. Each goes to the head of the queue, so
    # the last submitted runs first: the figures (the longest), the likers, the positions.
    # The panels are returned in display order, the order their withheld notes are joined.
    tasks = {
        "positions": panels.submit(positions, ahead=True),
        "likers": panels.submit(likers, ahead=True),
        "figures": panels.submit(figures, ahead=True),
    }
    return {name: tasks[name] for name in ("likers", "figures", "positions")}


def _video_row(ctx: Context, video_id: str) -> tuple[str, int] | None:
    """The video's creator and duration (read once per context)."""
    return ctx.once(
        ("video", video_id),
        lambda: ctx.con.execute(
            "SELECT creator_id, duration_ms FROM videos WHERE video_id = ?", [video_id]
        ).fetchone(),
    )


def _bucket_width(duration: int) -> tuple[float, int]:
    """The width of a position bucket and the last bucket's number (the rollups' buckets:
    1 s up to 100 s of duration, else 1 % of it)."""
    width = 1000 if duration <= 100_000 else duration / 100
    return width, int(-(-duration // width))


def _positions(ctx: Context, video_id: str, period: Period) -> dict[str, list[tuple]]:
    """The video's plays by how far they got and its likes by position in the period, as
    (bucket, count) rows per rollup: one read for both panels, once per context."""

    def read() -> dict[str, list[tuple]]:
        creator_id = _video_row(ctx, video_id)[0]
        rows = ctx.con.execute(
            """
            SELECT 'retention', bucket, sum(plays) FROM rollup_retention_daily
            WHERE creator_id = $c AND video_id = $v AND local_date BETWEEN $s AND $e
            GROUP BY bucket
            UNION ALL
            SELECT 'likes', bucket, sum(likes) FROM rollup_like_seconds
            WHERE creator_id = $c AND video_id = $v AND local_date BETWEEN $s AND $e
            GROUP BY bucket
            """,
            {"c": creator_id, "v": video_id, "s": period.start, "e": period.end},
        ).fetchall()
        out: dict[str, list[tuple]] = {"retention": [], "likes": []}
        for panel, bucket, n in rows:
            out[panel].append((bucket, int(n)))
        return out

    return ctx.once(("positions", video_id, period.start, period.end), read)


def retention_curve(ctx: Context, video_id: str, period: Period) -> list[dict[str, Any]]:
    """Share of plays still watching at each second (or 1 % of duration for long videos)."""
    video = _video_row(ctx, video_id)
    if not video:
        return []
    _, duration = video
    rows = _positions(ctx, video_id, period)["retention"]
    total = sum(n for _, n in rows)
    if not total:
        return []
    width, buckets = _bucket_width(duration)
    reached = dict(rows)
    curve, remaining = [], total
    for b in range(buckets + 1):
        curve.append({"at_ms": int(b * width), "share": round(remaining / total, 4)})
        remaining -= reached.get(b, 0)
    return curve


def likes_by_second(ctx: Context, video_id: str, period: Period) -> dict[str, Any]:
    """Likes of the period at each second of the video (1 % of it for long videos), placed
    by the liker's play (see `rollup_like_seconds`), and how many came outside any play."""
    video = _video_row(ctx, video_id)
    if not video:
        return {"seconds": [], "outside_play": 0}
    _, duration = video
    rows = _positions(ctx, video_id, period)["likes"]
    placed = {b: n for b, n in rows if b is not None}
    width, buckets = _bucket_width(duration)
    return {
        "seconds": [{"at_ms": int(b * width), "likes": placed.get(b, 0)} for b in range(buckets)]
        if placed
        else [],
        "outside_play": sum(n for b, n in rows if b is None),
    }


def _followers(ctx: Context, creator_id: str, period: Period, run, withheld) -> dict[str, Any]:
    changes = ("followers_gained", "followers_lost", "followers_net")
    growth = run(changes, ("day",)).rows
    series = _fill_days(growth, period, changes)
    # Follows and unfollows are counted per local day, so the period's are the days' sums;
    # the total at the end is read once per context.
    totals = {
        **run(("followers_total",)).totals,
        **{m: sum(r[m] or 0 for r in series) for m in changes},
    }
    running = totals["followers_total"] - sum(r["followers_net"] or 0 for r in series)
    for row in series:
        running += row["followers_net"] or 0
        row["followers_total"] = running
    demographics = follower_demographics(ctx, creator_id, period.end)
    for name in demographics:
        withheld.extend(
            Withheld(f"followers {w['what']}", w["reason"], w["detail"])
            for w in demographics[name]["withheld"]
        )
    activity: list = []
    watched: list = []
    if followers_clear(ctx, creator_id, period.end):
        activity = follower_activity(ctx, creator_id, period)
        watched = videos_followers_watched(ctx, creator_id, period)
    else:
        # Follows are public: with few followers these panels would describe known people.
        for what in ("follower activity", "videos your followers watched"):
            withheld.append(Withheld(what, "follower population below k_min"))
    return {
        **totals,
        "growth": series,
        **demographics,
        "activity": activity,
        "videos_followers_watched": watched,
    }


def follower_demographics(ctx: Context, creator_id: str, end: date) -> dict[str, dict]:
    """Followers at the end of the period by gender, age, country and city, protected:
    the follower set's cells (read once per context), then the privacy policy per
    attribute."""
    cells = follower_cells(ctx, creator_id, end)
    minors = sum(n for v, out, n in cells["age"] if v == "13-17" and not out)
    return {name: _follower_panel(ctx, creator_id, name, cells[name], minors) for name in cells}


def _follower_panel(ctx: Context, creator_id: str, name: str, rows, minors: int) -> dict:
    cells = [Cell(v or UNKNOWN, n) for v, out, n in rows if not out]
    breakdown = suppress_breakdown(
        cells,
        population=sum(c.people for c in cells),
        policy=ctx.policy,
        dimension=name,
        secret=ctx.secret,
        scope=digest(creator_id, "followers", name),  # the cells themselves are digested too
        minors=None if name == "age" else minors,
        opted_out_people=sum(n for _, out, n in rows if out),
    )
    shown = [{"value": r.value, "followers": r.people} for r in breakdown.rows]
    if breakdown.other is not None:
        shown.append({"value": "other", "followers": breakdown.other.people})
    return {
        "rows": shown,
        "total": breakdown.total.people if breakdown.total else None,
        "withheld": [
            {"what": w.what, "reason": str(w.reason), "detail": _merged(w.merged_into)}
            for w in breakdown.withheld
        ],
    }


def _merged(into: str | None) -> str:
    return f"merged into {into}" if into else ""


def follower_activity(ctx: Context, creator_id: str, period: Period) -> list[dict[str, Any]]:
    """Plays by followers of the creator's videos, by weekday × hour in the creator's zone."""
    rows = ctx.con.execute(
        """
        SELECT isodow(local_date) AS weekday, local_hour AS hour, sum(plays) AS plays
        FROM rollup_follower_hourly
        WHERE creator_id = $c AND local_date BETWEEN $s AND $e
        GROUP BY ALL ORDER BY weekday, hour
        """,
        {"c": creator_id, "s": period.start, "e": period.end},
    ).fetchall()
    return [{"weekday": w, "hour": h, "plays": int(p)} for w, h, p in rows]


def videos_followers_watched(
    ctx: Context, creator_id: str, period: Period, limit: int = 10
) -> list[dict[str, Any]]:
    """Videos of any creator most played by this creator's followers (counts only).

    A video is listed only when its plays by followers reach k_min, so no row can stand for
    a handful of identifiable followers.
    """
    rows = ctx.con.execute(
        """
        WITH top AS (
            SELECT video_id, sum(plays) AS plays
            FROM follower_watch_daily
            WHERE followed_id = $c AND day BETWEEN $s AND $e
            GROUP BY video_id HAVING sum(plays) >= $k
            ORDER BY plays DESC, video_id LIMIT $n
        )
        -- The creators of the few videos listed only: a join of the top rows, not of all.
        SELECT t.video_id, v.creator_id, t.plays
        FROM top t LEFT JOIN videos v ON v.video_id = t.video_id
        ORDER BY t.plays DESC, t.video_id
        """,
        {"c": creator_id, "s": period.start, "e": period.end, "k": ctx.policy.k_min, "n": limit},
    ).fetchall()
    return [{"video": v, "creator_id": c, "plays": int(p)} for v, c, p in rows]
