"""From decoded frames to display images: scaling by FFmpeg's scaler, rotation, encoding.

Every pixel format FFmpeg decodes (yuv420p, yuvj422p, yuv444p, rgb24, 10-bit ...) is
converted by swscale straight to the size and layout wanted; numpy only rotates the small
result by multiples of 90 degrees.
"""

from __future__ import annotations

import io
from typing import Any

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter
from numpy.typing import NDArray
from PIL import Image

from framesift.spec import ImageFormat

__all__ = ["FrameRenderer", "encode_image", "fit_within"]

_PIL_FORMATS = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "png": "png"}


def fit_within(width: int, height: int, max_side_px: int) -> tuple[int, int]:
    """Scale (width, height) down so the longer side is at most ``max_side_px`` (even sizes)."""
    scale = min(1.0, max_side_px / max(width, height))
    w = max(2, round(width * scale / 2) * 2)
    h = max(2, round(height * scale / 2) * 2)
    return w, h


class FrameRenderer:
    """Renders decoded frames at one size and layout, rotated for display.

    Keeps one swscale context for the whole pass (a fresh context per frame costs more
    than the scaling itself). ``coded_size`` is (width, height) before rotation;
    ``rotation_deg`` is the clockwise display rotation (0, 90, 180, 270).
    """

    def __init__(
        self,
        coded_size: tuple[int, int],
        rotation_deg: int,
        *,
        fmt: str = "rgb24",
        interpolation: str = "AREA",
        opencv_resize: bool = False,
    ) -> None:
        self.opencv_resize = opencv_resize
        self.coded_size = coded_size
        self.rotation_deg = rotation_deg
        self.fmt = fmt
        self.interpolation = interpolation
        self._reformatter = VideoReformatter()

    def render(self, frame: av.VideoFrame) -> NDArray[np.uint8]:
        width, height = self.coded_size
        if self.opencv_resize:
            # PySceneDetect's CLI: full-size conversion, then OpenCV's linear resize.
            full = self._reformatter.reformat(frame, format=self.fmt, threads=1).to_ndarray()
            return self._rotate(cv2.resize(full, (width, height), interpolation=cv2.INTER_LINEAR))
        if frame.width == width and frame.height == height and frame.format.name == self.fmt:
            scaled = frame
        else:
            # One thread: swscale's own threads cost more than they save at these sizes,
            # and the decoder's threads already use every core.
            scaled = self._reformatter.reformat(
                frame, width, height, self.fmt, interpolation=self.interpolation, threads=1
            )
        return self._rotate(scaled.to_ndarray())

    def _rotate(self, array: NDArray[Any]) -> NDArray[np.uint8]:
        if self.rotation_deg:
            array = np.ascontiguousarray(np.rot90(array, k=-(self.rotation_deg // 90)))
        return array.astype(np.uint8, copy=False)


def encode_image(rgb: NDArray[np.uint8], fmt: ImageFormat, quality: int) -> bytes:
    """Encode an RGB array as JPEG, WebP or PNG."""
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format=_PIL_FORMATS[fmt], quality=quality)
    return buffer.getvalue()
