"""Comment sentiment: scored once at refresh, shares, themes without quoting a comment,
Portuguese labelled as not English, a labelled set read by VADER, no network."""

from __future__ import annotations

import csv
import socket
from collections import Counter
from pathlib import Path

import pytest

from creatorlens.insights import sentiment
from creatorlens.rollup import sentiment as scorer
from creatorlens.store import Store
from creatorlens.studio import open_studio
from tests.insights.conftest import NEGATIVE, NEUTRAL, POLICY, PORTUGUESE, POSITIVE, WORKS

LABELLED = Path(__file__).with_name("sentiment_labelled.csv")


def test_shares_and_non_english_comments(insights_db) -> None:
    with open_studio(insights_db, WORKS, policy=POLICY) as studio:
        found = sentiment(studio, studio.period("28d"))
    english = len(POSITIVE) + len(NEGATIVE) + len(NEUTRAL)
    assert found.comments == english + len(PORTUGUESE)
    assert found.non_english == len(PORTUGUESE)  # labelled, not counted as neutral
    assert found.shares == {
        "positive": round(len(POSITIVE) / english, 4),
        "neutral": round(len(NEUTRAL) / english, 4),
        "negative": round(len(NEGATIVE) / english, 4),
    }
    assert list(found.by_video) == ["w1"]


def test_themes_are_words_of_several_comments_never_a_comment(insights_db) -> None:
    with open_studio(insights_db, WORKS, policy=POLICY) as studio:
        found = sentiment(studio, studio.period("28d"))
    positive = {t["word"]: t["comments"] for t in found.themes["positive"]}
    assert positive == {"love": 5}  # in all five positive comments
    # "boring" is in two negative comments only: under the three a theme needs.
    assert found.themes["negative"] == []
    assert found.withheld == ["comment themes: words of too few comments"]
    texts = {t.lower() for t in POSITIVE + NEGATIVE + NEUTRAL + PORTUGUESE}
    shown = str(found.to_json())
    assert not [t for t in texts if t in shown]


def test_comments_are_scored_once_at_refresh(insights_db) -> None:
    with Store.open(insights_db, read_only=True) as store:
        con = store.session()
        rows = con.execute("SELECT count(*), count(DISTINCT event_id) FROM comment_sentiment")
        assert rows.fetchone() == (13, 13)
    copy = insights_db.with_name("again.duckdb")
    copy.write_bytes(insights_db.read_bytes())
    copy.with_name(copy.name + ".keys").write_bytes(
        insights_db.with_name(insights_db.name + ".keys").read_bytes()
    )
    with Store.open(copy) as store:
        assert scorer.refresh_sentiment(store) == 0  # nothing new: nothing scored again


def test_the_lexicon_ships_in_the_package_no_network(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("no network at run time")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    scorer._analyzer.cache_clear()
    scorer._lexicon.cache_clear()
    scorer.score.cache_clear()
    assert scorer.score("I love this").label == "positive"
    assert scorer.score("I hate this").label == "negative"


def _labelled() -> list[dict[str, str]]:
    with LABELLED.open(newline="") as f:
        return list(csv.DictReader(f))


def test_the_labelled_set_covers_the_hard_cases() -> None:
    rows = _labelled()
    assert len(rows) >= 150
    kinds = Counter(r["kind"] for r in rows)
    for kind in ("positive", "neutral", "negative", "emoji", "slang", "negation", "sarcasm",
                 "non_english"):  # fmt: skip
        assert kinds[kind] >= 5, kind
    assert {r["label"] for r in rows} <= set(scorer.LABELS)


@pytest.mark.parametrize("kind", ["positive", "negative", "neutral", "non_english"])
def test_plain_comments_are_read_right(kind) -> None:
    """The clear-cut kinds: at least 85 % right (bench/sentiment.py prints every kind)."""
    rows = [r for r in _labelled() if r["kind"] == kind]
    right = sum(scorer.score(r["text"]).label == r["label"] for r in rows)
    assert right / len(rows) >= 0.85, (kind, right, len(rows))
