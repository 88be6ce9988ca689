"""What every decoder of one fast scan shares: the video, the settings, the renderers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from framesift.decode import VideoDecoder
from framesift.images import Renderers
from framesift.probe import MediaInfo
from framesift.spec import SamplingSpec

__all__ = ["ScanSetup"]


@dataclass(frozen=True)
class ScanSetup:
    """One video as the fast scan's workers open it."""

    url: str
    media: MediaInfo
    spec: SamplingSpec
    renderers: Callable[[], Renderers]  # each thread makes its own
    storage_options: Mapping[str, Any] | None = None
    seekable: bool = True  # False: every decode starts at the top of the file

    @property
    def fps(self) -> float:
        return self.media.video.fps

    def decoder(self, threads: int) -> VideoDecoder:
        return VideoDecoder(
            self.url,
            self.media,
            self.spec.decode,
            storage_options=self.storage_options,
            threads=threads,
        )
