"""Trending and the niche benchmark, over all creators, withheld below k_min creators."""

from __future__ import annotations

from creatorlens.insights import benchmark, trending
from creatorlens.privacy.policy import PrivacyPolicy
from creatorlens.studio import open_studio
from tests.insights.conftest import FOOD, LONELY, POLICY, WORKS


def test_a_sound_of_twelve_creators_trends_and_one_of_a_single_creator_is_withheld(
    insights_db,
) -> None:
    with open_studio(insights_db, WORKS, policy=POLICY) as studio:
        found = trending(studio)
    assert [i.name for i in found.sounds] == ["s-trend"]
    assert [i.name for i in found.hashtags] == ["foodtrend"]
    item = found.sounds[0]
    # 12 videos x 10 views in the last 7 days, none in the 28 before: 120 / 7 a day.
    assert (item.views_recent, item.views_before, item.videos_recent) == (120, 0, 12)
    assert round(item.growth, 3) == round(120 / 7, 3)
    assert found.withheld  # s-rare, #rare (one creator each) and the rest: withheld
    names = {i.name for i in found.sounds + found.hashtags}
    assert "s-rare" not in names and "rare" not in names


def test_trending_needs_k_min_creators(insights_db) -> None:
    strict = PrivacyPolicy(k_min=20, cell_min=2, noise_scale=1.0)
    with open_studio(insights_db, WORKS, policy=strict) as studio:
        found = trending(studio)
    assert found.sounds == [] and found.hashtags == []
    assert found.withheld


def test_the_niche_benchmark_gives_percentiles_in_a_band_of_twelve(insights_db) -> None:
    with open_studio(insights_db, FOOD[8], policy=POLICY) as studio:
        found = benchmark(studio)
    assert found.category == "food" and found.band == "0-1k"
    # Engagement rates 0/10 ... 11/10: eight below 8/10, one tie: (8 + 0.5) / 12.
    assert found.percentiles["engagement_rate"] == round(100 * 8.5 / 12)
    assert found.percentiles["views_per_video"] == 50  # all twelve had 10 views
    assert found.percentiles["follower_growth"] is None  # nobody has followers
    assert "creator" not in str(found.to_json()["percentiles"])  # no one named


def test_a_band_of_fewer_than_k_min_creators_gives_no_benchmark(insights_db) -> None:
    for creator in (WORKS, LONELY):  # alone in dance, alone in travel
        with open_studio(insights_db, creator, policy=POLICY) as studio:
            found = benchmark(studio)
        assert found.percentiles == {} and found.creators is None
        assert found.withheld == ["niche benchmark: fewer than k_min creators"]
    strict = PrivacyPolicy(k_min=20, cell_min=2, noise_scale=1.0)
    with open_studio(insights_db, FOOD[0], policy=strict) as studio:
        assert benchmark(studio).percentiles == {}
