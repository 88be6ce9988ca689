"""One video's commit overlapped with the next video's decoding, in a batch run in one
process.

Once a video is sampled, what is left of it (the parts built and written, the commit
marker, the older generations retired, its ledger entry) runs on one background thread
while the batch's thread goes on with the next video's fingerprint, probe and decoding
pass: on two cores the commit no longer stops both of them. The pipeline is one deep: a
video's commit waits for the commit before it, so commits stay in the batch's order, and
a video whose content was the one still being committed waits for that commit first
(it is then skipped, as it would be one after the other).

Nothing about the commit protocol changes: each video is still all-or-nothing, its
marker written last, and a SIGKILL anywhere leaves what it leaves one after the other.
Each video's outcome reaches the batch on the batch's own thread (its progress and the
mirror hear of it there), as soon as the batch's thread next looks: at the next
progress event of the pass at hand, a few times a second, or when the next video is
handed over. A catalog that fails in the background (a StorageError after retries) is
raised on the batch's thread at the next hand-over, as it would have been one after the
other; the video being sampled then is left unfinished (``interrupted`` in the ledger).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from framesift.catalog.job import IngestOutcome
from framesift.errors import FramesiftError
from framesift.progress import ProgressEvent, ProgressHandler

__all__ = ["CommitOverlap"]

logger = logging.getLogger(__name__)


class CommitOverlap:
    """The background commit of one video at a time, its outcome delivered on the batch's
    thread as ``deliver(index, outcome)``.

    >>> with CommitOverlap(finished) as overlap:              # doctest: +SKIP
    ...     for index, job in enumerate(jobs):
    ...         with overlap.job(index):
    ...             outcome = ingest_overlapped(job, overlap, catalog=cat)
    """

    def __init__(self, deliver: Callable[[int, IngestOutcome], None]) -> None:
        self._deliver = deliver
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="framesift-commit")
        self._owner = threading.get_ident()
        self._index: int | None = None
        self._pending: tuple[int, str, Future[IngestOutcome]] | None = None

    def __enter__(self) -> CommitOverlap:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc is None:
                self.settle()
            else:  # the batch stops: the commit under way still ends, one way or the other
                self._finish_quietly()
        finally:
            self._thread.shutdown(wait=True)

    @contextlib.contextmanager
    def job(self, index: int) -> Iterator[None]:
        """Run the batch's job ``index`` inside the block (its commit is deferred under
        that index)."""
        self._index = index
        try:
            yield
        finally:
            self._index = None

    def defer(self, video_id: str, commit: Callable[[], IngestOutcome]) -> None:
        """Run ``commit`` (the rest of the current job, returning its outcome) in the
        background, once the commit before it has ended."""
        if self._index is None:
            raise RuntimeError("defer() outside CommitOverlap.job()")
        self.settle()
        self._pending = (self._index, video_id, self._thread.submit(commit))

    def settle(self, video_id: str | None = None) -> None:
        """Wait for the commit under way (only if it is ``video_id``'s, when given) and
        deliver its outcome; raise what it raised (the catalog failed)."""
        pending = self._pending
        if pending is None or (video_id is not None and pending[1] != video_id):
            return
        self._pending = None
        index, _, future = pending
        self._deliver(index, future.result())

    def deliver_ready(self) -> None:
        """Deliver the outcome of a commit that has ended; never waits, never raises (what
        it raised waits for :meth:`settle`). Only on the batch's thread."""
        pending = self._pending
        if threading.get_ident() != self._owner or pending is None:
            return
        future = pending[2]
        if future.done() and future.exception() is None:
            self._pending = None
            self._deliver(pending[0], future.result())

    def progress(self, handler: ProgressHandler | None) -> ProgressHandler:
        """``handler`` (or none) delivering ended commits first, at each progress event."""

        def heard(event: ProgressEvent) -> None:
            self.deliver_ready()
            if handler is not None:
                handler(event)

        return heard

    def _finish_quietly(self) -> None:
        """The batch is stopping on its own error: end the commit under way and deliver
        its outcome; a failure of it too is logged (the batch's error is the one raised)."""
        try:
            self.settle()
        except FramesiftError as exc:  # the batch's own error is the one raised
            logger.warning("the last commit failed too: %s: %s", type(exc).__name__, exc)
