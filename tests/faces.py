"""A synthetic clip with real faces at known times: Grace Hopper's portrait (public domain,
US Navy; shipped in matplotlib's sample data, see data/LICENSES.md) pasted onto a textured
background, once and then twice side by side."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import numpy as np
import pytest
from av.video.stream import VideoStream
from PIL import Image

__all__ = [
    "DURATION_S",
    "FACE_BOX",
    "FPS",
    "ONE_FACE_S",
    "SECOND_X",
    "SIZE",
    "TWO_FACES_S",
    "FaceVideo",
    "make_face_video",
]

FPS = 10
SIZE = (640, 360)
ONE_FACE_S = (2.0, 4.0)  # Grace Hopper's portrait on screen from 2.0 s until 4.0 s
TWO_FACES_S = (6.0, 7.0)  # two copies side by side from 6.0 s until 7.0 s
DURATION_S = 8.0
FACE_BOX = (80, 60, 170, 200)  # x, y, w, h of the first portrait, display pixels
SECOND_X = 380


class FaceVideo(NamedTuple):
    path: Path
    frames: int


def _portrait() -> np.ndarray:
    """The portrait at the size it is pasted."""
    cbook = pytest.importorskip("matplotlib.cbook")
    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as image:
        return np.asarray(image.convert("RGB").resize(FACE_BOX[2:], Image.Resampling.LANCZOS))


def make_face_video(directory: Path, name: str = "faces.mp4") -> FaceVideo:
    """A 640x360 H.264 clip, 10 fps, 8 s: a textured background, one face in
    :data:`ONE_FACE_S`, two faces in :data:`TWO_FACES_S`, none elsewhere."""
    path = directory / name
    portrait = _portrait()
    rng = np.random.default_rng(7)
    background = rng.integers(60, 120, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    x, y, w, h = FACE_BOX
    count = round(DURATION_S * FPS)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"x264-params": "asm=0"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for i in range(count):
            t = i / FPS
            rgb = background.copy()
            if ONE_FACE_S[0] <= t < ONE_FACE_S[1] or TWO_FACES_S[0] <= t < TWO_FACES_S[1]:
                rgb[y : y + h, x : x + w] = portrait
            if TWO_FACES_S[0] <= t < TWO_FACES_S[1]:
                rgb[y : y + h, SECOND_X : SECOND_X + w] = portrait
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return FaceVideo(path, count)
