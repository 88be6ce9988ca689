"""Ingest: sample videos into a catalog, one commit per video, resumable and idempotent.

:func:`ingest_one` is the per-video unit: a picklable top-level function taking only
plain values (URLs, options, a frozen spec), so a process pool or a Dask cluster can run
it in workers that each write their own parts; commit markers make each video visible
atomically and the jobs ledger records every run. :func:`ingest` runs a batch in this
process and returns an :class:`IngestSummary`.

Per video:
fingerprint -> skip if committed with the same settings (unless ``force``); if only the
text settings differ, extract the text again and carry the rest over -> sample,
thumbnails streaming into ``thumbs/<id>/g<gen>/`` -> parts -> commit marker -> retire the
previous generation -> ledger ``done``. A video that fails (a MediaError, or a source that
cannot be read) leaves no rows, only its ledger entry with the typed error, and the batch
goes on. A failure to write the *catalog* (a StorageError after retries) ends the batch
with that error: nothing half-written is visible and a re-run resumes.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future, as_completed
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import polars as pl

from framesift.batch.executors import ExecutorSpec, open_executor
from framesift.catalog.catalog import Catalog
from framesift.catalog.faults import fault_point
from framesift.catalog.jobs import JobLedger, job_id_for
from framesift.catalog.sources import expand_sources, fingerprint
from framesift.catalog.tables import SCHEMAS, row_frame
from framesift.catalog.version import framesift_version
from framesift.errors import (
    CatalogConflictError,
    FramesiftError,
    MediaError,
    SettingsError,
    StorageError,
)
from framesift.probe import MediaInfo, probe
from framesift.redact import redact_url
from framesift.spec import SamplingSpec, TextSpec, settings_fingerprint
from framesift.storage import RetryPolicy
from framesift.text.extract import extract_text
from framesift.text.model import TextSegment, segments_frame

__all__ = [
    "IngestOutcome",
    "IngestSummary",
    "Sampler",
    "ingest",
    "ingest_one",
]

logger = logging.getLogger(__name__)

Status = Literal["ingested", "replaced", "updated", "skipped", "failed"]
"""``updated``: sampled before with the same settings; only its text was extracted again."""
IngestProgress = Callable[["IngestOutcome", int, int], None]
"""Called after each video with (outcome, videos done, videos in all)."""


class _Stats(Protocol):
    @property
    def frames_decoded(self) -> int: ...
    @property
    def damaged_packets(self) -> int: ...
    @property
    def seconds(self) -> float: ...


class _Media(Protocol):
    def to_row(self) -> dict[str, Any]: ...


class _Result(Protocol):
    @property
    def frames(self) -> pl.DataFrame: ...
    @property
    def scenes(self) -> pl.DataFrame: ...
    @property
    def analysis(self) -> pl.DataFrame: ...
    @property
    def media(self) -> _Media: ...
    @property
    def stats(self) -> _Stats: ...


Sampler = Callable[..., _Result]
"""The shape of :func:`framesift.sample.sample_video`: ``(url, spec, *, storage_options,
sink, progress) -> result`` with ``frames``, ``scenes``, ``analysis``, ``media``, ``stats``."""


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one source."""

    source_url: str
    """Without credentials."""
    status: Status
    video_id: str | None = None
    generation: int | None = None
    frames: int = 0
    error_type: str | None = None
    error_message: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class IngestSummary:
    outcomes: tuple[IngestOutcome, ...] = ()
    seconds: float = 0.0
    compacted: bool = False
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = dict.fromkeys(("ingested", "replaced", "updated", "skipped", "failed"), 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        object.__setattr__(self, "counts", counts)

    @property
    def failed(self) -> tuple[IngestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    def __str__(self) -> str:
        c = self.counts
        return (
            f"{len(self.outcomes)} videos in {self.seconds:.1f} s: {c['ingested']} ingested, "
            f"{c['replaced']} replaced, {c['updated']} text updated, {c['skipped']} skipped, "
            f"{c['failed']} failed"
        )


def _default_sampler() -> Sampler:
    from framesift.sample import sample_video

    sampler: Sampler = sample_video
    return sampler


def ingest_one(
    source: str,
    catalog: str | Catalog,
    spec: SamplingSpec,
    *,
    force: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    source_options: Mapping[str, Any] | None = None,
    sampler: Sampler | None = None,
    progress: Callable[[float, float], None] | None = None,
    retry: RetryPolicy | None = None,
    text: TextSpec | None = None,
    text_progress: Callable[[str, float, float], None] | None = None,
) -> IngestOutcome:
    """Sample one video into the catalog; safe to run again after any failure or crash.

    ``catalog`` is a URL (picklable, for workers) or an open :class:`Catalog`.
    ``storage_options`` open the catalog; ``source_options`` open the video (default: the
    same options). ``text`` says which timed text goes into ``segments`` (default: the
    video's subtitle streams and sidecar subtitle files). Returns the outcome; raises only
    for catalog-side failures (StorageError after retries) so a batch stops when the
    catalog is unreachable. ``text_progress(stage, done_s, total_s)`` hears how far speech
    and OCR have got.
    """
    started = time.perf_counter()
    cat = (
        catalog if isinstance(catalog, Catalog) else Catalog(catalog, storage_options, retry=retry)
    )
    source = str(source)
    shown = redact_url(source)
    text = text or TextSpec()
    settings_hash = settings_fingerprint(spec, text)
    src_options = storage_options if source_options is None else source_options
    ledger = JobLedger(cat.storage)
    job_id = ledger.start(source, settings_hash)

    def failed(exc: BaseException, video_id: str | None = None) -> IngestOutcome:
        message = cat.storage.redact(str(exc))
        logger.warning("%s failed: %s: %s", shown, type(exc).__name__, message)
        ledger.failed(job_id, error_type=type(exc).__name__, message=message, video_id=video_id)
        return IngestOutcome(
            shown,
            "failed",
            video_id,
            None,
            0,
            type(exc).__name__,
            message,
            time.perf_counter() - started,
        )

    try:
        video_id, size = fingerprint(source, src_options, retry=cat.storage.retry)
    except (MediaError, StorageError) as exc:  # the source, not the catalog
        return failed(exc)
    fault_point("after_fingerprint")

    writer = cat.begin_video(video_id, settings_hash=settings_hash)
    previous = writer.previous
    if (
        previous is not None
        and not previous.deleted
        and previous.settings_hash == settings_hash
        and not force
    ):
        logger.info("%s: already in the catalog as %s, skipped", shown, video_id)
        ledger.done(job_id, video_id=video_id, outcome="skipped")
        return IngestOutcome(
            shown,
            "skipped",
            video_id,
            previous.generation,
            0,
            seconds=time.perf_counter() - started,
        )

    if previous is not None and not previous.deleted and not force:
        updated = _update_text(
            cat, writer, source, video_id, spec, text, settings_hash, src_options, text_progress
        )
        if updated is not None:
            kind, value = updated
            if kind == "failed":
                assert isinstance(value, BaseException)
                return failed(value, video_id)
            assert isinstance(value, int)
            ledger.done(job_id, video_id=video_id, outcome="updated")
            logger.info("%s: text updated as %s (generation %d)", shown, video_id, value)
            return IngestOutcome(
                shown, "updated", video_id, value, 0, seconds=time.perf_counter() - started
            )

    run = sampler or _default_sampler()
    sink = writer.image_sink()
    try:
        result = run(source, spec, storage_options=src_options, sink=sink, progress=progress)
        sink.close()
    except MediaError as exc:
        sink.abort()
        _drop_prefix(cat, writer.thumbs_prefix)
        return failed(exc, video_id)
    except StorageError as exc:
        sink.abort()
        if sink.failure is None:  # reading the source failed, not writing the catalog
            _drop_prefix(cat, writer.thumbs_prefix)
            return failed(exc, video_id)
        _record_catalog_failure(ledger, job_id, exc, video_id)
        raise
    except BaseException:
        sink.abort()
        raise
    try:
        segments = _text_segments(
            source, result.media, text, src_options, result.frames, text_progress
        )
    except (MediaError, StorageError) as exc:  # a sidecar or the source: not the catalog
        _drop_prefix(cat, writer.thumbs_prefix)
        return failed(exc, video_id)

    tables = _tables(result, video_id, writer.generation, source, size, spec, settings_hash)
    tables["segments"] = segments_frame(segments, video_id)
    try:
        commit = writer.commit(
            tables,
            settings_hash=settings_hash,
            source_url=shown,
            has_thumbnails=sink.written > 0,
        )
    except CatalogConflictError as exc:
        return failed(exc, video_id)
    except StorageError as exc:
        _record_catalog_failure(ledger, job_id, exc, video_id)
        raise
    fault_point("after_retire")
    status: Status = "replaced" if previous is not None and not previous.deleted else "ingested"
    ledger.done(job_id, video_id=video_id, outcome=status)
    logger.info("%s: %s as %s (generation %d)", shown, status, video_id, commit.generation)
    return IngestOutcome(
        shown,
        status,
        video_id,
        commit.generation,
        result.frames.height,
        seconds=time.perf_counter() - started,
    )


def _update_text(
    cat: Catalog,
    writer: Any,
    source: str,
    video_id: str,
    spec: SamplingSpec,
    text: TextSpec,
    settings_hash: str,
    options: Mapping[str, Any] | None,
    progress: Callable[[str, float, float], None] | None = None,
) -> tuple[str, int | BaseException] | None:
    """When the video was sampled with these very sampling settings and only the text
    settings differ: extract its text again and commit a generation that carries its
    frames, scenes, analysis and thumbnails over (no decoding for frames, no copies).
    Returns ("updated", generation), ("failed", error), or None (sample it again)."""
    previous = writer.previous
    part = previous.parts.get("videos")
    if part is None:
        return None
    row = pl.read_parquet(io.BytesIO(cat.storage.read_bytes(part))).row(0, named=True)
    try:
        before = SamplingSpec.from_dict(json.loads(row["sampling_spec"] or "{}"))
    except (SettingsError, ValueError):
        return None
    if before.fingerprint() != spec.fingerprint():
        return None
    frames = previous.parts.get("frames")
    kept = (
        pl.read_parquet(io.BytesIO(cat.storage.read_bytes(frames)))
        if frames is not None
        else pl.DataFrame(schema=SCHEMAS["frames"])
    )
    try:
        media = probe(source, options)
        segments = _text_segments(source, media, text, options, kept, progress)
    except (MediaError, StorageError) as exc:
        return ("failed", exc)
    row.update(
        settings_hash=settings_hash,
        ingested_at=datetime.now(UTC),
        framesift_version=framesift_version(),
        generation=writer.generation,
    )
    try:
        commit = writer.commit(
            {"videos": row_frame(row, "videos"), "segments": segments_frame(segments, video_id)},
            settings_hash=settings_hash,
            source_url=row["source_url"],
            has_thumbnails=False,
            carry_over=True,
        )
    except CatalogConflictError as exc:
        return ("failed", exc)
    return ("updated", commit.generation)


def _text_segments(
    source: str,
    media: Any,
    text: TextSpec,
    options: Mapping[str, Any] | None,
    frames: pl.DataFrame,
    progress: Callable[[str, float, float], None] | None = None,
) -> list[TextSegment]:
    """The video's timed text; a cue found twice (a stream and the same sidecar) once."""
    if not (text.subtitles or text.sidecars or text.speech or text.ocr):
        return []
    if not isinstance(media, MediaInfo):  # a custom sampler without framesift's probe
        media = probe(source, options)
    seen: set[tuple[float, float, str]] = set()
    unique: list[TextSegment] = []
    found = extract_text(source, media, text, options, kept_frames=frames, progress=progress)
    # A cue with a known language (a tagged stream) wins over its untagged twin.
    for segment in sorted(found, key=lambda s: s.language is None):
        key = (round(segment.start_s, 3), round(segment.end_s, 3), segment.text)
        if key not in seen:
            seen.add(key)
            unique.append(segment)
    return sorted(unique, key=lambda s: (s.start_s, s.source, s.language or ""))


def _record_catalog_failure(
    ledger: JobLedger, job_id: str, exc: StorageError, video_id: str | None
) -> None:
    try:
        ledger.failed(job_id, error_type=type(exc).__name__, message=str(exc), video_id=video_id)
    except StorageError:
        logger.debug("could not record the failure of job %s either", job_id)


def _drop_prefix(cat: Catalog, prefix: str) -> None:
    """Best-effort removal of a failed run's thumbnails (vacuum catches what is left)."""
    try:
        cat.storage.delete(cat.storage.list_files(prefix))
    except StorageError as exc:
        logger.warning("leaving thumbnails under %s to vacuum: %s", prefix, exc)


def _tables(
    result: _Result,
    video_id: str,
    generation: int,
    source: str,
    size: int,
    spec: SamplingSpec,
    settings_hash: str,
) -> dict[str, pl.DataFrame]:
    probe = dict(result.media.to_row())
    probe.pop("url", None)
    stats = result.stats
    scenes = result.scenes
    row: dict[str, Any] = {
        **probe,
        "video_id": video_id,
        "generation": generation,
        "source_url": redact_url(source),
        "size_bytes": size,
        "ingested_at": datetime.now(UTC),
        "settings_hash": settings_hash,
        "sampling_spec": json.dumps(spec.to_dict(), sort_keys=True),
        "framesift_version": framesift_version(),
        "kept_frames": result.frames.height,
        "scene_count": scenes.height,
        "frames_decoded": stats.frames_decoded,
        "damaged_packets": stats.damaged_packets,
        "sample_seconds": stats.seconds,
    }
    return {
        "videos": row_frame(row, "videos"),
        "frames": result.frames,
        "scenes": scenes,
        "analysis": result.analysis,
    }


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
    video_progress: Callable[[str, float, float], None] | None = None,
    executor: ExecutorSpec | None = None,
    compact_after: int | None = 64,
    retry: RetryPolicy | None = None,
    text: TextSpec | None = None,
) -> IngestSummary:
    """Ingest files, folders, globs or URLs into ``catalog``.

    Videos already committed with the same content fingerprint and settings are skipped;
    ``force`` replaces them (the old rows stay visible until the new ones are committed).
    ``executor`` runs the videos in this process (default), on a local process pool or on
    a Dask cluster; one failing video never stops the others, and a re-run after any
    interruption picks up what is missing. After the batch, when ``compact_after`` or more
    parts were committed since the last compaction, the catalog is compacted for fast
    full-table queries (None: never). ``progress`` hears of each finished video;
    ``video_progress(url, done_s, total_s)`` of the one being sampled, a few times a second,
    and of its speech and OCR as ``url (speech)`` / ``url (ocr)`` (in-process runs only).
    ``text``: which timed text goes into ``segments`` (default: subtitle streams and sidecar
    subtitle files).
    """
    started = time.perf_counter()
    spec = spec or SamplingSpec()
    text = text or TextSpec()
    if text.speech:
        from framesift.text.speech import check_speech

        check_speech(text.speech_model)  # before any video, not once per video
    if text.ocr:
        from framesift.text.ocr import check_ocr

        check_ocr(text.ocr_language)
    executor = executor or ExecutorSpec()
    cat = (
        catalog if isinstance(catalog, Catalog) else Catalog(catalog, storage_options, retry=retry)
    )
    src_options = storage_options if source_options is None else source_options
    urls = expand_sources(sources, src_options)
    ledger = JobLedger(cat.storage)
    for url in urls:
        ledger.queue(url, settings_fingerprint(spec, text))
    with open_executor(executor) as pool:
        if pool is None:
            outcomes = _run_here(
                urls, cat, spec, text, force, src_options, sampler, progress, video_progress
            )
        else:
            if sampler is not None:
                raise SettingsError("a custom sampler runs in-process only (executor serial)")
            threads = executor.decode_threads()
            if threads and not spec.decode.threads:
                spec = replace(spec, decode=replace(spec.decode, threads=threads))
            segments = executor.fast_segments()
            if segments and not spec.decode.segments:
                spec = replace(spec, decode=replace(spec.decode, segments=segments))
            outcomes = _run_on(
                pool, urls, cat, spec, text, force, storage_options, src_options, progress
            )
    compacted = False
    if compact_after is not None:
        state = cat.refresh()
        fresh = len(state.sources("frames").part_keys)
        if fresh >= compact_after or (fresh and state.stale_in_snapshot() >= compact_after):
            compacted = cat.compact() is not None
    summary = IngestSummary(tuple(outcomes), time.perf_counter() - started, compacted)
    logger.info("ingest into %s: %s", cat.url, summary)
    return summary


def _run_here(
    urls: list[str],
    cat: Catalog,
    spec: SamplingSpec,
    text: TextSpec,
    force: bool,
    src_options: Mapping[str, Any] | None,
    sampler: Sampler | None,
    progress: IngestProgress | None,
    video_progress: Callable[[str, float, float], None] | None,
) -> list[IngestOutcome]:
    outcomes: list[IngestOutcome] = []
    for url in urls:
        outcome = ingest_one(
            url,
            cat,
            spec,
            force=force,
            source_options=src_options,
            sampler=sampler,
            progress=None if video_progress is None else functools.partial(video_progress, url),
            text=text,
            text_progress=(
                None if video_progress is None else functools.partial(_staged, video_progress, url)
            ),
        )
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome, len(outcomes), len(urls))
    return outcomes


def _staged(
    video_progress: Callable[[str, float, float], None],
    url: str,
    stage: str,
    done_s: float,
    total_s: float,
) -> None:
    """A text stage's progress, as video progress labelled ``URL (stage)``."""
    video_progress(f"{url} ({stage})", done_s, total_s)


def _run_on(
    pool: Executor,
    urls: list[str],
    cat: Catalog,
    spec: SamplingSpec,
    text: TextSpec,
    force: bool,
    storage_options: Mapping[str, Any] | None,
    src_options: Mapping[str, Any] | None,
    progress: IngestProgress | None,
) -> list[IngestOutcome]:
    """Each video's ``ingest_one`` in a worker, given the catalog's URL (workers open it
    themselves); outcomes in the order of ``urls``."""
    futures: dict[Future[IngestOutcome], str] = {
        pool.submit(
            ingest_one,
            url,
            cat.url,
            spec,
            force=force,
            storage_options=storage_options,
            source_options=src_options,
            retry=cat.storage.retry,
            text=text,
        ): url
        for url in urls
    }
    done: dict[str, IngestOutcome] = {}
    try:
        for future in as_completed(futures):
            url = futures[future]
            try:
                outcome = future.result()
            except FramesiftError:
                raise  # the catalog is unreachable: stop the batch
            except _worker_lost() as exc:  # the process or cluster worker running it died
                outcome = _worker_failure(cat, url, exc)
            done[url] = outcome
            if progress is not None:
                progress(outcome, len(done), len(urls))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return [done[url] for url in urls]


def _worker_lost() -> tuple[type[BaseException], ...]:
    """Errors that mean a job's worker died, not that the job failed: a broken process
    pool, a cancelled job, or (when Dask is in use) a worker the scheduler gave up on."""
    types: list[type[BaseException]] = [BrokenExecutor, CancelledError]
    scheduler = sys.modules.get("distributed")
    if scheduler is not None:
        types.append(scheduler.KilledWorker)
    return tuple(types)


def _worker_failure(cat: Catalog, url: str, exc: BaseException) -> IngestOutcome:
    """A job whose worker failed outside ``ingest_one``'s own handling (a crashed process,
    a lost cluster worker): recorded as failed in the ledger; a re-run tries it again."""
    message = cat.storage.redact(f"worker failed: {exc}")
    shown = redact_url(url)
    logger.warning("%s failed: %s: %s", shown, type(exc).__name__, message)
    # The entry the worker opened (or the queued one): marked failed, attempts as they were.
    JobLedger(cat.storage).failed(job_id_for(url), error_type=type(exc).__name__, message=message)
    return IngestOutcome(shown, "failed", error_type=type(exc).__name__, error_message=message)
