"""The scopes a creator can grant an app, in the words the consent page shows, and what
no app is ever granted."""

from __future__ import annotations

from creatorlens.privacy.dp import AUDIENCE, FOLLOWERS, OVERVIEW, SCOPES, VIDEOS

SCOPE_TEXT = {
    OVERVIEW: "your totals and daily series: plays, views, watch time, reach, likes, "
    "comments, shares, saves and profile views",
    VIDEOS: "the same figures for each of your videos",
    AUDIENCE: "how many of your viewers are of each country, age bucket and gender "
    "(counts only, and only for groups large enough to hide anyone)",
    FOLLOWERS: "followers gained and lost, and how many of your viewers follow you",
}
assert set(SCOPE_TEXT) == set(SCOPES)

# Never grantable: no scope reaches them, and an app token is refused on every route that
# serves them (they are the creator API's, and need a creator token).
NEVER_GRANTED = (
    "who liked your videos",
    "who commented, mentioned, dueted or stitched",
    "who watched your LIVE",
    "your notifications",
    "exports of rows",
    "anything that names a person",
)
