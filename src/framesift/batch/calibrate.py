"""Calibrate a collection estimate by ingesting: the start of a video goes through the real
batch loop (:func:`framesift.batch.ingest`) into a throwaway in-memory catalog, so what is
measured is what an ingest writes and spends, not a model of it.

Each calibrated video is ingested twice, its first ``seconds`` and then the first half of
those, into two fresh catalogs. The two runs give, by their difference, what grows with the
video (table rows, thumbnails) and what every video costs whatever its length (commit
markers, ledger entries, the ``videos`` row, each Parquet part's footer and schema); the
catalog's own description file is counted once. Time is robust on a busy machine: the
decode-and-analysis cost is the lower of the two runs' cost per pixel (the minimum of
repeats), and so are the set-up and the per-video work around the pass (fingerprint,
parts, commit). Text extraction (subtitles, speech, OCR) is timed by its own progress
stages and scaled by the seconds of video it covered.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec

from framesift.batch.loop import ingest
from framesift.catalog import layout
from framesift.catalog.catalog import Catalog
from framesift.errors import MediaError
from framesift.estimate import (
    Calibration,
    CollectionEstimate,
    estimate_collection,
    interval_kept,
)
from framesift.probe import MediaInfo
from framesift.progress import SAMPLE, ProgressEvent, SecondsProgress
from framesift.sample import SampleResult, SamplingPass
from framesift.sink import ImageSink
from framesift.source import Source
from framesift.spec import AnalyzerSpec, SamplingSpec, TextSpec

__all__ = ["calibrate_ingest", "estimate_ingest"]

_MEMORY_ROOT = "memory://framesift-calibration"


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
) -> CollectionEstimate:
    """:func:`framesift.estimate.estimate_collection` calibrated by :func:`calibrate_ingest`:
    kept frames, every byte a catalog will hold and the time of ``ingest(sources,
    catalog, spec, text=text)`` in one process here, with a range."""
    return estimate_collection(
        sources,
        spec,
        storage_options=storage_options,
        calibrate_videos=calibrate_videos,
        calibrate_s=calibrate_s,
        calibrate=functools.partial(calibrate_ingest, text=text, analyzers=analyzers),
        look_s=look_s,
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
    """Ingest the first ``seconds`` (then the first half of those) of ``source`` into
    throwaway in-memory catalogs and say what that cost (see the module's docstring)."""
    text = text or TextSpec()
    full = _ingest_stretch(source, spec, text, seconds, analyzers)
    half = _ingest_stretch(source, spec, text, seconds / 2, analyzers)
    result = full.sampled
    pixels = media.video.width * media.video.height
    frames = result.analysis.height
    cost = min(run.loop_s / max(1e-9, run.frames * pixels) for run in (full, half))
    row_bytes, fixed_bytes = _split(full, half)
    duration = media.duration_s or full.video_s
    # Subtitles and speech cover the whole video; OCR only the kept frames of the stretch.
    text_s_per_s = full.stage_s("speech") / max(1e-9, duration) + full.stage_s("ocr") / max(
        1e-9, full.video_s
    )
    return Calibration(
        source_url=source.shown,
        video_s=full.video_s,
        frames=frames,
        pixels=pixels,
        wall_s=cost * frames * pixels,
        setup_s=min(full.setup_s, half.setup_s),
        kept=result.frames.height,
        interval_kept=interval_kept(result.frames),
        thumbnail_bytes=full.bytes_of(layout.THUMBS),
        table_bytes=row_bytes,
        fps=media.video.fps,
        mode=result.stats.mode,
        overhead_bytes=fixed_bytes,
        catalog_bytes=full.bytes_of(layout.CATALOG_FILE),
        text_bytes_per_s=full.bytes_of("segments") / max(1e-9, duration) if full.segments else 0.0,
        other_s=min(full.other_s, half.other_s),
        text_s_per_s=text_s_per_s,
        analysis=result.analysis,
    )


def _split(full: _Stretch, half: _Stretch) -> tuple[int, int]:
    """Table bytes of the full stretch's rows, and the bytes a video costs whatever its
    length, from two runs of different lengths (the line through both)."""
    per_video = (layout.COMMITS, layout.JOBS)
    tables = ("videos", "frames", "scenes", "analysis", "detections")
    grown = full.frames - half.frames
    full_tables = sum(full.bytes_of(t) for t in tables)
    half_tables = sum(half.bytes_of(t) for t in tables)
    if grown > 0:
        per_frame = max(0.0, (full_tables - half_tables) / grown)
        fixed_tables = max(0.0, full_tables - per_frame * full.frames)
    else:  # too short to halve: all rows, no fixed part measured
        per_frame, fixed_tables = full_tables / max(1, full.frames), 0.0
    fixed = fixed_tables + sum(full.bytes_of(k) for k in per_video)
    if not full.segments:  # an empty segments part is a fixed cost, not text
        fixed += full.bytes_of("segments")
    return round(per_frame * full.frames), round(fixed)


@dataclass
class _Stretch:
    """One ingest of the first ``seconds`` of a video: its sampling result, its timings and
    the bytes of its catalog by kind (thumbs, a table's name, commits, jobs, the catalog
    file)."""

    seconds: float
    result: SampleResult | None = None
    started: float = 0.0
    loop_started: float = 0.0
    ended: float = 0.0
    total_s: float = 0.0
    segments: int = 0
    sizes: dict[str, int] = field(default_factory=dict)
    stages: dict[str, list[float]] = field(default_factory=dict)

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
        self.started = time.perf_counter()

        def heard(done_s: float, total_s: float) -> None:
            self.loop_started = self.loop_started or time.perf_counter()
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
        self.ended = time.perf_counter()
        return self.result

    def heard(self, event: ProgressEvent) -> None:
        """The ingest's progress: the first and last moment of each text stage."""
        if event.stage != SAMPLE:
            self.stages.setdefault(event.stage, []).append(time.perf_counter())

    def stage_s(self, stage: str) -> float:
        marks = self.stages.get(stage, [])
        return marks[-1] - marks[0] if len(marks) > 1 else 0.0

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
    def loop_s(self) -> float:
        return self.ended - (self.loop_started or self.started)

    @property
    def setup_s(self) -> float:
        return (self.loop_started or self.started) - self.started

    @property
    def other_s(self) -> float:
        text_s = sum(self.stage_s(s) for s in self.stages)
        return max(0.0, self.total_s - (self.ended - self.started) - text_s)


def _ingest_stretch(
    source: Source,
    spec: SamplingSpec,
    text: TextSpec,
    seconds: float,
    analyzers: AnalyzerSpec | None,
) -> _Stretch:
    """Ingest the first ``seconds`` of ``source`` into a fresh in-memory catalog, measure it,
    and remove that catalog."""
    run = _Stretch(seconds)
    url = f"{_MEMORY_ROOT}/{uuid.uuid4().hex}"
    memory = fsspec.filesystem("memory")
    try:
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
        outcome = summary.outcomes[0]
        if outcome.status == "failed":
            raise MediaError(source.shown, f"{outcome.error_type}: {outcome.error_message}")
        run.total_s = outcome.seconds
        root = memory._strip_protocol(url)
        for path, info in memory.find(root, detail=True).items():
            key = path[len(root) :].lstrip("/")
            run.sizes[_kind(key)] = run.sizes.get(_kind(key), 0) + int(info["size"])
        run.segments = _segment_rows(url, outcome.video_id)
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


def _segment_rows(url: str, video_id: str | None) -> int:
    if video_id is None:
        return 0
    with Catalog(url, create=False) as cat:
        return cat.segments(video_id).height
