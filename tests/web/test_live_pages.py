"""The LIVE page and the notifications bell in Chromium, on a hand-made platform served by
`creatorlens serve`: what they show is the API's answer for the same creator, they update
by themselves from events posted to the collector, and nobody private is ever named."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from creatorlens.load import ingest_into
from tests.conftest import write_platform
from tests.live.conftest import account
from tests.serve.conftest import Server, create_token, module_server  # noqa: F401
from tests.web.conftest import Dashboard, api

HOST, SECOND = "host", "second"
PRIVATE, OPTED_OUT = "bia-private", "duda-optout"  # never to be read on a page
CROWD = [f"p{i:02d}" for i in range(1, 13)]
DEADLINE_S = 30  # generous: the goal is 2 s, the latency is printed


def ts(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


ACCOUNTS = [
    account(HOST, kind="creator"),
    account(SECOND, kind="creator"),
    account("ana"),
    account("ben"),
    account("eva"),
    account(PRIVATE, is_private=True),  # never approved the host: counted, never named
    account(OPTED_OUT, analytics_opt_out=True),
    *[account(p) for p in CROWD],
]
VIDEOS = [
    {"video_id": "hv1", "creator_id": HOST, "posted_at": ts(1, 8), "duration_ms": 10_000},
    {"video_id": "sv1", "creator_id": SECOND, "posted_at": ts(1, 8), "duration_ms": 10_000},
]


def event(event_id: str, type_: str, at: str, actor: str, **fields) -> dict:
    return {"event_id": event_id, "type": type_, "ts": at, "actor_id": actor, **fields}


# By hand: one like group on hv1 (the twelve, then ben, ana and the private liker, newest
# last): 15 people, the two newest nameable named; eva's follow; a LIVE that ended.
EVENTS = [
    *[event(f"lk{i}", "like", ts(1, 10, i), p, video_id="hv1") for i, p in enumerate(CROWD)],
    event("lk-ben", "like", ts(1, 10, 12), "ben", video_id="hv1"),
    event("lk-ana", "like", ts(1, 10, 13), "ana", video_id="hv1"),
    event("lk-bia", "like", ts(1, 10, 14), PRIVATE, video_id="hv1"),
    event("fo-eva", "follow", ts(1, 11), "eva", target_id=HOST),
    *[event(f"v{i}", "view", ts(1, 9, i), p, video_id="hv1", watched_ms=8_000, source="for_you")
      for i, p in enumerate(CROWD)],
    event("v-s", "view", ts(1, 9), "ana", video_id="sv1", watched_ms=8_000, source="for_you"),
    event("old-s", "live_start", ts(2, 20), HOST, live_id="L-old"),
    event("old-j1", "live_join", ts(2, 20, 1), "ana", live_id="L-old"),
    event("old-j2", "live_join", ts(2, 20, 2), "eva", live_id="L-old"),
    event("old-l1", "live_leave", ts(2, 20, 10), "ana", live_id="L-old"),
    event("old-e", "live_end", ts(2, 20, 30), HOST, live_id="L-old"),
]  # fmt: skip
LIKES_MESSAGE = "ana, ben and 13 others liked your video"


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, module_server) -> Dashboard:  # noqa: F811
    root = tmp_path_factory.mktemp("live-web")
    (root / "in").mkdir()
    (root / "store").mkdir()
    db = root / "store" / "store.duckdb"
    summary = ingest_into(db, write_platform(root / "in", ACCOUNTS, VIDEOS, EVENTS))
    assert summary.quarantined == 0, summary.reasons
    tokens = {c: create_token(db, "--creator", c) for c in (HOST, SECOND)}
    server: Server = module_server(db)
    return Dashboard(server, Path(db), [HOST, SECOND], tokens, create_token(db, "--ingest"))


def post(d: Dashboard, events: list[dict]) -> None:
    response = httpx.post(
        f"{d.url}/v1/events", json=events, headers={"Authorization": f"Bearer {d.ingest}"}
    )
    assert response.status_code == 200 and response.json()["accepted"] == len(events)


def sign_in(context, d: Dashboard, creator: str, page_name: str = "overview"):
    page = context.new_page()
    page.goto(f"{d.url}/signin#token={d.tokens[creator]}")
    page.wait_for_url(f"**/creators/{creator}/overview")
    if page_name != "overview":
        page.goto(f"{d.url}/creators/{creator}/{page_name}")
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)
    return page


def until_equal(shown: Callable[[], object], expected: Callable[[], object]) -> object:
    """The page's figures once they equal the API's (the page updates on its own; a minute
    can turn between the two reads)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        a, b = shown(), expected()
        if a == b or time.monotonic() > deadline:
            assert a == b
            return a
        time.sleep(0.2)


def live_figures(page) -> dict:
    """What the LIVE page shows: its cards, its room and its minutes, as the API's values."""
    return page.evaluate(
        """() => ({
          cards: Object.fromEntries([...document.querySelectorAll('#cards .card')].map(c =>
            [c.dataset.metric, Number(c.querySelector('.card-value').dataset.value)])),
          room: [...document.querySelectorAll('#room-list li')].map(li => li.textContent),
          minutes: [...document.querySelectorAll('#minutes tbody tr')].map(r =>
            [...r.querySelectorAll('td')].map(td => Number(td.dataset.value))),
        })"""
    )


def api_figures(d: Dashboard) -> dict:
    (live,) = api(d, HOST, "live")["running"]
    keys = ("viewers_now", "peak", "unique_viewers", "comments", "gifts", "gift_value")
    columns = ("viewers", "joins", "leaves", "comments", "gifts", "gift_value")
    return {
        "cards": {k: live[k] for k in keys},
        "room": live["room"],
        "minutes": [[m[c] for c in columns] for m in live["minutes"]],
    }


def test_the_live_page_follows_a_running_live_and_names_no_private_viewer(
    studio, context, artifacts
) -> None:
    d = studio
    page = sign_in(context, d, HOST)
    page.click("nav >> text=LIVE")
    page.wait_for_url(f"**/creators/{HOST}/live")
    page.wait_for_selector("body[data-ready='true']")
    # No LIVE now: said so, with the last LIVE's summary (by hand: 30 min, peak 2, 2 viewers).
    assert page.get_attribute("#live-state", "data-state") == "none"
    assert "No LIVE now" in page.text_content("#live-state")
    row = page.locator("#summary-table tbody tr").first
    assert row.get_attribute("data-live") == "L-old"
    cells = row.locator("td").evaluate_all("tds => tds.map(td => Number(td.dataset.value))")
    # Duration, peak, average (ana 9 min and eva 28 min over 30), uniques, new followers.
    assert cells[:5] == [1800, 2, 1.23, 2, 0]
    page.screenshot(path=artifacts / "live-none.png", full_page=True)

    # A LIVE starts: the page, left open, shows it by itself.
    page.evaluate("window.notReloaded = true")
    post(d, [event("now-s", "live_start", now(), HOST, live_id="L-now")])
    page.wait_for_selector("#live-state[data-state=running]", timeout=DEADLINE_S * 1000)

    # A viewer joins: on the page within moments (printed), the numbers the API's.
    posted = time.monotonic()
    post(d, [event("now-j1", "live_join", now(), "ana", live_id="L-now")])
    page.wait_for_function(
        "() => [...document.querySelectorAll('#room-list li')].some(li => li.textContent == 'ana')",
        timeout=DEADLINE_S * 1000,
    )
    print(f"\n  LIVE page: the new viewer shown {time.monotonic() - posted:.2f} s after the post")
    figures = until_equal(lambda: live_figures(page), lambda: api_figures(d))
    assert figures["cards"]["viewers_now"] == 1 and figures["room"] == ["ana"]

    # A private and an opted-out viewer join, with a comment and a gift of 2.5.
    post(d, [
        event("now-j2", "live_join", now(), PRIVATE, live_id="L-now"),
        event("now-j3", "live_join", now(), OPTED_OUT, live_id="L-now"),
        event("now-c", "live_comment", now(), "ana", live_id="L-now", text="hi"),
        event("now-g", "live_gift", now(), PRIVATE, live_id="L-now", gift_value=2.5),
    ])  # fmt: skip
    page.wait_for_function(
        "() => document.querySelectorAll('#room-list li').length === 3",
        timeout=DEADLINE_S * 1000,
    )
    figures = until_equal(lambda: live_figures(page), lambda: api_figures(d))
    assert sorted(figures["room"]) == ["a private viewer", "a private viewer", "ana"]
    assert figures["cards"] == {"viewers_now": 3, "peak": 3, "unique_viewers": 3,
                                "comments": 1, "gifts": 1, "gift_value": 2.5}  # fmt: skip
    content = page.content()
    assert PRIVATE not in content and OPTED_OUT not in content
    page.screenshot(path=artifacts / "live-running.png", full_page=True)

    # The LIVE ends: "no LIVE now" again, and its summary on top, aggregates only.
    post(d, [event("now-e", "live_end", now(), HOST, live_id="L-now")])
    page.wait_for_selector("#live-state[data-state=none]", timeout=DEADLINE_S * 1000)
    page.wait_for_selector("#summary-table tbody tr[data-live='L-now']")
    summaries = api(d, HOST, "live/summaries")["summaries"]
    assert [s["live_id"] for s in summaries] == ["L-now", "L-old"]
    shown = page.locator("#summary-table tbody tr").evaluate_all(
        "rows => rows.map(r => [r.dataset.live, ...[...r.querySelectorAll('td')]"
        ".map(td => td.dataset.value)])"
    )
    keys = ("duration_s", "peak", "average_viewers", "unique_viewers", "new_followers",
            "comments", "gifts", "gift_value", "ended_by")  # fmt: skip
    assert shown == [[s["live_id"], *(plain(s[k]) for k in keys)] for s in summaries]
    assert shown[0][4] == "3"  # unique viewers: ana and the two private ones
    content = page.content()
    assert "ana" not in page.text_content("main") and PRIVATE not in content
    assert page.evaluate("window.notReloaded") is True


def plain(value: object) -> str:
    """A value as a page's data attribute holds it (JavaScript writes 1800.0 as 1800)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def bell(page) -> str | None:
    return page.get_attribute("#bell-count", "data-unread")


def test_the_bell_counts_unread_rises_by_itself_and_falls_after_mark_read(
    studio, context, artifacts
) -> None:
    d = studio
    page = sign_in(context, d, HOST)
    page.wait_for_function("() => document.querySelector('#bell-count').dataset.unread !== ''")
    unread = api(d, HOST, "notifications/unread")["unread"]
    assert bell(page) == str(unread)
    assert unread >= 2  # the likes and eva's follow (and nothing read yet)
    page.evaluate("window.notReloaded = true")

    # A follow posted to the collector: the bell rises by itself (a new group, one more).
    post(d, [event("fo-ben-now", "follow", now(), "ben", target_id=HOST)])
    page.wait_for_function(
        "n => document.querySelector('#bell-count').dataset.unread === String(n)",
        arg=unread + 1,
        timeout=DEADLINE_S * 1000,
    )
    assert page.evaluate("window.notReloaded") is True
    assert api(d, HOST, "notifications/unread")["unread"] == unread + 1

    # The bell opens the notifications, grouped as the API words them, newest first.
    page.click("#bell")
    page.wait_for_url(f"**/creators/{HOST}/notifications")
    page.wait_for_selector("body[data-ready='true']")
    feed = api(d, HOST, "notifications")
    shown = page.locator("#notifications li.notification").evaluate_all(
        "items => items.map(li => [li.dataset.id,"
        " li.querySelector('.notification-text').textContent])"
    )
    assert shown == [[n["id"], n["message"]] for n in feed["notifications"]]
    messages = [m for _, m in shown]
    assert messages[0] == "ben started following you"
    assert LIKES_MESSAGE in messages and "eva started following you" in messages
    assert PRIVATE not in page.content()
    page.screenshot(path=artifacts / "notifications.png", full_page=True)

    # Mark read: the bell falls to what the API says is left (none).
    page.click("#mark-read")
    page.wait_for_function("() => document.querySelector('#bell-count').dataset.unread === '0'")
    assert api(d, HOST, "notifications/unread")["unread"] == 0
    assert page.locator("#notifications li.unread").count() == 0
    assert page.is_hidden("#bell-count")


def test_another_creators_token_opens_neither_the_live_page_nor_the_notifications(
    studio, context
) -> None:
    d = studio
    page = sign_in(context, d, SECOND)
    for name in ("live", "notifications"):
        response = page.goto(f"{d.url}/creators/{HOST}/{name}")
        assert response.status == 404, name
        assert "no such page" in page.text_content("#message")
    for path in ("live", "live/stream", "live/summaries", "notifications",
                 "notifications/unread"):  # fmt: skip
        assert page.request.get(f"{d.url}/v1/creators/{HOST}/{path}").status == 404, path
    own = page
    own.goto(f"{d.url}/creators/{SECOND}/notifications")
    own.wait_for_selector("body[data-ready='true']")
    token = own.get_attribute("meta[name=csrf-token]", "content")
    refused = own.request.post(
        f"{d.url}/v1/creators/{HOST}/notifications/read",
        data="{}",
        headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
    )
    assert refused.status == 404
    # The second creator's own bell and LIVE page show their own (nothing of the host's).
    assert own.get_attribute("#bell-count", "data-unread") in (None, "", "0")
    live = own
    live.goto(f"{d.url}/creators/{SECOND}/live")
    live.wait_for_selector("body[data-ready='true']")
    assert live.get_attribute("#live-state", "data-state") == "none"
    assert "L-old" not in live.content()
