"""Imports a command needs only later, started in a background thread once its pass runs.

A sampling pass records its rows in plain lists and typed arrays and needs polars, if at
all, only at its end: ``framesift scenes`` prints its table with it, and ``framesift
sample`` selects a fast scan's frames and writes analyzers' detections with it (a
streaming pass's own tables are written without it, :mod:`framesift.pass_tables`). Yet
importing polars costs about as much as a short video's decode. Such a command starts that
import in a thread once its pass has begun decoding, so it runs while PyAV decodes
(FFmpeg's decoding releases the GIL), and joins it before the tables are made::

    from framesift.output import write_sample   # the pass's own imports first
    with imported_in_background(LATER_FOR_SAMPLING, start=False) as later:
        # started by the pass's first progress report: probe done, decoder open
        result = write_sample(..., progress=later.started_by(report))

Not earlier: beside the pass's imports, which run Python code as polars's do, the thread
only takes turns with them at the interpreter lock (the start-up is no shorter) and slows
them (benchmarks/RESULTS.md, "Seventh session"). Nor beside the probe: it reads a packet at
a time, each read handing the interpreter lock over, and got it back only when the
import's thread let go, up to the switch interval later (the probe took ~0.2 s instead of
~0.03 s on a 720p trailer; "Eighth session").

Nothing else changes: the modules that use polars still ``import polars`` where they use
it, and Python's import lock makes such an import wait for the thread's (or do it, if the
thread failed or never started). A failed import in the thread is not raised there: the
same import fails again, in the usual way, where the module is needed.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from framesift.progress import SecondsProgress

__all__ = ["LATER_FOR_SAMPLING", "LaterImports", "imported_in_background"]

logger = logging.getLogger(__name__)

LATER_FOR_SAMPLING: tuple[str, ...] = ("polars",)
"""What a sampling command may need only at its pass's end: polars, for the tables it
prints or makes with it."""


def _import_all(modules: Sequence[str]) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # raised again where the module is used
            logger.debug("background import of %s failed: %s", name, exc)


class LaterImports:
    """A background import of ``modules``: started once (:meth:`start`, or the first
    report through :meth:`started_by`), joined by :func:`imported_in_background`."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = tuple(modules)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the import now (once; later calls do nothing)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=_import_all,
                args=(self.modules,),
                name="framesift-imports",
                daemon=False,
            )
            self._thread.start()

    def started_by(self, progress: SecondsProgress) -> SecondsProgress:
        """``progress``, starting the import at its first report (a pass reports once
        before its first frame, with the video probed and its decoder open)."""

        def report(done_s: float, total_s: float) -> None:
            self.start()
            progress(done_s, total_s)

        return report

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()


@contextmanager
def imported_in_background(modules: Sequence[str], *, start: bool = True) -> Iterator[LaterImports]:
    """Import ``modules`` in a thread while the block runs, from its start or (``start=False``)
    from when the block starts it; joined when the block ends (whether or not it raised),
    so no import is left running at the interpreter's exit."""
    later = LaterImports(modules)
    if start:
        later.start()
    try:
        yield later
    finally:
        later.join()
