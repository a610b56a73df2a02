"""A hand-made platform where each insight's right answer is known (all times UTC, every
account on UTC, the platform's latest day 2026-10-20).

- `works`: ten videos; five use the sound `s-double` and get about twice the views of the
  five without (about 200 against 100); `#once` is on one video, `#fyp` on all.
- `viral`: six videos with a steady first day (5 views an hour, a share every 5 hours), a
  young `v-steady` doing the same, and a young `v-viral` at 60 views and 6 shares an hour.
- twelve `food-NN` creators (category food, no followers) each post one video with
  `s-trend` and `#foodtrend` in the last week: 10 views and NN likes; `lonely` alone uses
  `s-rare`; `works` is the only creator in dance.
- `fund-kid`: nine followers, born 2010.
- comments on `works`' videos: positive, negative, neutral, and Portuguese ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from creatorlens.load import ingest_into
from creatorlens.privacy.policy import PrivacyPolicy
from tests.conftest import write_platform
from tests.query.conftest import account, act, crowd_db, view  # noqa: F401 (crowd_db: a fixture)

WORKS, VIRAL, KID, LONELY = "works", "viral", "fund-kid", "lonely"
FOOD = [f"food-{i:02d}" for i in range(12)]
SOUND = "s-double"
# Thresholds a hand-made platform can meet: k_min 2 and the smallest noise (bound 4), so a
# count of 12 always clears (protected >= 8 >= 2 + 4) and one of 1 never does (<= 5).
POLICY = PrivacyPolicy(k_min=2, cell_min=2, noise_scale=1.0)

POSITIVE = [
    "I love this, amazing video",
    "love it, so beautiful",
    "love the vibe, great job",
    "this is wonderful, love it",
    "awesome edit, love the colours",
]
NEGATIVE = ["this is terrible", "boring and awful", "worst edit ever, boring"]
NEUTRAL = ["what song is this?", "where was this filmed?"]
PORTUGUESE = ["que vídeo lindo, adorei demais", "não gostei nada disso", "muito bom mesmo"]


def _ts(day: int, hour: int, minute: int = 0, second: int = 0) -> str:
    return f"2026-10-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def _video(video_id: str, creator: str, posted: str, **fields) -> dict:
    return {"video_id": video_id, "creator_id": creator, "posted_at": posted,
            "duration_ms": 20_000, "caption": video_id, "hashtags": ["fyp"], **fields}  # fmt: skip


def platform() -> tuple[list[dict], list[dict], list[dict]]:
    viewers = [f"viewer-{i:03d}" for i in range(60)]
    accounts = [account(WORKS, kind="creator", timezone="UTC")]
    accounts += [account(VIRAL, kind="creator", timezone="UTC")]
    accounts += [account(KID, kind="creator", timezone="UTC", birth_year=2010)]
    accounts += [account(LONELY, kind="creator", timezone="UTC")]
    accounts += [account(f, kind="creator", timezone="UTC") for f in FOOD]
    accounts += [account(v, timezone="UTC", language="en") for v in viewers]
    videos, events = [], []
    n = 0

    def views(video: str, count: int, day: int, hour: int, *, spread_h: int = 1) -> None:
        nonlocal n
        for i in range(count):
            h = hour + (i % spread_h)
            events.append(view(f"e{n}", viewers[i % len(viewers)], video,
                               _ts(day + h // 24, h % 24, (i * 7) % 60, i % 60),
                               20_000, "for_you"))  # fmt: skip
            n += 1

    def acts(kind: str, video: str, count: int, day: int, hour: int, **fields) -> None:
        nonlocal n
        for i in range(count):
            events.append(act(f"e{n}", kind, viewers[i % len(viewers)],
                              _ts(day, hour, i % 60, 30), video_id=video, **fields))  # fmt: skip
            n += 1

    # works: the sound doubles views over five videos.
    for i in range(10):
        vid = f"w{i}"
        tags = ["fyp", "once"] if i == 0 else ["fyp"]
        sound = SOUND if i % 2 == 0 else "s-plain"
        videos.append(_video(vid, WORKS, _ts(1 + i, 12), hashtags=tags, sound_id=sound,
                             category="dance"))  # fmt: skip
        count = (190 + 5 * i) if sound == SOUND else (95 + 2 * i)
        views(vid, count, 2 + i, 10, spread_h=6)
        acts("like", vid, 5 + i, 2 + i, 18)
    for i, text in enumerate(POSITIVE + NEGATIVE + NEUTRAL + PORTUGUESE):
        events.append(act(f"c{i}", "comment", viewers[i], _ts(15, 10, i), video_id="w1",
                          comment_id=f"k{i}", text=text))  # fmt: skip

    # viral: six steady videos, a steady young one and a viral young one.
    def steady(vid: str, day: int, hours: int) -> None:
        for h in range(hours):
            views(vid, 5, day, h)
            if h % 5 == 0:
                acts("share", vid, 1, day, h, channel="copy_link")

    for i in range(6):
        videos.append(_video(f"b{i}", VIRAL, _ts(10 + i, 0)))
        steady(f"b{i}", 10 + i, 24)
    videos.append(_video("v-steady", VIRAL, _ts(20, 0)))
    steady("v-steady", 20, 12)
    videos.append(_video("v-viral", VIRAL, _ts(20, 2)))
    for h in range(2, 12):
        views("v-viral", 60, 20, h)
        acts("share", "v-viral", 6, 20, h, channel="copy_link")

    # The platform's food creators: one trending sound and hashtag used by twelve.
    for i, creator in enumerate(FOOD):
        vid = f"f{i}"
        videos.append(_video(vid, creator, _ts(16, 8), hashtags=["foodtrend"],
                             sound_id="s-trend", category="food"))  # fmt: skip
        views(vid, 10, 17, 9)
        acts("like", vid, i, 17, 12)
    videos.append(_video("lonely-1", LONELY, _ts(16, 8), hashtags=["rare"], sound_id="s-rare",
                         category="travel"))  # fmt: skip
    views("lonely-1", 30, 17, 9)

    # fund-kid: nine followers, a few views.
    videos.append(_video("kid-1", KID, _ts(12, 8)))
    views("kid-1", 20, 13, 9)
    for i in range(9):
        events.append(act(f"fk{i}", "follow", viewers[i], _ts(13, 10, i), target_id=KID))
    return accounts, videos, events


@pytest.fixture(scope="session")
def insights_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("insights")
    db = root / "store" / "store.duckdb"
    db.parent.mkdir()
    summary = ingest_into(db, write_platform(root, *platform()))
    assert summary.quarantined == 0, summary.reasons
    return db
