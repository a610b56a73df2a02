"""Best times on a hand-made platform: 40 followers who only ever play at 20:00 local."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from creatorlens.insights import best_times
from creatorlens.load import ingest_into
from creatorlens.privacy.policy import PrivacyPolicy
from creatorlens.query import Period
from creatorlens.studio import open_studio
from tests.conftest import write_platform
from tests.query.conftest import account, act, view

CREATOR = "creator-lisbon"
VIDEO = "v-lisbon"
PERIOD = Period(date(2026, 10, 1), date(2026, 10, 14), "2026-10-01..2026-10-14")
POLICY = PrivacyPolicy(k_min=20, cell_min=10)


def platform() -> tuple[list[dict], list[dict], list[dict]]:
    fans = [f"fan-{i:02d}" for i in range(40)]
    accounts = [account(CREATOR, kind="creator", timezone="Europe/Lisbon")]
    accounts += [account(f, timezone="Europe/Lisbon") for f in fans]
    accounts.append(account("lone-viewer", timezone="Europe/Lisbon"))
    videos = [{"video_id": VIDEO, "creator_id": CREATOR, "posted_at": "2026-09-20T12:00:00Z",
               "duration_ms": 10_000, "caption": "c", "hashtags": []}]  # fmt: skip
    events = [act(f"f{i}", "follow", f, "2026-09-25T12:00:00Z", target_id=CREATOR)
              for i, f in enumerate(fans)]  # fmt: skip
    events.append(act("fl", "follow", "lone-viewer", "2026-09-25T12:00:00Z", target_id=CREATOR))
    # Lisbon is UTC+1 in October (summer time): 19:xx UTC is 20:xx local, on Monday Oct 5.
    events += [view(f"p{i}", f, VIDEO, f"2026-10-05T19:{i % 60:02d}:00Z", 10_000, "following")
               for i, f in enumerate(fans)]  # fmt: skip
    # One follower alone at 09:00 local on Tuesday: a cell of one person, never a slot.
    events.append(view("plone", "lone-viewer", VIDEO, "2026-10-06T08:00:00Z", 10_000, "for_you"))
    return accounts, videos, events


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("best-times")
    path = root / "store.duckdb"
    ingest_into(path, write_platform(root, *platform()))
    return path


def test_followers_only_active_at_20_local_give_20(db: Path) -> None:
    with open_studio(db, CREATOR, policy=POLICY) as studio:
        found = best_times(studio, PERIOD)
    assert [(s.weekday, s.hour) for s in found.slots] == [(1, 20)]
    assert found.slots[0].label == "Mon 20:00"
    assert found.note is None
    assert found.to_json()["slots"][0]["hour"] == 20


def test_a_cell_of_one_follower_is_withheld_not_a_slot(db: Path) -> None:
    with open_studio(db, CREATOR, policy=POLICY) as studio:
        found = best_times(studio, PERIOD)
    assert (2, 9) not in [(s.weekday, s.hour) for s in found.slots]
    assert found.withheld  # the small cell is named as withheld, not shown


def test_too_few_followers_say_not_enough_history(db: Path) -> None:
    strict = PrivacyPolicy(k_min=100, cell_min=10)
    with open_studio(db, CREATOR, policy=strict) as studio:
        found = best_times(studio, PERIOD)
    assert found.slots == []
    assert found.note == "not enough history yet"


def test_bypassing_the_release_would_show_the_lone_cell(db: Path) -> None:
    """The raw read holds the one-person cell: only the release keeps it out of the slots."""
    from creatorlens.query.panels import read_panel
    from creatorlens.query.raw import FollowerActivity

    with open_studio(db, CREATOR, policy=POLICY) as studio:
        raw = read_panel(studio._ctx, FollowerActivity(CREATOR, PERIOD))
    assert (2, 9, 1, 1) in raw.cells


def test_the_cli_prints_the_insights_as_json(db: Path, tmp_path: Path) -> None:
    import json

    from tests.conftest import run_cli

    policy = tmp_path / "policy.toml"
    policy.write_text("k_min = 20\ncell_min = 10\n")
    out = run_cli("insights", "--db", str(db), "--creator", CREATOR, "--json",
                  "--policy", str(policy), check=True)  # fmt: skip
    slots = json.loads(out.stdout)["best_times"]["slots"]
    assert [(s["weekday"], s["hour"]) for s in slots] == [(1, 20)]
    text = run_cli("insights", "--db", str(db), "--creator", CREATOR, check=True).stdout
    assert "not enough history yet" in text  # the default k_min = 100 is not met


def test_the_fund_reads_released_followers_and_views(db: Path) -> None:
    from creatorlens.insights.fund import creator_fund

    with open_studio(db, CREATOR, policy=POLICY) as studio:
        fund = creator_fund(studio)
    assert fund.followers == 41  # 40 fans and the lone viewer, all following
    assert fund.eligible is False
    assert "9,959 followers short" in fund.missing
