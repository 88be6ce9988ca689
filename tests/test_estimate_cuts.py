"""The estimate follows each video's own scene cuts (a keyframe scan), and its wall time
counts the cores the work would get on a quiet machine, not the ones a busy one left it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import framesift as fs
import media
import processes
from framesift.estimate import estimate_collection
from framesift.estimate_cores import (
    ThreadWatch,
    WatchMark,
    machine_busy_s,
    quiet_cores,
    thread_times,
)
from framesift.estimate_keyframes import scan_keyframes, scene_starts_off_ticks
from framesift.estimate_projection import Calibration, KeptCount, Looks, project
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


@pytest.mark.parametrize(
    ("got", "others", "on_core_s", "waiting_s", "busiest_s", "quiet"),
    [
        # Alone on the machine, its own eight threads waiting for each other on two cores:
        # no other process took a core, so it would get what it got (the wait alone said 2).
        pytest.param(1.5, 0.02, 3.0, 3.0, 1.0, 1.52, id="quiet-own-threads-wait"),
        pytest.param(1.5, None, 3.0, 3.0, 1.0, 1.5, id="others-unknown"),
        # Another process kept a core busy: the work gains what its threads waited, at
        # most that core.
        pytest.param(1.0, 1.0, 1.0, 0.5, 0.3, 1.5, id="busy-gains-its-wait"),
        pytest.param(1.0, 0.3, 1.0, 0.5, 0.3, 1.3, id="busy-gains-what-others-took"),
        # One thread of work: never more than one core, whatever it waited.
        pytest.param(0.5, 1.5, 0.5, 0.8, 0.5, 1.0, id="one-thread-one-core"),
        # Its busiest thread holds 80% of its CPU: at most 1.25 cores.
        pytest.param(1.0, 1.0, 1.0, 0.6, 0.8, 1.25, id="busiest-thread-bounds"),
        pytest.param(1.0, 1.5, 3.0, 6.0, 0.5, 2.0, id="usable-cores-bound"),
        pytest.param(1.8, 1.0, 1.8, 1.0, 1.2, 1.8, id="never-below-got"),
    ],
)
def test_quiet_cores_gain_only_what_other_processes_took(
    got: float,
    others: float | None,
    on_core_s: float,
    waiting_s: float,
    busiest_s: float,
    quiet: float,
) -> None:
    assert quiet_cores(got, others, on_core_s, waiting_s, busiest_s, 2.0) == pytest.approx(quiet)


def test_a_watch_of_threads_that_wait_for_each_other_keeps_the_cores_got() -> None:
    """The watch's own measures: two threads of this process waited as long as they ran,
    and the machine's cores were busy with this process alone, so nothing is gained."""
    first = WatchMark({1: (0.0, 0.0), 2: (0.0, 0.0)}, 100.0, 10.0, 0.0)
    last = WatchMark({1: (1.5, 1.5), 2: (1.5, 1.5)}, 103.0, 13.0, 2.0)
    watch = ThreadWatch()
    watch.first, watch.last = first, last
    assert watch.others() == pytest.approx(0.0)
    assert watch.quiet_cores(3.0, 2.0) == pytest.approx(1.5)
    # The same threads while another process kept a core busy: they gain up to it.
    watch.last = WatchMark({1: (1.5, 1.5), 2: (1.5, 1.5)}, 105.0, 13.0, 2.0)
    assert watch.others() == pytest.approx(1.0)
    assert watch.quiet_cores(3.0, 2.0) == pytest.approx(2.0)


_ON_ONE_CORE = "import os, sys\nos.sched_setaffinity(0, {int(sys.argv[1])})\n"
_HOG = _ON_ONE_CORE + "while True: pass"
_ONE_THREAD = (
    _ON_ONE_CORE
    + """
import time
from framesift.estimate_cores import ThreadWatch

def stolen_s():  # the hypervisor's steal on this core (/proc/stat's 8th field)
    for line in open("/proc/stat"):
        if line.startswith(f"cpu{sys.argv[1]} "):
            return int(line.split()[8]) / os.sysconf("SC_CLK_TCK")
    return 0.0

watch = ThreadWatch()
watch.mark()
wall, cpu, stolen = time.perf_counter(), time.process_time(), stolen_s()
while time.perf_counter() - wall < 1.5:
    pass
watch.mark()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(cpu / wall, watch.others(), watch.quiet_cores(cpu, wall), (stolen_s() - stolen) / wall)
"""
)


@pytest.mark.skipif(
    not thread_times() or machine_busy_s() is None or not hasattr(os, "sched_setaffinity"),
    reason="the system gives no per-thread run-queue times, per-core busy time or affinity",
)
def test_a_busy_machine_does_not_lower_the_quiet_cores() -> None:
    """One thread of work (a child process: no other thread of its own) on one core that
    another process keeps busy: it gets about half of it, and would get all of it on a
    quiet machine. The load is measured, not assumed (the hog and whatever else ran on that
    core), and only that core is loaded: the rest of the machine stays as it was."""
    core = str(min(os.sched_getaffinity(0)))
    hog = subprocess.Popen([sys.executable, "-c", _HOG, core])
    try:
        time.sleep(0.2)
        child = processes.python(_ONE_THREAD, core)
    finally:
        hog.kill()
        hog.wait()
    assert child.returncode == 0, child.stderr
    got, others, quiet, stolen = (float(x) for x in child.stdout.split())
    assert others >= 0.3  # another process took a share of the core meanwhile
    assert got < 0.8  # and this one got the rest
    # Alone, it would get the core, less what the hypervisor stole from it (a quiet
    # machine on a busy host loses that too).
    assert 0.85 * (1.0 - stolen) <= quiet <= 1.05


def test_wall_time_follows_the_cores_of_the_calibrated_picture_sizes(cuts_video) -> None:
    """Calibrated on a small picture (its work got 1.2 cores: the analysis on one thread
    dominates) and a big one (1.8: the decoder's frame threads share most of it), each
    video's wall time is its CPU seconds over the cores at its own size: between them,
    linear in the logarithm of the pixels; beyond them, the nearest's."""
    info = fs.probe(str(cuts_video.path))

    def sized(url: str, width: int, height: int) -> fs.MediaInfo:
        video = dataclasses.replace(info.video, width=width, height=height)
        return dataclasses.replace(info, url=url, video=video)

    def calibrated(width: int, height: int, cores: float) -> Calibration:
        return Calibration(
            source_url=f"calibrated-{width}.mp4",
            video_s=10.0,
            frames=250,
            pixels=width * height,
            cpu_s=2.0,
            setup_cpu_s=0.1,
            kept=10,
            thumbnail_bytes=100_000,
            table_bytes=10_000,
            cores=cores,
        )

    calibration = [calibrated(320, 180, 1.2), calibrated(1280, 720, 1.8)]
    videos = [
        sized("tiny.mp4", 160, 90),
        sized("small.mp4", 320, 180),
        sized("middle.mp4", 640, 360),
        sized("big.mp4", 1920, 1080),
    ]
    kept = [KeptCount(10, 10, 0)] * 2
    estimate = project(videos, calibration, kept, fs.SamplingSpec(), [], Looks(), None)
    cores = [c / s for c, s in estimate.videos.select("cpu_seconds", "seconds").iter_rows()]
    assert cores == pytest.approx([1.2, 1.2, 1.5, 1.8])
