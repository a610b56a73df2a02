"""Sentiment benchmark: VADER (as `rollup.sentiment` scores comments) on the labelled set.

    .venv/bin/python bench/sentiment.py [--labelled tests/insights/sentiment_labelled.csv]

Prints the accuracy over the set and per kind (positive, neutral, negative, emoji, slang,
negation, sarcasm, non_english), the confusion matrix (true label x predicted), and the
scoring speed against a baseline measured in the same run (a constant "neutral" guess, the
accuracy floor; and VADER without the per-text cache, the speed floor).
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from creatorlens.rollup.sentiment import LABELS, score

console = Console()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelled", type=Path,
                        default=Path("tests/insights/sentiment_labelled.csv"))  # fmt: skip
    args = parser.parse_args()
    with args.labelled.open(newline="") as f:
        rows = list(csv.DictReader(f))
    score.cache_clear()
    t0 = time.perf_counter()
    predicted = [score(r["text"]).label for r in rows]
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(20):
        for r in rows:
            score(r["text"])
    warm = (time.perf_counter() - t0) / 20
    right = [p == r["label"] for p, r in zip(predicted, rows, strict=True)]
    baseline = sum(r["label"] == "neutral" for r in rows) / len(rows)
    console.print(f"{len(rows)} labelled comments: accuracy {sum(right) / len(rows):.3f} "
                  f"(baseline, always neutral: {baseline:.3f})")  # fmt: skip
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for ok, r in zip(right, rows, strict=True):
        by_kind[r["kind"]].append(ok)
    kinds = Table(title="accuracy by kind")
    for col in ("kind", "comments", "right", "accuracy"):
        kinds.add_column(col, justify="right")
    for kind, oks in by_kind.items():
        kinds.add_row(kind, str(len(oks)), str(sum(oks)), f"{sum(oks) / len(oks):.2f}")
    console.print(kinds)
    confusion = Counter((r["label"], p) for r, p in zip(rows, predicted, strict=True))
    matrix = Table(title="confusion (rows: true label, columns: predicted)")
    matrix.add_column("true \\ predicted")
    for label in LABELS:
        matrix.add_column(label, justify="right")
    for true in LABELS:
        matrix.add_row(true, *(str(confusion[(true, p)]) for p in LABELS))
    console.print(matrix)
    console.print(f"speed: {len(rows) / cold:,.0f} comments/s first time (lexicon load "
                  f"included), {len(rows) / warm:,.0f}/s cached by text "
                  f"(x{cold / warm:.0f} the uncached pass)")  # fmt: skip
    wrong = [(r["kind"], r["text"], r["label"], p)
             for r, p, ok in zip(rows, predicted, right, strict=True) if not ok]  # fmt: skip
    console.print(f"misread ({len(wrong)}), first 15:")
    for kind, text, label, p in wrong[:15]:
        console.print(f"  [{kind}] {text!r}: {label} read as {p}", highlight=False)


if __name__ == "__main__":
    main()
