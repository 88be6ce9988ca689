"""The estimate follows each video's own scene cuts (a keyframe scan), and its wall time
counts the cores the work would get on a quiet machine, not the ones a busy one left it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import framesift as fs
import media
from framesift.estimate import estimate_collection
from framesift.estimate_cores import ThreadWatch, thread_times
from framesift.estimate_keyframes import scan_keyframes, scene_starts_off_ticks
from framesift.estimate_projection import usable_cores
from framesift.source import Source


def test_kept_frames_follow_each_videos_own_cuts(tmp_path: Path) -> None:
    """Calibrated on one long scene, the estimate of a video cut every 1.68 s counts its
    scene starts (the calibration's rate of scene starts per second alone says none).
    Its keyframes fall on its cuts, as an encoder's scene-cut detection puts them."""
    calm = media.make_cuts_video(
        tmp_path, colours_or_patterns=["gradient"], frames_per_scene=[250], name="calm.mp4"
    )
    busy = media.make_cuts_video(
        tmp_path,
        colours_or_patterns=[
            *("checkerboard", (200, 40, 40), "gradient", (40, 200, 40)),
            *("stripes", (40, 40, 200), "rings", (220, 220, 40)),
        ],
        frames_per_scene=[42] * 8,  # cuts between the interval's ticks
        gop=42,
        name="busy.mp4",
    )
    spec = fs.SamplingSpec()
    real = fs.SamplingPass(str(busy.path), spec).result()
    cuts = real.scenes.height - 1
    assert cuts == 7
    scan = scan_keyframes(Source(str(busy.path)), fs.probe(str(busy.path)), spec)
    assert scan is not None
    assert scan.cuts == cuts
    estimate = estimate_collection([str(calm.path), str(busy.path)], spec, calibrate_videos=1)
    assert [c.source_url for c in estimate.calibration] == [str(calm.path)]
    predicted = estimate.videos.filter(estimate.videos["source_url"] == str(busy.path))
    assert abs(int(predicted["kept_frames"][0]) - real.frames.height) <= 1
    assert real.frames.height == 14 + cuts  # each cut keeps one frame more than the ticks
    assert estimate.cpu_s > 0


def test_scene_starts_on_the_interval_ticks_keep_no_frame_of_their_own(tmp_path: Path) -> None:
    """A slideshow cut on whole seconds: each scene starts on a tick of the one-second
    clock, so the ingest keeps the ticks alone, and so does the estimate (counting one
    frame per cut said 3 too many)."""
    calm = media.make_cuts_video(
        tmp_path, colours_or_patterns=["gradient"], frames_per_scene=[250], name="calm.mp4"
    )
    slides = media.make_cuts_video(
        tmp_path,
        colours_or_patterns=[(200, 40, 40), "gradient", (40, 40, 200), "rings"],
        frames_per_scene=[50, 75, 50, 75],  # cuts at 2 s, 5 s and 7 s
        gop=50,  # keyframes at 0, 2, 4, 5, 7 and 9 s: the encoder's at each cut
        name="slides.mp4",
    )
    spec = fs.SamplingSpec()
    real = fs.SamplingPass(str(slides.path), spec).result()
    assert real.scenes.height - 1 == 3
    assert real.frames.height == 10  # the ticks: each scene start is one of them
    scan = scan_keyframes(Source(str(slides.path)), fs.probe(str(slides.path)), spec)
    assert scan is not None
    assert scan.cut_times_s == pytest.approx((2.0, 5.0, 7.0))
    assert scan.new_scene_starts(1.0) == 0
    assert scan.new_scene_starts(2.5) == 2  # 2 s and 7 s lie between the ticks 0, 2.5, 5, 7.5
    estimate = estimate_collection([str(calm.path), str(slides.path)], spec, calibrate_videos=1)
    predicted = estimate.videos.filter(estimate.videos["source_url"] == str(slides.path))
    assert int(predicted["kept_frames"][0]) == real.frames.height
    pictures = estimate.looks.pictures[1]
    assert pictures is not None
    assert pictures.frames == 10  # every tick: the very frames kept, no sampling error
    assert pictures.error_bytes == 0.0


@pytest.mark.parametrize(
    ("cuts", "start_s", "interval_s", "off"),
    [
        pytest.param((1.0, 2.0, 3.0), 0.0, 1.0, 0, id="on-ticks"),
        pytest.param((1.04, 2.5), 0.0, 1.0, 2, id="a-frame-late-and-between"),
        pytest.param((1.02,), 0.0, 1.0, 0, id="the-first-frame-past-a-tick"),
        pytest.param((1.53, 2.53), 0.53, 1.0, 0, id="clock-from-the-first-frame"),
        pytest.param((0.99,), 0.0, 1.0, 1, id="a-frame-early"),
        pytest.param((1.0, 2.0), 0.0, None, 2, id="no-clock"),
        pytest.param((1.0, 2.0), 0.0, 0.5, 0, id="half-second-clock"),
    ],
)
def test_scene_starts_off_ticks(
    cuts: tuple[float, ...], start_s: float, interval_s: float | None, off: int
) -> None:
    assert scene_starts_off_ticks(cuts, start_s, interval_s, frame_s=0.04) == off


def test_no_keyframe_scan_without_a_detector(cuts_video) -> None:
    info = fs.probe(str(cuts_video.path))
    no_detector = fs.SamplingSpec(detector=None)
    assert scan_keyframes(Source(str(cuts_video.path)), info, no_detector) is None


@pytest.mark.skipif(not thread_times(), reason="the system gives no per-thread run-queue times")
def test_a_busy_machine_does_not_lower_the_quiet_cores() -> None:
    """One thread of work, the machine's cores all taken by other processes: it gets less
    than a core, and would get one on a quiet machine."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(usable_cores())
    ]
    try:
        time.sleep(0.2)
        watch = ThreadWatch()
        watch.mark()
        wall, cpu = time.perf_counter(), time.process_time()
        while time.perf_counter() - wall < 1.0:
            pass
        watch.mark()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    got = cpu / wall
    assert got < 0.9  # the hogs took their share
    assert 0.85 <= watch.quiet_cores(cpu, wall) <= 1.1
