"""The event lake: the store's pseudonymized events as date-partitioned Delta tables, for
Spark to roll up at a scale one DuckDB file does not reach (see docs/scaling.md).

`export_store` writes a store's events to the lake exactly once (`LakeFeed` does it in
batches for the collector, behind the serving store); `run_spark_rollups` runs
the rollup definitions on Spark over it, incrementally by date; `load_rollups` puts what
Spark made into a DuckDB store, so the runner and the privacy layer serve it as always.
"""

from creatorlens.lake.export import (
    ExportSummary,
    export_store,
    ingest_to_lake,
    open_store_for_export,
)
from creatorlens.lake.feed import LakeFeed
from creatorlens.lake.rollups import SparkSummary, run_spark_rollups
from creatorlens.lake.serving import LoadSummary, load_rollups
from creatorlens.lake.tables import LAKE_TABLES, LakeTable, lake_files, lake_snapshot

__all__ = [
    "LAKE_TABLES",
    "ExportSummary",
    "LakeFeed",
    "LakeTable",
    "LoadSummary",
    "SparkSummary",
    "export_store",
    "ingest_to_lake",
    "lake_files",
    "lake_snapshot",
    "load_rollups",
    "open_store_for_export",
    "run_spark_rollups",
]
