"""From decoded frames to images: the analysis image, display images, encoding.

Display images: every pixel format FFmpeg decodes (yuv420p, yuvj422p, yuv444p, rgb24,
10-bit ...) is converted by swscale straight to the size and layout wanted; numpy only
rotates the small result by multiples of 90 degrees. The analysis image is the one
PySceneDetect's CLI feeds its detectors (:class:`AnalysisRenderer`).
"""

from __future__ import annotations

import io
from typing import Any, NamedTuple, cast

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter
from numpy.typing import NDArray
from PIL import Image

from framesift.spec import ImageFormat, SamplingSpec

__all__ = [
    "EXTENSIONS",
    "AnalysisRenderer",
    "FrameRenderer",
    "Renderers",
    "analysis_size",
    "encode_image",
    "fit_within",
    "linear_axis",
    "make_renderers",
]

_PIL_FORMATS = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "png": "png"}
_PLANAR_420 = frozenset({"yuv420p", "yuvj420p"})


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
    ) -> None:
        self.coded_size = coded_size
        self.rotation_deg = rotation_deg
        self.fmt = fmt
        self.interpolation = interpolation
        self._reformatter = VideoReformatter()
        self._convert = VideoReformatter()

    def render(self, frame: av.VideoFrame) -> NDArray[np.uint8]:
        width, height = self.coded_size
        source = frame.format.name
        if frame.width == width and frame.height == height and source == self.fmt:
            scaled = frame
        elif source in _PLANAR_420 and (frame.width, frame.height) != (width, height):
            # Scale in the source's own 4:2:0 format, then convert at the small size: ~30%
            # less time than one combined step (swscale's cost follows the output it
            # writes); the small image keeps 4:2:0 chroma, like its source. One thread:
            # swscale's own threads cost more than they save at these sizes, and the
            # decoder's threads already use every core.
            small = self._reformatter.reformat(
                frame, width, height, source, interpolation=self.interpolation, threads=1
            )
            scaled = self._convert.reformat(small, format=self.fmt, threads=1)
        else:  # one thread, as above
            scaled = self._reformatter.reformat(
                frame, width, height, self.fmt, interpolation=self.interpolation, threads=1
            )
        return self._rotate(scaled.to_ndarray())

    def _rotate(self, array: NDArray[Any]) -> NDArray[np.uint8]:
        if self.rotation_deg:
            array = np.ascontiguousarray(np.rot90(array, k=-(self.rotation_deg // 90)))
        return array.astype(np.uint8, copy=False)


class _LinearAxis(NamedTuple):
    """Where OpenCV's linear resize reads one axis: each output pixel blends source pixels
    ``low`` and ``high`` with weights out of 2048 (its fixed-point coefficients)."""

    low: NDArray[np.intp]
    high: NDArray[np.intp]
    weight_low: NDArray[np.int32]
    weight_high: NDArray[np.int32]


def linear_axis(n_out: int, n_in: int) -> _LinearAxis:
    """OpenCV's ``resize(INTER_LINEAR)`` geometry along one axis, computed as it computes
    it: source position ``(d + 0.5) * n_in / n_out - 0.5`` in float32, clamped at the
    borders, and each weight rounded to 1/2048 on its own."""
    scale = 1.0 / (n_out / n_in)
    position = ((np.arange(n_out) + 0.5) * scale - 0.5).astype(np.float32)
    low = np.floor(position).astype(np.intp)
    fraction = (position - low.astype(np.float32)).astype(np.float32)
    outside = (low < 0) | (low >= n_in - 1)
    fraction[outside] = 0.0
    low = np.clip(low, 0, n_in - 1)
    one, unit = np.float32(1.0), np.float32(2048.0)
    return _LinearAxis(
        low,
        np.minimum(low + 1, n_in - 1),
        np.round((one - fraction) * unit).astype(np.int32),
        np.round(fraction * unit).astype(np.int32),
    )


def analysis_size(width: int, height: int, longer_side_px: int) -> tuple[int, int]:
    """The analysis image's size for a decoded picture, by PySceneDetect's rule: the
    picture is divided by ``max(width, height) / longer_side_px`` (not at all when it is
    smaller), each side rounded."""
    longer = max(width, height)
    if longer < longer_side_px:
        return width, height
    factor = longer / float(longer_side_px)
    return max(1, round(width / factor)), max(1, round(height / factor))


class _Gather(NamedTuple):
    """What the analysis image of one picture geometry reads: the source rows, the columns
    (None: whole rows, for a resize that blends), the chroma subsampling shifts, and how
    the samples are laid out for the converter (``repeat``: each sample as two pixels of a
    4:2:2 picture, so that every sample keeps its own chroma)."""

    rows: NDArray[np.intp]
    cols: NDArray[np.intp] | None
    chroma_shift: tuple[int, int]
    layout: str  # the samples' pixel format
    repeat: int  # 2: pixel pairs (4:2:0 and 4:2:2 sources), 1: one pixel each (4:4:4)


def _gather_for(frame: av.VideoFrame, size: tuple[int, int]) -> _Gather | None:
    """How to gather the analysis image of pictures like ``frame``, or None where FFmpeg's
    full-size conversion is not pixel by pixel (it then interpolates chroma between rows:
    odd heights, full-range 4:2:0, other formats), so gathering could not reproduce it."""
    name = frame.format.name
    if name in ("yuv420p", "yuv422p") and frame.height % 2 == 0:
        layout, repeat = "yuv422p", 2  # FFmpeg's unscaled YUV-to-RGB: chroma per 2 pixels
    elif name == "yuv444p":
        layout, repeat = "yuv444p", 1
    else:
        return None
    x, y = linear_axis(size[0], frame.width), linear_axis(size[1], frame.height)
    shift = (
        round(np.log2(frame.width / frame.planes[1].width)),
        round(np.log2(frame.height / frame.planes[1].height)),
    )
    if x.weight_high.any() or y.weight_high.any():
        # Blends (1920 -> 256 is 7.5): the rows the resize reads, whole, for OpenCV's own
        # resize (blending in numpy was bit-exact too, but slower than converting).
        rows = np.unique(np.concatenate([y.low, y.high]))
        return _Gather(rows, None, shift, "yuv444p" if repeat == 1 else "yuv422p", 1)
    return _Gather(y.low, x.low, shift, layout, repeat)


def _plane(frame: av.VideoFrame, index: int) -> NDArray[np.uint8]:
    plane = frame.planes[index]
    return np.frombuffer(cast(Any, plane), np.uint8).reshape(-1, plane.line_size)


class AnalysisRenderer:
    """The small images every decoded frame is analysed on: BGR for the scene detectors and
    its gray plane (OpenCV's BT.601 luma) for the perceptual hash and mean luma.

    The image is the one PySceneDetect's CLI gives its detectors: the decoded picture
    converted to BGR at full size by FFmpeg's converter, then shrunk by OpenCV's linear
    resize so that its longer side is ``longer_side_px`` (PySceneDetect's downscale rule,
    :func:`analysis_size`). ``exact=True`` does exactly that (a full-size conversion per
    frame: ~2 ms at 720p and ~6 ms at 1080p here, more than the decoding itself).

    The default converts only what the resize reads, with the same FFmpeg converter (each
    sample keeping the chroma the full-size conversion gives it): where the scale factor
    is a whole number in both directions (1280x720, 3840x2160, no scaling) the resize
    reads single pixels, and only those are gathered and converted; elsewhere (1920x1080
    is 7.5) the rows it reads are converted whole (288 of 1080) into a full-size picture
    that OpenCV's resize then shrinks. Bit for bit the same image (``tests/test_scenes.py``
    pins it). Pictures FFmpeg converts with interpolation (odd heights, full range,
    10-bit, NV12, RGB) take the exact path.
    """

    def __init__(self, longer_side_px: int, rotation_deg: int, *, exact: bool) -> None:
        self.longer_side_px = longer_side_px
        self.rotation_deg = rotation_deg
        self.exact = exact
        self._scale = VideoReformatter()
        self._convert = VideoReformatter()
        self._geometry: tuple[int, int, str, int, int] | None = None
        self._size = (0, 0)
        self._gather: _Gather | None = None
        self._samples: av.VideoFrame | None = None
        self._full: NDArray[np.uint8] | None = None

    def render(self, frame: av.VideoFrame) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """(BGR image, gray plane), both rotated for display."""
        geometry = (
            frame.width,
            frame.height,
            frame.format.name,
            frame.colorspace,
            frame.color_range,
        )
        if geometry != self._geometry:
            self._prepare(frame, geometry)
        if self._gather is None:
            # OpenCV's FFmpeg reader converts with bicubic flags (they decide how chroma
            # is interpolated where FFmpeg's converter is not pixel by pixel).
            full = self._scale.reformat(
                frame, format="bgr24", interpolation="BICUBIC", threads=1
            ).to_ndarray()
            bgr = (
                full
                if self._size == (frame.width, frame.height)
                else cv2.resize(full, self._size, interpolation=cv2.INTER_LINEAR)
            )
        else:
            bgr = self._gathered(frame, self._gather)
        bgr = self._rotate(bgr)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.uint8, copy=False)
        return bgr, gray

    def luma_stats(self, luma: NDArray[np.uint8]) -> tuple[float, float]:
        """(mean, standard deviation) of the gray plane on a 0-255 scale; the deviation is
        the picture's contrast (:func:`framesift.select.shows_picture`)."""
        mean, deviation = cv2.meanStdDev(luma)
        return float(mean[0, 0]), float(deviation[0, 0])

    def _prepare(self, frame: av.VideoFrame, geometry: tuple[int, int, str, int, int]) -> None:
        self._geometry = geometry
        self._size = analysis_size(frame.width, frame.height, self.longer_side_px)
        self._gather = None if self.exact else _gather_for(frame, self._size)
        if self._gather is not None:
            k = self._gather.repeat
            rows = len(self._gather.rows)
            cols = frame.width if self._gather.cols is None else len(self._gather.cols)
            # An even height: FFmpeg converts odd heights another way (interpolating).
            self._samples = av.VideoFrame(cols * k, rows + rows % 2, self._gather.layout)
            self._samples.colorspace = frame.colorspace
            self._samples.color_range = frame.color_range
            if self._gather.cols is None:  # the rows land in a full-size picture
                self._full = np.zeros((frame.height, frame.width, 3), np.uint8)

    def _gathered(self, frame: av.VideoFrame, gather: _Gather) -> NDArray[np.uint8]:
        samples = self._samples
        assert samples is not None  # made with the gather
        rows, cols, k = gather.rows, gather.cols, gather.repeat
        shift_x, shift_y = gather.chroma_shift
        for index in range(3):
            r = rows if index == 0 else rows >> shift_y
            picked = np.take(_plane(frame, index), r, axis=0)  # whole rows: a memcpy each
            if cols is None:
                picked = picked[:, : frame.planes[index].width]
            else:
                c = np.repeat(cols, k) if index == 0 else cols >> shift_x
                picked = np.take(picked, c, axis=1)
            _plane(samples, index)[: picked.shape[0], : picked.shape[1]] = picked
        converted = self._convert.reformat(samples, format="bgr24", threads=1).to_ndarray()
        if cols is not None:
            return np.ascontiguousarray(converted[: len(rows), ::k], dtype=np.uint8)
        # The converted rows in a full-size picture: OpenCV's resize reads only them.
        full = self._full
        assert full is not None  # made with a whole-row gather
        full[rows] = converted[: len(rows)]
        small = cv2.resize(full, self._size, interpolation=cv2.INTER_LINEAR)
        return small.astype(np.uint8, copy=False)

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


class Renderers(NamedTuple):
    """The renderers of one pass; each decoding thread makes its own (they hold swscale
    contexts)."""

    analysis: AnalysisRenderer
    thumbnail: FrameRenderer
    full: FrameRenderer


def make_renderers(width: int, height: int, rotation_deg: int, spec: SamplingSpec) -> Renderers:
    """Renderers for a video of this display size and rotation, at the sizes ``spec`` asks.

    The analysis image follows PySceneDetect's CLI (its longer side ``analysis_width_px``,
    see :class:`AnalysisRenderer`); its size comes from each decoded picture, as
    PySceneDetect's does. Thumbnails and full-resolution frames come at display size
    (square pixels), scaled by swscale in coded orientation and rotated by numpy.
    """
    swap = rotation_deg in (90, 270)
    tw, th = fit_within(width, height, spec.image.max_side_px)
    thumb_size = (th, tw) if swap else (tw, th)
    full_size = (height, width) if swap else (width, height)
    return Renderers(
        AnalysisRenderer(
            spec.analysis_width_px, rotation_deg, exact=spec.analysis_scaling == "exact"
        ),
        FrameRenderer(thumb_size, rotation_deg),
        FrameRenderer(full_size, rotation_deg),
    )
