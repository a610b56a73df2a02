"""The insights' virality alerts in the notifications: the planted viral video of the
insights' hand-made platform notifies once, the steady young one never, asked as often as
one likes, in the store and over HTTP."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from creatorlens.notify import notification_page, notifications_of, record_alerts, unread_count
from creatorlens.store import Store
from creatorlens.studio import open_studio
from tests.insights.conftest import POLICY, VIRAL, WORKS, insights_db  # noqa: F401
from tests.serve.conftest import create_token, server_factory  # noqa: F401

# By hand (tests/insights/conftest.py): the latest hour with data is 2026-10-20 11:00 UTC,
# v-viral (posted 02:00) is 9 hours old, so its window is the second of its age (6-11 h);
# its latest 6 hours hold 6 x 60 views and 6 x 6 shares, the six older videos did 5 views
# an hour at those ages (30) and one share (at their hour 5).
AT = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)  # the end of the latest hour
GROUP = "virality:v-viral:1"
MESSAGE = "Your video v-viral is taking off: 360 views in the last 6 hours, 12× its usual"


@pytest.fixture
def db(insights_db: Path, tmp_path: Path) -> Path:  # noqa: F811
    """A copy of the insights' store (and its key file) to write notifications into."""
    store = tmp_path / "store"
    shutil.copytree(insights_db.parent, store)
    return store / insights_db.name


def record(db: Path, creator: str = VIRAL) -> int:
    with Store.open(db) as store, open_studio(store, creator, policy=POLICY) as studio:
        return record_alerts(store.con, studio)


def feed(db: Path, creator: str = VIRAL):
    with Store.open(db, read_only=True) as store:
        return notification_page(store.con, creator)


def test_the_viral_video_notifies_once_and_the_steady_one_never(db: Path) -> None:
    assert record(db) == 1
    page = feed(db)
    (alert,) = page.notifications  # v-steady, as young, brings none
    assert alert.kind == "virality" and alert.video_id == "v-viral"
    assert alert.id == f"{int(AT.timestamp() * 1000)}.{GROUP}" and alert.at == AT
    assert alert.message == MESSAGE
    assert alert.figures == {
        "window_hours": 6,
        "views": 360,
        "shares": 36,
        "usual_views": 30.0,
        "usual_shares": 1.0,
        "times_usual": 12.0,
    }
    assert (alert.names, alert.others, alert.count, alert.unread) == ([], 0, 0, True)
    assert page.unread == 1

    # Asked again (and again): the same single notification, nothing new to count.
    assert record(db) == 0
    assert record(db) == 0
    assert feed(db).to_json() == page.to_json()


def test_read_marks_and_other_creators(db: Path) -> None:
    record(db)
    record(db, WORKS)  # a creator whose videos are all old: no alert
    with Store.open(db) as store:
        assert unread_count(store.con, VIRAL) == 1
        assert unread_count(store.con, WORKS) == 0
        from creatorlens.notify import mark_read

        assert mark_read(store.con, VIRAL) == 0  # "all read" reaches the alert
    assert feed(db).notifications[0].unread is False
    assert feed(db, WORKS).notifications == []  # (their events were never folded in here)


def test_the_cli_path_records_the_alert(db: Path) -> None:
    first = notifications_of(db, VIRAL)
    again = notifications_of(db, VIRAL)
    assert [n.message for n in first.notifications] == [MESSAGE]
    assert again.to_json() == first.to_json()


def test_over_http_the_alert_is_in_the_feed_and_the_unread_count(db: Path, server_factory) -> None:  # noqa: F811
    viral = create_token(db, "--creator", VIRAL)
    works = create_token(db, "--creator", WORKS)
    server = server_factory(db)
    with server.client(viral) as client:
        assert client.get(f"/v1/creators/{VIRAL}/notifications/unread").json()["unread"] == 1
        for _ in range(2):
            page = client.get(f"/v1/creators/{VIRAL}/notifications").json()
            assert [(n["kind"], n["message"]) for n in page["notifications"]] == [
                ("virality", MESSAGE)
            ]
            assert page["notifications"][0]["figures"]["views"] == 360
            assert page["unread"] == 1
    with server.client(works) as client:
        assert client.get(f"/v1/creators/{VIRAL}/notifications").status_code == 404
        theirs = client.get(f"/v1/creators/{WORKS}/notifications", params={"limit": 100}).json()
        assert theirs["notifications"]  # their likes and comments, none of them an alert
        assert all(n["kind"] != "virality" for n in theirs["notifications"])
