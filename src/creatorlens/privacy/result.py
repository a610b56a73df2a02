"""What a released query answer is: rows, totals, comparison, and what was withheld."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from creatorlens.privacy.suppression import Withheld
from creatorlens.query.model import Query

Row = dict[str, Any]


@dataclass(frozen=True)
class QueryResult:
    """A query's answer after the privacy policy: safe to show to the creator."""

    query: Query
    rows: list[Row]
    totals: Row
    comparison: Row | None = None
    withheld: list[Withheld] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data for JSON: the same content the terminal and web render."""
        return {
            "query": query_json(self.query),
            "rows": self.rows,
            "totals": self.totals,
            "comparison": self.comparison,
            "withheld": [w.to_json() for w in self.withheld],
        }


def query_json(q: Query) -> dict[str, Any]:
    """The question an answer is for, as plain data."""
    return {
        "creator_id": q.creator_id,
        "metrics": list(q.metrics),
        "dimensions": list(q.dimensions),
        "filters": [[f.op, f.dimension, list(f.values)] for f in q.filters],
        "period": {
            "from": q.period.start.isoformat(),
            "to": q.period.end.isoformat(),
            "label": q.period.label,
        },
        "compare": q.compare,
    }
