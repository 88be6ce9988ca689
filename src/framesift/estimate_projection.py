"""From what a few calibrated stretches measured to every video of a collection: the
values of an estimate (:class:`Calibration`, :class:`CollectionEstimate`) and the
projection (:func:`project`).

Each video's estimate scales the pooled measures by its own duration, frame rate and size:
kept frames from the interval clock's ticks (known from the duration) plus its scene cuts,
counted by the detector on its keyframes (:mod:`framesift.estimate_keyframes`; else the
calibration's rate of other reasons per second); bytes per kept frame from pictures spread
over the video itself (:mod:`framesift.estimate_pictures`);
CPU seconds per pixel from short looks spread over it (one at its start, more over a long
video), corrected by how the calibrated videos' looks compared with their calibration (a
long calibrated video: its calibration, scaled by how its spread looks compared with its
looks inside the calibrated stretch), each look's cost carried to the bytes per packet
of the stretch it stands for (:mod:`framesift.estimate_cost`); wall time as those CPU
seconds over the cores the calibration's work would have got on a quiet machine
(:mod:`framesift.estimate_cores`), at the video's picture size (between the calibrated
sizes, the cores follow the logarithm of the pixels per frame), at most the cores this
process may use. Per catalog: its
description file, and the compaction an ingest of ``compact_after`` or more videos ends
with. Each calibrated video alone gives one projection of the whole collection; the lowest
and highest of those (and the pooled one) are the estimate's range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import polars as pl

from framesift.estimate_cores import pooled_cores, wall_seconds
from framesift.estimate_cost import cost_ratio, per_pixel, per_pixel_at, whole_cost
from framesift.estimate_keyframes import KeyframeScan, scene_starts_off_ticks
from framesift.estimate_pictures import PictureBytes
from framesift.fullpass import FULL_PASS_MODE
from framesift.plural import counted
from framesift.probe import MediaInfo
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = [
    "ESTIMATE_SCHEMA",
    "SEEN_WHOLE",
    "TOTALS",
    "Calibration",
    "Calibrator",
    "CollectionEstimate",
    "CompactionCost",
    "KeptCount",
    "Looks",
    "project",
    "time_unit",
]

ESTIMATE_SCHEMA: dict[str, pl.DataType] = {
    "source_url": pl.String(),
    "duration_s": pl.Float64(),
    "width": pl.Int32(),
    "height": pl.Int32(),
    "fps": pl.Float64(),
    "kept_frames": pl.Int64(),  # estimated
    "thumbnail_bytes": pl.Int64(),  # estimated, full frames included when kept
    "table_bytes": pl.Int64(),  # estimated Parquet bytes of its rows (frames ... segments)
    "overhead_bytes": pl.Int64(),  # estimated bytes whatever its length (markers, footers)
    "cpu_seconds": pl.Float64(),  # estimated CPU seconds of its ingest (all threads)
    "seconds": pl.Float64(),  # estimated wall time: CPU seconds / the cores the work gets
}

TOTALS = ("kept_frames", "bytes", "cpu_seconds", "seconds")
"""The totals that :attr:`CollectionEstimate.ranges` gives a range for."""


@dataclass(frozen=True)
class CompactionCost:
    """What compacting a catalog cost, as a line in the frames analysed: the bytes of the
    compacted copies and the snapshot, and the CPU seconds, for a catalog of one video."""

    bytes_per_frame: float
    fixed_bytes: float
    cpu_s_per_frame: float
    fixed_cpu_s: float


@dataclass(frozen=True)
class Calibration:
    """What sampling (or ingesting) the start of one video measured."""

    source_url: str
    video_s: float  # seconds of video sampled
    frames: int  # frames analysed
    pixels: int  # display pixels of one frame
    cpu_s: float  # CPU seconds of the decode-and-analysis loop (the mean of two runs)
    setup_cpu_s: float  # opening, probing, first-use imports: paid once per video
    kept: int
    thumbnail_bytes: int  # thumbnails and full frames
    table_bytes: int  # Parquet bytes of the stretch's rows, without each part's overhead
    fps: float = 25.0
    mode: str = FULL_PASS_MODE  # the calibration pass's decode mode
    overhead_bytes: int = 0  # per video whatever its length: markers, ledger, footers
    catalog_bytes: int = 0  # once per catalog (its description file)
    text_bytes_per_s: float = 0.0  # timed text per second of video
    other_cpu_s: float = 0.0  # per video, outside the pass and text: fingerprint, commit
    text_cpu_s_per_s: float = 0.0  # text extraction (speech, OCR) per second of video
    cores: float = 1.0  # CPU seconds per wall second the work gets on a quiet machine
    loop_cores: float = 0.0  # the same for the pass's loop alone (0: as ``cores``)
    interval_kept: int = 0  # kept frames among ``kept`` that the interval clock chose
    cuts: int = 0  # scene cuts in the stretch
    start_s: float = 0.0  # the stretch's first frame: where the interval clock starts
    cut_times_s: tuple[float, ...] = ()  # the first frame of each scene after a cut
    compaction: CompactionCost | None = None  # measured by the ingest calibration
    packets: int = 0  # the video packets the stretch's pass read (0: not counted)
    packet_bytes: int = 0  # their bytes
    analysis: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    """Its per-frame analysis: another interval, threshold or dedup setting is re-selected
    from it (:func:`framesift.estimate.reestimate`) without decoding again."""

    @property
    def cpu_s_per_megapixel_frame(self) -> float:
        return self.cpu_s / max(1e-9, self.frames * self.pixels / 1e6)

    def new_scene_starts(self, cuts: int, interval_s: float | None) -> int:
        """Of ``cuts`` cuts in the stretch, those whose scene start falls off the interval
        clock's ticks (all of them where the cut times are not known)."""
        if len(self.cut_times_s) != cuts:
            return cuts
        return scene_starts_off_ticks(self.cut_times_s, self.start_s, interval_s, 1.0 / self.fps)


Calibrator = Callable[[Source, MediaInfo, SamplingSpec, float], Calibration]
"""Measures the first ``seconds`` of one video with ``spec``:
:func:`framesift.estimate.calibrate_sampling` or :func:`framesift.batch.calibrate_ingest`
(with its text settings bound)."""


class KeptCount(NamedTuple):
    """What one calibrated stretch kept with some selection settings."""

    kept: int
    interval_kept: int  # of those, chosen by the interval clock
    cuts: int  # scene cuts in the stretch, with the settings the keyframe scans ran with


@dataclass(frozen=True)
class Looks:
    """What was measured of each video of a collection on its own (None where nothing):
    short looks at its start (its decode cost; a calibrated video's inside its calibrated
    stretch), pictures spread over it, its keyframe scan (its scene cuts, and more pictures:
    its bytes per kept frame) and, for a long video, short looks spread over it (its decode
    cost over the whole: a video's start can cost more or less than the rest)."""

    starts: tuple[Calibration | None, ...] = ()
    pictures: tuple[PictureBytes | None, ...] = ()
    keyframes: tuple[KeyframeScan | None, ...] = ()
    spread: tuple[Calibration | None, ...] = ()
    spread_error: tuple[float | None, ...] = ()
    """Each video's relative standard error of the decode cost its looks give (None: no
    looks spread over it)."""
    slopes: tuple[float | None, ...] = ()
    """Each video's decode cost per byte, fitted over its looks
    (:func:`framesift.estimate_cost.bytes_slope`; None: not fitted)."""


@dataclass(frozen=True)
class CollectionEstimate:
    videos: pl.DataFrame  # one row per readable video, see ESTIMATE_SCHEMA
    calibration: tuple[Calibration, ...]
    failed: tuple[tuple[str, str], ...]  # (source, "ErrorType: message") of unreadable ones
    spec: SamplingSpec = field(default_factory=SamplingSpec)
    media: tuple[MediaInfo, ...] = field(default=(), compare=False, repr=False)
    looks: Looks = field(default_factory=Looks, compare=False, repr=False)
    """What was measured of each video of ``media`` on its own, scaled by the calibrations."""
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict, compare=False)
    """Lowest and highest projection of each total in :data:`TOTALS`, one per calibrated
    video: how sure the estimate is (a single calibrated video gives no range); the bytes'
    range is widened by two standard errors of the spread pictures' weight, the time's by
    two of the cost the looks spread over each long video give."""
    compact_after: int | None = 64
    """The ingest compacts the catalog after a batch of this many videos (None: never)."""
    cpu_s: float = field(default=0.0, compare=False)
    """What the estimate itself cost, CPU seconds of this process (0: not measured)."""

    @property
    def totals(self) -> dict[str, float]:
        return _totals(self.videos, self.calibration, self.compact_after)

    def __str__(self) -> str:
        t = self.totals

        def span(name: str, scale: float, fmt: str) -> str:
            if name not in self.ranges:
                return ""
            low, high = self.ranges[name]
            return f" ({format(low / scale, fmt)}-{format(high / scale, fmt)})"

        def duration(name: str, cpu: str = "") -> str:
            unit, scale, fmt = time_unit(t[name])
            return f"~{format(t[name] / scale, fmt)} {cpu}{unit}{span(name, scale, fmt)}"

        return (
            f"{counted(int(t['videos']), 'video')}, {t['hours']:.2f} h of footage: "
            f"~{int(t['kept_frames'])} kept frames{span('kept_frames', 1, '.0f')}, "
            f"~{t['bytes'] / 1e6:.2f} MB in the catalog{span('bytes', 1e6, '.2f')}, "
            f"{duration('seconds')} of ingest in one process on this machine when quiet "
            f"({duration('cpu_seconds', 'CPU ')}; {len(self.failed)} unreadable)"
        )


def time_unit(seconds: float) -> tuple[str, float, str]:
    """How an estimated time of about ``seconds`` is written: its unit, the seconds in one,
    and the number's format (seconds under two minutes, tenths of them under ten, minutes
    under two hours, then hours)."""
    if seconds < 10:
        return "s", 1.0, ".1f"
    if seconds < 120:
        return "s", 1.0, ".0f"
    if seconds < 7200:
        return "min", 60.0, ".1f"
    return "h", 3600.0, ".2f"


def _totals(
    videos: pl.DataFrame, calibration: Sequence[Calibration], compact_after: int | None
) -> dict[str, float]:
    def total(column: str) -> float:
        return float(sum(videos[column].to_list()))

    per_catalog = max((c.catalog_bytes for c in calibration), default=0) if videos.height else 0
    compact_bytes, compact_cpu = 0.0, 0.0
    costs = [c.compaction for c in calibration if c.compaction is not None]
    if costs and compact_after is not None and videos.height >= compact_after:
        frames = float((videos["duration_s"] * videos["fps"]).sum())
        n = len(costs)
        compact_bytes = sum(k.fixed_bytes + k.bytes_per_frame * frames for k in costs) / n
        compact_cpu = sum(k.fixed_cpu_s + k.cpu_s_per_frame * frames for k in costs) / n
    return {
        "videos": float(videos.height),
        "hours": total("duration_s") / 3600.0,
        "kept_frames": total("kept_frames"),
        "bytes": total("thumbnail_bytes") + total("table_bytes") + total("overhead_bytes")
        + per_catalog + compact_bytes,
        "cpu_seconds": total("cpu_seconds") + compact_cpu,
        "seconds": total("seconds") + compact_cpu / pooled_cores(calibration),
    }  # fmt: skip


def _interval_ticks(seconds: float, interval_s: float) -> int:
    """Ticks of the interval clock in ``seconds`` of video: one at the start, then one each
    ``interval_s`` before the end."""
    return max(1, math.ceil(seconds / interval_s - 1e-6))


def project(
    media: Sequence[MediaInfo],
    calibration: Sequence[Calibration],
    kept_counts: Sequence[KeptCount],
    spec: SamplingSpec,
    failed: Sequence[tuple[str, str]],
    looks: Looks,
    compact_after: int | None,
    cpu_s: float = 0.0,
) -> CollectionEstimate:
    """Scale what the calibrated stretches measured (with ``kept_counts``: their kept
    frames with ``spec``) to every video of ``media``; each calibration alone gives one
    end of the range. ``cpu_s``: what measuring all that cost."""
    calibration = tuple(calibration)
    none = (None,) * len(media)
    looks = Looks(
        tuple(looks.starts or none),
        tuple(looks.pictures or none),
        tuple(looks.keyframes or none),
        tuple(looks.spread or none),
        tuple(looks.spread_error or none),
        tuple(looks.slopes or none),
    )
    videos = _videos(media, calibration, kept_counts, looks, spec.interval_s)
    ranges: dict[str, tuple[float, float]] = {}
    if len(calibration) > 1:
        alone = [
            _totals(_videos(media, (c,), [k], looks, spec.interval_s), (c,), compact_after)
            for c, k in zip(calibration, kept_counts, strict=True)
        ]
        pooled = _totals(videos, calibration, compact_after)
        for name in TOTALS:
            values = [t[name] for t in alone] + [pooled[name]]
            ranges[name] = (min(values), max(values))
    if calibration:
        _widen_by_samples(ranges, videos, looks, _totals(videos, calibration, compact_after))
    return CollectionEstimate(
        videos,
        calibration,
        tuple(failed),
        spec,
        tuple(media),
        looks,
        ranges,
        compact_after,
        cpu_s,
    )


def _widen_by_samples(
    ranges: dict[str, tuple[float, float]],
    videos: pl.DataFrame,
    looks: Looks,
    totals: Mapping[str, float],
) -> None:
    """Widen ``ranges`` by two standard errors of what samples measured: the pictures
    spread over each video (their mean weight, each video's weighed by its kept frames:
    the bytes), the looks spread over each long video (the cost they give: the time)."""
    pictures_error = [p.error_bytes if p is not None else None for p in looks.pictures]
    for name, per_video, errors in (
        ("bytes", "kept_frames", pictures_error),
        ("cpu_seconds", "cpu_seconds", list(looks.spread_error)),
        ("seconds", "seconds", list(looks.spread_error)),
    ):
        spread = 2.0 * math.sqrt(
            sum(
                (value * error) ** 2
                for value, error in zip(videos[per_video].to_list(), errors, strict=True)
                if error
            )
        )
        if spread > 0:
            low, high = ranges.get(name, (totals[name], totals[name]))
            ranges[name] = (max(0.0, low - spread), high + spread)


def _per_thumb(c: Calibration) -> float | None:
    return c.thumbnail_bytes / c.kept if c.kept else None


SEEN_WHOLE = 0.95
"""A calibration that saw this share of a video saw it whole."""

_PRIOR_CUTS = 3
"""Kept frames per scene start off a tick start from this many such starts that each keep
a frame (the ingest's own rule): a stretch of a few cuts says little (fades into a tick,
a blank start looked past)."""


@dataclass(frozen=True)
class _Pooled:
    """The calibrations' measures, pooled."""

    kept_per_s: float
    tick_share: float  # kept frames per tick of the interval clock (0: no clock)
    other_per_s: float  # kept frames per second for the other reasons
    other_per_cut: float  # kept frames for the other reasons per scene start off a tick
    kept_per_scene: float  # kept frames per scene (without an interval clock)
    per_thumb: float
    per_frame_table: float
    overhead: float
    text_per_s: float
    cost: float  # CPU seconds per megapixel frame
    stretch_s: float  # the calibrated stretches' mean length
    fixed_cpu_s: float  # set-up and the work around the pass, per video
    text_cpu_s_per_s: float

    @classmethod
    def of(
        cls,
        calibration: Sequence[Calibration],
        kept_counts: Sequence[KeptCount],
        interval_s: float | None,
    ) -> _Pooled:
        sampled_s = sum(c.video_s for c in calibration)
        n = max(1, len(calibration))
        ticks = (
            sum(_interval_ticks(c.video_s, interval_s) for c in calibration) if interval_s else 0
        )
        kept = sum(k.kept for k in kept_counts)
        other = sum(k.kept - k.interval_kept for k in kept_counts)
        cuts = sum(k.cuts for k in kept_counts)
        off_ticks = sum(
            c.new_scene_starts(k.cuts, interval_s)
            for c, k in zip(calibration, kept_counts, strict=True)
        )
        return cls(
            kept_per_s=kept / sampled_s if sampled_s else 0.0,
            tick_share=sum(k.interval_kept for k in kept_counts) / ticks if ticks else 0.0,
            other_per_s=other / sampled_s if sampled_s else 0.0,
            other_per_cut=(other + _PRIOR_CUTS) / (off_ticks + _PRIOR_CUTS),
            kept_per_scene=kept / (cuts + len(kept_counts)) if kept_counts else 1.0,
            per_thumb=sum(c.thumbnail_bytes for c in calibration)
            / max(1, sum(c.kept for c in calibration)),
            per_frame_table=sum(c.table_bytes for c in calibration)
            / max(1, sum(c.frames for c in calibration)),
            overhead=sum(c.overhead_bytes for c in calibration) / n,
            text_per_s=sum(c.text_bytes_per_s for c in calibration) / n,
            cost=sum(c.cpu_s for c in calibration)
            / max(1e-9, sum(c.frames * c.pixels for c in calibration) / 1e6),
            stretch_s=sampled_s / n,
            # The first calibration paid the first-use imports; later videos their own set-up.
            fixed_cpu_s=min((c.setup_cpu_s for c in calibration), default=0.0)
            + sum(c.other_cpu_s for c in calibration) / n,
            text_cpu_s_per_s=sum(c.text_cpu_s_per_s for c in calibration) / n,
        )  # fmt: skip

    def kept(self, duration_s: float, interval_s: float | None, cuts: int | None) -> int:
        """The interval clock keeps a known number of frames (less the near-duplicates it
        skipped); the other reasons (scene starts, representatives) follow the video's own
        scene cuts where they were counted (with an interval clock: the cuts whose scene
        starts off its ticks), else scale with duration."""
        if interval_s and self.tick_share:
            ticks = _interval_ticks(duration_s, interval_s)
            other = cuts * self.other_per_cut if cuts is not None else duration_s * self.other_per_s
            return round(ticks * self.tick_share + other)
        if cuts is not None and not interval_s:
            return round((cuts + 1) * self.kept_per_scene)
        return round(duration_s * self.kept_per_s)


def _videos(
    media: Sequence[MediaInfo],
    calibration: Sequence[Calibration],
    kept_counts: Sequence[KeptCount],
    looks: Looks,
    interval_s: float | None,
) -> pl.DataFrame:
    """One estimated row per video from the pooled measures of ``calibration``, with each
    video's own scene cuts, bytes per kept frame and decode cost where they were measured."""
    pooled = _Pooled.of(calibration, kept_counts, interval_s)
    by_url = {
        look.source_url: (look, slope)
        for look, slope in zip(looks.starts, looks.slopes, strict=True)
        if look is not None
    }
    ratio = cost_ratio((c, *by_url.get(c.source_url, (None, None))) for c in calibration)
    own_calibration = {c.source_url: (c, k) for c, k in zip(calibration, kept_counts, strict=True)}
    rows = []
    for info, look, pictures, scan, spread, slope in zip(
        media,
        looks.starts,
        looks.pictures,
        looks.keyframes,
        looks.spread,
        looks.slopes,
        strict=True,
    ):
        duration = info.duration_s or 0.0
        frames = duration * info.video.fps
        pixels = info.video.width * info.video.height
        cuts = scan.new_scene_starts(interval_s) if scan is not None else None
        kept = pooled.kept(duration, interval_s, cuts)
        thumb = pictures.bytes_per_frame if pictures is not None else pooled.per_thumb
        whole_bytes = scan.bytes_per_packet if scan is not None else None
        own_cost = per_pixel_at(spread or look, slope, whole_bytes) if look is not None else None
        frame_cost = own_cost * ratio * 1e6 if own_cost else pooled.cost
        own = own_calibration.get(look.source_url if look is not None else info.url)
        if own is not None:  # a calibrated video: its own measures, scaled to its length
            c, count = own
            seen_whole = c.video_s >= SEEN_WHOLE * duration
            if seen_whole or scan is None:
                kept = round(count.kept * duration / c.video_s) if c.video_s else kept
            frame_cost = (
                per_pixel(c) if seen_whole else whole_cost(c, look, spread, slope, whole_bytes)
            ) or 0.0
            frame_cost = frame_cost * 1e6 or pooled.cost
            if pictures is None or seen_whole:  # seen whole: its own
                thumb = _per_thumb(c) or thumb
        cpu = (
            pooled.fixed_cpu_s
            + frames * pixels / 1e6 * frame_cost
            + duration * pooled.text_cpu_s_per_s
        )
        stretch_s = own[0].video_s if own else pooled.stretch_s
        longer_cpu = max(0.0, duration - stretch_s) * info.video.fps * pixels / 1e6 * frame_cost
        rows.append(
            {
                "source_url": info.url,
                "duration_s": duration,
                "width": info.video.width,
                "height": info.video.height,
                "fps": info.video.fps,
                "kept_frames": kept,
                "thumbnail_bytes": round(kept * thumb),
                "table_bytes": round(
                    frames * pooled.per_frame_table + duration * pooled.text_per_s
                ),
                "overhead_bytes": round(pooled.overhead) if calibration else 0,
                "cpu_seconds": cpu,
                "seconds": wall_seconds(
                    cpu, longer_cpu, calibration, own[0] if own else None, pixels
                ),
            }
        )
    return pl.DataFrame(rows, schema=ESTIMATE_SCHEMA, orient="row")
