"""Ingest one video into a catalog: the per-video unit, resumable and idempotent.

:func:`ingest_one` runs one :class:`~framesift.catalog.job.IngestJob` (a frozen, picklable
value), so a process pool or a Dask cluster can run it in workers that each write their
own parts; commit markers make each video visible atomically and the jobs ledger records
every run. The batch loop around it (queueing, executors, the summary) is
:func:`framesift.batch.ingest`.

Per video, inside one new generation that nothing sees before its commit:
fingerprint -> skip if committed with the same settings (unless ``force``); if only the
text settings or the analyzers differ, extract the text or run the analyzers again and
carry the rest over -> sample, thumbnails streaming into ``thumbs/<id>/g<gen>/`` and kept
pictures into the analyzers' queue -> text -> analyzers' detections -> parts -> commit
marker -> retire the previous generation -> ledger ``done``. A video that fails (a
MediaError, a source that cannot be read, an analyzer that raised: AnalyzerError) leaves
no rows, only its ledger entry with the typed error, and the batch goes on. A failure to
write the *catalog* (a StorageError after retries) ends the batch with that error:
nothing half-written is visible and a re-run resumes. A failure that may pass (a storage
error of the source that gave up on a transient cause) is tried again with the catalog's
retry policy's backoff; the ledger says which kind each failure was
(:func:`framesift.retries.failure_kind`). Each run records its seconds per stage
(:mod:`framesift.catalog.stages`) in its ledger entry.
"""

from __future__ import annotations

import io
import json
import logging
import time
from datetime import UTC, datetime

import polars as pl

from framesift.analyzers import AnalyzerOutput, AnalyzerRunner, analyze_kept_frames
from framesift.catalog.catalog import Catalog
from framesift.catalog.commits import Commit
from framesift.catalog.faults import fault_point
from framesift.catalog.job import IngestJob, IngestOutcome, Status
from framesift.catalog.job_run import JobRun, VideoFailed
from framesift.catalog.overlap import CommitOverlap
from framesift.catalog.sampler import SampledVideo
from framesift.catalog.sources import fingerprint
from framesift.catalog.stages import StageClock
from framesift.catalog.tables import SCHEMAS, row_frame
from framesift.catalog.version import framesift_version
from framesift.catalog.video_row import analyzers_json, text_json, video_tables
from framesift.catalog.writer import VideoWriter
from framesift.errors import (
    AnalyzerError,
    CatalogConflictError,
    MediaError,
    SettingsError,
    StorageError,
)
from framesift.probe import MediaInfo, probe
from framesift.progress import ProgressHandler
from framesift.sample import PassStats, sample_video
from framesift.sink import ImageSink
from framesift.spec import AnalyzerSpec, SamplingSpec
from framesift.text.model import segments_frame

__all__ = ["ingest_one", "ingest_overlapped"]

logger = logging.getLogger(__name__)


def ingest_one(
    job: IngestJob,
    *,
    catalog: Catalog | None = None,
    progress: ProgressHandler | None = None,
) -> IngestOutcome:
    """Ingest the video of ``job``; safe to run again after any failure or crash.

    ``catalog``: the job's catalog, already open (in-process runs share one); None opens it
    from the job's URL and options (in a worker). ``progress`` hears
    :class:`~framesift.progress.ProgressEvent` values for the stages ``sample``, ``speech``
    and ``ocr`` of this video, its URL without credentials. Returns the outcome; raises
    only for catalog-side failures (StorageError after retries) so a batch stops when the
    catalog is unreachable. A transient failure of the video is tried again, with the
    catalog's retry policy (its attempts and backoff).
    """
    outcome = _ingest(job, catalog, progress, None)
    assert outcome is not None  # without an overlap, every run ends here
    return outcome


def ingest_overlapped(
    job: IngestJob,
    overlap: CommitOverlap,
    *,
    catalog: Catalog,
    progress: ProgressHandler | None = None,
) -> IngestOutcome | None:
    """:func:`ingest_one` in a batch run in one process: once the video is sampled, its
    write and commit run in ``overlap``'s background thread while the caller goes on with
    the next video. None when they were handed over (the outcome arrives through the
    overlap, :mod:`framesift.catalog.overlap`); the outcome when the video ended sooner
    (skipped, failed)."""
    return _ingest(job, catalog, progress, overlap)


def _ingest(
    job: IngestJob,
    catalog: Catalog | None,
    progress: ProgressHandler | None,
    overlap: CommitOverlap | None,
) -> IngestOutcome | None:
    """The attempts of one job; a transient failure of the video is tried again."""
    clock = StageClock(analyzers=bool(job.analyzer_spec.names))
    cat = catalog if catalog is not None else job.open_catalog()
    policy = cat.storage.retry
    attempt = 1
    while True:
        outcome = _ingest_attempt(JobRun(job, cat, progress, clock, overlap))
        if outcome is None or outcome.failure_kind != "transient" or attempt >= policy.attempts:
            return outcome
        delay = policy.delay_s(attempt)
        logger.warning(
            "%s: transient failure (attempt %d of %d: %s); trying again in %.2f s",
            outcome.source_url, attempt, policy.attempts, outcome.error_type, delay,
        )  # fmt: skip
        time.sleep(delay)
        attempt += 1
        clock = StageClock(analyzers=bool(job.analyzer_spec.names))


def _ingest_attempt(run: JobRun) -> IngestOutcome | None:
    """One run of the job: fingerprint, then the stages of :func:`_ingest_video`."""
    job = run.job
    try:
        with run.clock.stage("fingerprint"):
            video_id, size = fingerprint(
                job.source.url, job.source.storage_options, retry=run.cat.storage.retry
            )
    except (MediaError, StorageError) as exc:  # the source, not the catalog
        return run.failed(exc, None)
    fault_point("after_fingerprint")
    if run.overlap is not None:  # its content still being committed: skipped, as it would be
        run.overlap.settle(video_id)
    writer = run.cat.begin_video(video_id, settings_hash=job.settings_hash)
    try:
        return _ingest_video(run, writer, size)
    except VideoFailed as failure:
        return run.failed(failure.error, video_id)


def _ingest_video(run: JobRun, writer: VideoWriter, size: int) -> IngestOutcome | None:
    """The stages after the fingerprint; a failure of this video raises VideoFailed."""
    job, previous = run.job, writer.previous
    replacing = previous is not None and not previous.deleted
    if previous is not None and replacing and not job.force:
        if previous.settings_hash == job.settings_hash:
            return run.done("skipped", writer.video_id, previous.generation)
        generation = _update_derived(run, writer)
        if generation is not None:
            return run.done("updated", writer.video_id, generation)

    try:
        with run.clock.stage("analyzers"):
            runner = _open_runner(job.analyzer_spec)
    except SettingsError as exc:  # a model gone or changed since the batch checked it
        raise VideoFailed(exc) from exc
    try:
        # 1. sample: one decoding pass; thumbnails stream into this generation's prefix,
        #    kept pictures into the analyzers' queue.
        sampled, thumbnails = _sample(run, writer, runner)
        try:
            # 2. analyzers: their detections join the commit of the frames they describe.
            with run.clock.stage("analyzers"):
                analyzed = _finish_analyzers(run, sampled, runner)
            # 3. text: subtitles, sidecars, speech, OCR of the kept frames (the ocr
            #    analyzer's lines when it ran), on one timeline.
            segments = run.text(sampled.media, sampled.frames, analyzed)
        except (MediaError, StorageError, AnalyzerError) as exc:  # not the catalog
            _drop_prefix(run.cat, writer.thumbs_prefix)
            raise VideoFailed(exc) from exc
    finally:
        if runner is not None:
            runner.close()
    status: Status = "replaced" if replacing else "ingested"

    def write_and_commit() -> IngestOutcome:
        with run.clock.stage("write"):
            tables = video_tables(run.job, sampled, writer.video_id, writer.generation, size)
            tables["segments"] = segments_frame(segments, writer.video_id)
            if analyzed is not None:
                tables["detections"] = analyzed.detections
                tables["videos"] = tables["videos"].with_columns(
                    pl.lit(analyzed.runs_json()).alias("analyzer_runs")
                )
        # 4. write the parts, then the commit marker: the video becomes visible at once.
        commit = _commit(run, writer, tables, has_thumbnails=thumbnails > 0)
        fault_point("after_retire")
        return run.done(status, writer.video_id, commit.generation, sampled.frames.height)

    return run.finish(writer.video_id, write_and_commit)


def _open_runner(spec: AnalyzerSpec) -> AnalyzerRunner | None:
    """The analyzers of this job (models loaded), None when it runs none."""
    return AnalyzerRunner.of(spec) if spec.names else None


def _streams_to(runner: AnalyzerRunner | None, job: IngestJob) -> bool:
    """Whether the pass itself feeds the analyzers (framesift's streaming pass), rather
    than a decode of the kept frames afterwards (fast scan, custom sampler)."""
    return runner is not None and job.sampler is None and not job.spec.decode.fast


def _finish_analyzers(
    run: JobRun, sampled: SampledVideo, runner: AnalyzerRunner | None
) -> AnalyzerOutput | None:
    """The detections: from the queue the pass fed, or by decoding the kept frames."""
    if runner is None:
        return None
    if _streams_to(runner, run.job):
        return runner.finish()
    media = sampled.media if isinstance(sampled.media, MediaInfo) else probe(run.job.source)
    return analyze_kept_frames(run.job.source, media, sampled.frames, runner)


def _sample(
    run: JobRun, writer: VideoWriter, runner: AnalyzerRunner | None
) -> tuple[SampledVideo, int]:
    """The sampling pass with the catalog's image sink (and the analyzers taking its kept
    pictures); the result and thumbnails written."""
    sink = writer.image_sink()
    try:
        result = _timed_pass(run, sink, runner)
        with run.clock.stage("write"):  # the thumbnails' last writes
            sink.close()
    except (MediaError, AnalyzerError) as exc:
        sink.abort()
        _drop_prefix(run.cat, writer.thumbs_prefix)
        raise VideoFailed(exc) from exc
    except StorageError as exc:
        sink.abort()
        if sink.failure is None:  # reading the source failed, not writing the catalog
            _drop_prefix(run.cat, writer.thumbs_prefix)
            raise VideoFailed(exc) from exc
        run.catalog_failed(exc, writer.video_id)
        raise
    except BaseException:
        sink.abort()
        raise
    return result, sink.written


def _timed_pass(run: JobRun, sink: ImageSink, runner: AnalyzerRunner | None) -> SampledVideo:
    """The job's sampling pass, its time split into probe, decode, encode and the wait for
    the analyzers (see :mod:`framesift.catalog.stages`); a pass that fails counts as decode."""
    job, clock, sampler = run.job, run.clock, run.job.sampler
    streams = _streams_to(runner, job) and runner is not None
    with clock.stage("probe"):  # a custom sampler probes for itself (counted as decode)
        limit = job.sampling_spec.decode.limits.max_pixels
        media = probe(job.source, max_pixels=limit) if sampler is None else None
    began = time.perf_counter()
    result: SampledVideo | None = None
    try:
        if sampler is None:
            result = sample_video(
                job.source.url,
                job.sampling_spec,
                storage_options=job.source.storage_options,
                sink=sink,
                progress=run.sample_progress(),
                media=media,
                consumers=(runner,) if streams and runner is not None else (),
            )
        else:
            result = sampler(
                job.source.url,
                job.sampling_spec,
                storage_options=job.source.storage_options,
                sink=sink,
                progress=run.sample_progress(),
            )
        return result
    finally:
        stats = result.stats if result is not None else None
        encode = stats.encode_seconds if isinstance(stats, PassStats) else 0.0
        waited = runner.waited_s if streams and runner is not None else 0.0
        clock.add("encode", encode)
        clock.add("analyzers", waited)
        clock.add("decode", time.perf_counter() - began - encode - waited)


def _commit(
    run: JobRun, writer: VideoWriter, tables: dict[str, pl.DataFrame], *, has_thumbnails: bool
) -> Commit:
    """Parts, then the marker; a writer that committed first fails this video only."""
    try:
        return writer.commit(
            tables,
            settings_hash=run.job.settings_hash,
            source_url=run.shown,
            has_thumbnails=has_thumbnails,
            clock=run.clock,
        )
    except CatalogConflictError as exc:
        raise VideoFailed(exc) from exc
    except StorageError as exc:
        run.catalog_failed(exc, writer.video_id)
        raise


def _update_derived(run: JobRun, writer: VideoWriter) -> int | None:
    """When the video was sampled with these very sampling settings and only the text
    settings or the analyzers differ: extract its text again and/or run the analyzers on
    its kept frames again, and commit a generation that carries everything else over
    (frames, scenes, analysis, thumbnails: no copies). Returns the new generation, or None
    (sample it again)."""
    cat, job, previous = run.cat, run.job, writer.previous
    part = previous.parts.get("videos") if previous is not None else None
    if previous is None or part is None:
        return None
    row = pl.read_parquet(io.BytesIO(cat.storage.read_bytes(part))).row(0, named=True)
    try:
        before = SamplingSpec.from_dict(json.loads(row["sampling_spec"] or "{}"))
    except (SettingsError, ValueError):
        return None
    if before.fingerprint() != job.spec.fingerprint():
        return None
    frames = previous.parts.get("frames")
    kept = (
        pl.read_parquet(io.BytesIO(cat.storage.read_bytes(frames)))
        if frames is not None
        else pl.DataFrame(schema=SCHEMAS["frames"])
    )
    tables: dict[str, pl.DataFrame] = {}
    try:
        with run.clock.stage("probe"):
            media = probe(job.source, max_pixels=job.spec.decode.limits.max_pixels)
        if row.get("text_spec") != text_json(job.text):  # unknown (older rows): again
            tables["segments"] = segments_frame(run.text(media, kept, None), writer.video_id)
        if row.get("analyzer_spec") != analyzers_json(job.analyzers):
            with run.clock.stage("analyzers"):
                analyzed = _analyze_again(run, media, kept)
            tables["detections"] = analyzed.detections if analyzed else _no_detections()
            row["analyzer_runs"] = analyzed.runs_json() if analyzed else None
    except (MediaError, StorageError, AnalyzerError, SettingsError) as exc:
        raise VideoFailed(exc) from exc
    row.update(
        settings_hash=job.settings_hash,
        ingested_at=datetime.now(UTC),
        framesift_version=framesift_version(),
        generation=writer.generation,
        text_spec=text_json(job.text),
        analyzer_spec=analyzers_json(job.analyzers),
    )
    try:
        commit = writer.commit(
            {"videos": row_frame(row, "videos"), **tables},
            settings_hash=job.settings_hash,
            source_url=row["source_url"],
            has_thumbnails=False,
            carry_over=True,
            clock=run.clock,
        )
    except CatalogConflictError as exc:
        raise VideoFailed(exc) from exc
    return commit.generation


def _analyze_again(run: JobRun, media: MediaInfo, kept: pl.DataFrame) -> AnalyzerOutput | None:
    """The job's analyzers on the kept frames, decoded again (None: it runs none)."""
    runner = _open_runner(run.job.analyzer_spec)
    if runner is None:
        return None
    with runner:
        return analyze_kept_frames(run.job.source, media, kept, runner)


def _no_detections() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMAS["detections"])


def _drop_prefix(cat: Catalog, prefix: str) -> None:
    """Best-effort removal of a failed run's thumbnails (vacuum catches what is left)."""
    try:
        cat.storage.delete(cat.storage.list_files(prefix))
    except StorageError as exc:
        logger.warning("leaving thumbnails under %s to vacuum: %s", prefix, exc)
