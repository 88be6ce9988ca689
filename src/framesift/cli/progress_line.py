"""The command's progress display: one self-overwriting status line on stderr.

An adapter at the edge: the library reports :class:`~framesift.progress.ProgressEvent`
values and never draws; this turns them into ``URL  42.0% 30/71 s of video, 3.1x
realtime`` (``URL (speech) ...`` for the stages after sampling).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from framesift.progress import SAMPLE, ProgressEvent

__all__ = ["ProgressLine", "add_progress_argument"]


class ProgressLine:
    """A self-overwriting status line on stderr while a video is worked on.

    Shown on a terminal (or with ``--progress``); ``--no-progress`` hides it. It hears
    :meth:`report` (a :data:`~framesift.progress.ProgressHandler`) or, for one labelled
    stretch, ``line(done_s, total_s)`` after :meth:`start`.
    """

    def __init__(self, enabled: bool | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = ""
        self._started = time.monotonic()
        self._width = 0

    def start(self, label: str) -> None:
        """Show ``label`` from now on, and measure the speed from now."""
        self.label = label
        self._started = time.monotonic()

    def report(self, event: ProgressEvent) -> None:
        """Show one progress event: ``URL`` while sampling, ``URL (stage)`` after."""
        label = event.url if event.stage == SAMPLE else f"{event.url} ({event.stage})"
        if label != self.label:
            self.start(label)
        self(event.done, event.total)

    def __call__(self, done_s: float, total_s: float) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        share = f"{100.0 * done_s / total_s:5.1f}% " if total_s > 0 else ""
        line = (
            f"{self.label} {share}{done_s:,.0f}/{total_s:,.0f} s of video, "
            f"{done_s / elapsed:.1f}x realtime"
        )
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def clear(self) -> None:
        """Blank the line, before a result is printed."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``: :class:`ProgressLine`'s ``enabled``."""
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )
