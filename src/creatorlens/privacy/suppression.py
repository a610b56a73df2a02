"""Suppression: what a breakdown, a filter or a window may show, and the noise on its counts.

Every number a breakdown shows passes through `protect_count`: consistent discrete-Laplace
noise, bounded by `policy.noise_bound`, seeded by HMAC(secret, what is asked about which
data). The same question over the same data always gets the same answer, so asking a
thousand times and averaging gains nothing; any change in the data re-draws every count, so
two overlapping windows cannot be subtracted to single out the person who differs.

Every threshold (k_min, cell_min, the minor majority) is compared against protected counts
with the noise bound as a margin: the true count is then guaranteed to clear the floor, yet
whether a count near the floor is shown depends on noise, not on one person's presence.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

from creatorlens.privacy.policy import AGE_BUCKETS, MINOR_BUCKET, UNKNOWN, PrivacyPolicy

_DOMAIN = b"creatorlens/protect_count/v1"


class Reason(StrEnum):
    """Why something was withheld or refused; the text is what a creator is shown."""

    POPULATION_BELOW_K_MIN = "population below k_min"
    MOSTLY_MINORS = "population mostly minors"
    CELL_BELOW_CELL_MIN = "under cell_min"
    BEYOND_TOP_N = "beyond top_n"
    OTHER_BELOW_CELL_MIN = "other under cell_min, counted in the total only"
    FILTERED_POPULATION_BELOW_K_MIN = "filtered population below k_min"
    FILTER_ON_MINORS = "filter selects only minors"
    HOURLY_WITH_PERSON_ATTRIBUTES = "hour-level series with person attributes"
    WINDOW_NOT_WHOLE_DAYS = "window not whole days in the creator's time zone"
    WINDOW_TOO_SHORT = "window shorter than min_window_days"
    FILTER_VALUE_BELOW_K_MIN = "filter value below k_min"
    FILTER_LEAVES_OUT_TOO_FEW = "filter leaves out fewer than k_min"
    FOLLOWER_POPULATION_BELOW_K_MIN = "follower population below k_min"
    ENGAGED_BELOW_CELL_MIN = "engaged audience under cell_min"
    LIKERS_BELOW_CELL_MIN = "likers under cell_min"
    FOLLOWERS_BELOW_K_MIN = "fewer than k_min followers"
    NOT_FOR_AUDIENCE = "not available to this audience"
    # Insights (issue 18): platform-wide lists and niches need k_min creators; a theme
    # word needs several comments, so no aggregate quotes one.
    CREATORS_BELOW_K_MIN = "fewer than k_min creators"
    THEME_BELOW_MIN_COMMENTS = "words of too few comments"
    NOT_SCORED_YET = "comments not scored yet (run a refresh)"


class UnsafeBreakdownError(ValueError):
    """A caller handed over data that must never reach a breakdown (a bug, not bad input)."""


@dataclass(frozen=True, slots=True)
class Withheld:
    """Something a result leaves out, and why; never which small values were dropped.

    Not even how many: the number of values under cell_min changes when one newcomer brings
    a value nobody else has, so it is never given. `people` is a protected count, given
    only where it is not itself small.
    """

    what: str
    reason: Reason
    merged_into: Literal["other", "total"] | None = None
    people: int | None = None
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        """What a creator is shown: what, why, and where it went (or more detail)."""
        detail = self.detail or (f"merged into {self.merged_into}" if self.merged_into else "")
        return {"what": self.what, "reason": str(self.reason), "detail": detail}

    def about(self, scope: str) -> Withheld:
        """The same note, its `what` saying which question it belongs to."""
        return replace(self, what=f"{self.what} ({scope})")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A question refused before it runs, naming the fields that made it unsafe."""

    reason: Reason
    fields: tuple[str, ...]
    detail: str

    @property
    def message(self) -> str:
        return f"{self.reason}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Cell:
    """One true breakdown row from the caller: a value, its distinct people, its measures."""

    value: str
    people: int
    measures: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Row:
    """One shown breakdown row; every count is protected."""

    value: str
    people: int
    measures: dict[str, int]


@dataclass(frozen=True, slots=True)
class Tally:
    """Protected people and measures of the "other" row or of the total line."""

    people: int
    measures: dict[str, int]


@dataclass(frozen=True, slots=True)
class Breakdown:
    """A breakdown as shown: kept rows, "other", the total line and what was withheld.

    `total` is the sum of the shown rows, "other" (shown or folded in) and opted-out people,
    so the figures add up; `None` when the whole breakdown is withheld. Shown people counts
    are within `noise_bound` of the truth (measures within `noise_bound` per-person means).
    """

    dimension: str
    rows: tuple[Row, ...]
    other: Tally | None
    total: Tally | None
    withheld: tuple[Withheld, ...]
    noise_bound: int

    @property
    def is_withheld(self) -> bool:
        return self.total is None


@dataclass(frozen=True, slots=True)
class Window:
    """A time window asked about: [start, end) in the creator's time zone, by day or hour."""

    start: datetime
    end: datetime
    tz: str
    step: Literal["day", "hour"] = "day"


# --- noise --------------------------------------------------------------------------------


# `json.dumps(..., sort_keys=True, default=str)` with the encoder built once: a dashboard
# takes some 450 digests, and dumps with options builds a new encoder for each.
_PARTS = json.JSONEncoder(sort_keys=True, default=str)


def digest(*parts: object) -> bytes:
    """A short, unambiguous fingerprint of JSON-able parts, to build scopes and cell keys."""
    encoded = _PARTS.encode([p.hex() if isinstance(p, bytes) else p for p in parts])
    return hashlib.blake2b(encoded.encode(), digest_size=16).digest()


def protect_count(
    value: int, *, cell_key: bytes, policy: PrivacyPolicy, secret: bytes, unit: int = 1
) -> int:
    """`value` plus consistent noise: the same key, value and secret give the same answer.

    The noise is discrete Laplace with scale `policy.noise_scale` (in steps of `unit`, the
    most one person typically adds to this count), clipped to `policy.noise_bound` steps, and
    drawn from HMAC-SHA256(secret, cell_key, value). Mixing in the true value means a
    changed count gets fresh noise; the secret means nobody can predict or undo it.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a count is a non-negative integer, not {value!r}")
    if unit < 1:
        raise ValueError(f"unit must be at least 1, not {unit}")
    if not secret:
        raise ValueError("protect_count needs the instance's noise secret")
    message = _DOMAIN + len(cell_key).to_bytes(8, "big") + cell_key + str(value).encode()
    mac = hmac.digest(secret, message, "sha256")
    alpha = _alpha(policy.noise_scale)
    # Discrete Laplace as the difference of two geometric draws, each from 64 bits.
    g1, g2 = (_geometric(mac[i : i + 8], alpha) for i in (0, 8))
    noise = max(-policy.noise_bound, min(policy.noise_bound, g1 - g2))
    return max(0, value + unit * noise)


@cache
def _alpha(scale: float) -> float:
    return math.exp(-1.0 / scale)


def _geometric(bits: bytes, alpha: float) -> int:
    """P(k) = (1 - alpha) * alpha**k for k >= 0, by inversion of a uniform in (0, 1)."""
    u = (int.from_bytes(bits, "big") + 0.5) / 2.0**64
    return math.floor(math.log(u) / math.log(alpha))


def clears(protected: int, floor: int, policy: PrivacyPolicy) -> bool:
    """Whether a protected count clears a floor by the noise bound (so the truth does too)."""
    return protected >= floor + policy.noise_bound


# --- breakdowns ---------------------------------------------------------------------------


def suppress_breakdown(
    cells: Sequence[Cell],
    *,
    population: int,
    policy: PrivacyPolicy,
    dimension: str,
    secret: bytes,
    scope: bytes = b"",
    minors: int | None = None,
    opted_out_people: int = 0,
    opted_out_measures: Mapping[str, int] | None = None,
) -> Breakdown:
    """Apply the policy to a true breakdown and return what may be shown.

    Contract: `cells` partition `population`, the distinct people behind the breakdown,
    with analytics opt-outs already excluded by the caller; opted-out people and their
    measures are passed apart and only ever reach the total line. `minors` is how many of
    the population are 13-17 (read from the "13-17" cell for an age breakdown). `scope`
    names the question and fingerprints the creator's whole data in the window (e.g. a
    digest of the window's event count and XOR of event-id hashes): identical data then
    gets identical answers, and any new event anywhere re-draws all the noise.
    """
    opted_out = dict(opted_out_measures or {})
    names = sorted({name for c in cells for name in c.measures} | set(opted_out))
    _check_cells(cells, population, dimension)
    if dimension == "age":
        minors = sum(c.people for c in cells if c.value == MINOR_BUCKET)
    elif minors is None:
        raise ValueError(f"{dimension} breakdown: pass minors (people aged 13-17)")
    # Each count's noise is keyed by the data (`scope` fingerprints the rows counted), the
    # cell and the count's own name and value: never by which other measures were asked
    # alongside, so rewording a question draws no fresh noise.
    base = digest(scope, dimension)

    def protect(value: int, *key: object, unit: int = 1) -> int:
        return protect_count(
            value, cell_key=digest(base, *key), policy=policy, secret=secret, unit=unit
        )

    def tally(people: int, measures: Mapping[str, int], *key: object) -> Tally:
        shown = {
            n: protect(measures.get(n, 0), *key, n, unit=per_person(measures.get(n, 0), people))
            for n in names
        }
        return Tally(protect(people, *key, "people"), shown)

    def withheld(reason: Reason) -> Breakdown:
        what = Withheld(f"{dimension} breakdown", reason)
        return Breakdown(dimension, (), None, None, (what,), policy.noise_bound)

    if not clears(protect(population, "population"), policy.k_min, policy):
        return withheld(Reason.POPULATION_BELOW_K_MIN)
    # Withheld unless the protected minors, raised by the noise bound, are clearly not a
    # majority: a true minor majority can never be shown.
    if protect(minors, "minors") + policy.noise_bound > policy.minor_majority * population:
        return withheld(Reason.MOSTLY_MINORS)

    protected = {c.value: tally(c.people, c.measures, "row", c.value) for c in cells}
    eligible = [c for c in cells if clears(protected[c.value].people, policy.cell_min, policy)]
    eligible.sort(key=lambda c: (-protected[c.value].people, c.value))
    kept, beyond = eligible[: policy.top_n], eligible[policy.top_n :]
    small = [c for c in cells if not clears(protected[c.value].people, policy.cell_min, policy)]
    rows = tuple(Row(c.value, protected[c.value].people, protected[c.value].measures) for c in kept)

    notes: list[Withheld] = []
    other: Tally | None = None
    parts = [Tally(r.people, r.measures) for r in rows]
    if small or beyond:
        merged = small + beyond
        other = tally(
            sum(c.people for c in merged),
            {n: sum(c.measures.get(n, 0) for c in merged) for n in names},
            "other",
        )
        parts.append(other)
        other_shown = clears(other.people, policy.cell_min, policy)
        into: Literal["other", "total"] = "other" if other_shown else "total"
        if small:
            notes.append(Withheld("values under cell_min", Reason.CELL_BELOW_CELL_MIN, into))
        if beyond:
            people = sum(protected[c.value].people for c in beyond)
            notes.append(Withheld("values beyond top_n", Reason.BEYOND_TOP_N, into, people))
        if not other_shown:
            other = None
            notes.append(Withheld("other", Reason.OTHER_BELOW_CELL_MIN))
    if opted_out_people or any(opted_out.values()):
        parts.append(tally(opted_out_people, opted_out, "opted_out"))
    total = Tally(
        sum(p.people for p in parts), {n: sum(p.measures[n] for p in parts) for n in names}
    )
    return Breakdown(dimension, rows, other, total, tuple(notes), policy.noise_bound)


def per_person(measure: int, people: int) -> int:
    """The noise step of a measure: its mean per person, so one typical person is hidden."""
    return max(1, math.ceil(measure / people)) if people > 0 else 1


def _check_cells(cells: Sequence[Cell], population: int, dimension: str) -> None:
    """Refuse data that is a caller's bug; a minor outside 13-17 above all."""
    if population < 0:
        raise ValueError(f"population must not be negative, not {population}")
    seen: set[str] = set()
    for c in cells:
        if c.value in seen:
            raise ValueError(f"{dimension} breakdown: value {c.value!r} appears twice")
        seen.add(c.value)
        if c.people < 0 or any(v < 0 for v in c.measures.values()):
            raise ValueError(f"{dimension} breakdown: negative count in {c.value!r}")
        if c.people > population:
            raise ValueError(f"{dimension} breakdown: a row has more people than the population")
        if dimension == "age" and c.value not in (*AGE_BUCKETS, UNKNOWN):
            raise UnsafeBreakdownError(
                f"age breakdown row {c.value!r} is not one of {', '.join(AGE_BUCKETS)} or "
                f"{UNKNOWN}: minors may appear only as {MINOR_BUCKET}"
            )


# --- filters and windows ------------------------------------------------------------------


def check_window(
    window: Window, *, policy: PrivacyPolicy, crosses_attributes: bool = True
) -> Refusal | None:
    """Refuse windows that could isolate a person when crossed with person attributes.

    Totals may use any window, hours included; a breakdown or filter by a person's
    attribute needs whole local days, at least `min_window_days` of them, so that a
    one-hour window cannot pin a viewer down.
    """
    if window.start.tzinfo is None or window.end.tzinfo is None:
        raise ValueError("window start and end must carry a time zone offset")
    if not crosses_attributes:
        return None
    if window.step != "day":
        return Refusal(
            Reason.HOURLY_WITH_PERSON_ATTRIBUTES,
            ("step",),
            "hour-level series are totals only, never split or filtered by a person's attribute",
        )
    zone = ZoneInfo(window.tz)
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)
    if any((t.hour, t.minute, t.second, t.microsecond) != (0, 0, 0, 0) for t in (start, end)):
        return Refusal(
            Reason.WINDOW_NOT_WHOLE_DAYS,
            ("start", "end"),
            f"start and end must be midnight in {window.tz}",
        )
    days = (end.date() - start.date()).days
    if days < policy.min_window_days:
        return Refusal(
            Reason.WINDOW_TOO_SHORT,
            ("start", "end"),
            f"{days} days; at least {policy.min_window_days} needed",
        )
    return None
