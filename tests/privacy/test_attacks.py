"""Re-identification attacks, each performed on a hand-made platform, through the release stage.

Every attack is first shown to work on the runner's true counts (`run_raw`: what an
interface would give away without the release stage), then shown to fail through
`Studio.answer`: refused, withheld, or the same answer whatever the wording.

The platform (creator in UTC, one 10 s video, every play 5 s unless said):
- 120 viewers in the US (25-34, female), 110 in Brazil (35-44, male), one play each;
- ICE, the one viewer in Iceland (25-34, female), 3 plays of 7 s;
- KID, one minor (14, US, female), 2 plays of 6 s;
- 3 opted-out viewers in the US, 4 plays of 9 s each;
- on a second video: LIKER, a public account, likes it and shares it, and nobody else acts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from creatorlens.load import ingest_into
from creatorlens.query import Filter, Period, Query
from creatorlens.query.raw import VideoPositions
from creatorlens.query.runner import run_raw
from creatorlens.studio import open_studio
from tests.conftest import write_platform
from tests.query.conftest import account, act, raw_context, view, with_secret

C = "creator-attacked"
V = "v-attacked"
V2 = "v-liked-once"
ICE = "ice-the-only-icelander"
KID = "kid-the-only-minor"
LIKER = "liker-public"
DAY = date(2026, 10, 5)
PERIOD = Period(date(2026, 10, 1), date(2026, 10, 7), "week")
AUDIENCE = ("plays", "total_watch_ms", "reach")


def _platform():
    accounts = [account(C, kind="creator", timezone="UTC")]
    events = []

    def plays(name: str, n: int, watched: int) -> None:
        for k in range(n):
            ts = f"2026-10-05T{10 + len(events) % 10:02d}:{len(events) % 60:02d}:{k:02d}Z"
            events.append(view(f"e{len(events)}", name, V, ts, watched, "for_you"))

    for i in range(120):
        accounts.append(account(f"us-{i}", country="US", city="Austin", birth_year=1996))
        plays(f"us-{i}", 1, 5_000)
    for i in range(110):
        accounts.append(
            account(f"br-{i}", country="BR", birth_year=1988, gender="male", language="pt")
        )
        plays(f"br-{i}", 1, 5_000)
    accounts.append(account(ICE, country="IS", city="Reykjavik", birth_year=1996))
    plays(ICE, 3, 7_000)
    accounts.append(account(KID, country="US", city="Austin", birth_year=2012))
    plays(KID, 2, 6_000)
    for i in range(3):
        accounts.append(account(f"out-{i}", country="US", birth_year=1996, analytics_opt_out=True))
        plays(f"out-{i}", 4, 9_000)
    accounts.append(account(LIKER))
    events += [
        view("lv", LIKER, V2, "2026-10-05T12:00:00Z", 8_000, "for_you"),
        act("ll", "like", LIKER, "2026-10-05T12:00:05Z", video_id=V2),
        act("ls", "share", LIKER, "2026-10-05T12:01:00Z", video_id=V2, channel="whatsapp"),
    ]
    videos = [
        {"video_id": v, "creator_id": C, "posted_at": "2026-09-30T00:00:00Z",
         "duration_ms": 10_000}
        for v in (V, V2)
    ]  # fmt: skip
    return accounts, videos, events


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("attacked")
    (root / "store").mkdir()
    path = root / "store" / "store.duckdb"
    summary = ingest_into(path, write_platform(root, *_platform()))
    assert summary.quarantined == 0, summary.reasons
    return path


@pytest.fixture(scope="module")
def studio(db: Path):
    # A fixed noise secret: the store's own is drawn at random when it is created, and a
    # count a few people over a floor clears it (by the noise bound) under most draws, not
    # all, so a random secret would make these outcomes a matter of luck.
    with open_studio(db, C) as opened:
        yield with_secret(opened, b"attacks: a fixed noise secret")


def q(filters=(), dimensions=(), metrics=AUDIENCE) -> Query:
    return Query(C, tuple(metrics), PERIOD, tuple(dimensions), tuple(filters))


def truth(studio, query: Query) -> dict:
    """What the runner computed, before the release stage (the metrics asked)."""
    totals = run_raw(raw_context(studio), query).current.totals
    return {m: totals[m] for m in query.metrics}


def refused(result) -> bool:
    return all(v is None for v in result.totals.values()) and bool(result.withheld)


# --- differencing filter lists --------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimension", "with_one", "without"),
    [
        ("country", ("US", "IS"), ("US",)),
        # Duplicates and order do not make a new question.
        ("country", ("IS", "US", "US"), ("US", "US")),
    ],
)
def test_differencing_filter_lists(studio, dimension, with_one, without) -> None:
    both = q([Filter(dimension, "is", with_one)])
    one = q([Filter(dimension, "is", without)])
    # Control: on true counts the difference is Iceland's one viewer, exactly.
    gap = {m: truth(studio, both)[m] - truth(studio, one)[m] for m in AUDIENCE}
    assert gap == {"plays": 3, "total_watch_ms": 21_000, "reach": 1}
    # Released: the list naming Iceland is refused, so no difference can be formed.
    answer = studio.answer(both)
    assert refused(answer)
    assert answer.withheld[0].reason == "filter value below k_min"
    assert not refused(studio.answer(one))


def test_differencing_by_is_not_and_a_second_filter(studio) -> None:
    # `is_not [IS]` minus the unfiltered total would be Iceland plus the opted-out viewers:
    # allowed only because what it leaves out is tested as a population of its own.
    not_ice = q([Filter("country", "is_not", ("IS",))])
    assert refused(studio.answer(not_ice))
    assert studio.answer(not_ice).withheld[0].reason == "filter value below k_min"
    # A second filter narrowing the first to Iceland: refused the same way.
    narrowed = q([Filter("country", "is", ("US", "IS")), Filter("city", "is_not", ("Austin",))])
    assert truth(studio, narrowed)["reach"] == 1
    assert refused(studio.answer(narrowed))


# --- averaging the consistent noise ---------------------------------------------------------


def test_junk_filters_draw_no_fresh_noise(studio) -> None:
    base = studio.answer(q(dimensions=("country",)))
    assert base.rows  # US and BR clear cell_min: a breakdown is shown
    # Control: the junk filters change nothing that is counted.
    junk = [Filter("city", "is_not", (f"junk_{i}",)) for i in range(20)]
    for f in junk:
        assert truth(studio, q([f])) == {
            m: truth(studio, q())[m] - {"plays": 12, "total_watch_ms": 108_000, "reach": 3}[m]
            for m in AUDIENCE
        }
    # A junk value names nobody, so a question carrying it is refused, never re-drawn.
    for f in junk:
        assert refused(studio.answer(q([f], ("country",))))
    # Rewordings that count the same rows get the very same answer.
    same_rows = [
        q([Filter("video", "is_not", (f"no-such-video-{i}",))], ("country",)) for i in range(5)
    ] + [q([Filter("video", "is", (V2, V, V2, "no-such-video"))], ("country",))]
    for query in same_rows:
        answer = studio.answer(query)
        assert (answer.rows, answer.totals) == (base.rows, base.totals)


def test_asking_other_metrics_alongside_draws_no_fresh_noise(studio) -> None:
    full = studio.answer(q(dimensions=("country",), metrics=("plays", "views", "reach")))
    for metrics in (("plays",), ("plays", "reach"), ("views", "plays")):
        answer = studio.answer(q(dimensions=("country",), metrics=metrics))
        assert [r["plays"] for r in answer.rows] == [r["plays"] for r in full.rows]


# --- minors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        [Filter("age", "is", ("13-17", "13-17"))],
        [Filter("age", "is", ("13-17", "25-34")), Filter("age", "is", ("13-17",))],
        [Filter("age", "is_not", ("18-24", "25-34", "35-44", "45-54", "55+"))],
    ],
)
def test_no_wording_selects_only_minors(studio, filters) -> None:
    answer = studio.answer(q(filters))
    assert refused(answer)
    assert answer.withheld[0].reason == "filter selects only minors"


def test_a_list_with_the_minors_cannot_be_differenced(studio) -> None:
    with_kid = q([Filter("age", "is", ("25-34", "13-17"))])
    adults = q([Filter("age", "is", ("25-34",))])
    gap = {m: truth(studio, with_kid)[m] - truth(studio, adults)[m] for m in AUDIENCE}
    assert gap == {"plays": 2, "total_watch_ms": 12_000, "reach": 1}  # the minor, exactly
    assert refused(studio.answer(with_kid))


# --- opt-out --------------------------------------------------------------------------------


def test_opted_out_viewers_cannot_be_differenced_out(studio) -> None:
    everyone = truth(studio, q())
    not_zz = q([Filter("country", "is_not", ("ZZ",))])
    gap = {m: everyone[m] - truth(studio, not_zz)[m] for m in AUDIENCE}
    assert gap == {"plays": 12, "total_watch_ms": 108_000, "reach": 3}  # the opted-out three
    assert studio.answer(q()).totals == everyone  # totals include them, exactly
    assert refused(studio.answer(not_zz))
    # Listing every real country is refused too: it would leave out only the opted-out.
    all_real = q([Filter("country", "is", ("US", "BR"))])
    assert refused(studio.answer(all_real))


def test_filtered_totals_that_pass_are_protected_and_consistent(studio) -> None:
    us = q([Filter("country", "is", ("US",))])
    first = studio.answer(us)
    assert not refused(first)
    real = truth(studio, us)
    assert first.totals["reach"] == pytest.approx(real["reach"], abs=8)
    for _ in range(5):
        assert studio.answer(us).totals == first.totals


# --- a named liker and anonymous acts -------------------------------------------------------


def test_engaged_audience_does_not_tie_the_named_liker_to_a_share(studio) -> None:
    on_v2 = [Filter("video", "is", (V2,))]
    figures = q(on_v2, metrics=("likes", "shares", "engaged_audience"))
    # Control: true counts say the one named liker is the one who shared.
    assert truth(studio, figures) == {"likes": 1, "shares": 1, "engaged_audience": 1}
    answer = studio.answer(figures)
    assert answer.totals["engaged_audience"] is None
    assert [w.reason for w in answer.withheld] == ["engaged audience under cell_min"]
    by_video = studio.answer(q(dimensions=("video",), metrics=("likes", "engaged_audience")))
    assert all(r["engaged_audience"] is None for r in by_video.rows)


def test_likes_by_second_do_not_say_the_named_liker_played(studio) -> None:
    positions = VideoPositions(C, V2, PERIOD)
    from creatorlens.query.panels import read_panel

    raw = read_panel(raw_context(studio), positions)
    assert dict(raw.likes) == {5: 1}  # control: placed in the liker's own play, 5 s in
    released = studio.panel(positions)
    assert released.likes_by_second == [] and released.outside_play is None
    assert [w.reason for w in released.withheld] == ["likers under cell_min"]


# --- timing ---------------------------------------------------------------------------------


def test_the_likers_list_runs_one_statement_whatever_the_likers_settings(
    studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    from creatorlens.query import likers

    ran: list[str] = []
    real = likers.read_likers

    class Recorder:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, params=None):
            ran.append(sql)
            return self.con.execute(sql, params)

    con = raw_context(studio).con
    real(Recorder(con), V2, C)
    real(Recorder(con), V, C)
    # The same statements for a video with a public liker and one with none: no path
    # that only an unnamed liker's past approval would take.
    assert len(ran) == 2 and ran[0] == ran[1]
