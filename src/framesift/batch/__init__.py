"""Many videos at once: the batch loop around the per-video ingest, and where it runs.

``framesift.ingest(sources, catalog, spec, executor=ExecutorSpec("process", workers=4))``
builds one job per source, queues it in the catalog's jobs ledger and runs each job's
``ingest_one`` in this process, on a local process pool or on a Dask cluster; the
catalog's commit protocol and the jobs ledger make the workers' writes safe and the batch
resumable (see docs/catalog.md).

Modules: ``executors`` (where jobs run), ``loop`` (``ingest``, ``run_jobs``), ``summary``
(``IngestSummary``), ``calibrate`` (``estimate_ingest``: a collection estimate calibrated by
ingesting the start of a few videos). The job and outcome values live with the per-video unit in
:mod:`framesift.catalog.job`, below this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from framesift.batch.calibrate import calibrate_ingest, estimate_ingest
    from framesift.batch.executors import EXECUTOR_KINDS, ExecutorSpec, JobPool, open_executor
    from framesift.batch.loop import ingest, run_jobs
    from framesift.batch.summary import IngestProgress, IngestSummary
    from framesift.catalog.job import IngestJob, IngestOutcome

__all__ = [
    "EXECUTOR_KINDS",
    "ExecutorSpec",
    "IngestJob",
    "IngestOutcome",
    "IngestProgress",
    "IngestSummary",
    "JobPool",
    "calibrate_ingest",
    "estimate_ingest",
    "ingest",
    "open_executor",
    "run_jobs",
]

# Imported on first use: the loop brings the catalog (DuckDB, S3 support) and the executors
# multiprocessing; a command that needs neither (the CLI building its parser) starts
# without them.
_LAZY = {
    **dict.fromkeys(
        ("EXECUTOR_KINDS", "ExecutorSpec", "JobPool", "open_executor"), "framesift.batch.executors"
    ),
    "IngestJob": "framesift.catalog.job",
    "IngestOutcome": "framesift.catalog.job",
    "IngestProgress": "framesift.batch.summary",
    "IngestSummary": "framesift.batch.summary",
    "calibrate_ingest": "framesift.batch.calibrate",
    "estimate_ingest": "framesift.batch.calibrate",
    "ingest": "framesift.batch.loop",
    "run_jobs": "framesift.batch.loop",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
