"""Best times from the creator's own history: first-24-hour views by posting hour."""

from __future__ import annotations

import statistics

from creatorlens.insights import best_times
from creatorlens.studio import open_studio
from tests.insights.conftest import POLICY, VIRAL, WORKS


def test_ten_videos_posted_at_noon_give_noon_with_their_first_day_views(insights_db) -> None:
    with open_studio(insights_db, WORKS, policy=POLICY) as studio:
        found = best_times(studio, studio.period("28d"))
    [hour] = found.history
    assert (hour.hour, hour.videos, found.history_videos) == (12, 10, 10)
    # Video i, posted Oct 1+i at 12:00, is played Oct 2+i from 10:00, play k in hour
    # 10 + k % 6: hours 10 and 11 (ages 22 and 23) are in its first 24 hours.
    firsts = []
    for i in range(10):
        count = (190 + 5 * i) if i % 2 == 0 else (95 + 2 * i)
        firsts.append(sum(1 for k in range(count) if k % 6 in (0, 1)))
    assert hour.median_views_24h == statistics.median(firsts)


def test_too_few_whole_first_days_say_not_enough_history(insights_db) -> None:
    with open_studio(insights_db, VIRAL, policy=POLICY) as studio:
        found = best_times(studio, studio.period("28d"))
    # Six videos lived a whole first day (the two young ones have not yet): under ten.
    assert found.history == [] and found.history_videos == 6
    assert found.history_note == "not enough history yet"
