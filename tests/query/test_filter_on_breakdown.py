"""A breakdown filtered on its own dimension: the rows of the unfiltered breakdown kept.

Reach by video (or by one attribute) is read from the viewer-day counts of each value,
where the video or attribute is the row's value, not a column of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from creatorlens.query import Filter, Query
from creatorlens.studio import open_studio
from tests.query.conftest import CREATOR, PERIOD, V1, V2


@pytest.mark.parametrize("kept", [(V1,), (V1, V2)])
def test_reach_by_video_filtered_to_videos_is_those_rows(hand_db: Path, kept) -> None:
    with open_studio(hand_db, CREATOR) as studio:
        metrics = ("reach", "plays")
        every = studio.answer(Query(CREATOR, metrics, PERIOD, ("video",))).rows
        only = studio.answer(
            Query(CREATOR, metrics, PERIOD, ("video",), (Filter("video", "is", kept),))
        ).rows
    expected = sorted((r for r in every if r["video"] in kept), key=lambda r: r["video"])
    assert expected, "the hand-made videos have plays in the period"
    assert sorted(only, key=lambda r: r["video"]) == expected
