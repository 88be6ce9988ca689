"""The batch loop: many sources into one catalog, in this process or on an executor.

:func:`ingest` expands the sources, builds one :class:`~framesift.catalog.job.IngestJob`
per source, queues them in the catalog's jobs ledger, runs them with :func:`run_jobs` and
compacts the catalog when enough new parts were committed. :func:`run_jobs` is the one place
where jobs are scheduled and their outcomes collected: serially here (each video's write
and commit behind the next video's decoding: :mod:`framesift.catalog.overlap`), or each in
a worker of a process pool or a Dask cluster, where a failing catalog stops the batch.

A lost worker costs only the video it was running. A local process pool breaks as a whole
when one of its processes dies, so every job it held comes back: those that had not
started (their ledger entry still ``queued``) are simply run again, on a new pool; those
that had started are retried once each, alone, so that a second loss can only be their own
(then they fail with :class:`~framesift.errors.WorkerLostError`, transient: a re-run tries
again). The ledger is reconciled with the commits before each batch, and a batch that stops
early leaves its unfinished sources ``interrupted``, not ``queued``. The per-video unit it
runs is :func:`framesift.catalog.ingest.ingest_one`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from typing import Any

from framesift.analyzers import check_analyzers
from framesift.batch.executors import ExecutorSpec, JobPool, worker_lost_errors
from framesift.batch.split import run_long_videos
from framesift.batch.summary import IngestProgress, IngestSummary
from framesift.catalog.catalog import Catalog
from framesift.catalog.ingest import ingest_one, ingest_overlapped
from framesift.catalog.job import IngestJob, IngestOutcome
from framesift.catalog.jobs import JobLedger, committed_settings, failed_sources, job_id_for
from framesift.catalog.mirror import CatalogMirror
from framesift.catalog.overlap import CommitOverlap
from framesift.catalog.sampler import Sampler
from framesift.errors import FramesiftError, SettingsError, StorageError, WorkerLostError
from framesift.progress import ProgressHandler
from framesift.redact import redact_url
from framesift.source import Source, find_videos
from framesift.spec import AnalyzerSpec, SamplingSpec, TextSpec
from framesift.storage import RetryPolicy

__all__ = ["ingest", "run_jobs"]

logger = logging.getLogger(__name__)


def ingest(
    sources: Iterable[str],
    catalog: str | Catalog,
    spec: SamplingSpec | None = None,
    *,
    force: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    source_options: Mapping[str, Any] | None = None,
    sampler: Sampler | None = None,
    progress: IngestProgress | None = None,
    video_progress: ProgressHandler | None = None,
    executor: ExecutorSpec | None = None,
    compact_after: int | None = 64,
    retry: RetryPolicy | None = None,
    text: TextSpec | None = None,
    analyzers: AnalyzerSpec | None = None,
    mirror: str | None = None,
    mirror_options: Mapping[str, Any] | None = None,
    retry_failed: bool = False,
) -> IngestSummary:
    """Ingest files, folders, globs or URLs into ``catalog``.

    Videos already committed with the same content fingerprint and settings are skipped;
    ``force`` replaces them (the old rows stay visible until the new ones are committed).
    ``storage_options`` open the catalog; ``source_options`` the videos (default: the same).
    ``executor`` runs the videos in this process (default), on a local process pool or on
    a Dask cluster; one failing video never stops the others, and a re-run after any
    interruption picks up what is missing. After the batch, when ``compact_after`` or more
    parts were committed since the last compaction, the catalog is compacted for fast
    full-table queries (None: never). ``text``: which timed text goes into ``segments``
    (default: subtitle streams and sidecar subtitle files). ``analyzers``: frame analyzers
    run on the kept pictures inside the pass (faces, a model of one's own), their results
    in the ``detections`` table; their models are checked before the first video.
    ``sampler``: another sampling pass of :func:`framesift.sample_video`'s shape
    (in-process runs only). ``mirror``: a catalog URL (with ``mirror_options``) each
    committed video is synced to in the background (:mod:`framesift.catalog.mirror`).
    ``retry_failed``: only the sources whose latest run failed (all the ledger names
    when ``sources`` is empty).

    Sources that hold no video at all (an empty folder, a path that does not exist) raise
    :class:`~framesift.errors.MediaNotFoundError` before anything is written.

    Progress: ``progress(outcome, done, total)`` hears of each finished video.
    ``video_progress(event)`` hears how far the video at hand has got, a few times a
    second, as :class:`framesift.progress.ProgressEvent` values ``(url, stage, done,
    total)``: ``url`` is the source without credentials, ``stage`` is ``"sample"`` (the
    decoding pass), ``"speech"`` or ``"ocr"``, and ``done`` of ``total`` are seconds of the
    video. Video progress is reported by in-process runs only (executor ``serial``).
    """
    started = time.perf_counter()
    spec = spec or SamplingSpec()
    text = text or TextSpec()
    analyzers = analyzers or AnalyzerSpec()
    executor = executor or ExecutorSpec()
    _check_settings(text, analyzers, executor, sampler)
    src_options = storage_options if source_options is None else source_options
    sources = list(sources)  # holding no video, they stop the batch before a catalog is made
    urls = find_videos(sources, src_options) if sources or not retry_failed else []
    cat = _open_catalog(catalog, storage_options, retry)
    urls = failed_sources(cat.jobs(), urls) if retry_failed else urls
    jobs = [
        _job(Source(url, src_options), cat, spec, text, analyzers, executor, force, sampler)
        for url in urls
    ]
    ledger = JobLedger(cat.storage)
    queued: list[str] = []
    copy, progress = _mirrored(cat, mirror, mirror_options, retry, progress)
    try:
        with JobPool(executor) as pool:  # a scheduler out of reach fails before any queueing
            ledger.reconcile(committed_settings(cat.refresh()))
            queued = [ledger.queue(job.source.url, job.settings_hash) for job in jobs]
            outcomes = run_jobs(jobs, cat, pool, progress=progress, video_progress=video_progress)
    except BaseException:
        _leave_interrupted(ledger, queued, copy)
        raise
    compacted = _compact_if_due(cat, compact_after)
    mirrored = copy.close() if copy is not None else None
    summary = IngestSummary(tuple(outcomes), time.perf_counter() - started, compacted, mirrored)
    logger.info("ingest into %s: %s", cat.url, summary)
    return summary


def _open_catalog(
    catalog: str | Catalog, storage_options: Mapping[str, Any] | None, retry: RetryPolicy | None
) -> Catalog:
    if isinstance(catalog, Catalog):
        return catalog
    return Catalog(catalog, storage_options, retry=retry)


def _job(
    source: Source,
    cat: Catalog,
    spec: SamplingSpec,
    text: TextSpec,
    analyzers: AnalyzerSpec,
    executor: ExecutorSpec,
    force: bool,
    sampler: Sampler | None,
) -> IngestJob:
    """One source's job, with the executor's share of the machine for its worker."""
    return IngestJob(
        source,
        cat.url,
        spec,
        text,
        force=force,
        catalog_options=cat.storage_options,
        retry=cat.storage.retry,
        decode_threads=executor.decode_threads(),
        fast_segments=executor.fast_segments(),
        sampler=sampler,
        analyzers=analyzers,
        inference_threads=executor.inference_threads(),
        split_over_s=executor.split_over_s,
    )


def run_jobs(
    jobs: Sequence[IngestJob],
    catalog: Catalog,
    pool: Executor | JobPool | None,
    *,
    progress: IngestProgress | None = None,
    video_progress: ProgressHandler | None = None,
) -> list[IngestOutcome]:
    """Run every job and return the outcomes in the order of ``jobs``.

    ``pool`` None: one after the other in this process, on the open ``catalog``, with
    ``video_progress``. Otherwise each job in a worker of ``pool`` (an executor, or a
    :class:`~framesift.batch.executors.JobPool` that is renewed when a worker dies), which
    opens the catalog from the job; a job whose worker died is retried once (see the
    module's description), and a catalog failure in a worker (a FramesiftError) cancels
    the jobs not yet started and is raised.
    ``progress(outcome, done, total)`` hears of each job as it finishes.

    On a pool, videos longer than their job's ``split_over_s`` run first, each as time
    ranges across the workers joined into one commit (:mod:`framesift.batch.split`).
    """
    outcomes: dict[int, IngestOutcome] = {}

    def finished(index: int, outcome: IngestOutcome) -> None:
        outcomes[index] = outcome
        if progress is not None:
            progress(outcome, len(outcomes), len(jobs))

    jobs_pool = pool if isinstance(pool, JobPool) else JobPool.of(pool)
    if jobs_pool.executor is None:
        _run_here(jobs, catalog, finished, video_progress)
    else:
        # Long videos first, each split into time ranges across the workers.
        whole = run_long_videos(jobs, catalog, jobs_pool, finished)
        _run_on(jobs_pool, jobs, catalog, finished, whole)
    return [outcomes[index] for index in range(len(jobs))]


def _run_here(
    jobs: Sequence[IngestJob],
    catalog: Catalog,
    finished: Callable[[int, IngestOutcome], None],
    video_progress: ProgressHandler | None,
) -> None:
    """One job after the other in this process, each video's write and commit
    overlapped with the next video's decoding (:mod:`framesift.catalog.overlap`)."""
    with CommitOverlap(finished) as overlap:
        heard = overlap.progress(video_progress)
        for index, job in enumerate(jobs):
            with overlap.job(index):
                outcome = ingest_overlapped(job, overlap, catalog=catalog, progress=heard)
            if outcome is not None:
                finished(index, outcome)


def _run_on(
    pool: JobPool,
    jobs: Sequence[IngestJob],
    catalog: Catalog,
    finished: Callable[[int, IngestOutcome], None],
    indices: Sequence[int],
) -> None:
    """The ``ingest_one`` of each job of ``indices`` in a worker of ``pool``, reported as
    it completes; jobs whose worker died are run again (see the module's description)."""
    ledger = JobLedger(catalog.storage)
    waiting = list(indices)
    alone: list[int] = []  # started when their worker died: retried one at a time
    losses: Counter[int] = Counter()
    renewals = 0
    while waiting or alone:
        if alone:
            batch = [alone.pop(0)]
        else:
            batch, waiting = waiting, []
        assert pool.executor is not None
        lost = _run_batch(pool.executor, batch, jobs, finished)
        if not lost:
            continue
        for index, exc in lost:
            entry = ledger.read(job_id_for(jobs[index].source.url)) or {}
            if entry.get("state") != "running":  # never started: back in line
                waiting.append(index)
                continue
            losses[index] += 1
            if losses[index] == 1:
                logger.warning(
                    "%s: its worker died (%s); retrying it alone",
                    jobs[index].source.shown,
                    type(exc).__name__,
                )
                alone.append(index)
            else:
                finished(index, _worker_failure(catalog, jobs[index].source.url, exc, 2))
        waiting.sort()
        renewals += 1
        if (waiting or alone) and (renewals > len(jobs) + 2 or not pool.renew()):
            for index in sorted(waiting + alone):  # no pool left to run them on
                finished(index, _worker_failure(catalog, jobs[index].source.url, exc, 1))
            return


def _run_batch(
    executor: Executor,
    batch: Sequence[int],
    jobs: Sequence[IngestJob],
    finished: Callable[[int, IngestOutcome], None],
) -> list[tuple[int, BaseException]]:
    """The jobs ``batch`` on ``executor``; those whose worker was lost, with the error."""
    futures: dict[Future[IngestOutcome], int] = {
        executor.submit(ingest_one, jobs[index]): index for index in batch
    }
    lost: list[tuple[int, BaseException]] = []
    try:
        for future in as_completed(futures):
            index = futures[future]
            try:
                outcome = future.result()
            except FramesiftError:
                raise  # the catalog is unreachable: stop the batch
            except worker_lost_errors() as exc:  # the process or cluster worker running it died
                lost.append((index, exc))
                continue
            finished(index, outcome)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return lost


def _worker_failure(cat: Catalog, url: str, exc: BaseException, losses: int) -> IngestOutcome:
    """A job whose worker died ``losses`` times (a crashed process, a lost cluster worker):
    recorded as failed with WorkerLostError, transient; a re-run tries it again."""
    error = WorkerLostError(
        f"the worker running it died ({type(exc).__name__}: {exc}), "
        + ("also when retried alone" if losses > 1 else "and no worker was left to retry it")
        + "; a re-run tries it again"
    )
    message = cat.storage.redact(str(error))
    shown = redact_url(url)
    logger.warning("%s failed: WorkerLostError: %s", shown, message)
    JobLedger(cat.storage).failed(
        job_id_for(url), error_type="WorkerLostError", message=message, kind="transient"
    )
    return IngestOutcome(
        shown,
        "failed",
        error_type="WorkerLostError",
        error_message=message,
        failure_kind="transient",
    )


def _mirrored(
    cat: Catalog,
    url: str | None,
    options: Mapping[str, Any] | None,
    retry: RetryPolicy | None,
    progress: IngestProgress | None,
) -> tuple[CatalogMirror | None, IngestProgress | None]:
    """The mirror at ``url`` (None without one) and ``progress`` queueing each committed
    video for it first."""
    if url is None:
        return None, progress
    copy = CatalogMirror(cat.storage, url, options, retry=retry)

    def heard(outcome: IngestOutcome, done: int, total: int) -> None:
        copy.hear(outcome)
        if progress is not None:
            progress(outcome, done, total)

    return copy, heard


def _leave_interrupted(
    ledger: JobLedger, job_ids: Sequence[str], copy: CatalogMirror | None = None
) -> None:
    """A batch that stops early (a catalog failure, Ctrl-C): its sources still queued or
    running are interrupted (best effort: the catalog may be what failed); the mirror
    stops after the videos queued for it."""
    if copy is not None:
        copy.close(final_sync=False)
    try:
        ledger.interrupt(job_ids)
    except StorageError as exc:
        logger.warning("could not mark the unfinished sources interrupted: %s", exc)


def _check_settings(
    text: TextSpec, analyzers: AnalyzerSpec, executor: ExecutorSpec, sampler: Sampler | None
) -> None:
    """What would fail every video, checked before the first one."""
    if analyzers.names:
        check_analyzers(analyzers)
    if sampler is not None and executor.kind != "serial":
        raise SettingsError("a custom sampler runs in-process only (executor serial)")
    if text.speech:
        from framesift.text.speech import check_speech  # faster-whisper: an optional extra

        check_speech(text.speech_model)
    if text.ocr:
        from framesift.text.ocr import check_ocr

        check_ocr(text.ocr_language, text.ocr_engine or "tesseract")


def _compact_if_due(cat: Catalog, compact_after: int | None) -> bool:
    """Compact when ``compact_after`` or more parts were committed since the last
    compaction (or as many stale rows linger in the snapshot); whether it did."""
    if compact_after is None:
        return False
    state = cat.refresh()
    fresh = len(state.sources("frames").part_keys)
    if fresh >= compact_after or (fresh and state.stale_in_snapshot() >= compact_after):
        return cat.compact() is not None
    return False
