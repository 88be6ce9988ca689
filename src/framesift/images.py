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
from av.video.plane import VideoPlane
from av.video.reformatter import VideoReformatter
from numpy.typing import NDArray

from framesift.spec import ImageFormat, SamplingSpec

__all__ = [
    "EXTENSIONS",
    "AnalysisRenderer",
    "FrameRenderer",
    "Renderers",
    "analysis_size",
    "compact_rows",
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


class _PlaneGather(NamedTuple):
    """What the analysis image reads from one plane of the decoded picture: its size, the
    rows and the columns (None: whole rows), and whether OpenCV's nearest-neighbour resize
    picks exactly those (then it gathers them, far faster than numpy's indexing)."""

    width: int
    height: int
    rows: NDArray[np.intp]
    cols: NDArray[np.intp] | None
    nearest: bool


class _Gather(NamedTuple):
    """What the analysis image of one picture geometry reads, plane by plane (Y, U, V),
    and how the samples are laid out for the converter: ``layout`` is their pixel format,
    ``repeat`` 2 when each luma sample stands as two pixels of a 4:2:2 picture, so that
    every sample keeps its own chroma. ``rows`` are the luma rows read (the picture's rows
    the converted samples stand for)."""

    planes: tuple[_PlaneGather, _PlaneGather, _PlaneGather]
    rows: NDArray[np.intp]
    layout: str
    repeat: int
    whole_rows: bool  # the resize blends: whole rows, shrunk by OpenCV's own resize
    compact: bool  # whole rows in the order of a shorter picture (:func:`compact_rows`)


def compact_rows(n_out: int, n_in: int) -> NDArray[np.intp] | None:
    """Rows of a shorter picture that OpenCV's linear resize to ``n_out`` rows reads as it
    reads the ``n_in`` rows of the full one: entry ``i`` is the full picture's row that
    row ``i`` must hold (None: no picture shorter than ``n_in - n_out`` rows does).

    Each output row blends two source rows with weights that follow from the scale, so a
    picture of another height whose pairs carry the same weights (in either order) gives
    the same output from fewer rows: 1080 -> 144 (7.5) is read exactly by 360 rows (2.5),
    the pairs of even output rows stored high row first. Rows no output reads repeat their
    neighbour. Checked in index space against :func:`linear_axis` (OpenCV's geometry).
    """
    full = linear_axis(n_out, n_in)
    for n_short in range(n_out + 1, n_in - n_out):
        short = linear_axis(n_out, n_short)
        natural = (short.weight_low == full.weight_low) & (short.weight_high == full.weight_high)
        swapped = (short.weight_low == full.weight_high) & (short.weight_high == full.weight_low)
        if not np.all(natural | swapped):
            continue
        # Where a pair is stored swapped its low row holds the full picture's high row.
        holds_low = np.where(natural, full.low, full.high)
        holds_high = np.where(natural, full.high, full.low)
        read_low, read_high = short.weight_low > 0, short.weight_high > 0
        positions = np.concatenate([short.low[read_low], short.high[read_high]])
        sources = np.concatenate([holds_low[read_low], holds_high[read_high]])
        rows = np.full(n_short, -1, np.intp)
        rows[positions] = sources
        if not np.array_equal(rows[positions], sources):
            continue  # one short row would have to hold two rows
        held = np.flatnonzero(rows >= 0)
        # Rows no output reads: their nearest held row (any row would do).
        nearest = held[np.clip(np.searchsorted(held, np.arange(n_short)), 0, len(held) - 1)]
        return np.where(rows >= 0, rows, rows[nearest])
    return None


def _nearest_picks(n_in: int, n_out: int, interpolation: int) -> NDArray[np.intp]:
    """The source positions OpenCV's nearest-neighbour ``resize`` (``interpolation``) reads
    along one axis of ``n_in`` pixels shrunk to ``n_out``: a ramp resized."""
    ramp = np.arange(n_in, dtype=np.float32)[None, :]  # exact positions below 2**24
    picked: NDArray[np.float32] = cv2.resize(ramp, (n_out, 1), interpolation=interpolation)[0]
    return picked.astype(np.intp)


def _plane_gather(
    width: int, height: int, rows: NDArray[np.intp], cols: NDArray[np.intp] | None
) -> _PlaneGather:
    # Applied to the gathered rows: the columns across, the rows kept as they are.
    nearest = cols is not None and all(
        np.array_equal(_nearest_picks(n_in, len(wanted), cv2.INTER_NEAREST_EXACT), wanted)
        for n_in, wanted in ((width, cols), (len(rows), np.arange(len(rows))))
    )
    return _PlaneGather(width, height, rows, cols, nearest)


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
    chroma = frame.planes[1]
    shift_x = round(np.log2(frame.width / chroma.width))
    shift_y = round(np.log2(frame.height / chroma.height))
    whole_rows = bool(x.weight_high.any() or y.weight_high.any())
    compact = False
    if whole_rows:
        # Blends (1920 -> 256 is 7.5): the rows the resize reads, whole, for OpenCV's own
        # resize (blending in numpy was bit-exact too, but slower than converting): in
        # the order of a shorter picture it reads alike, where one is not much taller
        # than the rows read; else into a full-size picture.
        rows, cols = np.unique(np.concatenate([y.low, y.high])), None
        short = compact_rows(size[1], frame.height)
        if short is not None and len(short) <= 1.3 * len(rows):
            rows, compact = short, True
        layout, repeat = ("yuv444p" if repeat == 1 else "yuv422p"), 1
    else:
        rows, cols = y.low, x.low
    planes = (
        _plane_gather(frame.width, frame.height, rows, cols),
        *(
            _plane_gather(
                chroma.width,
                chroma.height,
                rows >> shift_y,
                None if cols is None else cols >> shift_x,
            )
            for _ in range(2)
        ),
    )
    return _Gather(planes, rows, layout, repeat, whole_rows, compact)  # type: ignore[arg-type]


def _plane(frame: av.VideoFrame, index: int) -> NDArray[np.uint8]:
    return _plane_array(frame.planes[index])


def _plane_array(plane: VideoPlane) -> NDArray[np.uint8]:
    """A picture plane's bytes as rows of its line size, without a copy."""
    return np.frombuffer(cast(Any, plane), np.uint8).reshape(-1, plane.line_size)


def _pixels(frame: av.VideoFrame, rows: int) -> NDArray[np.uint8]:
    """The first ``rows`` rows of a packed 3-byte picture (bgr24), without a copy."""
    return _plane(frame, 0)[:rows, : frame.width * 3].reshape(rows, frame.width, 3)


def _gather_plane(
    source: NDArray[np.uint8], gather: _PlaneGather, repeat: int, samples: NDArray[np.uint8]
) -> None:
    """Copy what ``gather`` reads of one plane into the top left of ``samples`` (each
    column ``repeat`` times)."""
    n = len(gather.rows)
    if gather.cols is None:  # whole rows: a memcpy each, straight into the samples
        if source.shape[1] == samples.shape[1]:
            np.take(source, gather.rows, axis=0, out=samples[:n], mode="clip")
        else:
            samples[:n, : gather.width] = np.take(source, gather.rows, axis=0)[:, : gather.width]
        return
    m = len(gather.cols)
    # The rows first, whole (a memcpy each streams from memory; picking single pixels
    # from a cold picture stalls on every row), then the columns from those warm rows.
    rows = np.take(source, gather.rows, axis=0)[:, : gather.width]
    picked = (
        cv2.resize(rows, (m, n), interpolation=cv2.INTER_NEAREST_EXACT)
        if gather.nearest
        else np.take(rows, gather.cols, axis=1)
    )
    if repeat == 1:
        samples[:n, :m] = picked
    else:  # each sample twice (pixel pairs share one chroma sample): as 16-bit words of
        # two equal bytes, in one pass (two strided copies took 2.4x as long)
        words = samples.view(np.uint16)[:n, :m]
        np.multiply(picked, np.uint16(257), out=words, dtype=np.uint16)


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
    reads single pixels, and only those are gathered (by OpenCV's nearest-neighbour resize
    where it picks the same pixels, as it does at odd whole-number factors) and converted;
    elsewhere (1920x1080 is 7.5) the rows it reads are converted whole and shrunk by
    OpenCV's resize: as the rows of a shorter picture that the resize reads exactly as it
    reads the full one (:func:`compact_rows`: 360 rows at 1080p, no full-size buffer), or
    where there is none, into a full-size picture. Bit for bit the same image
    (``tests/test_scenes.py`` pins it). Pictures FFmpeg converts with interpolation (odd
    heights, full range, 10-bit, NV12, RGB) take the exact path.
    """

    def __init__(self, longer_side_px: int, rotation_deg: int, *, exact: bool) -> None:
        self.longer_side_px = longer_side_px
        self.rotation_deg = rotation_deg
        self.exact = exact
        self._scale = VideoReformatter()
        self._convert = VideoReformatter()
        self._geometry: tuple[Any, ...] | None = None
        self._size = (0, 0)
        self._gather: _Gather | None = None
        self._samples: av.VideoFrame | None = None
        self._sample_planes: list[NDArray[np.uint8]] = []
        self._full: NDArray[np.uint8] | None = None

    def render(self, frame: av.VideoFrame) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """(BGR image, gray plane), both rotated for display."""
        geometry = (
            frame.width,
            frame.height,
            frame.format.name,
            frame.colorspace,
            frame.color_range,
            *(plane.line_size for plane in frame.planes),
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

    def _prepare(self, frame: av.VideoFrame, geometry: tuple[Any, ...]) -> None:
        self._geometry = geometry
        self._size = analysis_size(frame.width, frame.height, self.longer_side_px)
        gather = self._gather = None if self.exact else _gather_for(frame, self._size)
        if gather is not None:
            rows = len(gather.rows)
            luma = gather.planes[0]
            cols = frame.width if luma.cols is None else len(luma.cols)
            # An even height: FFmpeg converts odd heights another way (interpolating).
            self._samples = av.VideoFrame(cols * gather.repeat, rows + rows % 2, gather.layout)
            self._samples.colorspace = frame.colorspace
            self._samples.color_range = frame.color_range
            self._sample_planes = [_plane_array(plane) for plane in self._samples.planes]
            if gather.whole_rows and not gather.compact:  # rows land in a full-size picture
                self._full = np.zeros((frame.height, frame.width, 3), np.uint8)

    def _gathered(self, frame: av.VideoFrame, gather: _Gather) -> NDArray[np.uint8]:
        # ``frame.planes`` makes every plane's object anew: read once a frame; the
        # samples' planes are viewed once a geometry.
        planes = frame.planes
        for index, plane in enumerate(gather.planes):
            repeat = gather.repeat if index == 0 else 1
            _gather_plane(_plane_array(planes[index]), plane, repeat, self._sample_planes[index])
        samples = self._samples
        assert samples is not None  # made with the gather
        converted = self._convert.reformat(samples, format="bgr24", threads=1)
        rows = len(gather.rows)
        pixels = _pixels(converted, rows)
        if gather.compact:  # the shorter picture: OpenCV's resize reads it as the full one
            small = cv2.resize(pixels, self._size, interpolation=cv2.INTER_LINEAR)
            return small.astype(np.uint8, copy=False)
        if not gather.whole_rows:
            if gather.repeat == 1:
                return pixels.copy()
            # Every other pixel (each pair is one sample): OpenCV's nearest-neighbour
            # resize by a half reads pixels 0, 2, 4 ... and is faster than numpy's copy.
            size = (converted.width // gather.repeat, rows)
            half = cv2.resize(pixels, size, interpolation=cv2.INTER_NEAREST)
            return half.astype(np.uint8, copy=False)
        # The converted rows in a full-size picture: OpenCV's resize reads only them.
        full = self._full
        assert full is not None  # made with a whole-row gather
        full[gather.rows] = pixels
        small = cv2.resize(full, self._size, interpolation=cv2.INTER_LINEAR)
        return small.astype(np.uint8, copy=False)

    def _rotate(self, array: NDArray[Any]) -> NDArray[np.uint8]:
        if self.rotation_deg:
            array = np.ascontiguousarray(np.rot90(array, k=-(self.rotation_deg // 90)))
        return array.astype(np.uint8, copy=False)


def encode_image(rgb: NDArray[np.uint8], fmt: ImageFormat, quality: int) -> bytes:
    """Encode an RGB array as JPEG, WebP or PNG.

    JPEG by OpenCV's libjpeg-turbo (the same bytes as Pillow's at the same quality: a test
    pins it), so a pass that writes JPEG thumbnails does not import Pillow (start-up: ~20
    ms of a command's fixed cost); WebP and PNG by Pillow.
    """
    if fmt == "jpeg":
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:  # OpenCV reports no reason; Pillow says why
            return _pil_encoded(rgb, fmt, quality)
        return encoded.tobytes()
    return _pil_encoded(rgb, fmt, quality)


def _pil_encoded(rgb: NDArray[np.uint8], fmt: ImageFormat, quality: int) -> bytes:
    from PIL import Image  # start-up: only WebP and PNG images need Pillow

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
