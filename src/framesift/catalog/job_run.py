"""One run of one ingest job: its catalog and ledger entry, its stage clock, its URL as
shown, and how it ends (done, failed, or its write and commit handed to a
:class:`~framesift.catalog.overlap.CommitOverlap`). The per-video unit that drives it is
:mod:`framesift.catalog.ingest`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from framesift.analyzers import AnalyzerOutput
from framesift.catalog.catalog import Catalog
from framesift.catalog.job import IngestJob, IngestOutcome, Status
from framesift.catalog.jobs import JobLedger
from framesift.catalog.overlap import CommitOverlap
from framesift.catalog.stages import StageClock
from framesift.catalog.timed_text import TextProgress, video_text
from framesift.errors import FramesiftError, StorageError
from framesift.limits import Deadline
from framesift.progress import SAMPLE, ProgressEvent, ProgressHandler, SecondsProgress, for_stage
from framesift.retries import failure_kind
from framesift.text.model import TextSegment

__all__ = ["JobRun", "VideoFailed"]

# The per-video unit's messages go out under its one name (the CLI, having printed each
# failed video on its own line, quiets that name).
logger = logging.getLogger("framesift.catalog.ingest")


class VideoFailed(Exception):
    """This video failed (its source, its media, a writer that committed first): recorded
    as the job's outcome while the batch goes on. Carries the typed error."""

    def __init__(self, error: FramesiftError) -> None:
        super().__init__(str(error))
        self.error = error


class JobRun:
    """One run of one job: its catalog and ledger entry, its clock, its URL as shown."""

    def __init__(
        self,
        job: IngestJob,
        cat: Catalog,
        progress: ProgressHandler | None,
        clock: StageClock,
        overlap: CommitOverlap | None = None,
    ) -> None:
        self.job = job
        self.overlap = overlap
        self.cat = cat
        self.progress = progress
        self.clock = clock
        self.shown = job.source.shown
        # The wall-time limit holds for the whole video: the pass checks its own as it
        # decodes, text extraction checks this one each time it reports how far it got.
        self.deadline = Deadline(
            self.shown, job.spec.decode.limits.max_video_s, "sampling and text extraction"
        )
        self.ledger = JobLedger(cat.storage)
        self.job_id = self.ledger.start(job.source.url, job.settings_hash)

    def done(
        self, status: Status, video_id: str, generation: int, frames: int = 0
    ) -> IngestOutcome:
        timings = self.clock.fields()
        self.ledger.done(self.job_id, video_id=video_id, outcome=status, timings=timings)
        if status == "skipped":
            logger.info("%s: already in the catalog as %s, skipped", self.shown, video_id)
        elif status == "updated":
            logger.info(
                "%s: text or analyzers updated as %s (generation %d)",
                self.shown,
                video_id,
                generation,
            )
        else:
            logger.info("%s: %s as %s (generation %d)", self.shown, status, video_id, generation)
        return IngestOutcome(
            self.shown, status, video_id, generation, frames, seconds=timings["wall_s"]
        )

    def finish(self, video_id: str, rest: Callable[[], IngestOutcome]) -> IngestOutcome | None:
        """The rest of the job (write, commit, ledger): here, or handed to the overlap
        (from the hand-over until the background thread takes it up, the commit before it
        included, the video waits for its writer: counted as writing)."""
        if self.overlap is None:
            return rest()
        handed = time.perf_counter()

        def caught() -> IngestOutcome:
            self.clock.add("write", time.perf_counter() - handed)
            try:
                return rest()
            except VideoFailed as failure:
                return self.failed(failure.error, video_id)

        self.overlap.defer(video_id, caught)
        return None

    def failed(self, exc: FramesiftError, video_id: str | None) -> IngestOutcome:
        message = self.cat.storage.redact(str(exc))
        error_type, kind, timings = type(exc).__name__, failure_kind(exc), self.clock.fields()
        logger.warning("%s failed: %s: %s", self.shown, error_type, message)
        self.ledger.failed(
            self.job_id,
            error_type=error_type,
            message=message,
            video_id=video_id,
            kind=kind,
            timings=timings,
        )
        seconds = timings["wall_s"]
        return IngestOutcome(
            self.shown, "failed", video_id, None, 0, error_type, message, seconds, kind
        )

    def catalog_failed(self, exc: StorageError, video_id: str) -> None:
        """Record a failure to write the catalog, if the catalog still takes the record."""
        try:
            self.ledger.failed(
                self.job_id,
                error_type=type(exc).__name__,
                message=str(exc),
                video_id=video_id,
                kind=failure_kind(exc),
                timings=self.clock.fields(),
            )
        except StorageError:
            logger.debug("could not record the failure of job %s either", self.job_id)

    def sample_progress(self) -> SecondsProgress | None:
        return None if self.progress is None else for_stage(self.progress, self.shown, SAMPLE)

    def text_progress(self) -> TextProgress:
        """Text extraction names its stage (``speech``, ``ocr``) in each call; each call
        also checks the video's wall-time limit (MediaLimitError once it is over)."""
        handler, shown, deadline = self.progress, self.shown, self.deadline

        def report(stage: str, done_s: float, total_s: float) -> None:
            deadline.check()
            if handler is not None:
                handler(ProgressEvent(shown, stage, done_s, total_s))

        return report

    def text(
        self, media: Any, frames: pl.DataFrame, analyzed: AnalyzerOutput | None
    ) -> list[TextSegment]:
        """The video's timed text, each source timed (see :mod:`framesift.catalog.timed_text`)."""
        return video_text(
            self.job, media, frames, analyzed, clock=self.clock, progress=self.text_progress()
        )
