"""Fast scene analysis decoded in GOP-aligned segments side by side gives exactly the result
of one segment: the same analysis, cuts, kept frames and pictures."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import framesift as fs
import media
from framesift import fastscan
from framesift.decode import VideoDecoder

SCENE_ONLY = dict(interval_s=None, min_scene_len_frames=5)
SCENES: tuple[media.RGB | str, ...] = (
    (255, 0, 0),
    "checkerboard",
    (0, 0, 255),
    "noise",
    (255, 255, 255),
    "stripes",
    (0, 128, 0),
    "rings",
    (255, 255, 0),
    "gradient",
)
# A keyframe every 24 frames and none forced at cuts: cuts at 18, 98 and 164 fall between
# keyframes (refined when they follow skipped B pictures); 72 and 144 are keyframes and
# exactly where the 3 segments of a 240-frame video start.
FRAMES_PER_SCENE = (18, 30, 24, 26, 22, 24, 20, 28, 24, 24)


@pytest.fixture(autouse=True)
def short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments as short as one keyframe interval, so a 10-s video splits."""
    monkeypatch.setattr(fastscan, "MIN_SEGMENT_S", 0.0)
    monkeypatch.setattr(fastscan, "MIN_SEGMENT_GOPS", 1)


@pytest.fixture(scope="module")
def segmented_video(media_dir: Path) -> media.CutsVideo:
    return media.make_cuts_video(
        media_dir,
        colours_or_patterns=SCENES,
        frames_per_scene=FRAMES_PER_SCENE,
        fps=25,
        gop=24,
        bframes=2,
        options={"sc_threshold": "0"},
        name="segmented.mp4",
    )


class PlanSpy:
    """Records the segments each fast pass planned."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.plans: list[list[object]] = []
        original = fastscan.FastScan._plan

        def plan(scan: fastscan.FastScan, count: int) -> list[object]:
            segments = original(scan, count)
            self.plans.append(segments)
            return segments  # type: ignore[return-value]

        monkeypatch.setattr(fastscan.FastScan, "_plan", plan)


def fast_pass(
    path: Path, segments: int, **options: object
) -> tuple[fs.SampleResult, dict[str, bytes]]:
    sink = fs.MemoryImageSink()
    spec = fs.SamplingSpec(
        decode=fs.DecodeSpec(fast=True, segments=segments), **{**SCENE_ONLY, **options}
    )
    return fs.sample_video(str(path), spec, sink=sink), sink.images


def mean_rgb(image: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(image)).convert("RGB"), np.float64).mean(axis=(0, 1))


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="scenes"),
        pytest.param({"interval_s": 1.0}, id="interval"),
        pytest.param({"representatives_per_scene": 2}, id="representatives"),
        pytest.param({"interval_s": 0.2, "dedup_bits": 6}, id="dedup"),
    ],
)
def test_segments_give_the_result_of_one(segmented_video, monkeypatch, options):
    spy = PlanSpy(monkeypatch)
    one, one_images = fast_pass(segmented_video.path, 1, **options)
    three, three_images = fast_pass(segmented_video.path, 3, **options)
    (plan,) = spy.plans  # one segment needs no plan
    # The keyframes nearest to the thirds of its cost (near frames 80 and 160): 72 and 168,
    # not 144, the one a seek alone lands on. mp4 time base 1/12800.
    assert [s.first_pts for s in plan][1:] == [72 * 512, 168 * 512]

    assert one.stats.mode == three.stats.mode == "fast"
    assert three.stats.frames_decoded < 240  # B pictures were skipped
    assert one.analysis.equals(three.analysis)
    assert one.scenes.equals(three.scenes)
    assert one.frames.equals(three.frames)
    assert one_images == three_images
    assert three.scenes["start_frame"].to_list()[1:] == segmented_video.cut_frames
    if "dedup_bits" in options:
        assert three.stats.duplicates_skipped > 0


def test_pictures_show_their_scene(segmented_video):
    result, images = fast_pass(segmented_video.path, 3, representatives_per_scene=2)
    rows = result.frames.to_dicts()
    reasons = {r for row in rows for r in row["reasons"]}
    assert reasons == {"scene_start", "representative"}
    solid = [row for row in rows if not isinstance(SCENES[row["scene_index"]], str)]
    assert len(solid) >= 8
    for row in solid:
        colour = mean_rgb(images[Path(row["thumbnail_uri"]).name])
        expected = np.array(SCENES[row["scene_index"]], np.float64)
        assert np.abs(colour - expected).max() < 40, (row["frame_index"], colour, expected)


def test_a_segment_that_does_not_join_is_decoded_again_as_one(segmented_video, monkeypatch):
    reference, reference_images = fast_pass(segmented_video.path, 1)
    original = fastscan.FastScan._plan
    scans: list[int] = []

    def off_by_one(scan: fastscan.FastScan, count: int) -> list[fastscan._Segment]:
        segments = original(scan, count)
        # The second segment claims to start one tick after its keyframe: the keyframe is
        # then in neither segment, and the pass must notice.
        a, b, *rest = segments
        assert b.first_pts is not None
        shifted = b.first_pts + 1
        return [
            fastscan._Segment(a.seek_s, a.first_pts, shifted),
            fastscan._Segment(b.seek_s, shifted, b.stop_pts),
            *rest,
        ]

    scan_all = fastscan.FastScan._scan_all

    def counting(scan: fastscan.FastScan, segments: list[fastscan._Segment]) -> object:
        scans.append(len(segments))
        return scan_all(scan, segments)

    monkeypatch.setattr(fastscan.FastScan, "_plan", off_by_one)
    monkeypatch.setattr(fastscan.FastScan, "_scan_all", counting)
    result, images = fast_pass(segmented_video.path, 3)
    assert scans == [3, 1]
    assert result.analysis.equals(reference.analysis)
    assert result.scenes.equals(reference.scenes)
    assert images == reference_images


def test_progress_reaches_the_end(segmented_video):
    seen: list[tuple[float, float]] = []
    spec = fs.SamplingSpec(decode=fs.DecodeSpec(fast=True, segments=3), **SCENE_ONLY)
    fs.sample_video(str(segmented_video.path), spec, progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert seen[0][0] == 0.0
    assert done == sorted(done)
    assert seen[-1][0] == seen[-1][1] > 9.0


def test_a_failing_segment_fails_the_pass(segmented_video, monkeypatch):
    class Boom(RuntimeError):
        pass

    original = fastscan.FastScan._scan

    def scan(self: fastscan.FastScan, segment: fastscan._Segment, *args: object, **kw: object):
        if segment.first_pts is not None:
            raise Boom("segment failed")
        return original(self, segment, *args, **kw)

    monkeypatch.setattr(fastscan.FastScan, "_scan", scan)
    with pytest.raises(Boom):
        fast_pass(segmented_video.path, 3)


def test_segment_count_follows_cores_and_length(segmented_video, monkeypatch):
    monkeypatch.setattr(fastscan, "MIN_SEGMENT_S", 20.0)
    monkeypatch.setattr(fastscan, "MIN_SEGMENT_GOPS", 4)
    info = fs.probe(str(segmented_video.path))
    assert info.video.keyframe_interval_s == pytest.approx(0.96)
    spec = fs.SamplingSpec(decode=fs.DecodeSpec(fast=True))
    monkeypatch.setattr(fastscan, "_cores", lambda: 4)
    assert fastscan.fast_segment_count(info, spec) == 1  # 9.6 s: shorter than one segment
    long = dataclasses.replace(info, duration_s=300.0)
    assert fastscan.fast_segment_count(long, spec) == 4  # one per core
    monkeypatch.setattr(fastscan, "_cores", lambda: 32)
    assert fastscan.fast_segment_count(long, spec) == 15  # each at least 20 s
    capped = fs.SamplingSpec(decode=fs.DecodeSpec(fast=True, segments=2))
    assert fastscan.fast_segment_count(long, capped) == 2


def test_a_file_that_does_not_seek_cleanly_is_decoded_from_the_top(segmented_video, monkeypatch):
    reference, reference_images = fast_pass(segmented_video.path, 1, representatives_per_scene=2)
    monkeypatch.setattr(VideoDecoder, "seeks_cleanly", lambda self: False)
    seeks: list[float] = []
    original_seek = VideoDecoder._seek

    def seek(self: VideoDecoder, time_s: float) -> None:
        seeks.append(time_s)
        original_seek(self, time_s)

    monkeypatch.setattr(VideoDecoder, "_seek", seek)
    spy = PlanSpy(monkeypatch)
    result, images = fast_pass(segmented_video.path, 3, representatives_per_scene=2)
    assert spy.plans == []  # one segment
    assert seeks == []  # refinements and pictures decoded from the top
    assert result.analysis.equals(reference.analysis)
    assert result.scenes.equals(reference.scenes)
    assert result.frames.equals(reference.frames)
    assert images == reference_images


def test_seeks_cleanly_on_an_ordinary_file(segmented_video):
    info = fs.probe(str(segmented_video.path))
    with VideoDecoder(str(segmented_video.path), info, fs.DecodeSpec()) as decoder:
        assert decoder.seeks_cleanly()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d: media.make_vfr_video(d, frame_count=900).path, id="vfr"),
        pytest.param(lambda d: media.make_rotated_video(d, frame_count=600).path, id="rotated"),
        pytest.param(
            lambda d: media.make_offset_start_video(d, frame_count=600).path, id="start-10s"
        ),
    ],
)
def test_segments_on_variable_rate_rotated_and_late_starting_video(
    make, tmp_path, monkeypatch
) -> None:
    path = make(tmp_path)
    spy = PlanSpy(monkeypatch)
    one, one_images = fast_pass(path, 1, interval_s=0.5, min_scene_len_frames=3)
    three, three_images = fast_pass(path, 3, interval_s=0.5, min_scene_len_frames=3)
    (plan,) = spy.plans
    assert len(plan) >= 2  # split for real
    assert one.analysis.equals(three.analysis)
    assert one.frames.equals(three.frames)
    assert one.scenes.equals(three.scenes)
    assert one_images == three_images


def test_fast_decoding_gives_the_pictures_a_full_decode_gives():
    """The fast decoder skips only pictures nothing predicts from. Skipping every B
    picture damages the pictures after B pictures that are references (x264's B-pyramid):
    57 of this camera clip's 245 pictures came out wrong that way."""
    clip = str(Path(__file__).parents[1] / "data" / "clips" / "cockatoo.mp4")
    info = fs.probe(clip)
    with VideoDecoder(clip, info, fs.DecodeSpec(threads=1)) as decoder:
        full = {f.pts: f.frame.to_ndarray(format="gray") for f in decoder.frames(read_ahead=0)}
    fast = fs.DecodeSpec(fast=True, threads=1)
    with VideoDecoder(clip, info, fast) as decoder:
        pictures = [
            (f.pts, f.frame.to_ndarray(format="gray")) for f in decoder.frames(read_ahead=0)
        ]
    assert 0 < len(pictures) < len(full)  # some were skipped
    damaged = [pts for pts, picture in pictures if not np.array_equal(picture, full[pts])]
    assert damaged == []
