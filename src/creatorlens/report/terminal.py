"""The TikTok-Studio-like terminal report: Rich tables, daily sparklines, top videos, followers."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from creatorlens.query.dashboard import Dashboard

# Likers named on the top video panel; the rest of the named ones are counted.
SHOWN_LIKERS = 5
SPARKS = "▁▂▃▄▅▆▇█"
OVERVIEW_LABELS = {
    "views": "Video views",
    "plays": "Plays",
    "profile_views": "Profile views",
    "likes": "Likes (net)",
    "comments": "Comments",
    "shares": "Shares",
    "saves": "Saves",
    "followers_net": "Net followers",
    "total_watch_ms": "Watch time",
    "avg_watch_ms": "Average watch time",
    "full_watch_rate": "Watched full video",
    "reach": "Reached audience",
    "engaged_audience": "Engaged audience",
    "new_viewers": "New viewers",
    "returning_viewers": "Returning viewers",
}


def sparkline(values: list[float | int | None]) -> str:
    """A one-line chart of a daily series."""
    numbers = [v or 0 for v in values]
    top = max(numbers, default=0)
    if top <= 0:
        return SPARKS[0] * len(numbers)
    return "".join(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1)))] for v in numbers)


def fmt(name: str, value: Any) -> str:
    """A metric value as a creator reads it."""
    if value is None:
        return "—"
    if name.endswith("_ms"):
        seconds = value / 1000
        if seconds >= 3600:
            return f"{seconds / 3600:,.1f} h"
        if seconds >= 60:
            return f"{seconds / 60:,.1f} min"
        return f"{seconds:,.1f} s"
    if name.endswith("_rate"):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}"


def render(dashboard: Dashboard, console: Console) -> None:
    """Print the whole report."""
    p = dashboard.period
    console.print(
        Panel.fit(
            f"[b]{dashboard.creator_id}[/b] · {p.label} · {p.start} → {p.end}",
            title="creatorlens",
        )
    )
    console.print(_overview(dashboard))
    console.print(_videos(dashboard))
    console.print(_followers(dashboard))
    if dashboard.withheld:
        table = Table(title="Withheld by the privacy policy", title_justify="left")
        for col in ("what", "reason", "detail"):
            table.add_column(col)
        for w in dashboard.withheld:
            table.add_row(w.what, w.reason, w.detail)
        console.print(table)


def _overview(d: Dashboard) -> Table:
    o = d.overview
    daily = o["daily"]
    table = Table(title="Overview", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("vs previous", justify="right")
    table.add_column(f"daily ({len(daily)} days)")
    for name, label in OVERVIEW_LABELS.items():
        change = o["change"].get(name) if o.get("change") else None
        trend = "" if change is None else f"{change:+.1%}"
        series = sparkline([r.get(name) for r in daily]) if name in daily[0] else ""
        table.add_row(label, fmt(name, o["totals"].get(name)), trend, series)
    return table


def _videos(d: Dashboard) -> Group:
    table = Table(title="Top videos", title_justify="left")
    for col in (
        "video",
        "posted",
        "views",
        "likes",
        "comments",
        "shares",
        "avg watch",
        "full watch",
        "reach",
    ):
        table.add_column(col, justify="right" if col != "video" else "left")
    for v in d.videos:
        table.add_row(
            v["video"],
            (v.get("posted_at") or "")[:10],
            fmt("views", v["views"]),
            fmt("likes", v["likes"]),
            fmt("comments", v["comments"]),
            fmt("shares", v["shares"]),
            fmt("avg_watch_ms", v["avg_watch_ms"]),
            fmt("full_watch_rate", v["full_watch_rate"]),
            fmt("reach", v["reach"]),
        )
    parts: list[Any] = [table]
    top = next((v for v in d.videos if "retention" in v), None)
    if top is not None:
        curve = [point["share"] for point in top["retention"]]
        sources = ", ".join(f"{s['source']} {s['plays']:,}" for s in top["traffic_sources"][:4])
        liked_at = top["likes_by_second"]
        likes_curve = [point["likes"] for point in liked_at["seconds"]]
        parts.append(
            Panel(
                f"retention  {sparkline(curve)}\n"
                f"likes at   {sparkline(likes_curve)} "
                f"({liked_at['outside_play']:,} outside a play)\n"
                f"sources    {sources}\n"
                f"viewers    new {fmt('n', top.get('new_viewers'))} · returning "
                f"{fmt('n', top.get('returning_viewers'))} · followers "
                f"{fmt('n', top.get('follower_viewers'))}\n"
                f"liked by   {likers_line(top['likers'])}",
                title=f"Top video {top['video']}",
            )
        )
    return Group(*parts)


def likers_line(likers: dict[str, Any]) -> str:
    """The first named likers, how many more are named, and how many may not be named:
    'a, b, c, d, e (+2 more named) and 12 others'."""
    named = likers["named"]
    line = ", ".join(named[:SHOWN_LIKERS]) or "nobody named"
    if len(named) > SHOWN_LIKERS:
        line += f" (+{len(named) - SHOWN_LIKERS:,} more named)"
    return f"{line} and {likers['others']:,} others"


def _followers(d: Dashboard) -> Group:
    f = d.followers
    growth = [r["followers_total"] for r in f["growth"]]
    header = (
        f"followers {f['followers_total']:,} · +{f['followers_gained']:,} / "
        f"-{f['followers_lost']:,} · growth {sparkline(growth)}"
    )
    tables: list[Any] = [header]
    for name in ("gender", "age", "country"):
        part = f[name]
        table = Table(title=f"Followers by {name}", title_justify="left")
        table.add_column(name)
        table.add_column("followers", justify="right")
        if part["total"] is None:
            table.add_row("withheld", part["withheld"][0]["reason"] if part["withheld"] else "")
        for row in part["rows"]:
            table.add_row(row["value"], f"{row['followers']:,}")
        tables.append(table)
    return Group(*tables)
