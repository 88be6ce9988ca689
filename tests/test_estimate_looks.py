"""A video's start is no fair sample of its decode cost: the estimate looks at short
stretches spread over a long video, and a pass can start at a keyframe past the start."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

import framesift as fs
import framesift.estimate as estimate_module
import media
from framesift.decode import VideoDecoder
from framesift.errors import SettingsError
from framesift.estimate import estimate_collection, interleaved, look_starts, relative_error
from framesift.estimate_projection import Calibration, KeptCount, Looks, project, time_unit
from framesift.source import Source

SIZE = (320, 240)
FPS = 25


def _cuts_video(tmp_path: Path, *, gop: int | None = None, bframes: int = 2) -> Path:
    """The cuts fixture's scenes at :data:`FPS`; with ``gop``, a keyframe every ``gop``
    frames and none at the cuts."""
    return media.make_cuts_video(
        tmp_path,
        colours_or_patterns=media.CUTS_FIXTURE_SCENES,
        frames_per_scene=media.CUTS_FIXTURE_FRAMES_PER_SCENE,
        fps=FPS,
        gop=gop,
        bframes=bframes,
        options={"sc_threshold": "0"} if gop else None,
    ).path


def test_looks_spread_over_a_long_video_only() -> None:
    assert look_starts(30.0, 2.0) == (0.0,)
    assert look_starts(None, 2.0) == (0.0,)
    assert look_starts(600.0, 2.0) == pytest.approx([i * 75.0 for i in range(8)])
    assert look_starts(3600.0, 2.0) == pytest.approx([i * 450.0 for i in range(8)])
    assert look_starts(150.0, 2.0) == pytest.approx([0.0, 75.0])
    assert look_starts(150.0, 50.0) == (0.0,)  # looks that long would overlap


def test_looks_at_a_video_take_its_sets_in_turn() -> None:
    """The start looks and the spread looks alternate, each set spread over the whole
    order, so the machine's drifting speed falls on both sets alike."""
    starts = (0.0, 4.0, 8.0)
    spread = (0.0, 75.0, 150.0, 225.0, 300.0, 375.0)
    assert interleaved(starts, spread) == [0.0, 75.0, 150.0, 4.0, 225.0, 300.0, 8.0, 375.0]
    assert interleaved((0.0,), ()) == [0.0]


def test_a_pass_can_start_at_the_keyframe_before_a_time(tmp_path: Path) -> None:
    """Started past the first frame, a pass decodes from the keyframe at or before that
    time, and every frame it analyses is the whole pass's frame (its picture's hash and
    luma); only its scene detector starts afresh."""
    path = str(_cuts_video(tmp_path, gop=10))  # a keyframe every 10 frames, none at cuts
    whole = fs.SamplingPass(path, fs.SamplingSpec()).result().analysis
    keyframes = whole.filter(whole["keyframe"])["time_s"].to_list()
    assert keyframes == pytest.approx([i * 10 / FPS for i in range(len(keyframes))])
    at = keyframes[2] + 3 / FPS  # inside the third GOP
    part = fs.SamplingPass(path, fs.SamplingSpec(), start_s=at, until_s=1.0).result().analysis
    assert part["time_s"][0] == pytest.approx(keyframes[2])
    assert part.height == FPS  # one second from there
    same = whole.filter(whole["time_s"] >= keyframes[2]).head(part.height)
    for column in ("time_s", "pts", "phash", "luma"):
        assert part[column].to_list() == same[column].to_list(), column
    with pytest.raises(SettingsError, match=r"start_s=1\.0"):
        fs.SamplingPass(path, fs.SamplingSpec(keyframes=True), start_s=1.0)


def _calibration(url: str, cpu_s: float, frames: int = 250, video_s: float = 10.0) -> Calibration:
    return Calibration(
        source_url=url,
        video_s=video_s,
        frames=frames,
        pixels=SIZE[0] * SIZE[1],
        cpu_s=cpu_s,
        setup_cpu_s=0.0,
        kept=10,
        thumbnail_bytes=100_000,
        table_bytes=10_000,
    )


def test_a_long_video_costs_what_its_spread_looks_say(cuts_video) -> None:
    """Calibrated on its first 10 s, a 10-minute video whose looks spread over it cost half
    what its looks inside that stretch cost is estimated at half its calibration's cost per
    frame; a video not calibrated costs its spread looks, at the calibrated videos' ratio
    of calibration to look."""
    info = fs.probe(str(cuts_video.path))
    video = dataclasses.replace(info.video, width=SIZE[0], height=SIZE[1])
    long = dataclasses.replace(info, url="long.mp4", duration_s=600.0, video=video)
    other = dataclasses.replace(info, url="other.mp4", duration_s=600.0, video=video)
    calibration = [_calibration("long.mp4", cpu_s=2.0)]  # 0.008 CPU s a frame
    looks = Looks(
        starts=(_calibration("long.mp4", 1.0, 50, 2.0), _calibration("other.mp4", 9.0, 50, 2.0)),
        spread=(_calibration("long.mp4", 0.5, 50, 2.0), _calibration("other.mp4", 0.25, 50, 2.0)),
    )
    kept = [KeptCount(10, 10, 0)]
    estimate = project([long, other], calibration, kept, fs.SamplingSpec(), [], looks, None)
    frames = 600.0 * info.video.fps
    cpu = estimate.videos["cpu_seconds"].to_list()
    assert cpu[0] == pytest.approx(frames * 2.0 / 250 / 2)
    # The calibration cost 0.4 times its start's looks per frame (0.008 against 0.02):
    # other.mp4's spread looks (0.25 CPU s for 50 frames) scaled by that.
    assert cpu[1] == pytest.approx(frames * 0.25 / 50 * 0.4)
    without = project([long], calibration, kept, fs.SamplingSpec(), [], Looks(), None)
    assert without.videos["cpu_seconds"][0] == pytest.approx(frames * 2.0 / 250)
    assert "cpu_seconds" not in without.ranges  # one calibrated video: no range


def test_the_time_range_holds_what_the_spread_looks_leave_open(cuts_video) -> None:
    """Looks spread over a long video are a sample of it: two standard errors of the
    cost they give (relative to it) widen the time's range, each video's added in
    quadrature; a video without spread looks adds nothing."""
    info = fs.probe(str(cuts_video.path))
    video = dataclasses.replace(info.video, width=SIZE[0], height=SIZE[1])
    long = dataclasses.replace(info, url="long.mp4", duration_s=600.0, video=video)
    other = dataclasses.replace(info, url="other.mp4", duration_s=600.0, video=video)
    calibration = [_calibration("long.mp4", cpu_s=2.0)]
    looks = Looks(
        starts=(_calibration("long.mp4", 1.0, 50, 2.0), _calibration("other.mp4", 1.0, 50, 2.0)),
        spread=(_calibration("long.mp4", 1.0, 50, 2.0), _calibration("other.mp4", 1.0, 50, 2.0)),
        spread_error=(0.1, None),
    )
    kept = [KeptCount(10, 10, 0)]
    estimate = project([long, other], calibration, kept, fs.SamplingSpec(), [], looks, None)
    for name in ("cpu_seconds", "seconds"):
        values = estimate.videos[name].to_list()
        total = estimate.totals[name]
        low, high = estimate.ranges[name]
        assert low == pytest.approx(total - 2 * 0.1 * values[0])
        assert high == pytest.approx(total + 2 * 0.1 * values[0])
    both = dataclasses.replace(looks, spread_error=(0.1, 0.2))
    wider = project([long, other], calibration, kept, fs.SamplingSpec(), [], both, None)
    cpu = wider.videos["cpu_seconds"].to_list()
    high = wider.ranges["cpu_seconds"][1]
    assert high - wider.totals["cpu_seconds"] == pytest.approx(
        2 * math.hypot(0.1 * cpu[0], 0.2 * cpu[1])
    )
    unit, scale, fmt = time_unit(wider.totals["seconds"])
    low, high = (format(value / scale, fmt) for value in wider.ranges["seconds"])
    assert f" {unit} ({low}-{high}) of ingest" in str(wider)  # what the CLI prints


def test_the_relative_error_of_looks() -> None:
    """The standard error of the looks' mean cost per frame over that mean."""
    looks = [_calibration("v.mp4", cpu_s, 50, 2.0) for cpu_s in (0.8, 1.0, 1.2)]
    assert relative_error(looks) == pytest.approx(0.2 / 1.0 / math.sqrt(3))
    assert relative_error(looks[:1]) == 0.0


def test_a_long_video_past_its_calibrated_stretch_runs_at_the_pass_loops_cores(
    cuts_video,
) -> None:
    """The calibration's whole work got 1.5 cores, its pass loop alone 1.9: a 10-minute
    video's frames past the 10 s calibrated take the loop's cores, the rest the whole's;
    a video no longer than the stretch takes the whole's alone."""
    info = fs.probe(str(cuts_video.path))
    video = dataclasses.replace(info.video, width=SIZE[0], height=SIZE[1])
    long = dataclasses.replace(info, url="long.mp4", duration_s=600.0, video=video)
    short = dataclasses.replace(info, url="short.mp4", duration_s=10.0, video=video)
    calibrated = dataclasses.replace(
        _calibration("calibrated.mp4", cpu_s=2.0), cores=1.5, loop_cores=1.9
    )
    kept = [KeptCount(10, 10, 0)]
    estimate = project([long, short], [calibrated], kept, fs.SamplingSpec(), [], Looks(), None)
    (cpu_long, cpu_short), (wall_long, wall_short) = (
        estimate.videos[column].to_list() for column in ("cpu_seconds", "seconds")
    )
    past = cpu_long * (600.0 - 10.0) / 600.0  # no fixed CPU seconds in this calibration
    assert wall_long == pytest.approx((cpu_long - past) / 1.5 + past / 1.9)
    assert wall_short == pytest.approx(cpu_short / 1.5)


def _cheap_then_costly(directory: Path) -> Path:
    """4 s of a picture drifting a pixel a frame (its motion predicted), then 20 s of fresh
    noise every frame (several times the decode cost per frame)."""

    def frames() -> Iterator[np.ndarray]:
        rng = np.random.default_rng(7)
        yield from media._noise_frames(4 * FPS, SIZE[0], SIZE[1], seed=7)
        for _ in range(20 * FPS):
            yield rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)

    path = directory / "cheap_then_costly.mp4"
    media._write_video(path, frames(), size=SIZE, fps=FPS, gop=FPS)
    return path


def test_the_estimate_of_a_video_whose_start_is_cheap_follows_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calibrated on its cheap first 3 s, the estimate of a video whose rest costs several
    times as much per frame follows its looks spread over it (spaced for this short video
    as they would be over a long one): the calibration alone says under 0.6 of a real
    pass's CPU seconds, the estimate at least two thirds of them. It overshoots, up to 1.5x
    in these runs (looks of one second on content this unlike its start carry their fixed
    cost in another proportion than the calibration does): at most twice is asserted.
    """
    path = _cheap_then_costly(tmp_path)
    spread = look_starts
    monkeypatch.setattr(
        estimate_module, "look_starts", lambda d, s: spread(d, s, every_s=4.0, most=6)
    )
    spec = fs.SamplingSpec()
    fs.SamplingPass(str(path), spec, until_s=1.0).result()  # the libraries' first use
    estimate = estimate_collection([str(path)], spec, calibrate_s=3.0, look_s=1.0)
    started = time.process_time()
    real = fs.SamplingPass(str(path), spec).result()
    real_cpu = time.process_time() - started
    (calibrated,) = estimate.calibration
    from_start = calibrated.cpu_s / calibrated.frames * real.analysis.height
    assert from_start < 0.6 * real_cpu, (from_start, real_cpu)  # the start alone misleads
    assert 0.67 * real_cpu <= estimate.totals["cpu_seconds"] <= 2.0 * real_cpu, (
        estimate.totals["cpu_seconds"],
        real_cpu,
    )


@pytest.mark.parametrize("threads", [0, 1])
def test_a_pass_that_stops_early_decodes_nothing_for_nothing(tmp_path: Path, threads: int) -> None:
    """A pass that stops at a time stops the decoder there too: the frames it analyses are
    the whole pass's, and only the pictures decoded before their time (B pictures come
    after the pictures they refer to) are decoded past its end, not the read-ahead and the
    frame threads' pictures (a look of 2 s at 720p paid 8-22 frames for those)."""
    path = str(_cuts_video(tmp_path, bframes=3))
    spec = fs.SamplingSpec(decode=fs.DecodeSpec(threads=threads))
    whole = fs.SamplingPass(path, spec).result()
    assert whole.stats.frames_decoded > 2 * FPS + 20  # more than the stop and its read-ahead
    part = fs.SamplingPass(path, spec, until_s=2.0).result()
    assert part.analysis.height == 2 * FPS
    for column in ("time_s", "pts", "phash", "luma", "score"):
        expected = whole.analysis[column].head(2 * FPS).to_list()
        assert part.analysis[column].to_list() == expected, column
    assert part.stats.frames_decoded <= 2 * FPS + 3


def test_looks_that_land_on_one_keyframe_are_one_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Looks start at keyframes, and starts asked for closer together than a video's
    keyframes land on one: that stretch is looked at once, not counted as several looks
    (the stretch a calibration measured is then sampled by its distinct keyframes)."""
    source = Source(str(_cuts_video(tmp_path, gop=FPS)))  # a keyframe every second exactly
    info = fs.probe(source)
    asked: list[float | None] = []
    real = estimate_module.calibrate_sampling

    def recorded(*args: object, start_s: float | None = None, **kwargs: object) -> Calibration:
        asked.append(start_s)
        return real(*args, start_s=start_s, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(estimate_module, "calibrate_sampling", recorded)
    stretch = _calibration(info.url, 1.0, frames=2 * FPS, video_s=2.0)
    start, spread, error, _ = estimate_module._look(source, info, fs.SamplingSpec(), 0.18, stretch)
    # Five starts asked over the 2-s stretch (0, 0.4, 0.8, 1.2, 1.6 s): two keyframes.
    assert asked == [None, 1.2]
    assert start is not None
    assert start.frames == 2 * 5  # 5 frames from each keyframe
    assert spread is None  # a short video: no looks spread over it
    assert error is None


def test_a_video_that_cannot_seek_is_looked_at_from_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seek that fails while the looks' keyframes are found (a damaged index) leaves the
    video looked at from its start, as files that do not seek cleanly are: no error."""
    source = Source(str(_cuts_video(tmp_path, gop=FPS)))
    info = fs.probe(source)

    def fails(self: object, time_s: float) -> int | None:
        raise av.error.FFmpegError(5, "Input/output error")

    monkeypatch.setattr(VideoDecoder, "seek_keyframe", fails)
    stretch = _calibration(info.url, 1.0, frames=2 * FPS, video_s=2.0)
    start, spread, error, _ = estimate_module._look(source, info, fs.SamplingSpec(), 0.18, stretch)
    assert start is not None
    assert start.frames == 5  # one look, at the first frame
    assert (spread, error) == (None, None)
