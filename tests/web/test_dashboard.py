"""Creator Studio in Chromium: sign in, every page, the period, a video, live numbers, and
who may see what. Every number on a page is checked against the creator API's answer for
the same question, asked with the creator's bearer token."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest

from creatorlens.load import token_book
from tests.web.conftest import Dashboard, api

PAGES = ("overview", "content", "viewers", "followers")


def sign_in(context, d: Dashboard, creator: str, token: str | None = None):
    """Open the sign-in link the demo prints (the token in the fragment)."""
    page = context.new_page()
    page.goto(f"{d.url}/signin#token={token or d.tokens[creator]}")
    page.wait_for_url(f"**/creators/{creator}/overview")
    ready(page)
    assert "token" not in page.url  # the fragment is gone from the address and the history
    return page


def ready(page) -> None:
    page.wait_for_selector("body[data-ready='true']", timeout=30_000)


def cards(page) -> dict[str, tuple[str, str]]:
    """Each headline card's metric: its value as the API gave it and as shown."""
    return page.eval_on_selector_all(
        ".card",
        """cards => Object.fromEntries(cards.map(c => [c.dataset.metric,
            [c.querySelector('.card-value').dataset.value,
             c.querySelector('.card-value').textContent]]))""",
    )


def assert_cards_equal(shown: dict, figures: dict) -> None:
    assert shown, "no cards"
    for metric, (value, text) in shown.items():
        expected = figures[metric]
        if expected is None:
            assert value == "" and text == "—", metric
        else:
            assert float(value) == pytest.approx(float(expected)), metric
            if isinstance(expected, int) and not metric.endswith("_ms"):
                assert text == f"{expected:,}", metric


def bars(page, slot: str) -> list[tuple[str, str]]:
    """A bar list's rows: the group and its value as the API gave it."""
    rows = page.eval_on_selector_all(
        f"#{slot} table.bars tbody tr",
        "rows => rows.map(r => [r.dataset.key, r.querySelector('td').dataset.value])",
    )
    return [tuple(row) for row in rows]


def test_every_page_shows_the_apis_numbers(dashboard, context, artifacts) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = sign_in(context, d, creator)

    # Overview: the cards and their changes are the API's (compared with the period before).
    answer = api(d, creator, "overview", period="28d", compare="true")
    overview = answer["overview"]
    assert_cards_equal(cards(page), overview["totals"])
    change = page.eval_on_selector(".card[data-metric='views'] .card-change", "e => e.textContent")
    expected_change = overview["change"]["views"]
    assert f"{abs(expected_change) * 100:.1f}%" in change
    daily = page.eval_on_selector_all(
        "#daily table tbody tr", "rows => rows.map(r => r.children[1].dataset.value)"
    )
    assert daily == [str(day["views"]) for day in overview["daily"]]
    assert bars(page, "sources") == [
        (s["source"], str(s["plays"])) for s in overview["traffic_sources"]
    ]
    # Its JSON link is the API call behind it, which the browser may follow signed in.
    href = page.get_attribute("#json-link", "href")
    assert href.startswith(f"/v1/creators/{creator}/overview?")
    assert page.request.get(d.url + href).json() == answer
    csv_href = page.get_attribute("#csv-link", "href")
    exported = httpx.get(
        d.url + csv_href, headers={"Authorization": f"Bearer {d.tokens[creator]}"}
    ).content
    assert page.request.get(d.url + csv_href).body() == exported
    assert exported.startswith(b"day,views")
    page.screenshot(path=artifacts / "overview.png", full_page=True)

    # The period picker: a named period, then a custom range.
    page.select_option("#period", "7d")
    page.wait_for_url("**/overview?period=7d")
    ready(page)
    assert_cards_equal(cards(page), api(d, creator, "overview", period="7d")["overview"]["totals"])
    page.select_option("#period", "custom")
    week = api(d, creator, "overview", period="7d")["period"]
    page.fill("#from", week["from"])
    page.fill("#to", week["to"])
    page.click("#period-form button[type=submit]")
    page.wait_for_url(f"**/overview?from={week['from']}&to={week['to']}")
    ready(page)
    custom = api(d, creator, "overview", **{"from": week["from"], "to": week["to"]})
    assert_cards_equal(cards(page), custom["overview"]["totals"])

    # Content: every video, in the API's order, then sorted by likes.
    page.goto(f"{d.url}/creators/{creator}/content?period=28d")
    ready(page)
    videos = api(d, creator, "videos", period="28d", limit=100, detail=0)["videos"]
    assert_cards_equal(cards(page), overview["totals"])  # the period's totals, compared
    rows = page.eval_on_selector_all(
        "#videos-table tbody tr",
        """rows => rows.map(r => [r.dataset.video,
            r.querySelector('[data-key=views]').dataset.value,
            r.querySelector('[data-key=likes]').dataset.value])""",
    )
    assert rows == [[v["video"], str(v["views"]), str(v["likes"])] for v in videos]
    page.get_by_role("button", name="Likes").click()
    by_likes = page.eval_on_selector_all(
        "#videos-table tbody tr", "rows => rows.map(r => r.dataset.video)"
    )
    likes = {v["video"]: v["likes"] for v in videos}
    assert [likes[v] for v in by_likes] == sorted(likes.values(), reverse=True)
    assert page.get_attribute("th[aria-sort=descending] button", "class") == "sort"
    # With the keyboard: Enter on a focused column button sorts by it, again reverses it.
    page.focus("th button:text-is('Views')")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    assert page.get_attribute("th[aria-sort=ascending]", "aria-sort") == "ascending"
    by_views = page.eval_on_selector_all(
        "#videos-table tbody tr", "rows => rows.map(r => r.dataset.video)"
    )
    views = {v["video"]: v["views"] for v in videos}
    assert [views[v] for v in by_views] == sorted(views.values())
    page.screenshot(path=artifacts / "content.png", full_page=True)

    # A video page: its figures, sources, likers ("and N others") and retention.
    top = videos[0]["video"]
    page.click(f"#videos-table tr[data-video='{top}'] a")
    page.wait_for_url(f"**/creators/{creator}/videos/{top}?period=28d")
    ready(page)
    video = api(d, creator, f"videos/{top}", period="28d")["video"]
    assert_cards_equal(cards(page), video)
    asked = {"metrics": ["views"], "filters": [["is", "video", [top]]], "compare": True}
    previous = httpx.post(
        f"{d.url}/v1/query",
        json={**asked, "period": "28d"},
        headers={"Authorization": f"Bearer {d.tokens[creator]}"},
    ).json()["comparison"]["views"]
    before = page.get_attribute(".card[data-metric='views'] [data-before]", "data-before")
    assert before == ("" if previous is None else str(previous))
    assert bars(page, "sources") == [
        (s["source"], str(s["plays"])) for s in video["traffic_sources"]
    ]
    assert bars(page, "channels") == [
        (c["channel"], str(c["shares"])) for c in video["share_channels"]
    ]
    likers = page.locator(".likers-more")
    assert likers.get_attribute("data-others") == str(video["likers"]["others"])
    assert likers.get_attribute("data-named") == str(len(video["likers"]["named"]))
    if video["likers"]["others"]:
        assert f"and {video['likers']['others']:,} others" in likers.text_content()
    shown_named = page.eval_on_selector_all(
        "#likers ul.likers:not(details ul) li", "items => items.map(i => i.textContent)"
    )
    assert shown_named == video["likers"]["named"][: len(shown_named)]
    retention = page.eval_on_selector_all(
        "#retention table tbody tr", "rows => rows.map(r => r.children[1].dataset.value)"
    )
    assert [float(r) for r in retention] == [p["share"] for p in video["retention"]]
    splits = page.eval_on_selector_all("#splits dd", "dds => dds.map(d => d.dataset.value)")
    assert splits[:2] == [str(video["new_viewers"]), str(video["returning_viewers"])]
    page.screenshot(path=artifacts / "video.png", full_page=True)

    # Viewers: reach and the audience breakdowns of the overview's answer.
    page.goto(f"{d.url}/creators/{creator}/viewers?period=28d")
    ready(page)
    assert_cards_equal(cards(page), overview["totals"])
    for dim in ("gender", "country"):
        rows = overview["audience"][dim]["rows"]
        assert bars(page, dim) == [(r[dim], str(r["reach"])) for r in rows]
    page.screenshot(path=artifacts / "viewers.png", full_page=True)

    # Followers: totals, growth, demographics and the videos they watched.
    page.goto(f"{d.url}/creators/{creator}/followers?period=28d")
    ready(page)
    followers = api(d, creator, "followers", period="28d")["followers"]
    assert_cards_equal(cards(page), followers)
    growth = page.eval_on_selector_all(
        "#growth table tbody tr", "rows => rows.map(r => r.children[1].dataset.value)"
    )
    assert growth == [str(g["followers_total"]) for g in followers["growth"]]
    for dim in ("gender", "age", "country", "city"):
        assert bars(page, dim) == [
            (r["value"], str(r["followers"])) for r in followers[dim]["rows"]
        ]
    watched = page.eval_on_selector_all(
        "#watched table tbody tr", "rows => rows.map(r => r.children[0].textContent)"
    )
    assert watched == [v["video"] for v in followers["videos_followers_watched"]]
    page.screenshot(path=artifacts / "followers.png", full_page=True)

    # Keyboard: the skip link and the navigation are reachable with Tab.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"


def test_a_withheld_section_says_why_in_plain_words(dashboard, context, artifacts) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = sign_in(context, d, creator)
    page.goto(f"{d.url}/creators/{creator}/followers?period=7d")
    ready(page)
    answer = api(d, creator, "followers", period="7d")
    withheld = {w["what"] for w in answer["withheld"]}
    # Follower demographics leave out their small groups: each panel says so under its list.
    gender = [
        w for w in answer["followers"]["gender"]["withheld"] if w["reason"] == "under cell_min"
    ]
    assert gender, answer["followers"]["gender"]
    note = page.locator("#gender .withheld-note").first.text_content()
    assert note == f"Groups of fewer than 10 people are {gender[0]['detail']}."
    # A panel with nothing to show says why where its chart would be: never blank, never 0.
    for slot in ("activity", "watched"):
        box = page.locator(f"#{slot}")
        assert box.text_content().strip(), slot
    if any(w.startswith("follower activity cells") for w in withheld):
        assert (
            "is shown when at least 10 followers watched"
            in page.locator("#activity").text_content()
        )
    if not answer["followers"]["videos_followers_watched"]:
        assert "at least 100" in page.locator("#watched .withheld").text_content()
    # The second creator has fewer followers than k_min: every follower panel says so.
    other = d.creators[1]
    second = context.browser.new_context()
    page = sign_in(second, d, other)
    page.goto(f"{d.url}/creators/{other}/followers?period=28d")
    ready(page)
    answer = api(d, other, "followers", period="28d")
    followers = answer["followers"]
    assert followers["followers_total"] < 100
    now = f"{followers['followers_total']:,} followers now"
    for dim in ("gender", "age", "country", "city"):
        assert followers[dim]["rows"] == []
        assert [w["reason"] for w in followers[dim]["withheld"]] == ["population below k_min"]
        expected = f"Shown when at least 100 people are in this group: {now}."
        assert page.text_content(f"#{dim} .withheld") == expected, dim
    reasons = {w["what"]: w["reason"] for w in answer["withheld"]}
    assert reasons["follower activity"] == "follower population below k_min"
    assert reasons["videos your followers watched"] == "follower population below k_min"
    for slot in ("activity", "watched"):
        expected = f"Shown when at least 100 people follow you: {now}."
        assert page.locator(f"#{slot} .withheld").first.text_content() == expected, slot
    page.screenshot(path=artifacts / "followers-withheld.png", full_page=True)
    # Its viewers cannot be told apart by following: the split says why.
    page.goto(f"{d.url}/creators/{other}/viewers?period=28d")
    ready(page)
    assert "Shown when at least 100 people follow you" in page.text_content("#splits .withheld")
    second.close()


def test_the_insights_page_shows_the_apis_insights(dashboard, context, artifacts) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = sign_in(context, d, creator)
    page.click("nav >> text=Insights")
    page.wait_for_url(f"**/creators/{creator}/insights")
    ready(page)
    answer = api(d, creator, "insights")
    # Every section is drawn, none blank; the JSON link is the API call behind the page.
    for name in ("best_times", "what_works", "virality", "sentiment", "trending",
                 "benchmark", "creator_fund"):  # fmt: skip
        assert page.locator(f"#{name}").text_content().strip(), name
    assert page.get_attribute("#json-link", "href").startswith(f"/v1/creators/{creator}/insights")
    # The best slots are the API's, in its order, and so are the fund's figures.
    slots = [s["label"] for s in answer["best_times"]["slots"]]
    shown = page.locator("#best_times table").first.locator("tbody th").all_text_contents()
    assert shown == slots
    for key, value in answer["creator_fund"].items():
        if isinstance(value, int) and not isinstance(value, bool):
            dd = page.locator(f'#creator_fund [data-key="{key}"] dd').text_content()
            assert dd == f"{value:,}", key
    # What a section withheld is said in words, never a bare blank.
    for note in answer["trending"]["withheld"]:
        assert page.locator("#trending .withheld").count() >= 1, note
    page.screenshot(path=artifacts / "insights.png", full_page=True)


def test_an_event_posted_to_the_collector_appears_on_the_open_overview(dashboard, context) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = sign_in(context, d, creator)
    page.wait_for_selector("#live[data-state=live]")
    before = api(d, creator, "overview", period="28d", compare="true")
    video = api(d, creator, "videos", period="28d", limit=1, detail=0)["videos"][0]["video"]
    page.evaluate("window.notReloaded = true")
    last_day = before["period"]["to"]
    events = [
        {"event_id": f"web-live-{i}", "type": "view", "ts": f"{last_day}T12:00:{i:02d}Z",
         "actor_id": f"web-viewer-{i}", "video_id": video, "watched_ms": 8_000,
         "source": "for_you"}
        for i in range(3)
    ]  # fmt: skip
    posted = time.monotonic()
    response = httpx.post(
        f"{d.url}/v1/events", json=events, headers={"Authorization": f"Bearer {d.ingest}"}
    )
    assert response.status_code == 200, response.text
    expected = before["overview"]["totals"]["views"] + 3
    page.wait_for_function(
        "n => document.querySelector(\".card[data-metric='views'] .card-value\")"
        ".dataset.value === String(n)",
        arg=expected,
        timeout=30_000,
    )
    shown_after = time.monotonic() - posted
    print(f"\n  live: the posted views were on the open overview {shown_after:.2f} s later")
    assert page.evaluate("window.notReloaded") is True
    after = api(d, creator, "overview", period="28d", compare="true")
    assert after["overview"]["totals"]["views"] == expected
    assert_cards_equal(cards(page), after["overview"]["totals"])


def test_the_page_says_reconnecting_while_the_stream_is_down(dashboard, context) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = sign_in(context, d, creator)
    # The stream refused (as by a proxy restarting): the page still shows its numbers.
    page.route("**/stream", lambda route: route.fulfill(status=503, body="down"))
    page.reload()
    ready(page)
    page.wait_for_selector("#live[data-state=reconnecting]")
    assert page.text_content("#live") == "Reconnecting…"
    totals = api(d, creator, "overview", period="28d", compare="true")["overview"]["totals"]
    assert_cards_equal(cards(page), totals)
    page.unroute("**/stream")
    page.wait_for_selector("#live[data-state=live]", timeout=30_000)


def test_another_creators_token_opens_none_of_the_first_creators_pages(dashboard, context) -> None:
    d = dashboard
    first, second = d.creators[:2]
    page = sign_in(context, d, second)
    for name in PAGES:
        response = page.goto(f"{d.url}/creators/{first}/{name}")
        assert response.status == 404
        assert "no such page" in page.text_content("#message")
        assert first not in page.content().replace(f"/creators/{first}/", "")
    video = api(d, first, "videos", limit=1, detail=0)["videos"][0]["video"]
    assert page.goto(f"{d.url}/creators/{first}/videos/{video}").status == 404
    for path in ("stream", "overview", f"videos/{video}", "followers"):
        assert page.request.get(f"{d.url}/v1/creators/{first}/{path}").status == 404, path
    # Its own video page for another creator's video finds nothing either.
    page.goto(f"{d.url}/creators/{second}/videos/{video}")
    page.wait_for_selector("body[data-ready='error']")
    assert "Not found" in page.text_content("#page-error")
    # And the stream it may open is its own.
    jar = {c["name"]: c["value"] for c in context.cookies() if c["name"] == "cl_session"}
    with httpx.stream("GET", f"{d.url}/v1/creators/{second}/stream", cookies=jar) as own:
        assert own.status_code == 200
        assert own.headers["content-type"].startswith("text/event-stream")
        assert next(own.iter_lines()).startswith("retry:")


def test_a_bad_or_expired_token_lands_on_sign_in_with_a_clear_message(dashboard, context) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = context.new_page()
    page.goto(f"{d.url}/creators/{creator}/overview")
    page.wait_for_url("**/signin")
    page.fill("#token", "cl_c_000000000000_not-a-token")
    page.click("#signin-form button")
    page.wait_for_selector("#message:not([hidden])")
    assert "unknown, revoked or expired" in page.text_content("#message")
    assert not [c for c in context.cookies() if c["name"] == "cl_session"]

    _, expired = token_book(d.db).create(
        "creator", creator_id=creator, expires_in=timedelta(seconds=1)
    )
    time.sleep(1.1)
    page.goto(f"{d.url}/signin#token={expired}")
    page.wait_for_selector("#message:not([hidden])")
    assert "unknown, revoked or expired" in page.text_content("#message")

    # A session whose token is revoked ends: the next page is the sign-in page.
    token, secret = token_book(d.db).create("creator", creator_id=creator)
    page = sign_in(context, d, creator, secret)
    token_book(d.db).revoke(token.token_id)
    page.reload()
    page.wait_for_url("**/signin?reason=ended")
    assert "Your session has ended" in page.text_content("#message")

    # An ingest key is not a way in.
    page.goto(f"{d.url}/signin#token={d.ingest}")
    page.wait_for_selector("#message:not([hidden])")
    assert "ingest key" in page.text_content("#message")


def test_sign_out_and_the_forms_refuse_other_sites(dashboard, context) -> None:
    d, creator = dashboard, dashboard.creators[0]
    page = sign_in(context, d, creator)
    cookie = next(c for c in context.cookies() if c["name"] == "cl_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["value"] != d.tokens[creator] and d.tokens[creator] not in page.content()
    csp = page.request.get(f"{d.url}/creators/{creator}/overview").headers
    assert "default-src 'self'" in csp["content-security-policy"]
    assert "'unsafe-inline'" not in csp["content-security-policy"]

    # The query API takes the cookie only with the page's CSRF header.
    query = {"metrics": ["views"], "period": "28d"}
    jar = {"cl_session": cookie["value"]}
    plain = httpx.post(f"{d.url}/v1/query", json=query, cookies=jar)
    assert plain.status_code == 401
    csrf = page.get_attribute("meta[name=csrf-token]", "content")
    with_header = httpx.post(
        f"{d.url}/v1/query", json=query, cookies=jar, headers={"X-CSRF-Token": csrf}
    )
    assert with_header.status_code == 200, with_header.text
    # A sign-in or sign-out posted from another site is refused.
    forged = httpx.post(
        f"{d.url}/signin",
        data={"token": d.tokens[creator], "csrf": "guess"},
        headers={"Origin": "http://evil.example"},
    )
    assert forged.status_code == 403 and "cl_session" not in forged.cookies
    refused = httpx.post(
        f"{d.url}/signout", data={"csrf": "guess"}, cookies=jar, headers={"Origin": d.url}
    )
    assert refused.status_code == 403
    assert page.request.get(f"{d.url}/v1/creators/{creator}/overview").status == 200

    page.click(".signout button")
    page.wait_for_url("**/signin?reason=signed_out")
    assert "signed out" in page.text_content("#message")
    page.goto(f"{d.url}/creators/{creator}/overview")
    page.wait_for_url("**/signin*")
    assert httpx.get(f"{d.url}/v1/creators/{creator}/overview", cookies=jar).status_code == 401


def test_phone_width_and_dark_theme(dashboard, browser, artifacts) -> None:
    d, creator = dashboard, dashboard.creators[0]
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, color_scheme="dark", device_scale_factor=1
    )
    try:
        page = sign_in(context, d, creator)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(17, 20, 24)"
        page.screenshot(path=artifacts / "overview-phone-dark.png", full_page=True)
    finally:
        context.close()


def test_first_paint_and_full_overview_load(dashboard, context) -> None:
    """Figures for the record (loopback, this machine), not assertions of speed."""
    d, creator = dashboard, dashboard.creators[0]
    sign_in(context, d, creator).close()
    page = context.new_page()
    page.goto(f"{d.url}/creators/{creator}/overview?period=28d")
    ready(page)
    timing = json.loads(
        page.evaluate(
            """JSON.stringify({
              fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
              drawn: performance.getEntriesByName('creatorlens:drawn')[0]?.startTime})"""
        )
    )
    print(
        f"\n  overview: first contentful paint {timing['fcp']:.0f} ms, "
        f"all charts drawn {timing['drawn']:.0f} ms"
    )
    assert timing["fcp"] is not None and timing["drawn"] >= timing["fcp"]
