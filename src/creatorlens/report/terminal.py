"""The TikTok-Studio-like terminal report: overview, videos, viewers, followers, withheld.

A rendering of the released dashboard (`creatorlens.studio.dashboard`) and nothing else:
every figure here is one the JSON report holds. Tables are narrow enough for 80 columns.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from creatorlens.studio.dashboard import Breakdown, Dashboard

# Likers named on the top video panel; the rest of the named ones are counted.
SHOWN_LIKERS = 5
# Rows shown of each breakdown (the JSON has them all).
SHOWN_ROWS = 8
SPARKS = "▁▂▃▄▅▆▇█"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
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
    "follower_viewers": "Follower viewers",
    "non_follower_viewers": "Non-follower viewers",
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
    for note in dashboard.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    console.print(_overview(dashboard))
    console.print(_videos(dashboard))
    console.print(_viewers(dashboard))
    console.print(_followers(dashboard))
    if dashboard.withheld:
        table = Table(title="Withheld by the privacy policy", title_justify="left")
        for col in ("what", "reason", "detail"):
            table.add_column(col, overflow="fold")
        for w in dashboard.withheld:
            shown = w.to_json()
            table.add_row(shown["what"], shown["reason"], shown["detail"])
        console.print(table)


def _overview(d: Dashboard) -> Table:
    o = d.overview
    daily = o.daily
    table = Table(title="Overview", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("vs prev", justify="right")
    table.add_column(f"daily ({len(daily)} d)", max_width=30, overflow="crop", no_wrap=True)
    for name, label in OVERVIEW_LABELS.items():
        change = o.change.get(name) if o.change else None
        trend = "" if change is None else f"{change:+.1%}"
        series = sparkline([r.get(name) for r in daily]) if daily and name in daily[0] else ""
        table.add_row(label, fmt(name, o.totals.get(name)), trend, series[-30:])
    return table


def _videos(d: Dashboard) -> Group:
    table = Table(title="Top videos", title_justify="left")
    columns = ("video", "posted", "views", "likes", "comm.", "shares", "avg", "full", "reach")
    for col in columns:
        table.add_column(col, justify="right" if col != "video" else "left", overflow="fold")
    for v in d.videos:
        f = v.figures
        table.add_row(
            v.video,
            (v.meta.get("posted_at") or "")[:10],
            fmt("views", f["views"]),
            fmt("likes", f["likes"]),
            fmt("comments", f["comments"]),
            fmt("shares", f["shares"]),
            fmt("avg_watch_ms", f["avg_watch_ms"]),
            fmt("full_watch_rate", f["full_watch_rate"]),
            fmt("reach", f["reach"]),
        )
    parts: list[Any] = [table]
    top = next((v for v in d.videos if v.detail is not None), None)
    if top is not None and top.detail is not None:
        detail = top.detail
        positions = detail.positions
        curve = [point.share for point in positions.retention]
        sources = ", ".join(f"{s['source']} {s['plays']:,}" for s in detail.traffic_sources[:3])
        channels = ", ".join(f"{s['channel']} {s['shares']:,}" for s in detail.share_channels[:3])
        if positions.outside_play is None:
            likes_at = "withheld (too few likers to place their likes)"
        else:
            likes_curve = sparkline([p.likes for p in positions.likes_by_second])
            likes_at = f"{likes_curve[:40]} ({positions.outside_play:,} outside a play)"
        figures = detail.figures
        parts.append(
            Panel(
                f"retention  {sparkline(curve)[:60]}\n"
                f"likes at   {likes_at}\n"
                f"sources    {sources or '—'}\n"
                f"shared to  {channels or '—'}\n"
                f"viewers    new {fmt('n', figures.get('new_viewers'))} · returning "
                f"{fmt('n', figures.get('returning_viewers'))} · followers "
                f"{fmt('n', figures.get('follower_viewers'))} · non-followers "
                f"{fmt('n', figures.get('non_follower_viewers'))}\n"
                f"engaged    {fmt('n', figures.get('engaged_audience'))}\n"
                f"liked by   {likers_line(vars(detail.likers))}",
                title=f"Top video {top.video}",
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


def _breakdown_table(title: str, dimension: str, part: Breakdown, metrics: tuple[str, ...]):
    table = Table(title=title, title_justify="left")
    table.add_column(dimension)
    for m in metrics:
        table.add_column(m, justify="right")
    if not part.rows:
        reason = part.withheld[0].to_json()["reason"] if part.withheld else "no data"
        table.add_row("withheld" if part.withheld else "—", reason, *[""] * (len(metrics) - 1))
    for row in part.rows[:SHOWN_ROWS]:
        table.add_row(str(row[dimension]), *(fmt(m, row.get(m)) for m in metrics))
    if len(part.rows) > SHOWN_ROWS:
        table.add_row(f"(+{len(part.rows) - SHOWN_ROWS} more)", *[""] * len(metrics))
    return table


def _viewers(d: Dashboard) -> Group:
    o = d.overview
    parts: list[Any] = []
    sources = Table(title="Traffic sources (all videos)", title_justify="left")
    sources.add_column("source")
    sources.add_column("plays", justify="right")
    sources.add_column("views", justify="right")
    for row in o.traffic_sources:
        sources.add_row(str(row["source"]), fmt("plays", row["plays"]), fmt("views", row["views"]))
    parts.append(sources)
    for dimension, part in o.audience.items():
        title = f"Viewers by {dimension}"
        parts.append(_breakdown_table(title, dimension, part, ("reach", "views")))
    return Group(*parts)


def _followers(d: Dashboard) -> Group:
    f = d.followers
    growth = [r["followers_total"] for r in f.growth]
    header = (
        f"followers {fmt('n', f.totals['followers_total'])} · "
        f"+{fmt('n', f.totals['followers_gained'])} / -{fmt('n', f.totals['followers_lost'])}"
        f" · growth {sparkline(growth)[-30:]}"
    )
    parts: list[Any] = [header]
    for name, part in f.demographics.items():
        table = Table(title=f"Followers by {name}", title_justify="left")
        table.add_column(name)
        table.add_column("followers", justify="right")
        if part.total is None:
            reason = part.withheld[0].to_json()["reason"] if part.withheld else ""
            table.add_row("withheld", reason)
        for row in part.rows[:SHOWN_ROWS]:
            table.add_row(row["value"], f"{row['followers']:,}")
        parts.append(table)
    parts.append(_activity(d))
    watched = Table(title="Videos your followers watched", title_justify="left")
    for col in ("video", "creator", "followers", "plays"):
        watched.add_column(col, justify="left" if col in ("video", "creator") else "right")
    for v in f.watched.videos:
        watched.add_row(v.video, v.creator_id or "", f"{v.followers:,}", f"{v.plays:,}")
    if not f.watched.videos:
        watched.add_row("none shown", "", "", "")
    parts.append(watched)
    return Group(*parts)


def _activity(d: Dashboard) -> Any:
    """Followers active by weekday × hour: a heat row per weekday, 24 hours wide; and the
    weekdays and hours on their own, where the small cells of the grid merge."""
    activity = d.followers.activity
    if activity.followers is None:
        why = activity.withheld[0].to_json()["reason"] if activity.withheld else "no plays"
        return f"Follower activity: {why}"
    lines = [f"Follower activity ({activity.followers:,} followers played; creator's time zone)"]
    grid = {(c.weekday, c.hour): c.followers for c in activity.cells}
    if grid:
        top = max(grid.values())
        lines.append("     " + "".join(f"{h:<3}" if h % 3 == 0 else "" for h in range(24)))
        for day in range(1, 8):
            cells = ""
            for hour in range(24):
                n = grid.get((day, hour))
                cells += " " if n is None else SPARKS[min(len(SPARKS) - 1, int(n / top * 7))]
            lines.append(f"{WEEKDAYS[day - 1]}  {cells}   (blank: too few followers)")
    days = {t.at: t.followers for t in activity.by_weekday}
    if days:
        lines.append(
            "by day   " + "  ".join(f"{WEEKDAYS[w - 1]} {n:,}" for w, n in sorted(days.items()))
        )
    hours = {t.at: t.followers for t in activity.by_hour}
    if hours:
        spark = sparkline([hours.get(h) for h in range(24)])
        busiest = max(hours, key=lambda h: hours[h])
        lines.append(f"by hour  {spark}  busiest {busiest:02d}:00 ({hours[busiest]:,})")
    return "\n".join(lines)


# --- insights (issue 18) ---------------------------------------------------------------------


def render_insights(insights: Any, console: Console, *, short: bool = False) -> None:
    """Print a creator's insights (`creatorlens.insights.Insights`); `short`: the demo's
    few lines per insight."""
    shown = 3 if short else 10
    bt = insights.best_times
    console.print(f"[b]Best times to post[/b] ({bt.timezone})")
    for line in [bt.note] if bt.note else []:
        console.print(f"  {line}")
    for slot in bt.slots:
        console.print(f"  {slot.label}: {slot.followers:,} followers, {slot.plays:,} plays")
    if bt.history:
        console.print("  your videos' first 24 h by posting hour: " + ", ".join(
            f"{h.hour:02d}:00 (median {h.median_views_24h:,.0f} views, {h.videos} videos)"
            for h in bt.history))  # fmt: skip
    ww = insights.what_works
    console.print(f"[b]What works[/b] ({ww.videos} videos; a claim needs 5 with and 5 without)")
    if ww.note:
        console.print(f"  {ww.note}")
    for c in ww.claims[:shown]:
        console.print(
            f"  {c.trait} ({c.kind}, {c.videos} videos): {c.measure} ×{c.effect:.2f} "
            f"[{c.low:.2f}-{c.high:.2f}] vs the others".replace("inf", "∞"),
            highlight=False,
        )
    tr = insights.trending
    console.print("[b]Trending on the platform[/b] (views last 7 d vs the 28 before)")
    items = [*tr.sounds[:shown], *tr.hashtags[:shown]]
    for i in items:
        console.print(f"  {i.kind} {i.name}: ×{i.growth:.2f}, {i.creators:,} creators")
    if not items:
        console.print("  nothing used by enough creators")
    se = insights.sentiment
    console.print(f"[b]Comment sentiment[/b] ({se.comments:,} comments, "
                  f"{se.non_english:,} not English)")  # fmt: skip
    if se.note:
        console.print(f"  {se.note}")
    elif se.comments:
        console.print("  " + ", ".join(
            f"{k} {v:.0%}" for k, v in se.shares.items() if v is not None))  # fmt: skip
        for label, words in se.themes.items():
            if words:
                themes = ", ".join(w["word"] for w in words[: shown + 2])
                console.print(f"  {label} themes: {themes}", highlight=False)
    vi = insights.virality
    console.print(f"[b]Virality alerts[/b] ({len(vi.checked)} young videos checked)")
    for a in vi.alerts[:shown]:
        console.print(f"  {a.video}: {a.views:,} views, {a.shares:,} shares in its latest hours "
                      f"(usual {a.baseline_views:,.0f} / {a.baseline_shares:,.0f})")  # fmt: skip
    if not vi.alerts:
        console.print(f"  {vi.note or 'none taking off right now'}")
    be = insights.benchmark
    console.print(f"[b]Niche benchmark[/b] ({be.category or 'no category'}, {be.band} followers)")
    if be.percentiles:
        console.print("  " + ", ".join(
            f"{k.replace('_', ' ')}: {'—' if v is None else f'p{v}'}"
            for k, v in be.percentiles.items()))  # fmt: skip
    else:
        console.print("  withheld: fewer than k_min creators in this niche")
    fund = insights.creator_fund
    console.print("[b]Creator fund[/b]")
    for line in fund.missing or ["follower, view and age rules met"]:
        console.print(f"  {line}")
    console.print(f"  not checked: {', '.join(fund.not_checked)}")
    if fund.monthly_usd:
        console.print(f"  estimate: {fund.monthly_usd[0]:.2f}-{fund.monthly_usd[1]:.2f} USD/month")
