"""Where a kept frame's picture leaves the pass.

The streaming pass decides a frame is kept, builds its row (:func:`framesift.select.frame_row`)
and hands the picture over once, here: :class:`ImageWriter` encodes the thumbnail (and the
full frame when asked) and puts them in the :class:`~framesift.sink.ImageSink`, filling the
row's image columns.

Per-frame analyzers join here: a consumer of kept pictures implements
:class:`PictureConsumer` (:class:`framesift.analyzers.AnalyzerRunner` does); the pass
tells every consumer it holds which video starts (``begin``), then calls it right after the
image writer with the same row and picture (``SamplingPass._hand_off``). The fast scan
encodes its pictures inside its segment threads (:mod:`framesift.fastscan.pictures`) and
takes no consumers: ingest runs the analyzers of a fast pass on the kept frames decoded
again (:func:`framesift.analyzers.analyze_kept_frames`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import av
import numpy as np
from numpy.typing import NDArray

from framesift.images import EXTENSIONS, FrameRenderer, encode_image
from framesift.probe import MediaInfo
from framesift.select import FrameRow
from framesift.sink import ImageSink
from framesift.spec import ImageSpec

__all__ = ["NO_FRAME", "HeldPicture", "ImageWriter", "KeptFrame", "PictureConsumer"]

logger = logging.getLogger(__name__)

NO_FRAME = av.VideoFrame(2, 2, "rgb24")
"""Stands in for a decoded picture the pass no longer needs (it is not kept)."""


@dataclass(frozen=True)
class KeptFrame:
    """One kept frame as the pass decides it (streaming form)."""

    row: FrameRow
    thumbnail: bytes | None


@dataclass(frozen=True, slots=True)
class HeldPicture:
    """The picture of a kept frame as the pass still holds it: the decoded frame, or
    :data:`NO_FRAME` once it was let go, and the thumbnail-sized RGB image when that was
    rendered earlier (scene representatives are held as thumbnails)."""

    frame: av.VideoFrame
    thumb_rgb: NDArray[np.uint8] | None = None


class PictureConsumer(Protocol):
    """Something that takes every kept frame's picture during a pass (the slot for
    per-frame analyzers: see the module's description)."""

    def begin(self, media: MediaInfo) -> None:
        """The pass over ``media`` starts (display size, rotation, URL)."""

    def take(self, row: FrameRow, picture: HeldPicture) -> None:
        """One kept frame: its row (image columns filled) and its picture."""


class ImageWriter:
    """Encodes kept frames' thumbnails (and full frames) and puts them in a sink."""

    def __init__(
        self, sink: ImageSink, image: ImageSpec, thumbs: FrameRenderer, full: FrameRenderer
    ) -> None:
        self.sink = sink
        self.image = image
        self._thumbs = thumbs
        self._full = full
        self._ext = EXTENSIONS[image.format]
        self._full_ext = EXTENSIONS[image.full_format]
        self.seconds = 0.0
        """Wall time spent in :meth:`write` (rendering, encoding, handing to the sink)."""

    def thumbnail_rgb(self, frame: av.VideoFrame) -> NDArray[np.uint8]:
        """The thumbnail-sized picture, rendered now (for a frame held as a candidate)."""
        return self._thumbs.render(frame)

    def write(self, row: FrameRow, picture: HeldPicture) -> bytes | None:
        """Encode and store the pictures of a kept frame; fills the row's image columns
        and returns the thumbnail's bytes."""
        started = time.perf_counter()
        try:
            return self._write(row, picture)
        finally:
            self.seconds += time.perf_counter() - started

    def _write(self, row: FrameRow, picture: HeldPicture) -> bytes | None:
        index = row["frame_index"]
        thumb_rgb = picture.thumb_rgb
        if thumb_rgb is None and picture.frame is NO_FRAME:
            # Cannot happen for the detectors framesift knows (see may_cut_at); a
            # detector that did it anyway gets its row, without an image.
            logger.warning("frame %d kept after its picture was released", index)
            return None
        if thumb_rgb is None:
            thumb_rgb = self._thumbs.render(picture.frame)
        image = self.image
        thumbnail = encode_image(thumb_rgb, image.format, image.quality)
        row["thumbnail_uri"] = self.sink.put(f"{index:08d}.{self._ext}", thumbnail)
        row["thumbnail_bytes"] = len(thumbnail)
        if image.full_frames:
            full = self._full.render(picture.frame)
            row["frame_uri"] = self.sink.put(
                f"full/{index:08d}.{self._full_ext}",
                encode_image(full, image.full_format, image.quality),
            )
        return thumbnail
