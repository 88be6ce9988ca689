"""Small synthetic test videos with exact ground truth.

Every ``make_*`` function writes one file into the directory it is given and
returns its path with the ground truth a test needs, as a ``NamedTuple`` (so
``path, cut_frames = make_cuts_video(...)`` works as well as ``.cut_frames``).
All of them are deterministic: the same call writes the same pixels, samples
and timestamps (and, with the same PyAV/FFmpeg build, the same bytes; see
``_write_video`` for the two settings that takes).

PyAV encodes everything it can. The ffmpeg command-line tool is used only where
PyAV cannot write the stream: the mov_text subtitle track in
:func:`make_subtitled_video`. Without ``ffmpeg`` on PATH that function raises
:class:`FfmpegCliMissingError` (the fixtures turn it into a skip).

Generators:

- :func:`make_cuts_video`: hard cuts between colour / pattern scenes -> cut frame indices
- :func:`make_vfr_video`: variable frame rate (1/30, 1/10, 1/60 s frames) -> exact frame times
- :func:`make_rotated_video`: 90 degree display matrix -> coded and display size
- :func:`make_offset_start_video`: first frame at 10 s -> first frame time
- :func:`make_colour_split_video`: odd pixel formats, red left / blue right half
- :func:`make_corrupt_audio_video`: garbage in some audio packets, video intact
- :func:`make_truncated_video`: first 30 % of a faststart mp4
- :func:`make_not_a_video`: a text file named ``.mp4``
- :func:`make_audio_only_file`: an AAC ``.m4a`` sine tone
- :func:`make_broken_slice_video`: garbage inside some H.264 video packets
- :func:`make_subtitled_video`: mov_text subtitles in mp4 (ffmpeg CLI)
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

__all__ = [
    "COLOUR_SPLIT_VARIANTS",
    "CUTS_FIXTURE_FPS",
    "CUTS_FIXTURE_FRAMES_PER_SCENE",
    "CUTS_FIXTURE_SCENES",
    "PATTERNS",
    "AudioOnlyFile",
    "BrokenSliceVideo",
    "ColourSplitVideo",
    "CorruptAudioVideo",
    "Cue",
    "CutsVideo",
    "FfmpegCliMissingError",
    "OffsetStartVideo",
    "RotatedVideo",
    "SpokenVideo",
    "SubtitledVideo",
    "TitledVideo",
    "TruncatedVideo",
    "VfrVideo",
    "make_audio_only_file",
    "make_broken_slice_video",
    "make_colour_split_video",
    "make_corrupt_audio_video",
    "make_cuts_video",
    "make_not_a_video",
    "make_offset_start_video",
    "make_rotated_video",
    "make_spoken_video",
    "make_subtitled_video",
    "make_titled_video",
    "make_truncated_video",
    "make_vfr_video",
]

RGB = tuple[int, int, int]
Size = tuple[int, int]  # (width, height) in pixels

FFMPEG_CLI = "ffmpeg"


# --------------------------------------------------------------------------- results


class CutsVideo(NamedTuple):
    path: Path
    cut_frames: list[int]
    """Index (0-based, presentation order) of the first frame of every scene after the first."""


class VfrVideo(NamedTuple):
    path: Path
    frame_times_s: list[float]
    """Exact presentation time of every frame, in seconds."""


class RotatedVideo(NamedTuple):
    path: Path
    coded_size: Size
    """(width, height) of the encoded pictures."""
    display_size: Size
    """(width, height) once the display matrix (90 degrees) is applied."""


class OffsetStartVideo(NamedTuple):
    path: Path
    first_time_s: float


class ColourSplitVideo(NamedTuple):
    path: Path
    pix_fmt: str
    """Pixel format the decoder reports (libx264rgb's rgb24 input decodes as gbrp)."""
    left_rgb: RGB
    right_rgb: RGB


class CorruptAudioVideo(NamedTuple):
    path: Path
    corrupt_audio_times_s: list[float]
    """Presentation times of the audio packets whose bytes were overwritten."""
    video_frame_count: int


class TruncatedVideo(NamedTuple):
    path: Path
    declared_frame_count: int
    """Frames the (intact, front-loaded) moov index promises; far fewer are in the file."""


class AudioOnlyFile(NamedTuple):
    path: Path
    duration_s: float
    sample_rate: int


class BrokenSliceVideo(NamedTuple):
    path: Path
    corrupt_frame_times_s: list[float]
    """Times of the frames whose packets were garbled (no B-frames: packet = display order)."""
    frame_count: int


class Cue(NamedTuple):
    start_s: float
    end_s: float
    text: str
    """Plain text (no markup)."""


class SubtitledVideo(NamedTuple):
    path: Path
    cues: list[Cue]


class SpokenVideo(NamedTuple):
    path: Path
    words: str
    """What the voice says."""
    speech_start_s: float
    """When the voice starts, on the video's timeline."""


_FFMPEG_QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")


class TitledVideo(NamedTuple):
    path: Path
    cards: list[Cue]
    """Each text card: when it is on screen and what it says."""


class FfmpegCliMissingError(RuntimeError):
    """The ffmpeg command-line tool is needed for this file (Debian: apt-get install ffmpeg)."""


# --------------------------------------------------------------------------- pictures


def _checkerboard(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    del rng
    cell = max(4, min(width, height) // 8)
    y, x = np.mgrid[0:height, 0:width]
    mask = ((x // cell) + (y // cell)) % 2 == 0
    out = np.empty((height, width, 3), np.uint8)
    out[mask] = (240, 200, 40)  # yellow
    out[~mask] = (30, 30, 120)  # navy
    return out


def _gradient(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    del rng
    x = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    out = np.empty((height, width, 3), np.float32)
    out[..., 0] = 255 * x
    out[..., 1] = 255 * y
    out[..., 2] = 255 * (1.0 - x) * (1.0 - y) * 0.8 + 40
    return np.broadcast_to(out, (height, width, 3)).clip(0, 255).astype(np.uint8)


def _noise(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    # Low-frequency (blocky) noise: a 1-pixel shift keeps frames near-duplicates,
    # which white noise would not.
    block = 16
    grid = rng.integers(0, 256, (height // block + 2, width // block + 2, 3), dtype=np.uint8)
    big = np.repeat(np.repeat(grid, block, axis=0), block, axis=1)
    return np.ascontiguousarray(big[:height, :width])


def _stripes(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    del rng
    period = max(6, width // 12)
    x = np.arange(width)
    stripe = (x // (period // 2)) % 2 == 0
    out = np.empty((height, width, 3), np.uint8)
    out[:, stripe] = (220, 60, 200)  # magenta
    out[:, ~stripe] = (20, 160, 70)  # green
    return out


def _rings(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    del rng
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot(x - width / 2, y - height / 2)
    wave = (np.sin(r / max(2.0, min(width, height) / 40)) + 1.0) / 2.0
    out = np.empty((height, width, 3), np.float32)
    out[..., 0] = 40 + 60 * wave
    out[..., 1] = 120 + 120 * wave
    out[..., 2] = 230 - 80 * wave
    return out.astype(np.uint8)


PATTERNS: Mapping[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "checkerboard": _checkerboard,
    "gradient": _gradient,
    "noise": _noise,
    "stripes": _stripes,
    "rings": _rings,
}
"""Pattern names accepted by :func:`make_cuts_video` besides plain (r, g, b) colours."""


def _scene_frames(
    item: RGB | str, count: int, width: int, height: int, seed: int
) -> Iterator[np.ndarray]:
    """``count`` near-duplicate RGB frames: a base picture plus a little motion."""
    rng = np.random.default_rng(seed)
    if isinstance(item, str):
        base = PATTERNS[item](width, height, rng)
        for i in range(count):
            yield np.roll(base, shift=i, axis=1)  # drift one pixel per frame to the right
    else:
        colour = np.array(item, dtype=np.int16)
        base = np.empty((height, width, 3), np.uint8)
        base[...] = colour.astype(np.uint8)
        # A small square, clearly off the background colour, moves across the scene.
        shade = np.where(colour > 127, colour - 64, colour + 64).astype(np.uint8)
        side = max(4, min(width, height) // 12)
        for i in range(count):
            frame = base.copy()
            x0 = (side + 2 * i) % max(1, width - side)
            y0 = height // 3
            frame[y0 : y0 + side, x0 : x0 + side] = shade
            yield frame


def _split_picture(width: int, height: int, left: RGB, right: RGB) -> np.ndarray:
    out = np.empty((height, width, 3), np.uint8)
    out[:, : width // 2] = left
    out[:, width // 2 :] = right
    return out


# --------------------------------------------------------------------------- writing


def _sine(start: int, count: int, sample_rate: int, freq_hz: float = 440.0) -> np.ndarray:
    t = np.arange(start, start + count, dtype=np.float64) / sample_rate
    return (0.3 * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)[None, :]


def _write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    *,
    size: Size,
    fps: int | Fraction = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    bframes: int | None = None,
    options: Mapping[str, str] | None = None,
    container_options: Mapping[str, str] | None = None,
    frame_pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    rotation_deg: float | None = None,
    audio_codec: str | None = None,
    audio_rate: int = 48000,
) -> int:
    """Encode RGB frames (and optionally a sine tone) into ``path``; return the frame count.

    Frame ``i`` gets pts ``frame_pts[i]`` in ``time_base`` (default: ``i`` in ``1/fps``).
    """
    width, height = size
    rate = Fraction(fps)
    tb = time_base if time_base is not None else 1 / rate
    codec_options = dict(options or {})
    if codec.startswith("libx264"):
        # x264's SIMD code reads the uninitialised padding of PyAV's frame buffers,
        # which changes its motion-search decisions (and so the decoded pixels) from
        # run to run. Its C code paths do not; they are fast enough for tiny frames.
        params = codec_options.get("x264-params")
        codec_options["x264-params"] = f"{params}:asm=0" if params else "asm=0"
    # bitexact: no random Matroska UIDs, no library version strings.
    muxer_options = {"fflags": "+bitexact", **(container_options or {})}
    count = 0
    with av.open(str(path), "w", options=muxer_options) as container:
        stream = container.add_stream(codec, rate=rate, options=codec_options)
        if not isinstance(stream, VideoStream):
            raise TypeError(f"{codec} is not a video encoder")
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        ctx = stream.codec_context
        ctx.time_base = tb
        ctx.thread_count = 1  # byte-identical output from run to run
        if gop is not None:
            ctx.gop_size = gop
        if bframes is not None:
            ctx.max_b_frames = bframes
        if rotation_deg is not None:
            stream.set_display_rotation(rotation_deg)
        audio: AudioStream | None = None
        if audio_codec is not None:
            added = container.add_stream(audio_codec, rate=audio_rate, layout="mono")
            if not isinstance(added, AudioStream):
                raise TypeError(f"{audio_codec} is not an audio encoder")
            audio = added
        samples_done = 0
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = frame_pts[i] if frame_pts is not None else i
            frame.time_base = tb
            container.mux(stream.encode(frame))
            count += 1
            if audio is not None:
                upto = round((i + 1) * audio_rate / rate)
                chunk = av.AudioFrame.from_ndarray(
                    _sine(samples_done, upto - samples_done, audio_rate),
                    format="flt",
                    layout="mono",
                )
                chunk.sample_rate = audio_rate
                chunk.pts = samples_done
                chunk.time_base = Fraction(1, audio_rate)
                samples_done = upto
                container.mux(audio.encode(chunk))
        container.mux(stream.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))
    return count


def _packets(path: Path, kind: str) -> list[tuple[int, int, float]]:
    """(byte offset, size, time in s) of every non-empty packet of the first ``kind`` stream."""
    out = []
    with av.open(str(path)) as container:
        stream = next(s for s in container.streams if s.type == kind)
        for packet in container.demux(stream):
            if packet.size and packet.pos is not None and packet.pts is not None:
                out.append((packet.pos, packet.size, float(packet.pts * packet.time_base)))
    return out


def _overwrite(path: Path, spans: Iterable[tuple[int, int]], seed: int) -> None:
    """Replace the bytes of each (offset, length) span with seeded random garbage."""
    rng = np.random.default_rng(seed)
    with path.open("r+b") as fh:
        for offset, length in spans:
            fh.seek(offset)
            fh.write(rng.integers(0, 256, length, dtype=np.uint8).tobytes())


def _check_size(size: Size, pix_fmt: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive (width, height), got {size}")
    if pix_fmt.startswith(("yuv420", "yuvj420", "nv12")) and (width % 2 or height % 2):
        raise ValueError(f"{pix_fmt} needs an even width and height, got {size}")


# --------------------------------------------------------------------------- generators


def make_cuts_video(
    directory: Path,
    *,
    colours_or_patterns: Sequence[RGB | str],
    frames_per_scene: Sequence[int],
    fps: int = 25,
    size: Size = (320, 240),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int | None = None,
    bframes: int | None = 2,
    options: Mapping[str, str] | None = None,
    name: str = "cuts.mp4",
) -> CutsVideo:
    """Hard cuts between scenes; each scene is a solid (r, g, b) colour or a :data:`PATTERNS` name.

    Inside a scene the picture moves a little every frame (a small square on solid
    colours, a one-pixel drift on patterns), so frames are near-duplicates but
    never byte-identical. ``cut_frames`` holds the index of the first frame of
    every scene but the first (cut time = index / fps: the frame rate is constant).
    ``bframes`` (default 2) makes packet order differ from display order;
    ``None`` keeps the codec's default. The container follows ``name``'s suffix.
    """
    if len(colours_or_patterns) != len(frames_per_scene):
        raise ValueError(
            f"colours_or_patterns has {len(colours_or_patterns)} scenes but frames_per_scene "
            f"has {len(frames_per_scene)}: give one frame count per scene"
        )
    if not frames_per_scene or min(frames_per_scene) < 1:
        raise ValueError(f"frames_per_scene must be non-empty and >= 1, got {frames_per_scene}")
    for item in colours_or_patterns:
        if isinstance(item, str) and item not in PATTERNS:
            raise ValueError(
                f"unknown pattern {item!r}; use one of {sorted(PATTERNS)} or an (r, g, b) tuple"
            )
    for a, b in itertools.pairwise(colours_or_patterns):
        if a == b:
            raise ValueError(f"two adjacent scenes are both {a!r}: that cut would be invisible")
    _check_size(size, pix_fmt)
    width, height = size

    def frames() -> Iterator[np.ndarray]:
        for seed, (item, count) in enumerate(
            zip(colours_or_patterns, frames_per_scene, strict=True)
        ):
            yield from _scene_frames(item, count, width, height, seed)

    path = Path(directory) / name
    _write_video(
        path,
        frames(),
        size=size,
        fps=fps,
        codec=codec,
        pix_fmt=pix_fmt,
        gop=gop,
        bframes=bframes,
        options=options,
    )
    cuts = np.cumsum(frames_per_scene)[:-1].tolist()
    return CutsVideo(path, [int(c) for c in cuts])


VFR_TICKS_PER_S = 60
VFR_DURATION_PATTERN_TICKS = (2, 6, 1)  # 1/30 s, 1/10 s, 1/60 s in 1/60 s ticks


def make_vfr_video(
    directory: Path, *, frame_count: int = 30, size: Size = (160, 128), name: str = "vfr.mp4"
) -> VfrVideo:
    """Variable frame rate mp4: frame durations cycle 1/30, 1/10, 1/60 s (no B-frames).

    ``frame_times_s`` are exact multiples of 1/60 s (as floats); a reader that
    assumes a constant rate gets them wrong from the third frame on.
    """
    durations = [VFR_DURATION_PATTERN_TICKS[i % 3] for i in range(frame_count)]
    pts = [0]
    for d in durations[:-1]:
        pts.append(pts[-1] + d)
    width, height = size
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]

    def frames() -> Iterator[np.ndarray]:
        for i in range(frame_count):
            frame = np.empty((height, width, 3), np.uint8)
            frame[...] = colours[i % 3]
            frame[:, (4 * i) % width : (4 * i) % width + 4] = 255  # a bar that moves
            yield frame

    path = Path(directory) / name
    _write_video(
        path,
        frames(),
        size=size,
        fps=VFR_TICKS_PER_S,
        bframes=0,
        frame_pts=pts,
        time_base=Fraction(1, VFR_TICKS_PER_S),
    )
    return VfrVideo(path, [float(Fraction(p, VFR_TICKS_PER_S)) for p in pts])


def make_rotated_video(
    directory: Path, *, size: Size = (160, 96), frame_count: int = 10, name: str = "rotated.mp4"
) -> RotatedVideo:
    """An mp4 whose video stream carries a display matrix rotating 90 degrees counter-clockwise.

    The coded pictures are landscape with a red block in the top-left corner and a
    blue one in the top-right; displayed, the video is portrait (the red block
    ends up bottom-left). PyAV reports ``frame.rotation == 90``; ffprobe prints
    ``rotation=90`` in the stream's side data.
    """
    width, height = size
    _check_size(size, "yuv420p")

    def frames() -> Iterator[np.ndarray]:
        for i in range(frame_count):
            frame = np.full((height, width, 3), 128, np.uint8)
            block = min(width, height) // 4
            frame[:block, :block] = (255, 0, 0)
            frame[:block, width - block :] = (0, 0, 255)
            frame[height - 8 :, (3 * i) % (width - 8) :][:, :8] = 255
            yield frame

    path = Path(directory) / name
    _write_video(path, frames(), size=size, bframes=0, rotation_deg=90)
    return RotatedVideo(path, (width, height), (height, width))


def make_offset_start_video(
    directory: Path,
    *,
    start_s: int = 10,
    fps: int = 25,
    frame_count: int = 25,
    size: Size = (160, 128),
    name: str = "offset_start.mp4",
) -> OffsetStartVideo:
    """An mp4 whose first frame is presented at ``start_s`` seconds, not 0 (pts offset in PyAV)."""
    width, height = size
    frames = (
        np.roll(_gradient(width, height, np.random.default_rng(0)), i, axis=1)
        for i in range(frame_count)
    )
    path = Path(directory) / name
    first = start_s * fps
    _write_video(
        path,
        frames,
        size=size,
        fps=fps,
        bframes=0,
        frame_pts=[first + i for i in range(frame_count)],
    )
    return OffsetStartVideo(path, float(start_s))


CUTS_FIXTURE_SCENES: tuple[RGB | str, ...] = (
    (255, 0, 0),
    "checkerboard",
    "gradient",
    (0, 0, 255),
    "noise",
    "stripes",
    "rings",
)
CUTS_FIXTURE_FRAMES_PER_SCENE = (12, 10, 15, 8, 10, 9, 11)
CUTS_FIXTURE_FPS = 25
"""The scenes of the ``cuts_video`` fixtures (tests/conftest.py): 75 frames, 6 cuts."""


# pix_fmt variant -> (codec, encoder pix_fmt, file suffix, pix_fmt the decoder reports)
COLOUR_SPLIT_VARIANTS: Mapping[str, tuple[str, str, str, str]] = {
    "yuv444p": ("libx264", "yuv444p", ".mp4", "yuv444p"),  # H.264 High 4:4:4
    "yuvj422p": ("mjpeg", "yuvj422p", ".avi", "yuvj422p"),  # full-range JPEG 4:2:2
    "gbrp": ("libx264rgb", "rgb24", ".mkv", "gbrp"),  # RGB H.264, decodes planar
    "rgb24": ("png", "rgb24", ".mov", "rgb24"),  # packed RGB
    "yuv420p10le": ("libx264", "yuv420p10le", ".mp4", "yuv420p10le"),  # H.264 High 10
}
"""Variants for :func:`make_colour_split_video`."""


def make_colour_split_video(
    directory: Path,
    variant: str,
    *,
    size: Size = (64, 48),
    frame_count: int = 5,
    left_rgb: RGB = (255, 0, 0),
    right_rgb: RGB = (0, 0, 255),
) -> ColourSplitVideo:
    """A few frames, pure red left half and pure blue right half, in an unusual pixel format.

    Converted to RGB the halves come back within a few levels (chroma subsampling
    blurs only the few columns at the boundary, so sample away from it).
    """
    if variant not in COLOUR_SPLIT_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {sorted(COLOUR_SPLIT_VARIANTS)}")
    codec, pix_fmt, suffix, decoded = COLOUR_SPLIT_VARIANTS[variant]
    _check_size(size, pix_fmt)
    width, height = size
    picture = _split_picture(width, height, left_rgb, right_rgb)
    path = Path(directory) / f"colour_split_{variant}{suffix}"
    _write_video(
        path,
        (picture for _ in range(frame_count)),
        size=size,
        codec=codec,
        pix_fmt=pix_fmt,
        bframes=0,
    )
    return ColourSplitVideo(path, decoded, left_rgb, right_rgb)


def _noise_frames(count: int, width: int, height: int, seed: int) -> Iterator[np.ndarray]:
    base = _noise(width, height, np.random.default_rng(seed))
    for i in range(count):
        yield np.roll(base, i, axis=1)


def make_corrupt_audio_video(
    directory: Path,
    *,
    frame_count: int = 50,
    fps: int = 25,
    size: Size = (160, 128),
    corrupt_packets: int = 4,
    name: str = "corrupt_audio.mp4",
) -> CorruptAudioVideo:
    """H.264 video + AAC sine in mp4; ``corrupt_packets`` audio packets in the middle hold garbage.

    Only bytes inside those audio packets change (offsets from PyAV's
    ``packet.pos``), so every video frame still decodes cleanly, while decoding
    the audio raises ``av.error.InvalidDataError`` at the first bad packet.
    """
    width, height = size
    path = Path(directory) / name
    count = _write_video(
        path,
        _noise_frames(frame_count, width, height, seed=3),
        size=size,
        fps=fps,
        bframes=2,
        audio_codec="aac",
    )
    packets = _packets(path, "audio")
    first = len(packets) // 2
    chosen = packets[first : first + corrupt_packets]
    _overwrite(path, [(pos, size_) for pos, size_, _ in chosen], seed=7)
    return CorruptAudioVideo(path, [t for _, _, t in chosen], count)


def make_truncated_video(
    directory: Path,
    *,
    keep_fraction: float = 0.3,
    frame_count: int = 50,
    size: Size = (160, 128),
    name: str = "truncated.mp4",
) -> TruncatedVideo:
    """The first ``keep_fraction`` of a valid mp4 written with ``movflags=+faststart``.

    The moov index sits before the media data, so the file opens and promises
    ``declared_frame_count`` frames, but most of their bytes are gone.
    """
    if not 0.0 < keep_fraction < 1.0:
        raise ValueError(f"keep_fraction must be between 0 and 1 (exclusive), got {keep_fraction}")
    width, height = size
    full = Path(directory) / f".full_{name}"
    count = _write_video(
        full,
        _noise_frames(frame_count, width, height, seed=4),
        size=size,
        bframes=0,
        container_options={"movflags": "+faststart"},
        audio_codec="aac",
    )
    data = full.read_bytes()
    full.unlink()
    path = Path(directory) / name
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return TruncatedVideo(path, count)


def make_not_a_video(directory: Path, *, name: str = "not_a_video.mp4") -> Path:
    """A plain text file with a video file name."""
    path = Path(directory) / name
    path.write_text("This is not a video. It is a text file named .mp4.\n" * 20, encoding="utf-8")
    return path


def make_audio_only_file(
    directory: Path,
    *,
    duration_s: float = 2.0,
    sample_rate: int = 44100,
    name: str = "audio_only.m4a",
) -> AudioOnlyFile:
    """An AAC sine tone in an .m4a (mp4) file with no video stream."""
    path = Path(directory) / name
    total = round(duration_s * sample_rate)
    chunk = 4096
    with av.open(str(path), "w", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("aac", rate=sample_rate, layout="mono")
        for start in range(0, total, chunk):
            frame = av.AudioFrame.from_ndarray(
                _sine(start, min(chunk, total - start), sample_rate), format="flt", layout="mono"
            )
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return AudioOnlyFile(path, duration_s, sample_rate)


def make_broken_slice_video(
    directory: Path,
    *,
    frame_count: int = 40,
    size: Size = (160, 128),
    broken_frames: Sequence[int] = (20, 21),
    name: str = "broken_slice.mp4",
) -> BrokenSliceVideo:
    """H.264 mp4 (one keyframe, no B-frames) where the middle of some video packets is garbage.

    The container and the frames before ``corrupt_frame_times_s`` are intact.
    PyAV 18 (FFmpeg 8) raises ``av.error.InvalidDataError`` when those packets
    are sent to the decoder (with other content FFmpeg conceals the damage and
    flags the frame ``is_corrupt`` instead); a reader that skips the bad packets
    gets every other frame.
    """
    width, height = size
    path = Path(directory) / name
    count = _write_video(
        path,
        _noise_frames(frame_count, width, height, seed=5),
        size=size,
        bframes=0,
        gop=10 * frame_count,
    )
    packets = _packets(path, "video")
    if max(broken_frames) >= len(packets) or min(broken_frames) < 1:
        raise ValueError(f"broken_frames must lie in 1..{len(packets) - 1}, got {broken_frames}")
    spans = []
    for index in broken_frames:
        pos, size_, _ = packets[index]
        spans.append((pos + size_ // 4, size_ // 2))  # keep the slice header, garble the data
    _overwrite(path, spans, seed=11)
    return BrokenSliceVideo(path, [packets[i][2] for i in broken_frames], count)


SUBTITLE_CUES = (
    Cue(0.5, 1.5, "Hello, world!"),
    Cue(2.0, 3.25, "Second line — with “typography”"),
    Cue(3.5, 3.9, "Italic words here"),
)


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def make_subtitled_video(
    directory: Path,
    *,
    duration_s: int = 4,
    fps: int = 10,
    size: Size = (160, 128),
    name: str = "subtitled.mp4",
) -> SubtitledVideo:
    """An mp4 with an H.264 video stream and a mov_text subtitle stream (language ``eng``).

    The video is encoded with PyAV; the ffmpeg CLI muxes in a small .srt it
    writes beside it (PyAV cannot encode subtitle streams). The third cue is
    wrapped in ``<i>`` in the .srt, so readers must strip markup to get ``text``.
    """
    ffmpeg = shutil.which(FFMPEG_CLI)
    if ffmpeg is None:
        raise FfmpegCliMissingError(
            "make_subtitled_video needs the ffmpeg command-line tool on PATH "
            "(Debian: apt-get install ffmpeg)"
        )
    directory = Path(directory)
    width, height = size
    video = directory / f".video_{name}"
    frames = _scene_frames((30, 30, 30), duration_s * fps, width, height, seed=0)
    _write_video(video, frames, size=size, fps=fps, bframes=0)
    srt = directory / f"{Path(name).stem}.srt"
    blocks = []
    for i, cue in enumerate(SUBTITLE_CUES, start=1):
        text = f"<i>{cue.text}</i>" if i == 3 else cue.text
        blocks.append(f"{i}\n{_srt_time(cue.start_s)} --> {_srt_time(cue.end_s)}\n{text}\n")
    srt.write_text("\n".join(blocks), encoding="utf-8")
    path = directory / name
    subprocess.run(
        [
            ffmpeg,
            *_FFMPEG_QUIET,
            "-i",
            str(video),
            "-i",
            str(srt),
            "-map",
            "0:v",
            "-map",
            "1:s",
            "-c:v",
            "copy",
            "-c:s",
            "mov_text",
            "-metadata:s:s:0",
            "language=eng",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    video.unlink()
    return SubtitledVideo(path, list(SUBTITLE_CUES))


SPOKEN_WORDS = "The quick brown fox jumps over the lazy dog near the river bank."


def make_spoken_video(
    directory: Path,
    *,
    words: str = SPOKEN_WORDS,
    delay_s: float = 1.0,
    name: str = "spoken.mp4",
) -> SpokenVideo:
    """An mp4 with a grey H.264 picture and an AAC voice (espeak-ng) saying ``words``,
    starting ``delay_s`` into the video."""
    ffmpeg, espeak = shutil.which(FFMPEG_CLI), shutil.which("espeak-ng")
    if ffmpeg is None or espeak is None:
        raise FfmpegCliMissingError(
            "make_spoken_video needs ffmpeg and espeak-ng on PATH "
            "(Debian: apt-get install ffmpeg espeak-ng)"
        )
    directory = Path(directory)
    wav = directory / f".{Path(name).stem}.wav"
    subprocess.run([espeak, "-s", "150", "-w", str(wav), words], check=True, capture_output=True)
    path = directory / name
    delay_ms = round(delay_s * 1000)
    subprocess.run(
        [
            ffmpeg,
            *_FFMPEG_QUIET,
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=160x120:r=10",
            "-i",
            str(wav),
            "-filter_complex",
            f"[1:a]adelay={delay_ms},apad=pad_dur=1[a]",
            "-map",
            "0:v",
            "-map",
            "[a]",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-ar",
            "22050",
            "-ac",
            "1",
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    wav.unlink()
    return SpokenVideo(path, words, delay_s)


TITLE_CARDS = (
    Cue(0.0, 2.0, "FRAMESIFT DEMO"),
    Cue(2.0, 4.0, "SECOND TITLE CARD"),
)


def make_titled_video(
    directory: Path, *, fps: int = 10, size: Size = (640, 360), name: str = "titled.mp4"
) -> TitledVideo:
    """Text cards (:data:`TITLE_CARDS`, large sans-serif letters, a hard cut between them),
    then one second of a picture without text."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = size
    font = ImageFont.load_default(size=height // 8)
    looks = [((20, 20, 70), (255, 255, 255)), ((240, 220, 40), (0, 0, 0))]

    def frames() -> Iterator[np.ndarray]:
        for (background, ink), card in zip(looks, TITLE_CARDS, strict=True):
            image = Image.new("RGB", size, background)
            ImageDraw.Draw(image).text((width // 10, height // 2 - height // 16), card.text,
                                       font=font, fill=ink)  # fmt: skip
            picture = np.asarray(image)
            for _ in range(round((card.end_s - card.start_s) * fps)):
                yield picture
        yield from _scene_frames("gradient", fps, width, height, seed=3)

    path = Path(directory) / name
    _write_video(path, frames(), size=size, fps=fps, bframes=0)
    return TitledVideo(path, list(TITLE_CARDS))
