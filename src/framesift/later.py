"""Imports a command needs only later, started now in a background thread.

A sampling pass needs polars only for its tables at the end (the pass records rows in
plain lists and typed arrays; :mod:`framesift.schema` builds its polars types on first
use), yet importing polars costs about as much as a short video's decode. A command starts
that import in a thread once the modules of its pass are imported, so it runs while PyAV
decodes (FFmpeg's decoding releases the GIL), and joins it before the tables are written::

    from framesift.output import write_sample   # the pass's own imports first
    with imported_in_background(LATER_FOR_SAMPLING):
        result = write_sample(...)   # the pass; its ``import polars`` at the end waits

Not earlier: beside the pass's imports, which run Python code as polars's do, the thread
only takes turns with them at the interpreter lock (the start-up is no shorter) and slows
them (benchmarks/RESULTS.md, "Seventh session").

Nothing else changes: the modules that use polars still ``import polars`` where they use
it, and Python's import lock makes such an import wait for the thread's (or do it, if the
thread failed). A failed import in the thread is not raised there: the same import fails
again, in the usual way, where the module is needed.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["LATER_FOR_SAMPLING", "imported_in_background"]

logger = logging.getLogger(__name__)

LATER_FOR_SAMPLING: tuple[str, ...] = ("polars",)
"""What a sampling pass needs only at its end: the tables (Parquet is written by polars
itself, without pyarrow)."""


def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # raised again where the module is used
            logger.debug("background import of %s failed: %s", name, exc)


@contextmanager
def imported_in_background(modules: Sequence[str]) -> Iterator[threading.Thread]:
    """Import ``modules`` in a thread while the block runs; joined when the block ends
    (whether or not it raised), so no import is left running at the interpreter's exit."""
    thread = threading.Thread(
        target=_import_all, args=(tuple(modules),), name="framesift-imports", daemon=False
    )
    thread.start()
    try:
        yield thread
    finally:
        thread.join()
