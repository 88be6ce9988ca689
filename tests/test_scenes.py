"""framesift's faster content score equals PySceneDetect's, frame for frame, and so does
the analysis image the scores are computed on."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector, ContentDetector
from scenedetect.scene_manager import compute_downscale_factor

from framesift import images
from framesift.errors import SettingsError
from framesift.images import AnalysisRenderer, analysis_size, linear_axis
from framesift.scenes import (
    KNOWN_DETECTORS,
    FastAdaptiveDetector,
    FastContentDetector,
    SceneCutDetector,
    adapter_for,
)
from framesift.schema import KEEP_REASONS, KeepReason
from framesift.select import KeepReason as SelectKeepReason
from framesift.spec import DEFAULT_THRESHOLDS, DETECTOR_NAMES


def frames(seed: int, count: int = 40) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(72, 128, 3), dtype=np.uint8)
    out = []
    for i in range(count):
        if i % 13 == 0:  # a hard cut now and then
            base = rng.integers(0, 256, size=base.shape, dtype=np.uint8)
        jitter = rng.integers(-6, 7, size=base.shape)
        out.append(np.clip(base.astype(int) + jitter, 0, 255).astype(np.uint8))
    return out


@pytest.mark.parametrize(
    ("fast", "reference", "kwargs"),
    [
        (FastContentDetector, ContentDetector, {}),
        (FastContentDetector, ContentDetector, {"luma_only": True}),
        (
            FastContentDetector,
            ContentDetector,
            {"weights": ContentDetector.Components(1.0, 0.5, 1.0, 0.25)},
        ),
        (FastAdaptiveDetector, AdaptiveDetector, {}),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_score_equals_pyscenedetect(fast, reference, kwargs, seed):
    ours, theirs = fast(**kwargs), reference(**kwargs)
    for i, image in enumerate(frames(seed)):
        tc = FrameTimecode(i, fps=25.0)
        assert ours.process_frame(tc, image) == theirs.process_frame(tc, image)
        assert ours._frame_score == theirs._frame_score


def test_detector_reports_its_score_per_frame():
    detector = SceneCutDetector("content", 27.0, 5, 25.0)
    scores = [detector.push(i, image)[0] for i, image in enumerate(frames(3))]
    assert scores[0] == 0.0
    assert max(scores) > 27.0  # the cuts
    assert min(scores[1:]) > 0.0


def test_every_detector_name_has_its_adapter():
    assert set(KNOWN_DETECTORS) == set(DETECTOR_NAMES)
    for name in DETECTOR_NAMES:
        assert adapter_for(name).name == name
    with pytest.raises(SettingsError, match="allowed content"):
        adapter_for("histogram")


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_replay_from_stored_scores_finds_the_streamed_cuts(name):
    detector = SceneCutDetector(name, None, 3, 25.0)
    images = frames(4, 60)
    for i in range(20, 26):  # a fade to black and back, for the threshold detector
        images[i] = images[i] // 40
    scores, cuts = [], []
    for i, image in enumerate(images):
        score, found = detector.push(i, image)
        scores.append(score)
        cuts.extend(found)
    cuts.extend(detector.finish())
    replayed = adapter_for(name).replay(
        DEFAULT_THRESHOLDS[name],
        3,
        list(range(len(images))),
        scores,
        25.0,
    )
    assert cuts
    assert replayed == cuts


def test_keep_reasons_have_one_definition():
    assert SelectKeepReason is KeepReason
    assert KEEP_REASONS == ("interval", "keyframe", "scene_start", "representative")


# -- the analysis image: PySceneDetect's, pixel for pixel --------------------------------


def _picture(width: int, height: int, seed: int) -> np.ndarray:
    """Gradients in every channel plus noise: chroma that differs from pixel to pixel."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) * 3 % 256])
    noisy = rgb.transpose(1, 2, 0) + rng.integers(-40, 41, size=(height, width, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _pyscenedetect_image(frame: av.VideoFrame) -> np.ndarray:
    """What PySceneDetect's CLI gives its detectors: OpenCV's reader (FFmpeg's converter
    with bicubic flags) at full size, then its downscale factor and OpenCV's linear resize."""
    full = frame.reformat(format="bgr24", interpolation="BICUBIC").to_ndarray()
    factor = compute_downscale_factor(max(frame.width, frame.height))
    if factor <= 1.0:
        return full
    size = (round(frame.width / factor), round(frame.height / factor))
    return cv2.resize(full, size, interpolation=cv2.INTER_LINEAR)


@pytest.mark.parametrize(
    ("width", "height", "pix_fmt"),
    [
        (1280, 720, "yuv420p"),  # a whole-number factor: samples gathered
        (3840, 2160, "yuv420p"),
        (1920, 1080, "yuv420p"),  # 7.5: every pixel a blend of four (a shorter picture)
        (1080, 1920, "yuv420p"),  # the same, portrait: 640 rows of 1920
        (1440, 1080, "yuv420p"),  # 5.625: 456 rows of a shorter picture
        (2560, 1440, "yuv420p"),  # 10: blends too (pairs of rows, 288 of them)
        (1920, 800, "yuv420p"),  # no shorter picture: rows into a full-size one
        (854, 480, "yuv420p"),
        (640, 360, "yuv422p"),
        (1280, 720, "yuv444p"),
        (768, 432, "yuv420p"),  # 3: samples gathered
        (432, 768, "yuv420p"),  # portrait 3, rows padded in memory (432 is no multiple of 64)
        (1000, 562, "yuv420p"),  # 3.9: whole rows, padded in memory
        (720, 405, "yuv420p"),  # odd height: FFmpeg interpolates chroma; the exact path
        (640, 360, "yuvj420p"),  # full range: likewise
        (200, 120, "yuv420p"),  # smaller than the analysis size: not scaled
    ],
)
def test_default_analysis_image_equals_pyscenedetects(width, height, pix_fmt):
    frame = av.VideoFrame.from_ndarray(_picture(width, height, 7), format="rgb24").reformat(
        format=pix_fmt
    )
    expected = _pyscenedetect_image(frame)
    for exact in (False, True):
        bgr, gray = AnalysisRenderer(256, 0, exact=exact).render(frame)
        np.testing.assert_array_equal(bgr, expected)
        np.testing.assert_array_equal(gray, cv2.cvtColor(expected, cv2.COLOR_BGR2GRAY))


@pytest.mark.parametrize(
    ("width", "height", "pix_fmt"),
    [(1280, 720, "yuv420p"), (1920, 1080, "yuv420p"), (768, 432, "yuv444p")],
)
def test_analysis_image_of_every_frame_in_turn(width, height, pix_fmt):
    # One renderer over a stream of pictures: its buffers, reused, keep nothing of the last.
    renderer = AnalysisRenderer(256, 0, exact=False)
    for seed in range(4):
        frame = av.VideoFrame.from_ndarray(_picture(width, height, seed), format="rgb24")
        frame = frame.reformat(format=pix_fmt)
        bgr, _ = renderer.render(frame)
        np.testing.assert_array_equal(bgr, _pyscenedetect_image(frame))


def test_analysis_image_gathered_by_numpy_where_opencv_picks_other_pixels(monkeypatch):
    # At 1280x720 OpenCV's nearest-neighbour resize picks the pixels the linear resize
    # reads; where it would not, numpy gathers them: the same image.
    frame = av.VideoFrame.from_ndarray(_picture(1280, 720, 5), format="rgb24").reformat(
        format="yuv420p"
    )
    renderer = AnalysisRenderer(256, 0, exact=False)
    renderer.render(frame)
    assert renderer._gather is not None
    assert all(plane.nearest for plane in renderer._gather.planes)
    monkeypatch.setattr(images, "_nearest_picks", lambda n_in, n_out, _: np.zeros(n_out, int))
    renderer = AnalysisRenderer(256, 0, exact=False)
    bgr, _ = renderer.render(frame)
    assert renderer._gather is not None
    assert not any(plane.nearest for plane in renderer._gather.planes)
    np.testing.assert_array_equal(bgr, _pyscenedetect_image(frame))


def test_portrait_analysis_image_follows_pyscenedetects_longer_side():
    frame = av.VideoFrame.from_ndarray(_picture(360, 640, 3), format="rgb24").reformat(
        format="yuv420p"
    )
    assert analysis_size(360, 640, 256) == (144, 256)
    bgr, _ = AnalysisRenderer(256, 0, exact=False).render(frame)
    expected = _pyscenedetect_image(frame)
    assert bgr.shape == expected.shape == (256, 144, 3)
    np.testing.assert_array_equal(bgr, expected)


@pytest.mark.parametrize(("n_out", "n_in"), [(256, 1920), (256, 854), (144, 1080), (7, 7)])
def test_linear_axis_is_opencvs_geometry(n_out, n_in):
    axis = linear_axis(n_out, n_in)
    # A one-row ramp resized by OpenCV: each output is the blend of low and high.
    ramp = (np.arange(n_in) % 256).astype(np.uint8)[None, :].repeat(2, axis=0)
    resized = cv2.resize(ramp, (n_out, 2), interpolation=cv2.INTER_LINEAR)[0].astype(int)
    blend = (ramp[0, axis.low] * axis.weight_low + ramp[0, axis.high] * axis.weight_high) / 2048
    assert np.abs(resized - blend).max() <= 1


@pytest.mark.parametrize(("n_out", "n_in"), [(144, 1080), (256, 1920), (144, 562), (256, 3840)])
def test_compact_rows_are_read_as_the_full_picture(n_out, n_in):
    # OpenCV's linear resize of the shorter picture equals that of the full one.
    rows = images.compact_rows(n_out, n_in)
    assert rows is not None
    assert len(rows) < n_in - n_out
    full = np.random.default_rng(n_in).integers(0, 256, size=(n_in, 96, 3), dtype=np.uint8)
    expected = cv2.resize(full, (48, n_out), interpolation=cv2.INTER_LINEAR)
    short = cv2.resize(full[rows], (48, n_out), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(short, expected)


def test_analysis_image_paths_taken_at_720p_and_1080p():
    # The pins above hold on these paths: 720p gathers single samples (picked as words),
    # 1080p converts the rows of the shorter picture only.
    for (width, height), compact, repeat in (((1280, 720), False, 2), ((1920, 1080), True, 1)):
        frame = av.VideoFrame(width, height, "yuv420p")
        renderer = AnalysisRenderer(256, 0, exact=False)
        renderer.render(frame)
        assert renderer._gather is not None
        assert (renderer._gather.compact, renderer._gather.repeat) == (compact, repeat)
        assert len(renderer._gather.rows) == (360 if compact else 144)


def _flashy_frames(seed: int, count: int = 240) -> list[np.ndarray]:
    """Shots, hard cuts and bursts of flashes closer together than a minimum scene."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(36, 64, 3), dtype=np.uint8)
    out = []
    for _i in range(count):
        if rng.random() < 0.06:  # a cut
            base = rng.integers(0, 256, size=base.shape, dtype=np.uint8)
        picture = base
        if rng.random() < 0.08:  # a flash: one frame of something else
            picture = rng.integers(0, 256, size=base.shape, dtype=np.uint8)
        jitter = rng.integers(-4, 5, size=base.shape)
        out.append(np.clip(picture.astype(int) + jitter, 0, 255).astype(np.uint8))
    return out


@pytest.mark.parametrize("min_len", [0, 1, 6, 15])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pushed_frames_report_process_frames_scores_and_cuts(min_len, seed):
    # The content adapter skips the flash filter for frames it cannot change: the same
    # scores and cuts as PySceneDetect's process_frame, frame by frame and at the end.
    ours = SceneCutDetector("content", 27.0, min_len, 24.0)
    theirs = FastContentDetector(threshold=27.0, min_scene_len=min_len)
    reported = []
    for i, image in enumerate(_flashy_frames(seed)):
        number = 100 + i
        score, cuts = ours.push(number, image)
        expected = [
            int(c.frame_num) for c in theirs.process_frame(FrameTimecode(number, fps=24.0), image)
        ]
        assert cuts == expected
        assert score == theirs._frame_score
        reported += cuts
    last = FrameTimecode(100 + i, fps=24.0)
    assert ours.finish() == [int(c.frame_num) for c in theirs.post_process(last)]
    assert len(reported) >= 3  # the clip has cuts the filter passes
