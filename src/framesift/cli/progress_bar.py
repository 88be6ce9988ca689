"""A batch's progress bar: videos done and failed, kept frames per second, time left.

An adapter at the edge, like :mod:`~framesift.cli.progress_line`: the library reports
through its callbacks (``progress(outcome, done, total)`` after each video, and, for
in-process runs, ``video_progress(event)`` with :class:`~framesift.progress.ProgressEvent`
values) and never draws; this turns them into one ``tqdm.auto`` bar, a text bar in a
terminal and a widget in a notebook. A batch on a process pool or a Dask cluster reports
each finished video to the same callback, so it shows the same bar (in steps of whole
videos; an in-process batch also moves within the video at hand).

Shown when it has somewhere to go: on a terminal, or in a notebook open in Jupyter. Quiet
when the output is a pipe or a file, and in a notebook run without a front end (papermill,
``nbconvert --execute``), whose saved output would otherwise hold a bar nobody watched.
``enabled`` decides instead when given.

    with BatchProgressBar() as bar:
        framesift.ingest(videos, "catalog/", progress=bar.video_done,
                         video_progress=bar.video_progress)
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from framesift.progress import SAMPLE, ProgressEvent

if TYPE_CHECKING:
    from framesift.batch import IngestOutcome

__all__ = ["BatchProgressBar", "progress_wanted"]

# The counts are in the postfix: tqdm's own {n} would round a video half done up.
_KNOWN_TOTAL = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
_UNKNOWN_TOTAL = "{desc}: [{elapsed}{postfix}]"


def progress_wanted(stream: TextIO) -> bool:
    """Whether a progress display on ``stream`` has anyone to watch it: a terminal, or a
    notebook open in a Jupyter front end (whose server names the kernel's session in
    ``JPY_SESSION_NAME``; papermill and nbconvert start their kernels without one)."""
    if _in_jupyter_kernel():
        return bool(os.environ.get("JPY_SESSION_NAME"))
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty())


def _in_jupyter_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class BatchProgressBar:
    """One ``tqdm.auto`` bar over a batch's videos; its postfix counts failed videos and
    the frames kept per second so far, tqdm's own meter the time left.

    ``enabled`` None: see :func:`progress_wanted`. ``stream``: where a text bar goes
    (default stderr). ``leave``: keep the finished bar on screen; ``min_interval_s``: the
    shortest time between two drawings. Use it as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        enabled: bool | None = None,
        stream: TextIO | None = None,
        *,
        description: str = "ingest",
        leave: bool = True,
        min_interval_s: float = 0.1,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = progress_wanted(self.stream) if enabled is None else enabled
        self.description = description
        self.leave = leave
        self.min_interval_s = min_interval_s
        self.done = 0
        self.total: int | None = None  # known once the first video is done
        self.failed = 0
        self.kept_frames = 0
        self._started = time.monotonic()
        self.position = 0.0
        """Videos done, plus the share of the one at hand (in-process batches)."""
        self._bar: Any = None  # a tqdm, made on the first event when enabled

    # the library's callbacks --------------------------------------------------------

    def video_done(self, outcome: IngestOutcome, done: int, total: int) -> None:
        """An :data:`~framesift.batch.IngestProgress`: one more video finished."""
        self.done, self.total = done, total
        self.failed += outcome.status == "failed"
        self.kept_frames += outcome.frames
        bar = self._ensure_bar(total)
        if bar is None:
            return
        bar.set_description_str(self.description, refresh=False)
        bar.set_postfix_str(self.postfix(), refresh=False)
        self._move_to(float(done))

    def video_progress(self, event: ProgressEvent) -> None:
        """A :data:`~framesift.progress.ProgressHandler`: how far the video at hand has
        got (in-process batches); the bar moves by the share of its decoding pass."""
        bar = self._ensure_bar(None)
        if bar is None:
            return
        name = event.url.rstrip("/").rsplit("/", 1)[-1]
        bar.set_description_str(f"{self.description} {name} ({event.stage})", refresh=False)
        bar.set_postfix_str(self.postfix(), refresh=False)
        if event.stage == SAMPLE:
            self._move_to(self.done + min(event.fraction, 0.99))

    # what it shows --------------------------------------------------------------------

    def postfix(self) -> str:
        """``3/10 videos, 1 failed, 42.0 kept frames/s``."""
        elapsed = max(time.monotonic() - self._started, 1e-6)
        total = "?" if self.total is None else self.total
        return (
            f"{self.done}/{total} videos, {self.failed} failed, "
            f"{self.kept_frames / elapsed:.1f} kept frames/s"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> BatchProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -----------------------------------------------------------------------------------

    def _ensure_bar(self, total: int | None) -> Any:
        """The bar, made on first use; ``total`` None while the batch's size is unknown (an
        in-process batch reports its first video's progress before any video is done)."""
        if self._bar is None and self.enabled:
            # start-up: only a batch that shows a bar loads it
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self._bar = tqdm(
                total=total,
                desc=self.description,
                unit="video",
                file=self.stream,
                dynamic_ncols=True,
                leave=self.leave,
                mininterval=self.min_interval_s,
                bar_format=_UNKNOWN_TOTAL if total is None else _KNOWN_TOTAL,
            )
        if self._bar is not None and total is not None and self._bar.total != total:
            self._bar.total = total
            self._bar.bar_format = _KNOWN_TOTAL
        return self._bar

    def _move_to(self, position: float) -> None:
        """Move the bar to ``position`` videos (tqdm redraws it every ``min_interval_s`` at
        most)."""
        if position > self.position:
            self._bar.update(position - self.position)
            self.position = position
