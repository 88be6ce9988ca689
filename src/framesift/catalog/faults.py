"""Named points in the write path where tests inject faults (crash-safety tests).

Set ``FRAMESIFT_CATALOG_FAULT=<point>`` (or ``<point>@<n>`` for the n-th time the point is
reached in this process) and the process kills itself with SIGKILL there, exactly as a
power cut or an OOM kill would end it. ``<point>[@<n>]:stop`` stops it with SIGSTOP
instead, so a test can force an order of steps between real processes (continue it with
SIGCONT). Several faults are separated by commas, one per point. In-process tests
register a callable with :func:`set_fault_hook` instead (to stop an S3 server at a chosen
moment, for example).

Points: ingest ``after_fingerprint``, ``mid_thumbnails``, ``after_parts``,
``after_commit``, ``after_retire``; compaction ``compact_listed`` (state read, nothing
written), ``compact_files_written`` (before the snapshot marker), ``compact_published``;
vacuum ``vacuum_fenced`` (an uncommitted generation closed, its files not yet deleted);
repair ``repair_tombstoned`` (a damaged video hidden, its files not yet retired); sync
``sync_mid_files`` (a file read from the source, not yet written to the target),
``sync_files_copied`` (a video's files copied, its marker not yet), ``sync_committed``
(its marker created at the target, older generations not yet retired); a long video split
across workers ``range_started`` (a worker starting one of its time ranges).
``FRAMESIFT_CATALOG_HANG=<point>`` makes the process wait there instead, until something
kills it (tests that kill a busy worker or its parent from outside).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

__all__ = ["FAULT_ENV", "FAULT_POINTS", "HANG_ENV", "fault_point", "set_fault_hook"]

logger = logging.getLogger(__name__)

FAULT_ENV = "FRAMESIFT_CATALOG_FAULT"
HANG_ENV = "FRAMESIFT_CATALOG_HANG"
FAULT_POINTS: tuple[str, ...] = (
    "after_fingerprint",
    "mid_thumbnails",
    "after_parts",
    "after_commit",
    "after_retire",
    "compact_listed",
    "compact_files_written",
    "compact_published",
    "vacuum_fenced",
    "repair_tombstoned",
    "sync_mid_files",
    "sync_files_copied",
    "sync_committed",
    "range_started",
)

_hook: Callable[[str], None] | None = None
_counts: Counter[str] = Counter()
_lock = threading.Lock()


def set_fault_hook(hook: Callable[[str], None] | None) -> None:
    """Call ``hook(point)`` at every fault point of this process (None: stop)."""
    global _hook
    _hook = hook


def fault_point(point: str) -> None:
    """Mark a point of the write path; a no-op unless a fault is armed."""
    if _hook is not None:
        _hook(point)
    if os.environ.get(HANG_ENV) == point:
        logger.warning("fault injection: waiting at %s until killed", point)
        while True:
            time.sleep(1)
    armed = os.environ.get(FAULT_ENV)
    if not armed:
        return
    faults = [f.partition(":") for f in armed.split(",")]
    wanted = {name: (nth, mode) for f, _, mode in faults for name, _, nth in [f.partition("@")]}
    if point not in wanted:
        return
    nth, mode = wanted[point]
    with _lock:
        _counts[point] += 1
        count = _counts[point]
    if count == (int(nth) if nth else 1):
        stop = mode == "stop"
        how = "SIGSTOP" if stop else "SIGKILL"
        logger.warning("fault injection: %s at %s (#%d)", how, point, count)
        os.kill(os.getpid(), signal.SIGSTOP if stop else signal.SIGKILL)
