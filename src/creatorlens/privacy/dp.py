"""Differential privacy for third-party apps: what an app may ask, what one question costs
in ε, and the noisy answer, every number drawn by OpenDP's discrete Laplace mechanism.

The rule is a value (`DPPolicy`) and a table (`SENSITIVITY`) you can read and test:

- The privacy unit is one viewer (one account, for named acts). `SENSITIVITY[m]` is the
  most one of them adds to metric `m` in one cell (a row of a breakdown, or a total): 1 for
  a distinct count (reach, follower viewers...), `event_bound` for counts of events (plays,
  views, likes...), `watch_ms_bound` for watch time. The rollups keep sums, not clamped
  contributions, so for a viewer who added more than the bound to a cell the loss grows in
  proportion (ε × contribution / bound); docs/apps.md says so.
- Every number an answer holds is `truth + Z`, Z discrete Laplace of scale
  `SENSITIVITY[m] / epsilon_per_number` (OpenDP `make_laplace` on an integer domain, which
  samples exactly, with no floating-point leak), then clamped at 0. Its privacy loss is what
  OpenDP's own privacy map says: `epsilon_per_number` (checked when the mechanism is made).
- A question costs `epsilon_per_number` × the numbers it can hold, counted from the
  question alone (metrics × cells, plus the totals, plus the comparison), never from the
  data: what is charged says nothing about the answer.
- Everything else is post-processing of noisy numbers, which costs nothing more: rows of a
  breakdown by a person's attribute shown only where the noisy reach clears `cell_min`,
  the breakdown only where the noisy population clears `k_min` and is not mostly minors,
  open breakdowns (videos, countries) keep their top rows by noisy value above the error
  bound. Rows of a closed domain (days, traffic sources, age buckets...) are all listed,
  zeros included, so a row's presence says nothing.

Consistency (the same question over the same data gets the same answer) is not here: the
release draws fresh noise, and `creatorlens.studio.apps` keeps each answer drawn in the
store under a key of the question and the data's state, so a repeat returns it unchanged.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from creatorlens.errors import UserError
from creatorlens.ingest.wire import GENDERS, SHARE_CHANNELS, TRAFFIC_SOURCES
from creatorlens.privacy.policy import AGE_BUCKETS, MINOR_BUCKET, UNKNOWN, PrivacyPolicy
from creatorlens.privacy.result import query_json
from creatorlens.privacy.suppression import Reason, Withheld
from creatorlens.query.metrics import DIMENSIONS
from creatorlens.query.model import Query, QueryError
from creatorlens.query.raw import RawAnswer, RawPeriod

MECHANISM = "discrete Laplace (OpenDP make_laplace on integers)"

# --- scopes --------------------------------------------------------------------------------

OVERVIEW = "overview.read"
VIDEOS = "videos.read"
AUDIENCE = "audience.read"
FOLLOWERS = "followers.read"
SCOPES = (OVERVIEW, VIDEOS, AUDIENCE, FOLLOWERS)

# What an app may count, and the scope each needs when no dimension asks for another.
OVERVIEW_METRICS = (
    "plays",
    "views",
    "total_watch_ms",
    "reach",
    "likes",
    "comments",
    "shares",
    "saves",
    "profile_views",
)
FOLLOWER_METRICS = (
    "followers_gained",
    "followers_lost",
    "follower_viewers",
    "non_follower_viewers",
)
APP_METRICS = OVERVIEW_METRICS + FOLLOWER_METRICS

# What an app may break down by: a closed domain is listed whole (zeros included); an open
# one (videos, countries) keeps its top rows. City and language are too fine, hour too
# short a window; a person's own attributes need audience.read.
CLOSED = {
    "source": TRAFFIC_SOURCES,
    "channel": SHARE_CHANNELS,
    "age": (*AGE_BUCKETS, UNKNOWN),
    "gender": (*GENDERS, UNKNOWN),
}
OPEN = ("video", "country")
APP_DIMENSIONS = ("day", *CLOSED, *OPEN)
DIMENSION_SCOPE = {"video": VIDEOS, "country": AUDIENCE, "age": AUDIENCE, "gender": AUDIENCE}
# Filters an app may use: never on a person's attribute (a filter is a breakdown's row by
# other means, and a difference of two filtered totals isolates the people between them).
APP_FILTERS = ("video", "source", "channel")


@dataclass(frozen=True, slots=True)
class DPPolicy:
    """The differential-privacy settings of the app API (the `[apps]` table of the policy
    TOML); see docs/apps.md for what each default means."""

    # ε each noisy number costs; scale = sensitivity / epsilon_per_number.
    epsilon_per_number: float = 0.5
    # ε an app may spend on one creator's data in one calendar month (UTC).
    monthly_epsilon: float = 50.0
    # The most one viewer is taken to add to an event count in one cell (plays, views...).
    event_bound: int = 10
    # The most one viewer is taken to add to watch time in one cell: 10 minutes.
    watch_ms_bound: int = 600_000
    # Rows of an open breakdown (videos, countries) when the question names no limit, and
    # the most it may ask.
    open_rows: int = 10
    max_open_rows: int = 50
    # Longest daily series an app may ask for.
    max_days: int = 92
    # The error bound each answer states holds with this probability.
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UserError(f"apps.{f.name} = {value!r}: must be a number")
        if not 0 < self.epsilon_per_number <= 5:
            raise UserError(
                f"apps.epsilon_per_number = {self.epsilon_per_number!r} is unsafe: "
                "must be above 0 and at most 5"
            )
        if self.monthly_epsilon < self.epsilon_per_number:
            raise UserError("apps.monthly_epsilon must be at least apps.epsilon_per_number")
        for name in ("event_bound", "watch_ms_bound", "open_rows", "max_open_rows", "max_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise UserError(f"apps.{name} = {value!r}: must be a positive integer")
        if self.open_rows > self.max_open_rows:
            raise UserError("apps.open_rows must not exceed apps.max_open_rows")
        if not 0.5 <= self.confidence < 1:
            raise UserError("apps.confidence must be at least 0.5 and below 1")

    def sensitivity(self, metric: str) -> int:
        """The most one viewer adds to `metric` in one cell (see the module)."""
        bound = SENSITIVITY[metric]
        return getattr(self, bound) if isinstance(bound, str) else bound

    def scale(self, metric: str) -> float:
        return self.sensitivity(metric) / self.epsilon_per_number


DEFAULT_DP_POLICY = DPPolicy()

# The most one viewer (or account) adds to each app metric in one cell: an int, or the
# name of the DPPolicy field that holds it.
SENSITIVITY: dict[str, int | str] = {
    "reach": 1,  # distinct viewers: one viewer is one, whatever they did
    "follower_viewers": 1,
    "non_follower_viewers": 1,
    "followers_gained": 1,  # an account follows once (a follow back after unfollowing aside)
    "followers_lost": 1,
    "plays": "event_bound",
    "views": "event_bound",
    "likes": "event_bound",
    "comments": "event_bound",
    "shares": "event_bound",
    "saves": "event_bound",
    "profile_views": "event_bound",
    "total_watch_ms": "watch_ms_bound",
}


def load_dp_policy(path: str | Path | None) -> DPPolicy:
    """The `[apps]` table of a policy TOML file, or the defaults; unknown keys refused."""
    if path is None:
        return DEFAULT_DP_POLICY
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: cannot read the app policy ({exc})") from None
    table = document.get("apps", {})
    if not isinstance(table, dict):
        raise UserError(f"{path}: apps must be a table")
    known = {f.name for f in fields(DPPolicy)}
    for key in table:
        if key not in known:
            raise UserError(f"{path}: unknown key apps.{key} (known: {', '.join(sorted(known))})")
    return DPPolicy(**table)


# --- the app audience and its questions -----------------------------------------------------


@dataclass(frozen=True)
class App:
    """A third-party app reading one creator's data under the scopes the creator granted."""

    client_id: str
    creator_id: str
    scopes: frozenset[str]
    dp: DPPolicy = field(default=DEFAULT_DP_POLICY)


class ScopeMissing(UserError):
    """A question the app's grant does not cover (the scopes it would need, named)."""

    def __init__(self, needed: set[str]):
        self.needed = tuple(sorted(needed))
        super().__init__(f"this question needs the scope {', '.join(self.needed)}, not granted")


def needed_scopes(query: Query) -> set[str]:
    """The scopes a question needs: its dimension's (videos, audience), else its metrics'."""
    used = query.used_dimensions
    needed = {DIMENSION_SCOPE[d] for d in used if d in DIMENSION_SCOPE}
    for m in query.metrics:
        if m in FOLLOWER_METRICS:
            needed.add(FOLLOWERS)
        elif not needed & {VIDEOS, AUDIENCE}:
            needed.add(OVERVIEW)
    return needed


def check_app_question(query: Query, app: App) -> None:
    """Refuse what an app may never ask (QueryError, naming the field) and what its grant
    does not cover (ScopeMissing)."""
    for m in query.metrics:
        if m not in APP_METRICS:
            raise QueryError(
                "metrics", f"{m!r} is not available to apps ({', '.join(APP_METRICS)})"
            )
    if len(query.dimensions) > 1:
        raise QueryError("dimensions", "an app question breaks down by one dimension at most")
    for d in query.dimensions:
        if d not in APP_DIMENSIONS:
            raise QueryError(
                "dimensions", f"{d!r} is not available to apps ({', '.join(APP_DIMENSIONS)})"
            )
    for f in query.filters:
        if f.dimension not in APP_FILTERS:
            raise QueryError(
                "filters", f"apps may filter on {', '.join(APP_FILTERS)} only, not {f.dimension!r}"
            )
    person = [d for d in query.dimensions if DIMENSIONS[d].person]
    if person and "reach" not in query.metrics:
        raise QueryError("metrics", f"a breakdown by {person[0]} needs reach among its metrics")
    if "day" in query.dimensions and query.period.days > app.dp.max_days:
        raise QueryError("period", f"a daily series is at most {app.dp.max_days} days")
    if query.limit is not None and query.limit > app.dp.max_open_rows:
        raise QueryError("limit", f"at most {app.dp.max_open_rows}")
    missing = needed_scopes(query) - app.scopes
    if missing:
        raise ScopeMissing(missing)


def cells(query: Query, dp: DPPolicy) -> int:
    """The rows an answer can hold, from the question alone."""
    if not query.dimensions:
        return 0
    dim = query.dimensions[0]
    if dim == "day":
        return query.period.days
    if dim in CLOSED:
        return len(CLOSED[dim])
    return min(query.limit or dp.open_rows, dp.max_open_rows)


def question_cost(query: Query, dp: DPPolicy) -> tuple[int, float]:
    """The noisy numbers a question can hold and the ε it costs (never from the data)."""
    metrics = len(query.metrics)
    numbers = metrics * (cells(query, dp) + 1) + (metrics if query.compare else 0)
    return numbers, round(numbers * dp.epsilon_per_number, 9)


# --- the mechanism --------------------------------------------------------------------------


@cache
def _mechanism(scale: float):
    """OpenDP's discrete Laplace on 64-bit integers at `scale` (built once per scale)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp.m.make_laplace(dp.atom_domain(T="i64"), dp.absolute_distance(T="i64"), scale=scale)


def privacy_loss(sensitivity: int, scale: float) -> float:
    """ε of one number, as OpenDP's privacy map states it for this sensitivity."""
    return float(_mechanism(scale).map(sensitivity))


@cache
def error_bound(scale: float, confidence: float) -> int:
    """The smallest integer the noise stays within (|noise| <= bound) with probability at
    least `confidence`. OpenDP's accuracy `a` solves P(|noise| >= a) = 1 - confidence over
    the reals; the noise is an integer, so |noise| >= ceil(a) is at most that likely."""
    import opendp.prelude as dp

    return math.ceil(dp.discrete_laplacian_scale_to_accuracy(scale, 1 - confidence)) - 1


def noisy(value: int, scale: float) -> int:
    """`value` plus one fresh discrete-Laplace draw (OpenDP, from the OS's CSPRNG); not
    clamped, which is the caller's post-processing."""
    return int(_mechanism(scale)(int(value)))


# --- the release ------------------------------------------------------------------------------

Row = dict[str, Any]


@dataclass(frozen=True)
class AppAnswer:
    """A question's noisy answer: rows, totals, comparison, what each number may be off by,
    what was withheld, and the ε it cost."""

    query: Query
    rows: list[Row]
    totals: Row
    comparison: Row | None
    withheld: list[Withheld]
    numbers: int
    epsilon: float
    dp: DPPolicy

    def to_json(self) -> dict[str, Any]:
        q = self.query
        return {
            "query": {**query_json(q), "limit": q.limit},
            "rows": self.rows,
            "totals": self.totals,
            "comparison": self.comparison,
            "withheld": [w.to_json() for w in self.withheld],
            "noise": {
                "mechanism": MECHANISM,
                "noisy": list(q.metrics),
                "exact": list(q.dimensions),
                "confidence": self.dp.confidence,
                "error_bound": {
                    m: error_bound(self.dp.scale(m), self.dp.confidence) for m in q.metrics
                },
                "scale": {m: self.dp.scale(m) for m in q.metrics},
                "sensitivity": {m: self.dp.sensitivity(m) for m in q.metrics},
                "epsilon_per_number": self.dp.epsilon_per_number,
                "numbers": self.numbers,
                "epsilon": self.epsilon,
            },
        }


def release_to_app(raw: RawAnswer, policy: PrivacyPolicy, app: App) -> AppAnswer:
    """The noisy answer of a question an app may ask (checked here again)."""
    query, dp = raw.query, app.dp
    check_app_question(query, app)
    numbers, epsilon = question_cost(query, dp)
    scale = {m: dp.scale(m) for m in query.metrics}
    bound = {m: error_bound(s, dp.confidence) for m, s in scale.items()}

    def noisy_row(truth: Row | None) -> Row:
        truth = truth or {}
        return {m: max(0, noisy(int(truth.get(m) or 0), scale[m])) for m in query.metrics}

    totals = noisy_row(_true_totals(query, raw.current))
    comparison = None
    if query.compare:
        comparison = noisy_row(raw.previous.totals if raw.previous else None)
    withheld: list[Withheld] = []
    rows: list[Row] = []
    if query.dimensions:
        dim = query.dimensions[0]
        found = {_key(r.get(dim)): r for r in raw.current.rows}
        if dim == "day" or dim in CLOSED:
            domain = _days(query) if dim == "day" else CLOSED[dim]
            rows = [{dim: v, **noisy_row(found.get(v))} for v in domain]
        else:
            first = "reach" if "reach" in query.metrics else query.metrics[0]
            drawn = [{dim: v, **noisy_row(r)} for v, r in found.items()]
            kept = [r for r in drawn if r[first] > bound[first]]
            kept.sort(key=lambda r: (-r[first], str(r[dim])))
            limit = cells(query, dp)
            if len(kept) < len(drawn):
                note = "noisy value under its error bound, counted in the total only"
                withheld.append(Withheld(f"{dim} rows", Reason.CELL_BELOW_CELL_MIN, detail=note))
            if len(kept) > limit:
                withheld.append(Withheld(f"{dim} rows", Reason.BEYOND_TOP_N, "total"))
            rows = kept[:limit]
        if DIMENSIONS[dim].person:
            rows, notes = _person_rows(dim, rows, totals, policy, bound["reach"])
            whole = notes and notes[0].reason in (
                Reason.POPULATION_BELOW_K_MIN,
                Reason.MOSTLY_MINORS,
            )
            withheld = notes if whole else withheld + notes
    for name, direction in reversed(query.order_by):
        rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n)), reverse=direction == "desc")
    return AppAnswer(query, rows, totals, comparison, withheld, numbers, epsilon, dp)


def _person_rows(dim: str, rows: list[Row], totals: Row, policy: PrivacyPolicy, bound: int):
    """Post-processing of a breakdown by a person's attribute, on noisy counts only: the
    whole breakdown needs a noisy population of k_min (not mostly minors), a row cell_min."""
    population = totals["reach"]
    if population < policy.k_min + bound:
        return [], [Withheld(f"{dim} breakdown", Reason.POPULATION_BELOW_K_MIN)]
    if dim == "age":
        minors = next((r["reach"] for r in rows if r[dim] == MINOR_BUCKET), 0)
        if minors > policy.minor_majority * population:
            return [], [Withheld(f"{dim} breakdown", Reason.MOSTLY_MINORS)]
    shown = [r for r in rows if r["reach"] >= policy.cell_min + bound]
    notes = []
    if len(shown) < len(rows):
        notes.append(Withheld("values under cell_min", Reason.CELL_BELOW_CELL_MIN, "total"))
    return shown, notes


def _true_totals(query: Query, period: RawPeriod) -> Row | None:
    """The true totals line: the runner's, or for a breakdown by a person's attribute (whose
    rows partition the viewers, opted-out ones apart) its rows and the opted-out added up."""
    if period.totals is not None or period.person is None:
        return period.totals
    facts = period.person
    out: Row = {}
    for m in query.metrics:
        if m == "reach":
            out[m] = facts.population + facts.opted_out_people
        else:
            rows = sum(int(r.get(m) or 0) for r in period.rows)
            out[m] = rows + int(facts.opted_out_measures.get(m, 0))
    return out


def _key(value: Any) -> Any:
    if value is None:
        return UNKNOWN
    return value.isoformat() if isinstance(value, date) else str(value)


def _days(query: Query) -> list[str]:
    return [(query.period.start + timedelta(days=i)).isoformat() for i in range(query.period.days)]
