"""The query model: bad queries are refused naming the field; the CLI answers in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from creatorlens.privacy.policy import AnalyticsAccountError
from creatorlens.query import (
    Filter,
    Period,
    Query,
    QueryError,
    parse_query,
)
from creatorlens.query.runner import run_raw
from tests.conftest import run_cli
from tests.query.conftest import (
    CREATOR,
    PERIOD,
    PERSONAL,
    creator_context,
    raw_context,
    run_query,
)

LATEST = date(2026, 10, 17)


def parse(**raw):
    return parse_query({"creator_id": CREATOR, "metrics": ["plays"], **raw}, latest=LATEST)


def refused(**raw) -> QueryError:
    with pytest.raises(QueryError) as caught:
        parse(**raw)
    return caught.value


def test_a_named_period_ends_on_the_latest_day() -> None:
    query = parse(period="7d", metrics=["plays", "reach"], dimensions=["day"])
    assert query.period.start == date(2026, 10, 11)
    assert query.period.end == LATEST
    assert query.period.days == 7
    previous = query.period.previous()
    assert (previous.start, previous.end) == (date(2026, 10, 4), date(2026, 10, 10))
    assert parse().period.days == 28  # the default


def test_a_custom_period_and_filters() -> None:
    query = parse(
        **{"from": "2026-10-10", "to": "2026-10-16"},
        filters=[["is", "video", ["v-sp-1"]], ["is_not", "source", "for_you"]],
        order_by=[["plays", "desc"]],
        limit=5,
    )
    assert (query.period.start, query.period.end) == (PERIOD.start, PERIOD.end)
    assert query.filters == (
        Filter("video", "is", ("v-sp-1",)),
        Filter("source", "is_not", ("for_you",)),
    )


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"metrics": ["plays", "viewz"]}, "metrics", "viewz"),
        ({"metrics": []}, "metrics", "at least one"),
        ({"metrics": "plays"}, "metrics", "list"),
        ({"metrics": ["plays", "plays"]}, "metrics", "repeat"),
        ({"dimensions": ["weekday"]}, "dimensions", "weekday"),
        ({"period": "3d"}, "period", "7d"),
        ({"from": "2026-10-17", "to": "2026-10-10"}, "to", "before from"),
        ({"from": "2026-10-10"}, "period", "both from and to"),
        ({"from": "10/10/2026", "to": "2026-10-16"}, "from", "YYYY-MM-DD"),
        ({"from": "2026-02-30", "to": "2026-03-16"}, "from", "not a valid date"),
        ({"from": "2020-01-01", "to": "2026-10-16"}, "period", "three years"),
        ({"filters": [["contains", "country", ["BR"]]]}, "filters[0]", "operator"),
        ({"filters": [["is", "planet", ["Mars"]]]}, "filters[0]", "planet"),
        ({"filters": [["is", "country", []]]}, "filters[0]", "non-empty"),
        ({"filters": [["is", "country"]]}, "filters[0]", "[operator, dimension, [values]]"),
        # Values of the wrong JSON type where a name belongs (found by schemathesis).
        ({"filters": [["is", {}, ""]]}, "filters[0]", "unknown dimension"),
        ({"filters": [[{}, "country", ["BR"]]]}, "filters[0]", "operator"),
        ({"filters": {"is": "country"}}, "filters", "must be a list"),
        ({"order_by": {"views": "desc"}}, "order_by", "must be a list"),
        ({"compare": "yes"}, "compare", "true or false"),
        ({"limit": 0}, "limit", "positive"),
        ({"order_by": [["views", "desc"]]}, "order_by[0]", "views"),
        ({"color": "blue"}, "color", "unknown field"),
        # A metric cut by a dimension it does not have: profile views have no viewer attributes.
        ({"metrics": ["profile_views"], "dimensions": ["country"]}, "dimensions", "country"),
        ({"metrics": ["likes"], "dimensions": ["source"]}, "dimensions", "source"),
        ({"metrics": ["followers_total"], "dimensions": ["day"]}, "dimensions", "day"),
        (
            {"metrics": ["profile_views"], "filters": [["is", "video", ["v-sp-1"]]]},
            "filters",
            "video",
        ),
        # Each metric alone is fine by source or by channel, but no rollup has both.
        ({"metrics": ["shares"], "dimensions": ["channel", "hour"]}, "dimensions", "hour"),
    ],
)
def test_errors_name_the_field(raw: dict, field: str, words: str) -> None:
    error = refused(**raw)
    assert error.field == field
    assert words in error.message
    assert str(error).startswith(f"{field}: ")


def test_creator_id_is_required() -> None:
    with pytest.raises(QueryError) as caught:
        parse_query({"metrics": ["plays"]}, latest=LATEST)
    assert caught.value.field == "creator_id"
    with pytest.raises(QueryError) as caught:
        parse_query(["plays"], latest=LATEST)  # type: ignore[arg-type]
    assert caught.value.field == "query"


def test_run_time_errors_name_the_field(hand_db: Path) -> None:
    with creator_context(hand_db, CREATOR) as (ctx, _):
        # A person breakdown takes that one dimension only...
        two = Query(CREATOR, ("reach",), PERIOD, ("country", "day"))
        with pytest.raises(QueryError) as caught:
            run_query(ctx, two)
        assert caught.value.field == "dimensions"
        # ... and only the audience measures: watch time yes, a ratio no.
        ratio = Query(CREATOR, ("plays", "avg_watch_ms"), PERIOD, ("age",))
        with pytest.raises(QueryError) as caught:
            run_query(ctx, ratio)
        assert caught.value.field == "metrics" and "avg_watch_ms" in caught.value.message
        bad_day = Query(CREATOR, ("plays",), PERIOD, (), (Filter("day", "is", ("Oct 10",)),))
        with pytest.raises(QueryError) as caught:
            run_query(ctx, bad_day)
        assert caught.value.field == "filters"


def test_creator_context_refuses_unknown_and_personal_accounts(hand_db: Path) -> None:
    with pytest.raises(QueryError) as caught, creator_context(hand_db, "nobody"):
        pass
    assert caught.value.field == "creator_id"
    with pytest.raises(AnalyticsAccountError, match="creator or business account"):
        with creator_context(hand_db, PERSONAL):
            pass


# --- the CLI --------------------------------------------------------------------------------


def one_line_error(proc) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert proc.stdout == ""
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--creator", CREATOR, "--period", "3d"), ("period", "7d, 28d, 60d, 365d")),
        (("--creator", CREATOR, "--from", "2026-10-16", "--to", "2026-10-10"), ("before",)),
        (("--creator", CREATOR, "--from", "yesterday", "--to", "2026-10-10"), ("YYYY-MM-DD",)),
        (("--creator", CREATOR, "--period", "7d", "--from", "2026-10-10"), ("not both",)),
        (("--creator", "no-such-creator"), ("no account", "no-such-creator")),
        (("--creator", PERSONAL), ("personal account", "Switch it to a creator or business")),
    ],
)
def test_report_bad_input_exits_2_with_one_line(
    hand_db: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    line = one_line_error(run_cli("report", "--db", str(hand_db), *args))
    for word in words:
        assert word in line


def test_report_on_a_missing_store(tmp_path: Path) -> None:
    line = one_line_error(
        run_cli("report", "--db", str(tmp_path / "none.duckdb"), "--creator", CREATOR)
    )
    assert "no such store" in line
    assert not (tmp_path / "none.duckdb").exists()


def test_is_not_keeps_viewers_whose_attribute_is_unknown(generated_db: Path) -> None:
    # Logged-out devices have no country. "Country is not ZZ" is everyone (opt-outs aside,
    # as in every person filter), the devices included: plain SQL over the stored events.
    creator = "c15"
    [(people, plays)] = _sql(
        generated_db,
        "SELECT count(DISTINCT viewer_pid), count(*) FROM events "
        "WHERE creator_id = $c AND type = 'view' AND NOT actor_opt_out",
        {"c": creator},
    )
    [(devices,)] = _sql(
        generated_db,
        "SELECT count(DISTINCT viewer_pid) FROM events_with_attributes "
        "WHERE creator_id = $c AND type = 'view' AND actor_country IS NULL",
        {"c": creator},
    )
    assert devices > 0
    everything = Period(date(2026, 9, 1), date(2026, 11, 1), "all")
    not_zz = (Filter("country", "is_not", ("ZZ",)),)
    with creator_context(generated_db, creator) as (ctx, _):
        asked = Query(creator, ("reach", "plays"), everything, (), not_zz)
        raw = run_raw(raw_context(ctx), asked)
        released = run_query(ctx, asked)
    # The definition keeps the unknown-country viewers...
    assert raw.current.totals == {"reach": people, "plays": plays}
    # ... and the release refuses the question: ZZ names nobody, so the difference with
    # the unfiltered total would be the opted-out viewers.
    assert released.totals == {"reach": None, "plays": None}
    assert released.withheld[0].reason == "filter value below k_min"


def _sql(db: Path, statement: str, params: dict) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(statement, params).fetchall()
    finally:
        con.close()
