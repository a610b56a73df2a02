"""What works on the hand-made platform: the doubling sound is found, a one-video hashtag
makes no claim."""

from __future__ import annotations

import numpy as np

from creatorlens.insights import what_works
from creatorlens.insights.what_works import bootstrap_medians, length_band
from creatorlens.studio import open_studio
from tests.insights.conftest import POLICY, SOUND, WORKS


def test_a_sound_that_doubles_views_over_five_videos_is_found(insights_db) -> None:
    with open_studio(insights_db, WORKS, policy=POLICY) as studio:
        found = what_works(studio)
    claim = next(c for c in found.claims if c.trait == SOUND and c.measure == "views")
    # Views by hand: with the sound 190, 200, ..., 230 (median 210); without 97 ... 113
    # (median 105): twice as many.
    assert (claim.videos, claim.others) == (5, 5)
    assert claim.median_with == 210 and claim.median_without == 105
    assert claim.effect == 2.0
    assert claim.low > 1 and claim.helps
    assert claim.low <= 2.0 <= claim.high


def test_a_hashtag_on_one_video_makes_no_claim(insights_db) -> None:
    with open_studio(insights_db, WORKS, policy=POLICY) as studio:
        found = what_works(studio)
    assert not [c for c in found.claims if c.trait in ("#once", "#fyp")]
    assert found.too_few_videos >= 1  # #once is counted as a trait with too few videos


def test_too_few_videos_say_so(insights_db) -> None:
    from tests.insights.conftest import VIRAL

    with open_studio(insights_db, VIRAL, policy=POLICY) as studio:
        found = what_works(studio)  # eight videos: not five with and five without anything
    assert found.claims == [] and found.note == "not enough videos yet (10 needed)"


def test_the_bootstrap_median_matches_resampling() -> None:
    """The exact draw of bootstrap medians agrees with building the resamples."""
    rng = np.random.default_rng(7)
    for n in (5, 6, 9):
        x = rng.lognormal(0, 1, n)
        fast = bootstrap_medians(x, np.random.default_rng(1), 100_000)
        slow = np.median(x[np.random.default_rng(2).integers(0, n, (100_000, n))], axis=1)
        for q in (5, 25, 50, 75, 95):
            assert abs(np.percentile(fast, q) - np.percentile(slow, q)) <= 0.02 * x.max()


def test_length_bands() -> None:
    assert [length_band(d) for d in (14_999, 15_000, 59_999, 60_000)] == [
        "under 15 s", "15-30 s", "30-60 s", "over 60 s"]  # fmt: skip
