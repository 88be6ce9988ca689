"""A long video split into time ranges across workers gives exactly what one pass gives:
the same analysis rows, scenes (a cut on a range border included), kept frames and
thumbnails, on a process pool and on a real Dask LocalCluster, also when a worker running a
range is killed; the video is committed once."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import polars as pl
import pytest

import framesift as fs
import media
from framesift.batch import ExecutorSpec
from framesift.batch.split import plan_long_video
from framesift.catalog import IngestJob
from framesift.catalog.faults import FAULT_ENV
from framesift.cli import build_parser, main
from framesift.cli.ingest import SPLIT_OVER_MINUTES, executor_from_args
from framesift.errors import SettingsError
from framesift.fastscan.ranges import nearest_keyframes
from framesift.fastscan.split import join_planned, plan_ranges, scan_planned
from framesift.probe import probe
from framesift.source import Source
from processes import descendants, stopped

SPEC = fs.SamplingSpec(interval_s=1.0, detector="content", min_scene_len_frames=5)
FPS = 10
GOP = 24
# 44 s at 10 fps, a keyframe every 2.4 s and none forced at cuts. Two ranges split at the
# keyframe a seek to 22 s lands on: frame 216, where a cut is (scored across the border);
# the other cuts fall between keyframes.
FRAMES_PER_SCENE = (24,) * 9 + (28,) * 8
BORDER_FRAME = 216
SPLIT_OVER_S = 30.0
SOLIDS: tuple[media.RGB, ...] = (
    (255, 0, 0),
    (0, 0, 255),
    (255, 255, 255),
    (0, 128, 0),
    (255, 255, 0),
    (0, 0, 0),
    (128, 0, 128),
    (0, 255, 255),
    (255, 128, 0),
)
# Solid colours and patterns in turn: every cut is a hard one.
PATTERN_NAMES = sorted(media.PATTERNS)
COLOURS: tuple[media.RGB | str, ...] = tuple(
    SOLIDS[n // 2] if n % 2 == 0 else PATTERN_NAMES[(n // 2) % len(PATTERN_NAMES)]
    for n in range(len(FRAMES_PER_SCENE))
)


@pytest.fixture(scope="module")
def long_video(media_dir: Path) -> media.CutsVideo:
    return media.make_cuts_video(
        media_dir,
        colours_or_patterns=COLOURS,
        frames_per_scene=FRAMES_PER_SCENE,
        fps=FPS,
        size=(160, 120),
        gop=GOP,
        bframes=2,
        options={"sc_threshold": "0"},
        name="long.mp4",
    )


@pytest.fixture(scope="module")
def single_pass(long_video, tmp_path_factory: pytest.TempPathFactory) -> fs.Catalog:
    url = str(tmp_path_factory.mktemp("single") / "catalog")
    summary = fs.ingest([str(long_video.path)], url, SPEC)
    assert summary.counts["ingested"] == 1
    return fs.Catalog(url)


def _job(video: Path, url: str, spec: fs.SamplingSpec = SPEC) -> IngestJob:
    return IngestJob(Source(str(video)), url, spec, split_over_s=SPLIT_OVER_S)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(SPEC, id="full-pass"),
        pytest.param(
            fs.SamplingSpec(
                interval_s=1.0,
                detector="content",
                min_scene_len_frames=5,
                representatives_per_scene=2,
            ),
            id="representatives",
        ),
        pytest.param(
            fs.SamplingSpec(
                interval_s=1.0, min_scene_len_frames=5, decode=fs.DecodeSpec(fast=True, segments=1)
            ),
            id="fast-pass",
        ),
    ],
)
def test_ranges_joined_equal_one_pass(long_video, spec: fs.SamplingSpec, tmp_path: Path) -> None:
    # The ranges scanned here one after the other, as workers would: the join is the pass.
    long = plan_long_video(_job(long_video.path, str(tmp_path / "c"), spec), workers=2)
    assert long is not None
    plan = long.plan
    assert [s.first_pts for s in plan.segments][1:] != [None]
    scans = [scan_planned(plan, r) for r in range(plan.count)]
    sink = fs.MemoryImageSink()
    joined = join_planned(plan, scans, sink=sink)
    assert joined is not None
    reference_sink = fs.MemoryImageSink()
    reference = fs.sample_video(str(long_video.path), spec, sink=reference_sink)
    assert joined.analysis.equals(reference.analysis)
    frames = pl.DataFrame(joined.rows, schema=reference.frames.schema, orient="row")
    assert frames.sort("frame_index").equals(reference.frames)
    scenes = pl.DataFrame(joined.scene_rows, schema=reference.scenes.schema, orient="row")
    assert scenes.equals(reference.scenes)
    assert sink.images == reference_sink.images
    # The cut on the border between the two ranges is found at its frame.
    assert BORDER_FRAME in reference.scenes["start_frame"].to_list()
    assert plan.segments[1].first_pts is not None


def test_ranges_are_cut_at_the_nearest_keyframe(long_video) -> None:
    """A cut goes to the keyframe nearest to its equal share, the one after it as well as
    the one before (a seek alone lands on the one before: a keyframe interval lost)."""
    source = Source(str(long_video.path))
    plan = plan_ranges(source, probe(source), SPEC, ranges=2, threads=1)
    assert plan is not None
    origin = probe(source).start_time_s
    gop_s = GOP / FPS
    # Keyframes at 21.6 and 24.0 s: 22.5 is nearer the first, 23.5 the second.
    times = nearest_keyframes(plan.setup, [origin + 22.5, origin + 23.5])
    assert times is not None
    with plan.setup.decoder(threads=1) as decoder:

        def landed_s(time_s: float) -> float:
            pts = decoder.seek_keyframe(time_s)
            assert pts is not None
            return float(pts * decoder.time_base) - origin

        assert [landed_s(t) for t in times] == pytest.approx([9 * gop_s, 10 * gop_s])
        assert landed_s(origin + 23.5) == pytest.approx(9 * gop_s)  # a seek alone


def test_short_or_unsplittable_videos_run_whole(cuts_video, long_video, tmp_path: Path) -> None:
    url = str(tmp_path / "c")
    assert plan_long_video(_job(cuts_video.path, url), workers=2) is None  # short
    keyframes = fs.SamplingSpec(keyframes=True, interval_s=None)
    assert plan_long_video(_job(long_video.path, url, keyframes), workers=2) is None
    off = IngestJob(Source(str(long_video.path)), url, SPEC, split_over_s=0)
    assert plan_long_video(off, workers=2) is None
    assert plan_long_video(_job(long_video.path, url), workers=1) is None  # one worker
    media_info = probe(Source(str(long_video.path)))
    assert plan_ranges(Source(str(long_video.path)), media_info, SPEC, ranges=1, threads=1) is None


def test_split_settings_are_checked() -> None:
    with pytest.raises(SettingsError, match="split_over_s=-1"):
        ExecutorSpec("process", workers=2, split_over_s=-1)
    with pytest.raises(SettingsError, match="split_over_s=-1"):
        IngestJob(Source("a.mp4"), "catalog", split_over_s=-1)
    assert ExecutorSpec().split_over_s == 20 * 60 == SPLIT_OVER_MINUTES * 60


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param(["--workers", "2"], ExecutorSpec("process", 2), id="default"),
        pytest.param(
            ["--workers", "2", "--split-over", "0.5"],
            ExecutorSpec("process", 2, split_over_s=30.0),
            id="minutes",
        ),
        pytest.param(
            ["--dask", "--split-over", "0"], ExecutorSpec("dask", split_over_s=0), id="never"
        ),
    ],
)
def test_split_over_option(argv: list[str], expected: ExecutorSpec) -> None:
    args = build_parser().parse_args(["ingest", "a.mp4", "--catalog", "c", *argv])
    assert executor_from_args(args) == expected


def test_split_over_option_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "a.mp4", "--catalog", "c", "--split-over", "-1"]) == 2
    assert "--split-over: -1 is out of range: 0 or more" in capsys.readouterr().err


def _assert_equal_catalogs(cat: fs.Catalog, single: fs.Catalog) -> None:
    """The video of ``single`` is in ``cat`` exactly as one pass put it there."""
    (video_id,) = single.video_ids()
    assert video_id in cat.video_ids()
    # Same rows; image URIs name the generation's prefix, so the images are compared.
    uri_free = ["thumbnail_uri", "frame_uri"]
    assert cat.frames(video_id).drop(uri_free).equals(single.frames().drop(uri_free))
    assert cat.scenes(video_id).equals(single.scenes())
    assert cat.analysis(video_id).equals(single.analysis())
    videos = ["kept_frames", "scene_count", "frames_decoded", "duration_s", "settings_hash"]
    split_row = cat.videos().filter(pl.col("video_id") == video_id).select(videos)
    assert split_row.equals(single.videos().select(videos))
    for frame_index in single.frames()["frame_index"].to_list():
        assert (
            cat.thumbnail(video_id, frame_index).tobytes()
            == single.thumbnail(video_id, frame_index).tobytes()
        )


EXECUTORS = [
    pytest.param(ExecutorSpec("process", workers=2, split_over_s=SPLIT_OVER_S), id="process-pool"),
    pytest.param(
        ExecutorSpec("dask", workers=2, split_over_s=SPLIT_OVER_S), id="dask-local-cluster"
    ),
]


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.timeout(240)
def test_split_ingest_equals_one_pass(
    executor: ExecutorSpec,
    long_video,
    cuts_video,
    single_pass: fs.Catalog,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = str(tmp_path / "catalog")
    sources = [str(long_video.path), str(cuts_video.path)]
    with caplog.at_level(logging.INFO, logger="framesift.batch.split"):
        summary = fs.ingest(sources, url, SPEC, executor=executor)
    assert summary.counts["ingested"] == 2
    assert [o.source_url for o in summary.outcomes] == sources
    assert "long.mp4: split into 2 time ranges" in caplog.text
    assert "cuts.mp4: split" not in caplog.text  # short: one job
    cat = fs.Catalog(url)
    assert cat.videos().height == 2
    _assert_equal_catalogs(cat, single_pass)
    jobs = cat.jobs().filter(pl.col("source_url") == sources[0])
    assert jobs["state"].to_list() == ["done"]
    # Resumable: a re-run skips it without splitting it again.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="framesift.batch.split"):
        again = fs.ingest(sources, url, SPEC, executor=executor)
    assert again.counts["skipped"] == 2
    assert "split into" not in caplog.text


def _stopped_workers(want: int, timeout_s: float = 120.0) -> list[int]:
    """The processes below this one that stopped themselves, once ``want`` have."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sorted(p for p in descendants(os.getpid()) if stopped(p))
        if len(found) >= want:
            return found
        time.sleep(0.1)
    raise AssertionError(f"fewer than {want} workers stopped after {timeout_s} s")


def _wait_for(caplog: pytest.LogCaptureFixture, text: str, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [r.getMessage() for r in list(caplog.records) if text in r.getMessage()]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no log line with {text!r} after {timeout_s} s")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.timeout(300)
def test_a_worker_killed_mid_range_reruns_that_range_only(
    executor: ExecutorSpec,
    long_video,
    single_pass: fs.Catalog,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = str(tmp_path / "catalog")
    # Every worker process stops itself (SIGSTOP) at the first range it starts.
    monkeypatch.setenv(FAULT_ENV, "range_started:stop")
    result: dict[str, fs.batch.IngestSummary] = {}

    def batch() -> None:
        result["summary"] = fs.ingest([str(long_video.path)], url, SPEC, executor=executor)

    caplog.set_level(logging.DEBUG, logger="framesift.batch.split")
    thread = threading.Thread(target=batch)
    thread.start()
    try:
        first, second = _stopped_workers(2)[:2]
        # One range finishes; the worker of the other is killed by its PID mid-range.
        os.kill(first, signal.SIGCONT)
        back = _wait_for(caplog, "of 2 back")
        os.kill(second, signal.SIGKILL)
        while thread.is_alive():  # workers started since stop at their first range too
            for pid in descendants(os.getpid()):
                if stopped(pid):
                    os.kill(pid, signal.SIGCONT)
            thread.join(timeout=0.2)
    finally:
        monkeypatch.delenv(FAULT_ENV)
        for pid in descendants(os.getpid()):
            if stopped(pid):
                os.kill(pid, signal.SIGCONT)
        thread.join(timeout=120)
    summary = result["summary"]
    assert summary.counts["ingested"] == 1
    done_range = int(back.split("range ")[1].split(" ")[0])  # 1 or 2
    rerun = [r.getMessage() for r in caplog.records if "running that range again" in r.getMessage()]
    if executor.kind == "process":
        # The pool broke with the worker: the range it ran (only) was sent again.
        assert len(rerun) == 1
        assert f"range {3 - done_range} lost its worker" in rerun[0]
    else:
        assert rerun == []  # the cluster ran the killed worker's range again by itself
    # Committed once, complete, exactly as one pass.
    cat = fs.Catalog(url)
    assert cat.videos().height == 1
    jobs = cat.jobs()
    assert jobs["state"].to_list() == ["done"]
    assert jobs["attempts"].to_list() == [1]
    _assert_equal_catalogs(cat, single_pass)
