"""The query model: one typed query, one runner of true counts, for every interface.

What the runner returns (`creatorlens.query.raw`) is never shown as it is: the release
stage (`creatorlens.privacy.release`) decides what an audience may see of it.
"""

from __future__ import annotations

from creatorlens.query.model import Filter, Period, Query, QueryError, parse_query, resolve_period
from creatorlens.query.runner import Context

__all__ = [
    "Context",
    "Filter",
    "Period",
    "Query",
    "QueryError",
    "parse_query",
    "resolve_period",
]
