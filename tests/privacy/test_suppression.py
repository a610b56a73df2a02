"""Suppression: thresholds, "other", minors, filters, windows, noise and the differencing attack.

Counts shown are noisy, so the tests check by hand what cannot move (which rows are kept,
merged or withheld, the reasons, the bounds, that the figures add up) and check the noise
against its own properties. Each test fails if the layer is bypassed (identity noise, no
threshold); the differencing tests prove it by running the same attack on raw counts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from creatorlens.privacy import (
    DEFAULT_POLICY,
    Breakdown,
    Cell,
    PrivacyPolicy,
    Reason,
    UnsafeBreakdownError,
    Window,
    Withheld,
    check_window,
    digest,
    protect_count,
    suppress_breakdown,
    suppression,
)
from creatorlens.privacy.rules import check_person_filters
from creatorlens.query.model import Filter
from creatorlens.query.raw import PersonFacts

SECRET = b"test-instance-noise-secret"
P = DEFAULT_POLICY
BOUND = P.noise_bound  # 8


def secrets(n: int) -> list[bytes]:
    """Many instances' secrets: one draw of the noise per instance."""
    return [f"instance-{i}".encode() for i in range(n)]


def countries(*cells: tuple[str, int], secret: bytes = SECRET, **kw) -> Breakdown:
    cs = [Cell(v, n, {"plays": 3 * n}) for v, n in cells]
    return suppress_breakdown(
        cs,
        population=kw.pop("population", sum(n for _, n in cells)),
        policy=kw.pop("policy", P),
        dimension="country",
        secret=secret,
        minors=kw.pop("minors", 0),
        **kw,
    )


# --- protect_count ------------------------------------------------------------------------


def test_protected_count_is_the_same_every_time_it_is_asked() -> None:
    answers = {protect_count(120, cell_key=b"c1/age/18-24", policy=P, secret=SECRET)}
    for _ in range(1000):
        answers.add(protect_count(120, cell_key=b"c1/age/18-24", policy=P, secret=SECRET))
    assert len(answers) == 1


def test_noise_is_bounded_centred_and_as_wide_as_the_scale_says() -> None:
    draws = [
        protect_count(1_000, cell_key=f"cell-{i}".encode(), policy=P, secret=SECRET) - 1_000
        for i in range(20_000)
    ]
    assert max(draws) <= BOUND and min(draws) >= -BOUND
    assert max(draws) == BOUND and min(draws) == -BOUND  # the bound is reached, rarely
    mean = sum(draws) / len(draws)
    var = sum(d * d for d in draws) / len(draws)
    # Discrete Laplace, scale 2: alpha = e^-1/2, variance 2 alpha / (1 - alpha)^2 = 7.84
    # (slightly less once clipped at +-8).
    alpha = math.exp(-1 / 2)
    assert abs(mean) < 0.1
    assert 7.0 < var < 2 * alpha / (1 - alpha) ** 2
    assert 0.15 < draws.count(0) / len(draws) < 0.30  # P(0) = (1 - a) / (1 + a) = 0.245


def test_noise_depends_on_the_secret_the_key_and_the_true_value() -> None:
    def noise(value: int = 500, key: bytes = b"k", secret: bytes = SECRET) -> list[int]:
        return [
            protect_count(value, cell_key=key + bytes([i]), policy=P, secret=secret) - value
            for i in range(64)
        ]

    assert noise(secret=b"another instance") != noise()
    assert noise(key=b"other key") != noise()
    assert noise(value=501) != noise()


def test_measures_are_noised_in_steps_of_a_person_and_never_go_negative() -> None:
    got = protect_count(90_000, cell_key=b"watch", policy=P, secret=SECRET, unit=30_000)
    assert (got - 90_000) % 30_000 == 0
    assert abs(got - 90_000) <= BOUND * 30_000
    assert all(
        protect_count(0, cell_key=bytes([i]), policy=P, secret=SECRET) >= 0 for i in range(200)
    )


def test_protect_count_refuses_what_it_cannot_protect() -> None:
    with pytest.raises(ValueError, match="secret"):
        protect_count(5, cell_key=b"k", policy=P, secret=b"")
    with pytest.raises(ValueError, match="non-negative"):
        protect_count(-1, cell_key=b"k", policy=P, secret=SECRET)


# --- breakdowns ---------------------------------------------------------------------------


def test_small_cells_fold_into_the_total_without_naming_them() -> None:
    # IN, FR, JP have 4 + 3 + 2 = 9 people: each below cell_min, and together an "other"
    # of 9 whose protected count (at most 9 + 8 = 17) never clears cell_min + bound = 18.
    b = countries(("US", 400), ("BR", 250), ("DE", 120), ("IN", 4), ("FR", 3), ("JP", 2))
    assert [r.value for r in b.rows] == ["US", "BR", "DE"]
    for row, truth in zip(b.rows, (400, 250, 120), strict=True):
        assert abs(row.people - truth) <= BOUND
        assert abs(row.measures["plays"] - 3 * truth) <= BOUND * 3
    assert b.other is None
    # Not even how many values were dropped: that number moves with one newcomer.
    assert b.withheld == (
        Withheld("values under cell_min", Reason.CELL_BELOW_CELL_MIN, "total"),
        Withheld("other", Reason.OTHER_BELOW_CELL_MIN),
    )
    assert b.total is not None
    folded = b.total.people - sum(r.people for r in b.rows)
    assert 9 - BOUND <= folded <= 9 + BOUND
    for hidden in ("IN", "FR", "JP"):
        assert f"'{hidden}'" not in repr(b)


def test_small_cells_merge_into_a_shown_other_and_totals_add_up() -> None:
    # Six values of 5 people: each protected at most 13 (< 18), merged; "other" has 30
    # people, protected at least 22, so it is shown.
    small = [(c, 5) for c in ("AR", "CL", "PE", "UY", "PY", "BO")]
    b = countries(("US", 300), ("MX", 200), *small)
    assert [r.value for r in b.rows] == ["US", "MX"]
    assert b.other is not None and abs(b.other.people - 30) <= BOUND
    assert b.withheld == (Withheld("values under cell_min", Reason.CELL_BELOW_CELL_MIN, "other"),)
    assert b.total is not None
    assert b.total.people == sum(r.people for r in b.rows) + b.other.people
    assert (
        b.total.measures["plays"]
        == sum(r.measures["plays"] for r in b.rows) + (b.other.measures["plays"])
    )


def test_at_most_top_n_rows_the_rest_in_other() -> None:
    policy = PrivacyPolicy(top_n=2)
    b = countries(("US", 400), ("BR", 300), ("DE", 200), ("FR", 3), policy=policy)
    assert [r.value for r in b.rows] == ["US", "BR"]
    assert b.other is not None and abs(b.other.people - 203) <= BOUND
    beyond = [w for w in b.withheld if w.reason is Reason.BEYOND_TOP_N]
    assert len(beyond) == 1 and beyond[0].merged_into == "other"
    assert beyond[0].people is not None and abs(beyond[0].people - 200) <= BOUND


def test_instagram_top_45_by_default() -> None:
    cells = [(f"C{i:02d}", 200 + 20 * i) for i in range(50)]
    b = countries(*cells)
    assert len(b.rows) == 45
    assert [r.value for r in b.rows] == [f"C{i:02d}" for i in range(49, 4, -1)]


def test_a_population_below_k_min_is_never_shown() -> None:
    for secret in secrets(300):
        b = countries(("US", 60), ("BR", 39), secret=secret)  # 99 people
        assert b.is_withheld and b.rows == () and b.total is None and b.other is None
        assert b.withheld == (Withheld("country breakdown", Reason.POPULATION_BELOW_K_MIN),)


def test_a_population_near_k_min_is_shown_by_chance_not_by_one_person() -> None:
    # The margin: 100 clears only with the largest noise; 116 and more always clear.
    shown = {
        n: sum(
            not countries(("US", n - 40), ("BR", 40), secret=s).is_withheld for s in secrets(400)
        )
        for n in (100, 108, 116)
    }
    assert shown[100] < 20 and 100 < shown[108] < 300 and shown[116] == 400


def test_minor_only_in_13_17_any_other_under_18_label_is_a_bug() -> None:
    for label in ("12-17", "13-15", "under 13", "0-12", "u18"):
        with pytest.raises(UnsafeBreakdownError, match="13-17"):
            suppress_breakdown(
                [Cell("25-34", 150), Cell(label, 50)],
                population=200,
                policy=P,
                dimension="age",
                secret=SECRET,
            )


def age(*cells: tuple[str, int], secret: bytes = SECRET) -> Breakdown:
    return suppress_breakdown(
        [Cell(v, n) for v, n in cells],
        population=sum(n for _, n in cells),
        policy=P,
        dimension="age",
        secret=secret,
    )


def test_a_population_mostly_of_minors_is_withheld() -> None:
    # 101 of 200 are 13-17: protected minors >= 93, plus the bound 8 > 0.5 * 200.
    for secret in secrets(200):
        b = age(("13-17", 101), ("18-24", 99), secret=secret)
        assert b.is_withheld
        assert b.withheld[0].reason is Reason.MOSTLY_MINORS


def test_minors_are_shown_in_13_17_when_not_a_majority() -> None:
    b = age(("13-17", 40), ("18-24", 90), ("25-34", 70))
    assert [r.value for r in b.rows] == ["18-24", "25-34", "13-17"]


def test_other_dimensions_must_say_how_many_minors() -> None:
    with pytest.raises(ValueError, match="minors"):
        suppress_breakdown(
            [Cell("female", 150)], population=150, policy=P, dimension="gender", secret=SECRET
        )
    b = countries(("US", 150), ("BR", 50), minors=150)
    assert b.withheld[0].reason is Reason.MOSTLY_MINORS


def test_opted_out_people_reach_the_total_only() -> None:
    plain = countries(("US", 300), ("BR", 200))
    with_opt_outs = countries(
        ("US", 300), ("BR", 200), opted_out_people=40, opted_out_measures={"plays": 120}
    )
    assert [r.value for r in with_opt_outs.rows] == [r.value for r in plain.rows]
    assert with_opt_outs.other is None
    assert with_opt_outs.total is not None
    extra = with_opt_outs.total.people - sum(r.people for r in with_opt_outs.rows)
    assert 40 - BOUND <= extra <= 40 + BOUND


def test_same_data_same_answer_changed_data_all_counts_redrawn() -> None:
    cells = (("US", 300), ("BR", 200), ("DE", 100))
    assert countries(*cells, scope=b"q") == countries(*cells, scope=b"q")
    changed = [countries(*cells, scope=bytes([i])) for i in range(20)]
    assert len({tuple(r.people for r in b.rows) for b in changed}) > 10


def test_shown_counts_are_not_the_true_counts() -> None:
    # Fails if protect_count is bypassed: some count must move over 50 instances.
    moved = 0
    for secret in secrets(50):
        b = countries(("US", 300), ("BR", 200), secret=secret)
        moved += [r.people for r in b.rows] != [300, 200]
    assert moved > 40


# --- filters and windows ------------------------------------------------------------------


def check_filters(filters: dict[str, str], *, population: int, policy, secret: bytes):
    """`check_person_filters` on one value per attribute, every value and what each filter
    leaves out large: only the filtered population (and minors) decide."""
    asked = [Filter(d, "is", (v,)) for d, v in sorted(filters.items())]
    facts = PersonFacts(
        population=population,
        minors=0,
        opted_out_people=0,
        opted_out_measures={},
        rows_counted=(population,),
        named=tuple((i, f.dimension, f.values[0], 10_000) for i, f in enumerate(asked)),
        left_out=tuple((i, f.dimension, 10_000) for i, f in enumerate(asked)),
    )
    return check_person_filters(asked, facts, policy=policy, secret=secret, scope=b"filters")


def test_a_filter_narrowing_to_one_person_is_refused() -> None:
    refusal = check_filters(
        {"city": "Austin", "age": "25-34"}, population=1, policy=P, secret=SECRET
    )
    assert refusal is not None
    assert refusal.reason is Reason.FILTERED_POPULATION_BELOW_K_MIN
    assert refusal.fields == ("age", "city")
    assert "k_min = 100" in refusal.message


def test_every_filtered_population_below_k_min_is_refused_above_it_allowed() -> None:
    for secret in secrets(200):
        refused = check_filters({"country": "US"}, population=99, policy=P, secret=secret)
        assert refused is not None
        assert check_filters({"country": "US"}, population=116, policy=P, secret=secret) is None
    assert check_filters({}, population=3, policy=P, secret=SECRET) is None


def test_a_filter_selecting_only_minors_is_refused_whatever_its_size() -> None:
    minors = check_filters({"age": "13-17"}, population=10_000, policy=P, secret=SECRET)
    assert minors is not None and minors.reason is Reason.FILTER_ON_MINORS
    assert minors.fields == ("age",)
    adults = check_filters({"age": "18-24"}, population=10_000, policy=P, secret=SECRET)
    assert adults is None


CHICAGO = "America/Chicago"
CDT = timezone(timedelta(hours=-5))


def test_an_hour_window_crossed_with_attributes_is_refused() -> None:
    hour = Window(
        datetime(2026, 10, 2, 10, tzinfo=UTC), datetime(2026, 10, 2, 11, tzinfo=UTC), CHICAGO
    )
    refusal = check_window(hour, policy=P)
    assert refusal is not None and refusal.reason is Reason.WINDOW_NOT_WHOLE_DAYS
    hourly = Window(
        datetime(2026, 10, 2, tzinfo=CDT), datetime(2026, 10, 9, tzinfo=CDT), CHICAGO, step="hour"
    )
    refusal = check_window(hourly, policy=P)
    assert refusal is not None and refusal.reason is Reason.HOURLY_WITH_PERSON_ATTRIBUTES
    # Totals may use any window.
    assert check_window(hour, policy=P, crosses_attributes=False) is None


def test_windows_are_whole_days_in_the_creators_time_zone() -> None:
    local_days = Window(
        datetime(2026, 10, 2, tzinfo=CDT), datetime(2026, 10, 9, tzinfo=CDT), CHICAGO
    )
    assert check_window(local_days, policy=P) is None
    same_in_utc = Window(
        datetime(2026, 10, 2, 5, tzinfo=UTC), datetime(2026, 10, 9, 5, tzinfo=UTC), CHICAGO
    )
    assert check_window(same_in_utc, policy=P) is None
    utc_midnights = Window(
        datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 9, tzinfo=UTC), CHICAGO
    )
    refusal = check_window(utc_midnights, policy=P)
    assert refusal is not None and refusal.reason is Reason.WINDOW_NOT_WHOLE_DAYS
    # The day clocks go back is 25 hours long and still one day.
    fall_back = Window(
        datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 2, 6, tzinfo=UTC), CHICAGO
    )
    assert check_window(fall_back, policy=P) is None


def test_windows_shorter_than_min_window_days_are_refused() -> None:
    week = PrivacyPolicy(min_window_days=7)
    three = Window(datetime(2026, 10, 2, tzinfo=CDT), datetime(2026, 10, 5, tzinfo=CDT), CHICAGO)
    refusal = check_window(three, policy=week)
    assert refusal is not None and refusal.reason is Reason.WINDOW_TOO_SHORT
    assert refusal.fields == ("start", "end")
    empty = Window(three.start, three.start, CHICAGO)
    assert check_window(empty, policy=P) is not None
    with pytest.raises(ValueError, match="time zone"):
        check_window(Window(datetime(2026, 10, 2), datetime(2026, 10, 3), CHICAGO), policy=P)


# --- the differencing attack ------------------------------------------------------------
#
# A creator's audience in country X: 130 viewers over days 1-7 (the brief's 100 is withheld
# outright by the k_min margin, which would leave this attack nothing to subtract; see the
# last test). On day 8 exactly one new viewer, THE_PERSON, watches. The creator asks the age
# and gender breakdowns of country X for days 1-8 and days 1-7, and subtracts.


@dataclass(frozen=True)
class Viewer:
    pid: str
    day: int
    age: str
    gender: str
    plays: int
    watch_ms: int


AUDIENCE = [
    Viewer(
        f"p{i}",
        day=1 + i % 7,
        age=("18-24", "25-34", "35-44")[i % 3],
        gender=("female", "male")[i % 2],
        plays=1 + i % 4,
        watch_ms=9_000 * (1 + i % 3),
    )
    for i in range(130)
]
THE_PERSON = Viewer("t", day=8, age="25-34", gender="male", plays=2, watch_ms=18_000)
VIEWERS = [*AUDIENCE, THE_PERSON]
MEASURES = ("people", "plays", "watch_ms")
VALUES = {"age": ("18-24", "25-34", "35-44"), "gender": ("female", "male")}


def in_window(first: int, last: int, viewers: list[Viewer] = VIEWERS) -> list[Viewer]:
    return [v for v in viewers if first <= v.day <= last]


def breakdown(viewers: list[Viewer], dimension: str, secret: bytes = SECRET) -> Breakdown:
    """What the query layer would do: true cells, a data-derived scope, then suppression."""
    people: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for v in viewers:
        cell = people[getattr(v, dimension)]
        cell[0] += 1
        cell[1] += v.plays
        cell[2] += v.watch_ms
    cells = [Cell(k, n, {"plays": p, "watch_ms": w}) for k, (n, p, w) in people.items()]
    # The scope fingerprints the question and the window's whole data, not the window's
    # dates: a rephrased window over the same events gets the same answer.
    events = sorted((v.pid, v.day, v.plays, v.watch_ms) for v in viewers)
    scope = digest("creator c1", "country = X", events)
    return suppress_breakdown(
        cells,
        population=len(viewers),
        policy=P,
        dimension=dimension,
        secret=secret,
        scope=scope,
        minors=0 if dimension != "age" else None,
    )


def as_vector(b: Breakdown, dimension: str) -> dict[tuple[str, str], int]:
    shown = {r.value: {"people": r.people, **r.measures} for r in b.rows}
    return {(v, m): shown.get(v, {}).get(m, 0) for v in VALUES[dimension] for m in MEASURES}


def the_persons_vector(dimension: str) -> dict[tuple[str, str], int]:
    own = {"people": 1, "plays": THE_PERSON.plays, "watch_ms": THE_PERSON.watch_ms}
    mine = getattr(THE_PERSON, dimension)
    return {(v, m): own[m] if v == mine else 0 for v in VALUES[dimension] for m in MEASURES}


def subtract(dimension: str, secret: bytes) -> dict[tuple[str, str], int]:
    """The attack: breakdown of days 1-8 minus breakdown of days 1-7."""
    long = as_vector(breakdown(in_window(1, 8), dimension, secret), dimension)
    short = as_vector(breakdown(in_window(1, 7), dimension, secret), dimension)
    return {k: long[k] - short[k] for k in long}


def best_guess(diff: dict[tuple[str, str], int], dimension: str) -> str:
    """The attacker's best single guess: the value whose figures grew most, in persons."""
    unit = {"people": 1, "plays": 2.5, "watch_ms": 18_000}  # the audience's mean per person
    score = {v: sum(diff[v, m] / unit[m] for m in MEASURES) for v in VALUES[dimension]}
    return max(score, key=lambda v: score[v])


@pytest.fixture
def no_protection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The layer bypassed: counts pass through unchanged (thresholds still apply)."""
    monkeypatch.setattr(suppression, "protect_count", lambda value, **_: value)


def test_day_8_alone_is_withheld_although_its_window_is_allowed() -> None:
    day_8 = Window(datetime(2026, 10, 8, tzinfo=CDT), datetime(2026, 10, 9, tzinfo=CDT), CHICAGO)
    assert check_window(day_8, policy=P) is None  # a whole day: not what stops it
    for dimension in ("age", "gender"):
        b = breakdown(in_window(8, 8), dimension)
        assert b.is_withheld and b.withheld[0].reason is Reason.POPULATION_BELOW_K_MIN
    assert check_filters({"country": "X"}, population=1, policy=P, secret=SECRET) is not None


@pytest.mark.parametrize("dimension", ["age", "gender"])
def test_control_raw_counts_subtract_to_the_person(no_protection: None, dimension: str) -> None:
    # The attack works when the noise is bypassed, so the tests below have teeth.
    assert subtract(dimension, SECRET) == the_persons_vector(dimension)
    assert best_guess(subtract(dimension, SECRET), dimension) == getattr(THE_PERSON, dimension)


@pytest.mark.parametrize("dimension", ["age", "gender"])
def test_subtracting_protected_windows_does_not_give_the_person(dimension: str) -> None:
    assert subtract(dimension, SECRET) != the_persons_vector(dimension)
    # Over 300 instances (secrets): the difference never equals the person's true vector,
    # and the best guess of their attribute is far from certain: the rate is near chance
    # (1/3 for three age buckets, 1/2 for gender), where raw counts give 100%.
    runs = [subtract(dimension, s) for s in secrets(300)]
    assert sum(diff == the_persons_vector(dimension) for diff in runs) == 0
    right = sum(best_guess(diff, dimension) == getattr(THE_PERSON, dimension) for diff in runs)
    chance = 1 / len(VALUES[dimension])
    assert right / len(runs) < chance + 0.25


def test_every_row_is_redrawn_so_the_changed_row_does_not_point_at_the_person() -> None:
    # With noise keyed only to each row's own data, the rows the person is not in would stay
    # identical between the windows and the one that changed would name their age.
    only_theirs = 0
    for secret in secrets(300):
        long = as_vector(breakdown(in_window(1, 8), "age", secret), "age")
        short = as_vector(breakdown(in_window(1, 7), "age", secret), "age")
        changed = {v for (v, m) in long if long[v, m] != short[v, m]}
        only_theirs += changed == {THE_PERSON.age}
    assert only_theirs < 10


def test_asking_1000_times_or_rephrasing_the_window_gives_one_answer() -> None:
    answers = {repr(breakdown(in_window(1, 8), "age")) for _ in range(1000)}
    assert len(answers) == 1
    # Days 0-8 hold the same events as days 1-8 (nobody watched on day 0): same answer,
    # so the attacker cannot draw fresh noise by rephrasing and average it away.
    assert repr(breakdown(in_window(0, 8), "age")) in answers


def test_with_the_briefs_100_viewers_both_windows_are_almost_always_withheld() -> None:
    hundred = AUDIENCE[:100]
    seen = 0
    for secret in secrets(300):
        short = breakdown(hundred, "age", secret)
        long = breakdown([*hundred, THE_PERSON], "age", secret)
        seen += not short.is_withheld and not long.is_withheld
    assert seen <= 3  # each clears k_min + 8 only on the largest noise draw
