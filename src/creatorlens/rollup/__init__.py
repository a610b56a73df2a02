"""Rollups: the aggregate tables dashboards read instead of raw events."""

from creatorlens.rollup.definitions import (
    DIALECTS,
    ROLLUP_TABLES,
    ROLLUPS,
    Column,
    Dialect,
    Rollup,
    render,
    render_create,
    render_input,
)
from creatorlens.rollup.refresh import (
    DEFAULT_VIEW_THRESHOLD_MS,
    RefreshSummary,
    create_rollup_tables,
    mark_creators_dirty,
    rebuild_rollups,
    refresh_rollups,
)

__all__ = [
    "DEFAULT_VIEW_THRESHOLD_MS",
    "DIALECTS",
    "ROLLUPS",
    "ROLLUP_TABLES",
    "Column",
    "Dialect",
    "RefreshSummary",
    "Rollup",
    "create_rollup_tables",
    "mark_creators_dirty",
    "rebuild_rollups",
    "refresh_rollups",
    "render",
    "render_create",
    "render_input",
]
