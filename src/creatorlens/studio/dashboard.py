"""A creator's dashboard: overview, videos, followers and what was withheld, as one value.

Every panel is a query of the query model or a declared panel query, answered through the
release stage (`Studio.answer`, `Studio.panel`), so the terminal report, the JSON and the
web page are renderings of the same released result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from creatorlens.privacy import NotForAudience, QueryResult, Withheld
from creatorlens.privacy.panels import (
    FollowerActivityPanel,
    FollowerBreakdown,
    FollowersWatchedPanel,
    LikersPanel,
    VideoPositionsPanel,
)
from creatorlens.query import Filter, Period
from creatorlens.query.raw import (
    FollowerActivity,
    FollowerDemographics,
    FollowersWatched,
    VideoLikers,
    VideoMeta,
    VideoPositions,
)
from creatorlens.studio import Studio
from creatorlens.studio.tasks import Panels, Runner, Task

Value = str | int | float | None
Row = dict[str, Value]

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
class Breakdown:
    """A breakdown as shown: its rows, the total line, and what was withheld from it."""

    rows: list[Row]
    total: Row
    withheld: list[Withheld] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "total": self.total,
            "withheld": [w.to_json() for w in self.withheld],
        }


@dataclass
class Overview:
    totals: Row
    previous: Row | None
    change: dict[str, float | None]
    daily: list[Row]
    audience: dict[str, Breakdown]
    traffic_sources: list[Row]


@dataclass
class VideoDetail:
    """A detailed video's panels: its viewer figures, sources, channels, positions, likers."""

    figures: Row
    traffic_sources: list[Row]
    share_channels: list[Row]
    positions: VideoPositionsPanel
    likers: LikersPanel


@dataclass
class Video:
    """One row of the video list: its figures, what the creator wrote, its detail if any."""

    video: str
    figures: Row
    meta: dict[str, Any]
    detail: VideoDetail | None = None


@dataclass
class Followers:
    totals: Row
    growth: list[Row]
    demographics: dict[str, FollowerBreakdown]
    activity: FollowerActivityPanel
    watched: FollowersWatchedPanel


@dataclass
class Dashboard:
    """Everything a creator sees for one period, already through the release stage."""

    creator_id: str
    period: Period
    overview: Overview
    videos: list[Video]
    followers: Followers
    withheld: list[Withheld] = field(default_factory=list)
    # Plain words about the data behind the period (no data; history shorter than asked).
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "creator_id": self.creator_id,
            "period": period_json(self.period),
            "notes": self.notes,
            "overview": overview_json(self.overview),
            "videos": [video_json(v) for v in self.videos],
            "followers": followers_json(self.followers),
            "withheld": [w.to_json() for w in self.withheld],
        }


def period_json(period: Period) -> dict[str, Any]:
    return {"from": period.start.isoformat(), "to": period.end.isoformat(), "label": period.label}


def overview_json(o: Overview) -> dict[str, Any]:
    """The overview section as `report --json` prints it."""
    return {
        "totals": o.totals,
        "previous": o.previous,
        "change": o.change,
        "daily": o.daily,
        "audience": {d: b.to_json() for d, b in o.audience.items()},
        "traffic_sources": o.traffic_sources,
    }


def followers_json(f: Followers) -> dict[str, Any]:
    """The followers section as `report --json` prints it."""
    return {
        **f.totals,
        "growth": f.growth,
        **{name: b.to_json() for name, b in f.demographics.items()},
        "activity": [vars(c) for c in f.activity.cells],
        "activity_by_weekday": [vars(c) for c in f.activity.by_weekday],
        "activity_by_hour": [vars(c) for c in f.activity.by_hour],
        "videos_followers_watched": [vars(v) for v in f.watched.videos],
    }


def likers_json(likers: LikersPanel) -> dict[str, Any]:
    return {"named": likers.named, "others": likers.others}


def video_json(v: Video) -> dict[str, Any]:
    """One video of the videos section as `report --json` prints it."""
    out: dict[str, Any] = {"video": v.video, **v.figures, **v.meta}
    if v.detail is not None:
        d = v.detail
        out.update(d.figures)
        out["traffic_sources"] = d.traffic_sources
        out["share_channels"] = d.share_channels
        out["retention"] = [vars(p) for p in d.positions.retention]
        out["likes_by_second"] = {
            "seconds": [vars(p) for p in d.positions.likes_by_second],
            "outside_play": d.positions.outside_play,
        }
        out["likers"] = likers_json(d.likers)
    return out


def build_dashboard(
    studio: Studio,
    period: Period,
    *,
    compare: bool = True,
    top_videos: int = 10,
    detail_videos: int = 1,
) -> Dashboard:
    """Assemble the dashboard's panels, each a released query or panel query.

    Each panel is a task of its own, read on one of two threads at once, as a dashboard
    loads its panels in parallel; a detailed video's panels are tasks too, queued once the
    video list is known. Each task keeps its own list of what was withheld, and the lists
    are joined in a fixed order, so the result is the same whatever finishes first.
    """
    with Panels(studio, period) as panels:
        # The video list first: the detail panels it queues can only start after it.
        videos = _videos_section(panels, top_videos, detail_videos)
        overview = _overview_section(panels, compare)
        followers = _followers_section(panels)
        video_rows = videos.result()
        overview_panel = overview.result()
        followers_panel = followers.result()
    notes = period_notes(studio, period, compare)
    withheld = _once([*overview.withheld, *videos.withheld, *followers.withheld])
    return Dashboard(
        studio.creator_id, period, overview_panel, video_rows, followers_panel, withheld, notes
    )


SECTIONS = ("overview", "videos", "followers")


@dataclass
class Section:
    """One section of the dashboard read on its own (an API answers one at a time): the
    same panels, released the same way, with the notes and what was withheld from them."""

    creator_id: str
    period: Period
    name: str  # "overview", "videos", "followers", or "video" (one video, detailed)
    value: Any  # Overview, list[Video], Followers or Video
    withheld: list[Withheld]
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        """The section as the matching section of `Dashboard.to_json`, with the period, the
        notes and its own withheld items around it."""
        render = {
            "overview": overview_json,
            "videos": lambda videos: [video_json(v) for v in videos],
            "followers": followers_json,
            "video": video_json,
        }[self.name]
        return {
            "creator_id": self.creator_id,
            "period": period_json(self.period),
            "notes": self.notes,
            self.name: render(self.value),
            "withheld": [w.to_json() for w in self.withheld],
        }


def build_section(
    studio: Studio,
    period: Period,
    name: str,
    *,
    compare: bool = False,
    top_videos: int = 10,
    detail_videos: int = 1,
    video_id: str | None = None,
) -> Section:
    """One section of the dashboard (`SECTIONS`), or with `video_id` one of the creator's
    videos with its detail, read as `build_dashboard` reads it."""
    if name not in SECTIONS:
        raise ValueError(f"no dashboard section {name!r}")
    with Panels(studio, period) as panels:
        if video_id is not None:
            pending = _videos_section(panels, 1, 1, only=video_id)
        elif name == "videos":
            pending = _videos_section(panels, top_videos, detail_videos)
        elif name == "overview":
            pending = _overview_section(panels, compare)
        else:
            pending = _followers_section(panels)
        value = pending.result()
    if video_id is not None:
        name, value = "video", value[0]
    notes = period_notes(studio, period, compare and name == "overview")
    return Section(studio.creator_id, period, name, value, _once(pending.withheld), notes)


def own_videos(studio: Studio, video_ids) -> set[str]:
    """Those of `video_ids` that are the creator's own videos."""
    ids = tuple(sorted(set(video_ids)))
    return set(studio.panel(VideoMeta(studio.creator_id, ids)).videos) if ids else set()


def video_likers(studio: Studio, video_id: str) -> LikersPanel:
    """The likers of one of the creator's videos, as the video's detail shows them."""
    if video_id not in own_videos(studio, (video_id,)):
        raise NotForAudience(f"no video {video_id!r} of this creator")
    return studio.panel(VideoLikers(studio.creator_id, video_id))


@dataclass
class _Pending:
    """A section's tasks, submitted: its value once they are read, and the tasks whose
    withheld notes it joins, in display order (a section may add tasks as it reads)."""

    tasks: list[Task]
    assemble: Any  # () -> the section's value

    def result(self) -> Any:
        return self.assemble()

    @property
    def withheld(self) -> list[Withheld]:
        return [w for task in self.tasks for w in task.withheld]


def _overview_section(panels: Panels, compare: bool) -> _Pending:
    studio, period = panels.studio, panels.period
    overview = panels.submit(
        lambda run: run.all(
            summary=run.query(OVERVIEW_METRICS, compare=compare),
            daily=run.query(DAILY_METRICS, ("day",)),
            sources=run.query(
                ("plays", "views"), ("source",), order_by=(("plays", "desc"), ("source", "asc"))
            ),
        )
    )
    audience = panels.submit(
        lambda run: run.all(
            **{dim: run.query(("reach", "views"), (dim,)) for dim in AUDIENCE_DIMENSIONS}
        )
    )

    def assemble() -> Overview:
        read = overview.result()
        summary = read["summary"]
        panel = Overview(
            totals=summary.totals,
            previous=summary.comparison,
            change=_change(summary.totals, summary.comparison),
            daily=_fill_days(read["daily"].rows, period, DAILY_METRICS),
            audience={dim: _breakdown(r) for dim, r in audience.result().items()},
            traffic_sources=read["sources"].rows,
        )
        if studio.first is not None and studio.first > period.previous().start:
            # Changes against a period the data does not fully cover would mislead.
            panel.change = {k: None for k in panel.change}
        return panel

    return _Pending([overview, audience], assemble)


def _videos_section(panels: Panels, top: int, detailed: int, only: str | None = None) -> _Pending:
    videos = panels.submit(lambda run: _video_list(panels, run, top, detailed, only))
    tasks = [videos]

    def assemble() -> list[Video]:
        video_rows, details = videos.result()
        for video, panel in zip(video_rows, details, strict=False):
            video.detail = _gathered(panel)
        tasks.extend(t for d in details for t in d.values())
        return video_rows

    return _Pending(tasks, assemble)


def _followers_section(panels: Panels) -> _Pending:
    studio, period = panels.studio, panels.period
    followers = panels.submit(lambda run: _followers(run, period))
    # The follower panels over per-follower rollups are tasks of their own, so the two
    # threads share the followers' reads evenly.
    activity = panels.submit(
        lambda run: _noted(run, run.panel(FollowerActivity(studio.creator_id, period)))
    )
    watched = panels.submit(
        lambda run: _noted(run, run.panel(FollowersWatched(studio.creator_id, period)))
    )

    def assemble() -> Followers:
        return Followers(*followers.result(), activity.result(), watched.result())

    return _Pending([followers, activity, watched], assemble)


def period_notes(studio: Studio, period: Period, compare: bool) -> list[str]:
    """Plain words when the period has no data, or its comparison lacks history."""
    notes = []
    if studio.first is None or studio.first > period.end or studio.latest < period.start:
        notes.append("no data in this period")
    elif compare and studio.first > period.previous().start:
        notes.append(
            f"the previous period starts {period.previous().start}, before the first day "
            f"with data ({studio.first}): changes against it are not comparable"
        )
    return notes


def _once(notes: list[Withheld]) -> list[Withheld]:
    """Each withheld item once, in first-seen order."""
    return list(dict.fromkeys(notes))


def _gathered(panel: dict[str, Any]) -> VideoDetail:
    figures = panel["figures"].result()
    return VideoDetail(
        figures=figures["totals"],
        traffic_sources=figures["traffic_sources"],
        share_channels=figures["share_channels"],
        positions=panel["positions"].result(),
        likers=panel["likers"].result(),
    )


def _video_list(panels: Panels, run: Runner, top: int, detailed: int, only: str | None = None):
    """The top videos with what the creator wrote about them, and the detail panels of
    the first `detailed` of them, queued as tasks of their own; with `only`, that one of
    the creator's videos (a video of anyone else is not found)."""
    creator = run.studio.creator_id
    if only is not None:
        meta = run.panel(VideoMeta(creator, (only,))).videos
        if only not in meta:
            raise NotForAudience(f"no video {only!r} of this creator")
        # The video's totals are its row of the list (a row per video, over the same
        # rollups); a zero row when it had no plays in the period.
        rows = [{"video": only, **run(VIDEO_METRICS, (), (Filter("video", "is", (only,)),)).totals}]
    else:
        rows = run(
            VIDEO_METRICS, ("video",), order_by=(("views", "desc"), ("video", "asc")), limit=top
        ).rows
    ids = tuple(str(r["video"]) for r in rows)
    meta = run.panel(VideoMeta(creator, ids)).videos
    videos = [
        Video(v, {k: x for k, x in r.items() if k != "video"}, meta.get(v, {}))
        for v, r in zip(ids, rows, strict=True)
    ]
    details = [_video_detail(panels, v.video) for v in videos[:detailed]]
    return videos, details


def _video_detail(panels: Panels, video_id: str) -> dict[str, Any]:
    """A video's detail panels as three tasks: its figures (viewers, sources, channels),
    its positions (retention, likes by second) and its likers."""
    only = (Filter("video", "is", (video_id,)),)
    period = panels.period
    creator = panels.studio.creator_id

    def figures(run: Runner) -> dict[str, Any]:
        read = run.all(
            totals=run.query(VIDEO_DETAIL_METRICS, (), only),
            traffic_sources=run.query(
                ("plays", "views"),
                ("source",),
                only,
                order_by=(("plays", "desc"), ("source", "asc")),
            ),
            share_channels=run.query(
                ("shares",), ("channel",), only, order_by=(("shares", "desc"), ("channel", "asc"))
            ),
        )
        return {
            "totals": read["totals"].totals,
            "traffic_sources": read["traffic_sources"].rows,
            "share_channels": read["share_channels"].rows,
        }

    def positions(run: Runner) -> VideoPositionsPanel:
        return run.panel(VideoPositions(creator, video_id, period))

    def likers(run: Runner) -> LikersPanel:
        return run.panel(VideoLikers(creator, video_id))

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


def _change(now: Row, before: Row | None) -> dict[str, float | None]:
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


def _fill_days(rows: list[Row], period: Period, metrics: tuple[str, ...]) -> list[Row]:
    """One row per day of the period, zeros where nothing happened."""
    by_day = {r["day"]: r for r in rows}
    out = []
    for i in range(period.days):
        day = (period.start + timedelta(days=i)).isoformat()
        out.append(by_day.get(day) or {"day": day, **{m: 0 for m in metrics}})
    return out


def _breakdown(result: QueryResult) -> Breakdown:
    return Breakdown(result.rows, result.totals, list(result.withheld))


def _followers(run: Runner, period: Period) -> tuple[Row, list[Row], dict[str, Any]]:
    """The follower totals, growth by day and demographics (activity and the videos they
    watched are read as tasks of their own, see `build_dashboard`)."""
    creator = run.studio.creator_id
    changes = ("followers_gained", "followers_lost", "followers_net")
    growth = run(changes, ("day",)).rows
    series = _fill_days(growth, period, changes)
    # Follows and unfollows are counted per local day, so the period's are the days' sums.
    totals: Row = {
        **run(("followers_total",)).totals,
        **{m: sum(int(r[m] or 0) for r in series) for m in changes},
    }
    net = sum(int(r["followers_net"] or 0) for r in series)
    running = int(totals["followers_total"] or 0) - net
    for row in series:
        running += int(row["followers_net"] or 0)
        row["followers_total"] = running
    demographics = run.panel(FollowerDemographics(creator, period.end))
    for name, part in demographics.items():
        run.withheld.extend(w.about(f"followers {name}") for w in part.withheld)
    return totals, series, demographics


def _noted(run: Runner, panel: Any) -> Any:
    """A panel whose withheld notes join the task's."""
    run.withheld.extend(panel.withheld)
    return panel
