"""Many videos at once: the per-video ingest run on a process pool or a Dask cluster.

``framesift.ingest(..., executor=ExecutorSpec("process", workers=4))`` runs each video's
``ingest_one`` in a worker; the catalog's commit protocol and the jobs ledger make the
workers' writes safe and the batch resumable (see docs/catalog.md).
"""

from __future__ import annotations

from framesift.batch.executors import EXECUTOR_KINDS, ExecutorSpec, open_executor

__all__ = ["EXECUTOR_KINDS", "ExecutorSpec", "open_executor"]
