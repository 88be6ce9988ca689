"""What every decoder of one fast scan shares: the video, the settings, the renderers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from framesift.decode import VideoDecoder
from framesift.images import Renderers
from framesift.probe import MediaInfo
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = ["ScanSetup"]


@dataclass(frozen=True)
class ScanSetup:
    """One video as the fast scan's workers open it."""

    source: Source
    media: MediaInfo
    spec: SamplingSpec
    renderers: Callable[[], Renderers]  # each thread makes its own
    seekable: bool = True  # False: every decode starts at the top of the file

    @property
    def fps(self) -> float:
        return self.media.video.fps

    def decoder(self, threads: int) -> VideoDecoder:
        return VideoDecoder(self.source, self.media, self.spec.decode, threads=threads)
