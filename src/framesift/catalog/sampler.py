"""What ingest needs from a sampler: the shape of :func:`framesift.sample.sample_video`.

The per-video unit (:func:`framesift.catalog.ingest.ingest_one`) calls a :class:`Sampler`
once per video and writes what it returns. framesift's own sampling pass is the default;
another callable of the same shape (a test double, an experimental pass) can stand in,
in-process only. The result protocols beside it name exactly what the catalog reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import polars as pl

from framesift.progress import SecondsProgress
from framesift.sink import ImageSink
from framesift.spec import SamplingSpec

__all__ = ["SampledMedia", "SampledVideo", "Sampler", "SamplingStats"]


class SamplingStats(Protocol):
    """What the pass did, as the ``videos`` row records it."""

    @property
    def frames_decoded(self) -> int: ...
    @property
    def damaged_packets(self) -> int: ...
    @property
    def seconds(self) -> float: ...


class SampledMedia(Protocol):
    """The probe of the video (a :class:`framesift.probe.MediaInfo` for framesift's pass)."""

    def to_row(self) -> dict[str, Any]: ...


class SampledVideo(Protocol):
    """One video's sampling result: its tables, its probe and the pass's statistics."""

    @property
    def frames(self) -> pl.DataFrame: ...
    @property
    def scenes(self) -> pl.DataFrame: ...
    @property
    def analysis(self) -> pl.DataFrame: ...
    @property
    def media(self) -> SampledMedia: ...
    @property
    def stats(self) -> SamplingStats: ...


class Sampler(Protocol):
    """Samples one video: ``sampler(url, spec, storage_options=, sink=, progress=)``.

    Thumbnails go to ``sink`` as they are encoded; ``progress(done_s, total_s)`` hears how
    far the pass has got, in seconds of the video.
    """

    def __call__(
        self,
        url: str,
        spec: SamplingSpec,
        *,
        storage_options: Mapping[str, Any] | None,
        sink: ImageSink | None,
        progress: SecondsProgress | None,
    ) -> SampledVideo: ...
