"""Virality alerts: the planted viral video is alerted, the steady young one is not."""

from __future__ import annotations

import numpy as np

from creatorlens.insights import virality
from creatorlens.insights.virality import Z_ALERT, robust_z
from creatorlens.studio import open_studio
from tests.insights.conftest import POLICY, VIRAL


def test_a_planted_viral_video_is_alerted_and_a_steady_one_is_not(insights_db) -> None:
    with open_studio(insights_db, VIRAL, policy=POLICY) as studio:
        found = virality(studio)
    assert [a.video for a in found.alerts] == ["v-viral"]
    alert = found.alerts[0]
    # Latest hour 2026-10-20 11:00; posted 02:00: 9 hours old, its latest 6 hours (ages
    # 4-9) hold 6 x 60 views and 6 x 6 shares; the others did 5 views an hour then.
    assert alert.age_hours == 9
    assert (alert.views, alert.shares) == (360, 36)
    assert alert.baseline_views == 30
    steady = [a for a in found.checked if a.video == "v-steady"]
    assert steady and steady[0].z_views < Z_ALERT


def test_the_robust_z_of_a_typical_value_is_small() -> None:
    base = np.array([30, 28, 33, 31, 29, 30], float)
    assert abs(robust_z(30, base)) < 1
    assert robust_z(360, base) > Z_ALERT
