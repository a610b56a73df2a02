"""The README's metric and dimension tables say what the code defines, word for word."""

from __future__ import annotations

from creatorlens.query.metrics import DIMENSIONS, METRICS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_every_metric_is_in_the_readme_with_its_definition_and_dimensions() -> None:
    missing = [
        name
        for name, metric in METRICS.items()
        if f"| `{name}` | {metric.definition} | {', '.join(sorted(metric.dimensions)) or '—'} |"
        not in README
    ]
    assert missing == []


def test_every_dimension_is_in_the_readme_with_its_definition() -> None:
    missing = [
        name
        for name, dim in DIMENSIONS.items()
        if f"| `{name}` | {dim.definition} | {'yes' if dim.person else 'no'} |" not in README
    ]
    assert missing == []
