"""The release stage: the one way a raw answer becomes what an audience may see.

`release(raw, policy, audience, secret=...)` takes any raw answer of the query floor
(`creatorlens.query.raw`) and applies every rule of the policy: k_min and cell_min with
consistent noise on breakdowns and on anything filtered by a person's attribute, the
differencing rules on filter values, minors, opt-outs, the follower-population rule, the
small-cell rule where named and anonymous acts meet, and what each audience may receive.
Rules are decided here by what a result counts, never by how the question was phrased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from creatorlens.errors import UserError
from creatorlens.privacy.dp import App, release_to_app
from creatorlens.privacy.insights import RELEASES as INSIGHT_RELEASES
from creatorlens.privacy.panels import (
    ActivityCell,
    ActivityTotal,
    CreatorCard,
    FollowerActivityPanel,
    FollowerBreakdown,
    FollowersWatchedPanel,
    LikersPanel,
    VideoMetaPanel,
    VideoPositionsPanel,
    WatchedVideo,
    release_positions,
)
from creatorlens.privacy.policy import UNKNOWN, PrivacyPolicy
from creatorlens.privacy.result import QueryResult
from creatorlens.privacy.rules import check_person_filters, protect
from creatorlens.privacy.suppression import (
    Cell,
    Reason,
    Window,
    Withheld,
    check_window,
    clears,
    digest,
    per_person,
    suppress_breakdown,
)
from creatorlens.query.followers import FOLLOWER_SCOPED
from creatorlens.query.metrics import DIMENSIONS, PERSON_METRICS
from creatorlens.query.raw import (
    Raw,
    RawAnswer,
    RawCreatorList,
    RawFollowerActivity,
    RawFollowerDemographics,
    RawFollowersWatched,
    RawPeriod,
    RawVideoLikers,
    RawVideoMeta,
    RawVideoPositions,
)

Row = dict[str, Any]
ADDITIVE_AUDIENCE = tuple(m for m in PERSON_METRICS if m != "reach")


# --- audiences -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Creator:
    """The creator themself: their own analytics, with the likers and actors they may name."""

    creator_id: str


@dataclass(frozen=True)
class Operator:
    """The platform's operator: per-creator all-time totals (no breakdown, nobody named)."""


@dataclass(frozen=True)
class PublicCard:
    """Anyone: the counts a public profile shows (videos, followers, views, likes)."""

    fields: tuple[str, ...] = field(default=("creator_id", "videos", "followers", "views", "likes"))


# A third-party app (`privacy.dp.App`): its scopes, differential privacy and budget.
Audience = Creator | Operator | PublicCard | App


class NotForAudience(UserError):
    """A question this audience may not ask (another creator's data, a named list...)."""


# --- the one door --------------------------------------------------------------------------


def release(raw: Raw, policy: PrivacyPolicy, audience: Audience, *, secret: bytes) -> Any:
    """What `audience` may see of `raw` under `policy`; `secret` seeds the consistent noise."""
    if not secret:
        raise ValueError("release needs the instance's noise secret")
    if isinstance(raw, RawCreatorList):
        return _creator_list(raw, audience)
    if isinstance(audience, App):
        # Apps ask the query model only; every number gets differential-privacy noise.
        if not isinstance(raw, RawAnswer) or raw.query.creator_id != audience.creator_id:
            raise NotForAudience("an app reads aggregates of the creator who granted it")
        return release_to_app(raw, policy, audience)
    if not isinstance(audience, Creator):
        raise NotForAudience(f"{type(raw).__name__} is for the creator it is about only")
    question = raw.query if isinstance(raw, RawAnswer) else raw.question
    if question.creator_id != audience.creator_id:
        raise NotForAudience("a creator reads only their own analytics")
    release_as = _RELEASES[type(raw)]
    return release_as(raw, policy, secret)


# --- query answers -------------------------------------------------------------------------


def _answer(raw: RawAnswer, policy: PrivacyPolicy, secret: bytes) -> QueryResult:
    query = raw.query
    result = _period(raw, raw.current, policy, secret)
    comparison = None
    if raw.previous is not None:
        comparison = _period(raw, raw.previous, policy, secret).totals
    rows = _ordered(query, result.rows)
    return QueryResult(query, rows, result.totals, comparison, result.withheld)


def _period(raw: RawAnswer, period: RawPeriod, policy: PrivacyPolicy, secret: bytes):
    query = raw.query
    used = query.used_dimensions
    scoped = [m for m in query.metrics if m in FOLLOWER_SCOPED]
    if (scoped or "follower_status" in used) and not _followers_clear(
        query.creator_id, period.followers_total or 0, policy, secret
    ):
        note = Withheld("follower split", Reason.FOLLOWER_POPULATION_BELOW_K_MIN)
        if "follower_status" in used:
            return QueryResult(query, [], {m: None for m in query.metrics}, None, [note])
        result = _unscoped(raw, period, policy, secret)
        hide = {m: None for m in scoped}
        rows = [{**r, **hide} for r in result.rows]
        return QueryResult(query, rows, {**result.totals, **hide}, None, [*result.withheld, note])
    return _unscoped(raw, period, policy, secret)


def _followers_clear(creator_id: str, followers: int, policy: PrivacyPolicy, secret: bytes):
    """Whether the creator's followers are numerous enough (protected) to split by."""
    key = digest(creator_id, "followers population")
    return clears(protect(followers, key, policy, secret), policy.k_min, policy)


def _unscoped(raw: RawAnswer, period: RawPeriod, policy: PrivacyPolicy, secret: bytes):
    query = raw.query
    if period.person is not None:
        return _person(raw, period, policy, secret)
    rows = [_public(query, r) for r in period.rows]
    totals = _public(query, period.totals) if period.totals is not None else {}
    withheld: list[Withheld] = []
    if "engaged_audience" in query.metrics:
        # Named likers and commenters are counted with anonymous sharers: a small count
        # beside the named list would tell which of them shared.
        small = False
        for row in (*rows, totals):
            if "engaged_audience" in row and row["engaged_audience"] is not None:
                shown = _engaged(query.creator_id, row["engaged_audience"], policy, secret)
                small |= shown is None
                row["engaged_audience"] = shown
        if small:
            withheld.append(Withheld("engaged audience", Reason.ENGAGED_BELOW_CELL_MIN))
    return QueryResult(query, rows, totals, None, withheld)


def _engaged(creator_id: str, value: int, policy: PrivacyPolicy, secret: bytes) -> int | None:
    """The engaged audience, protected, or None under cell_min. Keyed by its value alone, so
    no rewording of the question draws fresh noise for the same count."""
    shown = protect(int(value), digest(creator_id, "engaged audience"), policy, secret)
    return shown if clears(shown, policy.cell_min, policy) else None


def _public(query, row: Row) -> Row:
    """Only the dimensions and metrics asked, in a stable order."""
    return {k: row.get(k) for k in (*query.dimensions, *query.metrics)}


def _person(raw: RawAnswer, period: RawPeriod, policy: PrivacyPolicy, secret: bytes):
    query, facts = raw.query, period.person
    person_dims = [d for d in query.dimensions if DIMENSIONS[d].person]
    start, end = period.period.start, period.period.end
    window = Window(
        _local_midnight(start, raw.timezone),
        _local_midnight(end + timedelta(days=1), raw.timezone),
        raw.timezone,
    )
    # The noise is keyed by the data behind the answer (the rows counted), not by the
    # question's wording or dates: questions that count the same rows get the same noise.
    scope = digest(query.creator_id, facts.rows_counted)
    refusal = check_window(window, policy=policy) or check_person_filters(
        query.filters, facts, policy=policy, secret=secret, scope=scope
    )
    if refusal is not None:
        withheld = [Withheld("result", refusal.reason, detail=refusal.detail)]
        return QueryResult(query, [], {m: None for m in query.metrics}, None, withheld)
    if not person_dims:
        return QueryResult(query, [], _filtered_totals(query, period, policy, secret, scope))

    dim = person_dims[0]
    measures = [m for m in query.metrics if m in ADDITIVE_AUDIENCE]
    cells = [
        Cell(
            value=str(row[dim]) if row[dim] is not None else UNKNOWN,
            people=period.people.get((row[dim],), 0),
            measures={m: int(row.get(m) or 0) for m in measures},
        )
        for row in period.rows
    ]
    breakdown = suppress_breakdown(
        cells,
        population=facts.population,
        policy=policy,
        dimension=dim,
        secret=secret,
        scope=scope,
        minors=None if dim == "age" else facts.minors,
        opted_out_people=facts.opted_out_people,
        opted_out_measures=facts.opted_out_measures,
    )
    withheld = list(breakdown.withheld)
    if breakdown.total is None:
        return QueryResult(query, [], {m: None for m in query.metrics}, None, withheld)

    def shown(value: str, people: int, values: dict[str, int]) -> Row:
        row: Row = {dim: value}
        for m in query.metrics:
            row[m] = people if m == "reach" else values.get(m)
        return row

    rows = [shown(r.value, r.people, r.measures) for r in breakdown.rows]
    if breakdown.other is not None:
        rows.append(shown("other", breakdown.other.people, breakdown.other.measures))
    totals = shown("total", breakdown.total.people, breakdown.total.measures)
    totals.pop(dim)
    return QueryResult(query, rows, totals, None, withheld)


def _filtered_totals(query, period: RawPeriod, policy, secret, scope: bytes) -> Row:
    """A total filtered by a person's attribute: every figure protected, as a breakdown's
    row is (people by one, measures by their mean per person)."""
    people = period.person.population
    totals = period.totals or {}
    out: Row = {}
    for m in query.metrics:
        value = int(totals.get(m) or 0)
        unit = 1 if m == "reach" else per_person(value, people)
        out[m] = protect(value, digest(scope, "filtered total", m), policy, secret, unit=unit)
    return out


def _local_midnight(day, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))


def _ordered(query, rows: list[Row]) -> list[Row]:
    order = query.order_by or tuple((d, "asc") for d in query.dimensions if d in ("day", "hour"))
    for name, direction in reversed(order):
        rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n)), reverse=direction == "desc")
    return rows[: query.limit] if query.limit else rows


# --- declared panel queries ----------------------------------------------------------------


def _follower_activity(raw: RawFollowerActivity, policy, secret) -> FollowerActivityPanel:
    """Cells of people: a weekday × hour shown only when at least cell_min followers
    (protected) played then; the panel only when k_min followers played at all."""
    q = raw.question
    scope = digest(q.creator_id, "follower activity", raw.rows_counted)
    population = protect(raw.population, digest(scope, "population"), policy, secret)
    if not clears(population, policy.k_min, policy):
        note = Withheld("follower activity", Reason.FOLLOWER_POPULATION_BELOW_K_MIN)
        return FollowerActivityPanel([], None, [note])

    def shown(key: bytes, people: int, plays: int) -> tuple[int, int] | None:
        followers = protect(people, digest(key, "people"), policy, secret)
        if not clears(followers, policy.cell_min, policy):
            return None
        unit = per_person(plays, people)
        return followers, protect(plays, key, policy, secret, unit=unit)

    cells, small = [], False
    for weekday, hour, people, plays in raw.cells:
        cell = shown(digest(scope, weekday, hour), people, plays)
        small |= cell is None
        if cell is not None:
            cells.append(ActivityCell(weekday, hour, *cell))
    totals = {}
    for name, rows in (("weekday", raw.weekdays), ("hour", raw.hours)):
        totals[name] = [
            ActivityTotal(at, *found)
            for at, people, plays in rows
            if (found := shown(digest(scope, name, at), people, plays)) is not None
        ]
    notes = [Withheld("follower activity cells", Reason.CELL_BELOW_CELL_MIN)] if small else []
    return FollowerActivityPanel(cells, population, notes, totals["weekday"], totals["hour"])


def _followers_watched(raw: RawFollowersWatched, policy, secret) -> FollowersWatchedPanel:
    """A video is listed when at least k_min distinct followers (protected) watched it."""
    q = raw.question
    if not _followers_clear(q.creator_id, raw.followers_total, policy, secret):
        note = Withheld("videos your followers watched", Reason.FOLLOWER_POPULATION_BELOW_K_MIN)
        return FollowersWatchedPanel([], [note])
    shown = []
    for video, creator, followers, plays in raw.rows:
        key = digest(q.creator_id, "followers watched", video, followers, plays)
        people = protect(followers, digest(key, "people"), policy, secret)
        if clears(people, policy.k_min, policy):
            unit = per_person(plays, followers)
            shown.append(
                WatchedVideo(video, creator, people, protect(plays, key, policy, secret, unit=unit))
            )
    shown.sort(key=lambda v: (-v.followers, -v.plays, v.video))
    return FollowersWatchedPanel(shown[: q.limit], [])


def _follower_demographics(raw: RawFollowerDemographics, policy, secret):
    """Followers at the period's end by attribute, each a protected breakdown."""
    q = raw.question
    minors = sum(n for v, out, n in raw.cells["age"] if v == "13-17" and not out)
    panels = {}
    for name, rows in raw.cells.items():
        cells = [Cell(v or UNKNOWN, n) for v, out, n in rows if not out]
        breakdown = suppress_breakdown(
            cells,
            population=sum(c.people for c in cells),
            policy=policy,
            dimension=name,
            secret=secret,
            scope=digest(q.creator_id, "followers", name, _truth(cells)),
            minors=None if name == "age" else minors,
            opted_out_people=sum(n for _, out, n in rows if out),
        )
        shown = [{"value": r.value, "followers": r.people} for r in breakdown.rows]
        if breakdown.other is not None:
            shown.append({"value": "other", "followers": breakdown.other.people})
        total = breakdown.total.people if breakdown.total else None
        panels[name] = FollowerBreakdown(shown, total, list(breakdown.withheld))
    return panels


def _truth(cells: list[Cell]) -> list[tuple[str, int]]:
    return sorted((c.value, c.people) for c in cells)


def _likers(raw: RawVideoLikers, policy, secret) -> LikersPanel:
    return LikersPanel(list(raw.nameable), raw.others)


def _meta(raw: RawVideoMeta, policy, secret) -> VideoMetaPanel:
    return VideoMetaPanel(raw.videos)


def _positions(raw: RawVideoPositions, policy, secret) -> VideoPositionsPanel:
    return release_positions(raw, policy, secret)


def _creator_list(raw: RawCreatorList, audience: Audience) -> list[CreatorCard]:
    """Per-creator all-time totals: in full for the operator, the profile's public counts
    for a public card; a creator audience gets nothing of other creators."""
    if isinstance(audience, Operator):
        return [CreatorCard(**row) for row in raw.rows]
    if isinstance(audience, PublicCard):
        return [
            CreatorCard(**{k: (v if k in audience.fields else None) for k, v in row.items()})
            for row in raw.rows
        ]
    raise NotForAudience("the platform's creator list is for the operator or public cards")


_RELEASES = {
    RawAnswer: _answer,
    RawFollowerActivity: _follower_activity,
    RawFollowersWatched: _followers_watched,
    RawFollowerDemographics: _follower_demographics,
    RawVideoLikers: _likers,
    RawVideoMeta: _meta,
    RawVideoPositions: _positions,
    **INSIGHT_RELEASES,
}
