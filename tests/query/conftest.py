"""Stores for the query tests: a hand-made creator, a crowd of 160 viewers, a generated platform.

Every store is ingested once per session through the real pipeline (`ingest_into`), so the
query layer is tested on what ingest and the rollups really produce.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from creatorlens.generate import generate_platform
from creatorlens.load import ingest_into
from creatorlens.query import Period
from creatorlens.studio import Studio, open_studio
from tests.conftest import run_cli, write_platform

# --- the hand-made creator (tests/query/test_metrics.py) ------------------------------------

CREATOR = "creator-sp"  # a creator in São Paulo: UTC-3 all year (no DST since 2019)
OTHER_CREATOR = "creator-other"
PERSONAL = "personal-only"
ANA = "ana-public"  # public, 36 in 2026 (35-44)
BIA = "bia-private-approved"  # private; the creator follows her and she approved it
CAIO = "caio-private-unapproved"  # private; the creator follows him, he never approved
DUDA = "duda-opted-out"  # analytics_opt_out
ENZO = "enzo-minor"  # born 2012: 14, a minor (13-17)
FABI = "fabi-returning"  # played 10 days before the period, and again inside it
GABI = "gabi-follower"  # follows before the period, unfollows inside it; likes then unlikes
V1 = "v-sp-1"  # 10 s
V2 = "v-sp-2"  # 4 s
V_OTHER = "v-other"  # the other creator's video: none of its events count for CREATOR

# The period every hand figure is for, in the creator's local days.
PERIOD = Period(date(2026, 10, 10), date(2026, 10, 16), "2026-10-10..2026-10-16")


def account(account_id: str, **changes) -> dict:
    return {
        "account_id": account_id,
        "kind": "personal",
        "is_private": False,
        "birth_year": 1990,
        "gender": "female",
        "country": "BR",
        "city": "São Paulo",
        "language": "pt",
        "timezone": "America/Sao_Paulo",
        "analytics_opt_out": False,
        "created_at": "2024-01-01T00:00:00Z",
        **changes,
    }


HAND_ACCOUNTS = [
    account(CREATOR, kind="creator"),
    account(OTHER_CREATOR, kind="business", timezone="UTC"),
    account(PERSONAL),
    account(ANA),
    account(BIA, is_private=True, birth_year=1995),
    account(CAIO, is_private=True, birth_year=2000, gender="male", country="PT", city="Porto"),
    account(DUDA, birth_year=1985, analytics_opt_out=True),
    account(ENZO, birth_year=2012, gender="male"),
    account(FABI, birth_year=2003, country="US", city="Miami", language="en"),
    account(GABI, birth_year=1970, gender="other"),
]
HAND_VIDEOS = [
    {"video_id": V1, "creator_id": CREATOR, "posted_at": "2026-09-20T12:00:00Z",
     "duration_ms": 10_000, "caption": "ten seconds", "hashtags": ["fyp"]},
    {"video_id": V2, "creator_id": CREATOR, "posted_at": "2026-09-20T13:00:00Z",
     "duration_ms": 4_000, "caption": "four seconds", "hashtags": []},
    {"video_id": V_OTHER, "creator_id": OTHER_CREATOR, "posted_at": "2026-09-20T12:00:00Z",
     "duration_ms": 10_000, "caption": "elsewhere", "hashtags": []},
]  # fmt: skip


def view(event_id: str, actor: str, video: str, ts: str, watched: int, source: str) -> dict:
    return {"event_id": event_id, "type": "view", "ts": ts, "actor_id": actor,
            "video_id": video, "watched_ms": watched, "source": source}  # fmt: skip


def act(event_id: str, kind: str, actor: str, ts: str, **fields) -> dict:
    return {"event_id": event_id, "type": kind, "ts": ts, "actor_id": actor, **fields}


# Timestamps are UTC; each comment gives the creator's local time (UTC-3).
HAND_EVENTS = [
    # Before the period.
    act("cf1", "follow", CREATOR, "2026-10-01T12:00:00Z", target_id=BIA),  # creator follows bia
    act("ap1", "follow_approve", BIA, "2026-10-01T13:00:00Z", target_id=CREATOR),  # she approves
    act("cf2", "follow", CREATOR, "2026-10-01T12:00:00Z", target_id=CAIO),  # caio never approves
    view("p7", FABI, V1, "2026-09-30T15:00:00Z", 1_000, "for_you"),  # Sep 30 12:00, 10 days before
    act("pv3", "profile_view", FABI, "2026-10-05T12:00:00Z", target_id=CREATOR),  # previous period
    act("f1", "follow", GABI, "2026-10-08T12:00:00Z", target_id=CREATOR),  # previous period
    view("p11", CAIO, V2, "2026-10-10T02:55:00Z", 4_000, "for_you"),  # Oct 9 23:55: previous period
    # Oct 10
    view("p1", ANA, V1, "2026-10-10T13:00:00Z", 3_000, "for_you"),  # 10:00, exactly 3.000 s
    view("p2", CAIO, V1, "2026-10-10T13:10:00Z", 2_999, "for_you"),  # 10:10, 2.999 s: a play only
    view("p3", ANA, V1, "2026-10-11T02:50:00Z", 25_000, "following"),  # 23:50, loops 2.5 times
    # Oct 11
    view("p4", BIA, V1, "2026-10-11T03:10:00Z", 10_000, "search"),  # 00:10, just after midnight
    act("sv1", "save", BIA, "2026-10-11T04:00:00Z", video_id=V1),  # 01:00
    act("l1", "like", ANA, "2026-10-11T12:00:00Z", video_id=V1),  # 09:00
    act("c1", "comment", ANA, "2026-10-11T12:30:00Z", video_id=V1, comment_id="k1",
        text="nice"),  # 09:30
    # Oct 12
    act("c2", "comment", CAIO, "2026-10-12T12:00:00Z", video_id=V1, comment_id="k2",
        text="thanks", reply_to="k1"),  # 09:00, a reply
    act("pv1", "profile_view", ANA, "2026-10-12T14:00:00Z", target_id=CREATOR),  # 11:00
    act("f2", "follow", ANA, "2026-10-12T15:00:00Z", target_id=CREATOR),  # 12:00
    view("p5", DUDA, V1, "2026-10-12T18:00:00Z", 6_000, "for_you"),  # 15:00, opted out
    view("p6", ENZO, V2, "2026-10-12T18:30:00Z", 4_000, "hashtag"),  # 15:30, exactly the duration
    act("s1", "share", ENZO, "2026-10-12T19:00:00Z", video_id=V1, channel="whatsapp"),  # 16:00
    view("o1", ANA, V_OTHER, "2026-10-12T12:00:00Z", 5_000, "for_you"),  # another creator's
    act("o2", "like", ANA, "2026-10-12T12:01:00Z", video_id=V_OTHER),
    act("o3", "profile_view", ANA, "2026-10-12T12:02:00Z", target_id=OTHER_CREATOR),
    # Oct 13
    act("s2", "share", ANA, "2026-10-13T12:00:00Z", video_id=V1, channel="copy_link"),  # 09:00
    act("f3", "follow", BIA, "2026-10-13T15:00:00Z", target_id=CREATOR),  # 12:00
    act("l2", "like", BIA, "2026-10-13T16:00:00Z", video_id=V1),  # 13:00
    act("l3", "like", CAIO, "2026-10-13T17:00:00Z", video_id=V1),  # 14:00
    # Oct 14
    view("p8", FABI, V2, "2026-10-14T12:00:00Z", 5_000, "profile"),  # 09:00, beyond the end
    act("s3", "share", FABI, "2026-10-14T12:05:00Z", video_id=V2, channel="whatsapp"),  # 09:05
    view("p9", GABI, V2, "2026-10-14T13:00:00Z", 2_000, "following"),  # 10:00, as a follower
    act("l4", "like", GABI, "2026-10-14T14:00:00Z", video_id=V1),  # 11:00
    act("u4", "unlike", GABI, "2026-10-14T14:05:00Z", video_id=V1),  # 11:05
    # Oct 15
    act("d1", "duet", ANA, "2026-10-15T12:00:00Z", video_id=V1, new_video_id="x-duet"),  # 09:00
    act("st1", "stitch", CAIO, "2026-10-15T13:00:00Z", video_id=V2,
        new_video_id="x-stitch"),  # 10:00
    act("f4", "unfollow", GABI, "2026-10-15T15:00:00Z", target_id=CREATOR),  # 12:00
    # Oct 16
    view("p10", GABI, V2, "2026-10-16T12:00:00Z", 3_500, "for_you"),  # 09:00, no longer follows
    act("pv2", "profile_view", CAIO, "2026-10-16T20:00:00Z", target_id=CREATOR),  # 17:00
    view("p12", CAIO, V1, "2026-10-17T02:30:00Z", 8_000, "for_you"),  # Oct 16 23:30
    # After the period: Oct 17 00:30 local.
    view("p13", BIA, V1, "2026-10-17T03:30:00Z", 5_000, "for_you"),
]  # fmt: skip


@pytest.fixture(scope="session")
def hand_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made creator's store, ingested through the real pipeline."""
    root = tmp_path_factory.mktemp("hand")
    db = root / "store" / "store.duckdb"
    db.parent.mkdir()
    summary = ingest_into(
        db,
        write_platform(root, HAND_ACCOUNTS, HAND_VIDEOS, HAND_EVENTS),
    )
    assert summary.quarantined == 0, summary.reasons
    return db


# --- a crowd big enough for breakdowns (tests/query/test_privacy_end_to_end.py) ------------

CROWD_CREATOR = "creator-crowd"
CROWD_VIDEO = "v-crowd"
CROWD_DAY1 = date(2026, 10, 1)  # days 1-7: the crowd; day 8: the newcomer
CROWD_SIZE = 130
OPTED_OUT_SIZE = 30  # all in Iceland, all opted out of analytics
NEWCOMER = "newcomer-on-day-8"  # 25-34, male, Argentina: the one person day 8 adds
CANARY = "dev-canary-5f1e0c2a9b"  # a logged-out device: views, profile views, shares, saves
NAMED_CONTROL = "dev-named-control-7d3b1e"  # a device that likes: stored in the clear (named act)
COUNTRIES = ("BR", "US", "PT", "MX")
CITIES = {"BR": "Recife", "US": "Austin", "PT": "Lisboa", "MX": "Puebla"}
BIRTH_YEARS = (1990, 2000, 2005)  # 35-44, 25-34, 18-24 in 2026


def crowd_day(n: int) -> date:
    return CROWD_DAY1 + timedelta(days=n - 1)


def _noon(day: date, minute: int = 0) -> str:
    # 12:mm in São Paulo is 15:mm UTC.
    return f"{day.isoformat()}T15:{minute:02d}:00Z"


def crowd_platform() -> tuple[list[dict], list[dict], list[dict]]:
    """130 viewers on days 1-7 (1 play each), 30 opted-out Icelanders, one newcomer on day 8."""
    accounts = [account(CROWD_CREATOR, kind="creator")]
    events: list[dict] = []
    for i in range(CROWD_SIZE):
        country = COUNTRIES[i % 4]
        name = f"crowd-{i:03d}"
        accounts.append(
            account(
                name,
                country=country,
                city=CITIES[country],
                birth_year=BIRTH_YEARS[i % 3],
                gender=("female", "male")[i % 2],
            )
        )
        day = crowd_day(1 + i % 7)
        events.append(view(f"cv{i}", name, CROWD_VIDEO, _noon(day, i % 60), 5_000, "for_you"))
    for i in range(OPTED_OUT_SIZE):
        name = f"optout-{i:02d}"
        accounts.append(account(name, country="IS", city="Reykjavik", analytics_opt_out=True))
        day = crowd_day(1 + i % 7)
        events.append(view(f"ov{i}", name, CROWD_VIDEO, _noon(day, i), 5_000, "for_you"))
    accounts.append(account(NEWCOMER, country="AR", city="Córdoba", birth_year=1996, gender="male"))
    day8 = crowd_day(8)
    events += [
        view("nv1", NEWCOMER, CROWD_VIDEO, _noon(day8, 1), 7_000, "search"),
        view("nv2", NEWCOMER, CROWD_VIDEO, _noon(day8, 2), 9_000, "search"),
        # The canary acts only in anonymous-class events.
        view("k1", CANARY, CROWD_VIDEO, _noon(crowd_day(2), 30), 4_000, "share_link"),
        act("k2", "profile_view", CANARY, _noon(crowd_day(2), 31), target_id=CROWD_CREATOR),
        act("k3", "share", CANARY, _noon(crowd_day(2), 32), video_id=CROWD_VIDEO, channel="sms"),
        act("k4", "save", CANARY, _noon(crowd_day(2), 33), video_id=CROWD_VIDEO),
        # A named act, so the byte search has something it must find.
        act("n1", "like", NAMED_CONTROL, _noon(crowd_day(3), 40), video_id=CROWD_VIDEO),
    ]
    videos = [
        {"video_id": CROWD_VIDEO, "creator_id": CROWD_CREATOR,
         "posted_at": "2026-09-30T12:00:00Z", "duration_ms": 15_000},
    ]  # fmt: skip
    return accounts, videos, events


@pytest.fixture(scope="session")
def crowd_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crowd's store; its directory holds only the store and its key file."""
    root = tmp_path_factory.mktemp("crowd")
    accounts, videos, events = crowd_platform()
    db = root / "store" / "store.duckdb"
    db.parent.mkdir()
    summary = ingest_into(
        db,
        write_platform(root, accounts, videos, events),
    )
    assert summary.quarantined == 0, summary.reasons
    return db


# --- a generated platform -------------------------------------------------------------------


@pytest.fixture(scope="session")
def generated_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 creators, 3000 viewers, 14 days (the window ends 2026-11-01), ingested."""
    root = tmp_path_factory.mktemp("generated")
    platform = generate_platform(root / "platform", creators=20, viewers=3000, days=14, seed=3)
    db = root / "store" / "store.duckdb"
    db.parent.mkdir()
    ingest_into(db, [platform.accounts, platform.videos, platform.events])
    return db


# --- running the real interfaces ------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """`creatorlens report --json`: the parsed document and its exact text."""

    data: dict
    text: str


def report_json(db: Path, creator: str, *args: str) -> Report:
    """Run `creatorlens report --json` in a subprocess, as a user would."""
    proc = run_cli("report", "--db", str(db), "--creator", creator, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return Report(json.loads(proc.stdout), proc.stdout)


# --- a creator's studio, as the tests reach it -----------------------------------------------


@contextmanager
def creator_context(db, creator: str, **options):
    """A creator's studio on the store, and its latest day."""
    with open_studio(db, creator, **options) as studio:
        yield studio, studio.latest


def run_query(studio: Studio, query):
    """The query's answer as released to the creator."""
    return studio.answer(query)


def raw_context(studio: Studio):
    """The studio's run context: true counts, for tests of the definitions themselves."""
    return studio._ctx


def con(studio: Studio):
    """Plain SQL on the studio's store session."""
    return studio._ctx.con


def with_secret(studio: Studio, secret: bytes) -> Studio:
    """The same studio under another noise secret."""
    return replace(studio, _secret=secret)
