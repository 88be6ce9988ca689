"""Calibrate a collection estimate by ingesting: the start of a video goes through the real
batch loop (:func:`framesift.batch.ingest`) into a throwaway in-memory catalog, so what is
measured is what an ingest writes and spends, not a model of it.

Each calibrated video is ingested twice, its first ``seconds`` and its first few frames
(``_TINY_FRAMES``), into fresh catalogs, and each catalog is then compacted as an ingest
of many videos ends. The two runs give, by their difference, what grows with the video
(table rows, the compacted copies) and what every video costs whatever its length (commit
markers, ledger entries, the ``videos`` row, each Parquet part's footer and schema: the
tiny run is nearly all of that, so compression's noise on a few rows does not tilt the
line); the catalog's own description file and the compaction's fixed part are counted
once per catalog.

Time is robust on a busy machine: it is counted in CPU seconds of this process (all its
threads), which other processes on the machine change much less than wall time: the
decode-and-analysis cost per pixel is the long run's, the set-up and the per-video work
around the pass (fingerprint, parts, commit) the means of both runs. (A third run of half
the stretch, averaged in for the cost per pixel, moved it by less than the machine's own
noise and cost a third of the calibration: on a ten-minute video, 2% of its ingest.) Text extraction
(subtitles, speech, OCR) is timed by its own progress stages and scaled by the seconds of
video it covered; analyzers run inside the pass, so their time is the pass's. The cores the
work would have got on a quiet machine (CPU seconds per wall second, raised by what other
processes took while its threads waited for a core: :mod:`framesift.estimate_cores`; the
long run's) turn CPU seconds into wall time.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import fsspec

from framesift import errors
from framesift.batch.loop import ingest
from framesift.catalog import layout
from framesift.catalog.catalog import Catalog
from framesift.errors import MediaError
from framesift.estimate import (
    Calibration,
    CollectionEstimate,
    CompactionCost,
    cut_times,
    estimate_collection,
    interval_kept,
)
from framesift.estimate_cores import ThreadWatch
from framesift.probe import MediaInfo
from framesift.progress import SAMPLE, ProgressEvent, SecondsProgress
from framesift.sample import SampleResult, SamplingPass
from framesift.sink import ImageSink
from framesift.source import Source
from framesift.spec import AnalyzerSpec, SamplingSpec, TextSpec

__all__ = ["calibrate_ingest", "estimate_ingest"]

_MEMORY_ROOT = "memory://framesift-calibration"
_TINY_FRAMES = 5


def estimate_ingest(
    sources: Iterable[str],
    spec: SamplingSpec | None = None,
    *,
    text: TextSpec | None = None,
    analyzers: AnalyzerSpec | None = None,
    storage_options: Mapping[str, Any] | None = None,
    calibrate_videos: int = 2,
    calibrate_s: float = 20.0,
    look_s: float = 2.0,
    compact_after: int | None = 64,
) -> CollectionEstimate:
    """:func:`framesift.estimate.estimate_collection` calibrated by :func:`calibrate_ingest`:
    kept frames, every byte a catalog will hold and the time (CPU and wall) of
    ``ingest(sources, catalog, spec, text=text, analyzers=analyzers,
    compact_after=compact_after)`` in one process on this machine when it is quiet,
    with a range."""
    return estimate_collection(
        sources,
        spec,
        storage_options=storage_options,
        calibrate_videos=calibrate_videos,
        calibrate_s=calibrate_s,
        calibrate=functools.partial(calibrate_ingest, text=text, analyzers=analyzers),
        look_s=look_s,
        compact_after=compact_after,
    )


def calibrate_ingest(
    source: Source,
    media: MediaInfo,
    spec: SamplingSpec,
    seconds: float,
    *,
    text: TextSpec | None = None,
    analyzers: AnalyzerSpec | None = None,
) -> Calibration:
    """Ingest the first ``seconds`` (then a few frames) of ``source`` into throwaway
    in-memory catalogs and say what that cost (see the module's docstring)."""
    text = text or TextSpec()
    full = _ingest_stretch(source, spec, text, seconds, analyzers)
    tiny_s = min(seconds / 4, _TINY_FRAMES / max(1.0, media.video.fps))
    tiny = _ingest_stretch(source, spec, text, tiny_s, analyzers)
    result = full.sampled
    pixels = media.video.width * media.video.height
    frames = result.analysis.height
    cost = full.loop_cpu_s / max(1e-9, frames * pixels)
    row_bytes, fixed_bytes = _split(full, tiny)
    duration = media.duration_s or full.video_s
    # Subtitles and speech cover the whole video; OCR only the kept frames of the stretch.
    text_cpu_s_per_s = full.stage_cpu_s("speech") / max(1e-9, duration) + full.stage_cpu_s(
        "ocr"
    ) / max(1e-9, full.video_s)
    return Calibration(
        source_url=source.shown,
        video_s=full.video_s,
        frames=frames,
        pixels=pixels,
        cpu_s=cost * frames * pixels,
        setup_cpu_s=(full.setup_cpu_s + tiny.setup_cpu_s) / 2,
        kept=result.frames.height,
        interval_kept=interval_kept(result.frames),
        cuts=max(0, result.scenes.height - 1),
        start_s=float(result.analysis["time_s"].min() or 0.0),  # type: ignore[arg-type]
        cut_times_s=cut_times(result.scenes),
        thumbnail_bytes=full.bytes_of(layout.THUMBS),
        table_bytes=row_bytes,
        fps=media.video.fps,
        mode=result.stats.mode,
        overhead_bytes=fixed_bytes,
        catalog_bytes=full.bytes_of(layout.CATALOG_FILE),
        text_bytes_per_s=full.bytes_of("segments") / max(1e-9, duration) if full.segments else 0.0,
        other_cpu_s=(full.other_cpu_s + tiny.other_cpu_s) / 2,
        text_cpu_s_per_s=text_cpu_s_per_s,
        cores=full.cores,
        loop_cores=full.loop_cores,
        compaction=_compaction(full, tiny),
        analysis=result.analysis,
        packets=result.stats.packets_read,
        packet_bytes=result.stats.packet_bytes,
    )


def _line(
    full: float, half: float, full_x: int, half_x: int, *, short_is_fixed: bool = False
) -> tuple[float, float]:
    """Slope and intercept of the line through (half_x, half) and (full_x, full), neither
    below zero. Too short to halve (both runs saw the whole video): all slope, or all
    intercept with ``short_is_fixed``."""
    if full_x > half_x:
        slope = max(0.0, (full - half) / (full_x - half_x))
        return slope, max(0.0, full - slope * full_x)
    return (0.0, full) if short_is_fixed else (full / max(1, full_x), 0.0)


def _split(full: _Stretch, tiny: _Stretch) -> tuple[int, int]:
    """Table bytes of the full stretch's rows, and the bytes a video costs whatever its
    length, from two runs of different lengths (the line through both)."""
    per_video = (layout.COMMITS, layout.JOBS)
    tables = ("videos", "frames", "scenes", "analysis", "detections")
    per_frame, fixed_tables = _line(
        sum(full.bytes_of(t) for t in tables),
        sum(tiny.bytes_of(t) for t in tables),
        full.frames,
        tiny.frames,
    )
    fixed = fixed_tables + sum(full.bytes_of(k) for k in per_video)
    if not full.segments:  # an empty segments part is a fixed cost, not text
        fixed += full.bytes_of("segments")
    return round(per_frame * full.frames), round(fixed)


def _compaction(full: _Stretch, tiny: _Stretch) -> CompactionCost:
    """What compacting a catalog costs: its bytes as a line in the frames analysed."""
    kinds = (layout.COMPACT, layout.SNAPSHOTS)
    per_frame, fixed = _line(
        sum(full.bytes_of(k) for k in kinds),
        sum(tiny.bytes_of(k) for k in kinds),
        full.frames,
        tiny.frames,
        short_is_fixed=True,  # one copy per table: its footer and schema dominate
    )
    # Its CPU seconds are mostly fixed (a connection, one copy per table, the snapshot):
    # the runs differ by less than their noise, so the lower of them, per compaction.
    return CompactionCost(per_frame, fixed, 0.0, min(full.compact_cpu_s, tiny.compact_cpu_s))


class _Clock(NamedTuple):
    """A moment in wall and CPU seconds (this process, all threads)."""

    wall: float
    cpu: float

    @classmethod
    def now(cls) -> _Clock:
        return cls(time.perf_counter(), time.process_time())


_ZERO = _Clock(0.0, 0.0)


@dataclass
class _Stretch:
    """One ingest of the first ``seconds`` of a video: its sampling result, its timings and
    the bytes of its catalog by kind (thumbs, a table's name, commits, jobs, the catalog
    file, the compaction)."""

    seconds: float
    result: SampleResult | None = None
    started: _Clock = _ZERO
    loop_started: _Clock | None = None
    ended: _Clock = _ZERO
    video_s_wall: float = 0.0  # the video's own work in the batch loop (its outcome)
    call: _Clock = _ZERO  # the whole ingest call: the video, and the catalog's set-up
    compact_cpu_s: float = 0.0
    segments: int = 0
    threads: ThreadWatch = field(default_factory=ThreadWatch)  # the call's start, the pass
    loop_threads: ThreadWatch = field(default_factory=ThreadWatch)  # the pass alone
    sizes: dict[str, int] = field(default_factory=dict)
    stages: dict[str, list[_Clock]] = field(default_factory=dict)

    def __call__(
        self,
        url: str,
        spec: SamplingSpec,
        *,
        storage_options: Mapping[str, Any] | None,
        sink: ImageSink | None,
        progress: SecondsProgress | None,
    ) -> SampleResult:
        """The sampler the ingest calls: the pass, stopped after ``seconds``, timed."""
        self.started = _Clock.now()

        def heard(done_s: float, total_s: float) -> None:
            self.loop_started = self.loop_started or _Clock.now()
            self.threads.mark()  # while the decoder's threads live
            self.loop_threads.mark()
            if progress is not None:
                progress(done_s, total_s)

        self.result = SamplingPass(
            url,
            spec,
            storage_options=storage_options,
            sink=sink,
            progress=heard,
            until_s=self.seconds,
        ).result()
        self.ended = _Clock.now()
        return self.result

    def heard(self, event: ProgressEvent) -> None:
        """The ingest's progress: the first and last moment of each text stage."""
        if event.stage != SAMPLE:
            self.stages.setdefault(event.stage, []).append(_Clock.now())

    def stage_cpu_s(self, stage: str) -> float:
        marks = self.stages.get(stage, [])
        return marks[-1].cpu - marks[0].cpu if len(marks) > 1 else 0.0

    def bytes_of(self, kind: str) -> int:
        return self.sizes.get(kind, 0)

    @property
    def sampled(self) -> SampleResult:
        if self.result is None:
            raise MediaError(str(self.seconds), "the calibration ingest did not sample")
        return self.result

    @property
    def frames(self) -> int:
        return self.sampled.analysis.height

    @property
    def video_s(self) -> float:
        times: list[float] = self.sampled.analysis["time_s"].to_list()
        fps = self.sampled.media.video.fps
        return max(times) - min(times) + 1.0 / fps if times else 0.0

    @property
    def loop_cpu_s(self) -> float:
        return self.ended.cpu - (self.loop_started or self.started).cpu

    @property
    def setup_cpu_s(self) -> float:
        return (self.loop_started or self.started).cpu - self.started.cpu

    @property
    def cores(self) -> float:
        """The cores the call would have got on a quiet machine."""
        return self.threads.quiet_cores(self.call.cpu, self.call.wall)

    @property
    def loop_cores(self) -> float:
        """The cores the pass's loop alone would have got on a quiet machine."""
        started = self.loop_started or self.started
        return self.loop_threads.quiet_cores(self.loop_cpu_s, self.ended.wall - started.wall)

    @property
    def other_cpu_s(self) -> float:
        """The video's CPU seconds outside the pass and text (fingerprint, parts, commit):
        its share of the call's CPU seconds (by wall time), less the pass and text."""
        video_cpu = self.call.cpu * self.video_s_wall / max(1e-9, self.call.wall)
        text_cpu = sum(self.stage_cpu_s(s) for s in self.stages)
        return max(0.0, video_cpu - (self.ended.cpu - self.started.cpu) - text_cpu)


def _ingest_stretch(
    source: Source,
    spec: SamplingSpec,
    text: TextSpec,
    seconds: float,
    analyzers: AnalyzerSpec | None,
) -> _Stretch:
    """Ingest the first ``seconds`` of ``source`` into a fresh in-memory catalog, compact
    it, measure both, and remove that catalog."""
    run = _Stretch(seconds)
    url = f"{_MEMORY_ROOT}/{uuid.uuid4().hex}"
    memory = fsspec.filesystem("memory")
    try:
        run.threads.mark()
        before = _Clock.now()
        summary = ingest(
            [source.url],
            url,
            spec,
            source_options=source.storage_options,
            sampler=run,
            video_progress=run.heard,
            compact_after=None,
            text=text,
            analyzers=analyzers,
        )
        after = _Clock.now()
        run.call = _Clock(after.wall - before.wall, after.cpu - before.cpu)
        outcome = summary.outcomes[0]
        if outcome.status == "failed":
            raise _failure(source.shown, outcome.error_type, outcome.error_message)
        run.video_s_wall = outcome.seconds
        with Catalog(url, create=False) as cat:
            run.segments = cat.segments(outcome.video_id).height if outcome.video_id else 0
            before = _Clock.now()
            cat.compact()
            run.compact_cpu_s = time.process_time() - before.cpu
        root = memory._strip_protocol(url)
        for path, info in memory.find(root, detail=True).items():
            key = path[len(root) :].lstrip("/")
            run.sizes[_kind(key)] = run.sizes.get(_kind(key), 0) + int(info["size"])
    finally:
        if memory.exists(url):
            memory.rm(url, recursive=True)
    return run


def _kind(key: str) -> str:
    """What a catalog file is: a table's name for a part, else its top folder or name."""
    part = layout.parse_part_key(key)
    if part is not None:
        return part[0]
    return key.split("/", 1)[0]


def _failure(url: str, error_type: str | None, message: str | None) -> MediaError:
    """The calibration ingest's failure as the error it recorded: its own type where that
    is a media error made from a file and a problem (a cut file stays a
    TruncatedMediaError), naming the file once (the ledger's message names it too)."""
    problem = (message or "").removeprefix(f"{url}: ")
    kind = getattr(errors, error_type or "", None)
    if (
        isinstance(kind, type)
        and issubclass(kind, MediaError)
        and kind.__init__ is MediaError.__init__  # made from (url, problem)
    ):
        return kind(url, problem)
    return MediaError(url, f"{error_type}: {problem}")
