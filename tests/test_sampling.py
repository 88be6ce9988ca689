"""The sampling engine on synthetic media with known ground truth."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import polars as pl
import pytest
from PIL import Image

import framesift as fs
import framesift.select as fs_select
from framesift.analysis import reselect
from framesift.dedup import hamming
from framesift.errors import NotAVideoError, NoVideoStreamError, PassStateError, TruncatedMediaError
from framesift.sample import SamplingPass, plan_decode

SCENE_ONLY = dict(interval_s=None, min_scene_len_frames=5)


def cut_frames(result: fs.SampleResult) -> list[int]:
    return result.scenes["start_frame"].to_list()[1:]


@pytest.mark.parametrize("detector", ["content", "adaptive"])
def test_hard_cuts_found_at_the_exact_frame(cuts_video, detector):
    spec = fs.SamplingSpec(detector=detector, **SCENE_ONLY)
    result = fs.sample_video(str(cuts_video.path), spec)
    assert cut_frames(result) == cuts_video.cut_frames
    # Scene starts are kept, with that reason, at the cut frame's own timestamp.
    starts = result.frames.filter(pl.col("reasons").list.contains("scene_start"))
    assert starts["frame_index"].to_list() == [0, *cuts_video.cut_frames]
    assert result.stats.frames_decoded == sum(
        [12, 10, 15, 8, 10, 9, 11]
    )  # every frame decoded once


def _pyscenedetect_cli(path: Path, detector: str, threshold: float, min_len: int, out: Path):
    command = [
        sys.executable,
        "-m",
        "scenedetect",
        "-i",
        str(path),
        "-m",
        str(min_len),
        "-o",
        str(out),
        f"detect-{detector}",
        "-t",
        str(threshold),
        "list-scenes",
        "-q",
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    (table,) = out.glob("*-Scenes.csv")
    lines = table.read_text().splitlines()[1:]  # first line is the timecode list
    return [(int(r["Start Frame"]) - 1, int(r["End Frame"])) for r in csv.DictReader(lines)]


@pytest.mark.parametrize(
    ("detector", "threshold", "scaling"),
    [
        ("content", 27.0, "fast"),
        ("content", 50.0, "fast"),
        ("content", 27.0, "exact"),
        ("adaptive", 3.0, "exact"),
        ("hash", 0.395, "exact"),
    ],
)
def test_cut_list_equals_pyscenedetect_cli(cuts_video, tmp_path, detector, threshold, scaling):
    expected = _pyscenedetect_cli(cuts_video.path, detector, threshold, 5, tmp_path)
    spec = fs.SamplingSpec(
        detector=detector, threshold=threshold, analysis_scaling=scaling, **SCENE_ONLY
    )
    scenes = fs.sample_video(str(cuts_video.path), spec).scenes
    got = list(zip(scenes["start_frame"].to_list(), scenes["end_frame"].to_list(), strict=True))
    assert got == expected


def test_timestamps_are_pts_times_on_variable_frame_rate(vfr_video):
    result = fs.sample_video(str(vfr_video.path), fs.SamplingSpec(interval_s=0.25))
    assert result.media.video.vfr is True
    times = result.analysis["time_s"].to_list()
    assert times == pytest.approx(vfr_video.frame_times_s, abs=1e-9)
    assert (result.analysis["pts"] > -1).all()
    # Exactly pts x time_base, rounded once (as float(Fraction) rounds it).
    with av.open(str(vfr_video.path)) as container:
        time_base = container.streams.video[0].time_base
    assert time_base is not None
    pts = result.analysis["pts"].to_list()
    assert times == [float(p * time_base) for p in pts]
    # Interval picks are the first frame at or after each multiple of 0.25 s.
    expected = []
    target = 0.0
    for t in vfr_video.frame_times_s:
        if t >= target - 1e-6:
            expected.append(t)
            while target <= t + 1e-6:
                target += 0.25
    assert result.frames["time_s"].to_list() == pytest.approx(expected)


def test_non_zero_start_time_is_kept(offset_start_video):
    result = fs.sample_video(str(offset_start_video.path), fs.SamplingSpec(interval_s=1.0))
    assert result.analysis["time_s"][0] == pytest.approx(offset_start_video.first_time_s)
    assert result.frames["time_s"][0] == pytest.approx(offset_start_video.first_time_s)
    assert fs.probe(str(offset_start_video.path)).start_time_s == pytest.approx(
        offset_start_video.first_time_s, abs=1e-3
    )


def test_rotation_is_applied_to_written_images(rotated_video):
    sink = fs.MemoryImageSink()
    result = fs.sample_video(
        str(rotated_video.path),
        fs.SamplingSpec(interval_s=1.0, image=fs.ImageSpec(full_frames=True, full_format="png")),
        sink=sink,
    )
    info = result.media.video
    assert (info.width, info.height) == rotated_video.display_size
    assert (info.coded_width, info.coded_height) == rotated_video.coded_size
    full = Image.open(io.BytesIO(sink.images["full/00000000.png"]))
    assert full.size == rotated_video.display_size
    thumb = Image.open(io.BytesIO(sink.images["00000000.jpg"]))
    assert (thumb.width < thumb.height) == (
        rotated_video.display_size[0] < rotated_video.display_size[1]
    )


def test_every_pixel_format_comes_out_in_the_right_colours(colour_split_video):
    sink = fs.MemoryImageSink()
    fs.sample_video(
        str(colour_split_video.path),
        fs.SamplingSpec(interval_s=10.0, image=fs.ImageSpec(full_frames=True, full_format="png")),
        sink=sink,
    )
    image = np.asarray(Image.open(io.BytesIO(sink.images["full/00000000.png"])).convert("RGB"))
    h, w, _ = image.shape
    left = image[h // 4 : 3 * h // 4, w // 8 : 3 * w // 8].reshape(-1, 3).mean(axis=0)
    right = image[h // 4 : 3 * h // 4, 5 * w // 8 : 7 * w // 8].reshape(-1, 3).mean(axis=0)
    assert left == pytest.approx(colour_split_video.left_rgb, abs=12)
    assert right == pytest.approx(colour_split_video.right_rgb, abs=12)


def test_corrupt_audio_does_not_stop_the_video(corrupt_audio_video):
    result = fs.sample_video(str(corrupt_audio_video.path), fs.SamplingSpec(interval_s=0.5))
    assert result.stats.frames_decoded == corrupt_audio_video.video_frame_count


def test_broken_slices_are_counted_not_fatal(broken_slice_video):
    result = fs.sample_video(str(broken_slice_video.path), fs.SamplingSpec(interval_s=0.5))
    assert result.stats.frames_decoded > broken_slice_video.frame_count // 2
    assert len(result.frames) > 0


def test_keyframe_mode_decodes_keyframes_only(cuts_video_sparse_keyframes):
    path = str(cuts_video_sparse_keyframes.path)
    full = fs.sample_video(path, fs.SamplingSpec(interval_s=None, detector=None))
    keys = full.analysis.filter(pl.col("keyframe"))["time_s"].to_list()
    result = fs.sample_video(path, fs.SamplingSpec(keyframes=True, interval_s=None))
    assert result.stats.mode == "keyframes"
    assert result.analysis["time_s"].to_list() == keys
    assert result.frames["keyframe"].all()
    assert all("keyframe" in r for r in result.frames["reasons"].to_list())


def test_near_duplicates_dropped_and_distinct_frames_kept(cuts_video):
    every = fs.SamplingSpec(interval_s=0.001, detector="content", min_scene_len_frames=5)
    all_frames = fs.sample_video(str(cuts_video.path), every)
    assert len(all_frames.frames) == all_frames.stats.frames_decoded
    dedup = fs.sample_video(
        str(cuts_video.path),
        fs.SamplingSpec(
            interval_s=0.001, detector="content", min_scene_len_frames=5, dedup_bits=10
        ),
    )
    kept = dedup.frames
    assert dedup.stats.duplicates_skipped > 0
    assert len(kept) + dedup.stats.duplicates_skipped == all_frames.stats.frames_decoded
    # Every scene start is still kept: distinct pictures survive.
    assert set([0, *cuts_video.cut_frames]) <= set(kept["frame_index"].to_list())
    # Consecutive kept frames (not scene starts) are farther apart than the threshold.
    hashes = kept["phash"].to_list()
    reasons = kept["reasons"].to_list()
    for prev, cur, why in zip(hashes, hashes[1:], reasons[1:], strict=False):
        if "scene_start" not in why:
            assert hamming(prev, cur) > 10


def test_representatives_spread_over_each_scene(cuts_video):
    spec = fs.SamplingSpec(representatives_per_scene=2, **SCENE_ONLY)
    result = fs.sample_video(str(cuts_video.path), spec, sink=fs.MemoryImageSink())
    reps = result.frames.filter(pl.col("reasons").list.contains("representative"))
    per_scene = reps.group_by("scene_index").len().sort("scene_index")
    assert per_scene["len"].to_list() == [2] * len(result.scenes)
    for row in reps.iter_rows(named=True):
        scene = result.scenes.row(row["scene_index"], named=True)
        assert scene["start_frame"] <= row["frame_index"] < scene["end_frame"]
    assert reps["thumbnail_uri"].null_count() == 0


@pytest.mark.parametrize(
    "changes",
    [
        dict(threshold=40.0),
        dict(threshold=10.0, min_scene_len_frames=2),
        dict(interval_s=0.3, dedup_bits=12),
        dict(representatives_per_scene=3, interval_s=None),
    ],
)
def test_reselect_from_analysis_equals_a_new_pass(cuts_video, changes):
    base = fs.SamplingSpec(
        interval_s=0.5, **{k: v for k, v in SCENE_ONLY.items() if k != "interval_s"}
    )
    first = fs.sample_video(str(cuts_video.path), base)
    other = fs.SamplingSpec(
        **{**base.to_dict(), "image": base.image, "decode": base.decode, **changes}
    )
    again = fs.sample_video(str(cuts_video.path), other)
    chosen = reselect(
        first.analysis, other, detector="content", fps=first.media.video.avg_fps or 25.0
    )
    assert chosen.frames["frame_index"].to_list() == again.frames["frame_index"].to_list()
    assert chosen.frames["reasons"].to_list() == again.frames["reasons"].to_list()
    assert chosen.scenes.equals(again.scenes)


def test_streaming_yields_the_same_rows(cuts_video):
    spec = fs.SamplingSpec(
        interval_s=0.2,
        representatives_per_scene=1,
        **{k: v for k, v in SCENE_ONLY.items() if k != "interval_s"},
    )
    sampling = SamplingPass(str(cuts_video.path), spec, sink=fs.MemoryImageSink())
    streamed = list(sampling)
    assert all(kept.thumbnail and kept.thumbnail[:2] == b"\xff\xd8" for kept in streamed)
    result = sampling.result()
    assert sorted(k.row["frame_index"] for k in streamed) == result.frames["frame_index"].to_list()
    assert any("representative" in k.row["reasons"] for k in streamed)


def test_one_thread_runs_the_whole_pass_on_the_callers_thread(cuts_video):
    """threads=1 (one worker per core): no read-ahead thread, the same rows as the default."""
    import threading

    def decode_threads() -> int:
        return sum(t.name == "framesift-decode" for t in threading.enumerate())

    seen: dict[int, int] = {}
    for threads in (0, 1):
        sampling = SamplingPass(
            str(cuts_video.path), fs.SamplingSpec(decode=fs.DecodeSpec(threads=threads))
        )
        seen[threads] = max(decode_threads() for _ in sampling)
    assert seen == {0: 1, 1: 0}
    rows = [
        fs.sample_video(
            str(cuts_video.path), fs.SamplingSpec(decode=fs.DecodeSpec(threads=t))
        ).frames
        for t in (0, 1)
    ]
    assert (
        rows[0]
        .drop("thumbnail_uri", strict=False)
        .equals(rows[1].drop("thumbnail_uri", strict=False))
    )


def test_result_after_a_broken_off_pass_says_what_to_do(cuts_video):
    sampling = SamplingPass(str(cuts_video.path), fs.SamplingSpec(**SCENE_ONLY))
    for _ in sampling:
        break
    with pytest.raises(PassStateError, match="iterate a SamplingPass to the end"):
        sampling.result()
    with pytest.raises(PassStateError, match="iterated once"):
        list(sampling)


def one_keyframe_a_second(folder: Path) -> Path:
    """Three 2-s scenes at 25 fps with a keyframe every second (none forced at cuts)."""
    import media

    return media.make_cuts_video(
        folder,
        colours_or_patterns=["gradient", "rings", "noise"],
        frames_per_scene=[50, 50, 50],
        fps=25,
        gop=25,
        options={"sc_threshold": "0"},
    ).path


def test_long_intervals_seek_instead_of_decoding_everything(tmp_path):
    path = str(one_keyframe_a_second(tmp_path))
    spec = fs.SamplingSpec(interval_s=1.5, detector=None)
    media = fs.probe(path)
    assert plan_decode(media, spec) == "seek"
    seek = fs.sample_video(path, spec)
    straight = fs.sample_video(path, fs.SamplingSpec(interval_s=1.5, detector="content"))
    assert seek.stats.mode == "seek"
    by_interval = straight.frames.filter(pl.col("reasons").list.contains("interval"))
    assert seek.frames["time_s"].to_list() == by_interval["time_s"].to_list()
    assert seek.frames["frame_index"].to_list() == by_interval["frame_index"].to_list()
    assert seek.stats.frames_decoded < straight.stats.frames_decoded


def test_a_file_that_does_not_seek_cleanly_is_sampled_straight(tmp_path, monkeypatch):
    """Some real files (a camera clip in data/clips among them) give concealed, green
    pictures when decoding starts at a keyframe reached by seeking: the interval samples
    come from a straight decode then, the same frames."""
    from framesift.decode import VideoDecoder

    path = str(one_keyframe_a_second(tmp_path))
    spec = fs.SamplingSpec(interval_s=1.5, detector=None)
    seek = fs.sample_video(path, spec)
    monkeypatch.setattr(VideoDecoder, "seeks_cleanly", lambda self: False)
    straight = fs.sample_video(path, spec)
    assert (seek.stats.mode, straight.stats.mode) == ("seek", "straight")
    assert straight.frames.equals(seek.frames)
    assert straight.stats.frames_decoded == 150


def test_the_camera_clip_that_does_not_seek_cleanly():
    from framesift.decode import VideoDecoder

    clip = Path(__file__).parent.parent / "data" / "clips" / "cockatoo.mp4"
    info = fs.probe(str(clip))
    with VideoDecoder(str(clip), info, fs.DecodeSpec()) as decoder:
        assert not decoder.seeks_cleanly()
    sink = fs.MemoryImageSink()
    result = fs.sample_video(str(clip), fs.SamplingSpec(interval_s=4.0, detector=None), sink=sink)
    assert result.stats.mode == "straight"
    for data in sink.images.values():  # no concealed (green) pictures
        r, g, _b = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), float).mean(axis=(0, 1))
        assert g < r + 40


def test_thumbnails_are_written_through_fsspec(cuts_video, tmp_path):
    out = tmp_path / "out"
    result = fs.write_sample(str(cuts_video.path), str(out), fs.SamplingSpec(interval_s=1.0))
    written = sorted(p.name for p in (out / "thumbs").iterdir())
    assert written == [f"{i:08d}.jpg" for i in result.frames["frame_index"].to_list()]
    frames = pl.read_parquet(out / "frames.parquet")
    assert frames.equals(result.frames)
    with Image.open(out / "thumbs" / written[0]) as image:
        assert max(image.size) == 320


def test_jpeg_thumbnails_are_pillows_bytes_without_pillow(cuts_video):
    """OpenCV encodes JPEG (a pass need not import Pillow): the same bytes Pillow writes at
    the same quality, on decoded pictures, noise and a gray plane; WebP and PNG by Pillow."""
    from framesift.images import encode_image

    rng = np.random.default_rng(3)
    pictures = [
        frame.to_ndarray(format="rgb24") for frame in av.open(str(cuts_video.path)).decode(video=0)
    ][::20]
    pictures += [rng.integers(0, 256, (181, 321, 3), dtype=np.uint8)]
    for rgb in pictures:
        for quality in (50, 85, 95):
            by_pillow = io.BytesIO()
            Image.fromarray(rgb).save(by_pillow, format="JPEG", quality=quality)
            assert encode_image(rgb, "jpeg", quality) == by_pillow.getvalue()
    gray = rng.integers(0, 256, (90, 160), dtype=np.uint8)
    with Image.open(io.BytesIO(encode_image(gray, "jpeg", 85))) as image:
        assert (image.mode, image.size) == ("L", (160, 90))
    for fmt in ("png", "webp"):
        with Image.open(io.BytesIO(encode_image(pictures[0], fmt, 85))) as image:
            assert image.format == fmt.upper()
            assert image.size == pictures[0].shape[1::-1]


def test_a_local_folder_and_an_fsspec_filesystem_get_the_same_files(cuts_video, tmp_path):
    """A local --out is written with the OS's own calls, any other URL through fsspec:
    the same files, byte for byte, but for the thumbnail URIs that name the folder."""
    import fsspec

    memory = fsspec.filesystem("memory")
    spec = fs.SamplingSpec(interval_s=1.0)
    fs.write_sample(str(cuts_video.path), "memory://sampled", spec)
    fs.write_sample(str(cuts_video.path), str(tmp_path / "sampled"), spec)
    local = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*"))
    remote = sorted(p.removeprefix("/") for p in memory.find("/sampled"))
    assert local == remote
    assert len(local) > 3
    for name in local:
        if name != "sampled/frames.parquet":  # its thumbnail URIs name the folder
            assert memory.cat_file(f"/{name}") == (tmp_path / name).read_bytes(), name
    uris = pl.read_parquet(io.BytesIO(memory.cat_file("/sampled/frames.parquet")))
    assert uris.equals(
        pl.read_parquet(tmp_path / "sampled" / "frames.parquet").with_columns(
            pl.col("thumbnail_uri").str.replace(str(tmp_path / "sampled"), "memory://sampled")
        )
    )
    memory.rm("/sampled", recursive=True)


def test_bad_inputs_raise_typed_errors_naming_the_file(
    not_a_video, audio_only_file, truncated_video, tmp_path
):
    with pytest.raises(NotAVideoError, match=str(not_a_video)):
        fs.sample_video(str(not_a_video))
    with pytest.raises(NoVideoStreamError, match="no video stream"):
        fs.sample_video(str(audio_only_file.path))
    with pytest.raises(fs.MediaNotFoundError):
        fs.probe(str(tmp_path / "missing.mp4"))
    with pytest.raises(TruncatedMediaError, match=str(truncated_video.path)):
        fs.sample_video(str(truncated_video.path))
    partial = fs.sample_video(
        str(truncated_video.path), fs.SamplingSpec(decode=fs.DecodeSpec(allow_partial=True))
    )
    assert 0 < partial.stats.frames_decoded < truncated_video.declared_frame_count


def test_non_square_pixels_are_shown_at_display_aspect(tmp_path):
    # 720x480 coded with 32:27 pixels (NTSC DVD, 16:9) is shown 854x480, as players do.
    clip = tmp_path / "anamorphic.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=720x480:r=25:d=2",
            "-vf", "setsar=32/27", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip),
        ],
        check=True,
    )  # fmt: skip
    video = fs.probe(str(clip)).video
    assert (video.coded_width, video.coded_height) == (720, 480)
    assert (video.width, video.height, video.sample_aspect_ratio) == (854, 480, "32:27")
    out = tmp_path / "out"
    spec = fs.SamplingSpec(interval_s=1.0, image=fs.ImageSpec(max_side_px=320, full_frames=True))
    result = fs.write_sample(str(clip), str(out), spec)
    assert result.frames["width"].to_list() == [854, 854]
    thumb = result.frames["thumbnail_uri"][0]
    full = result.frames["frame_uri"][0]
    with Image.open(thumb) as thumb_image, Image.open(full) as full_image:
        assert thumb_image.size == (320, 180)
        assert full_image.size == (854, 480)


def test_empty_and_index_less_files_are_called_truncated(cuts_video, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(TruncatedMediaError, match=r"empty\.mp4: the file is empty"):
        fs.probe(str(empty))
    # An MP4 whose moov box sits at the end, cut before it (a copy that stopped early).
    tail_moov = tmp_path / "tail_moov.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(cuts_video.path), "-c", "copy", str(tail_moov)],
        check=True,
    )
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(tail_moov.read_bytes()[: tail_moov.stat().st_size // 2])
    with pytest.raises(TruncatedMediaError, match=r"cut\.mp4: MP4/MOV file without its index"):
        fs.sample_video(str(cut))


def test_probe_says_what_was_measured(cuts_video, truncated_video):
    info = fs.probe(str(cuts_video.path), full=True)
    assert info.video.frame_count == 75
    assert {"frame_count", "duration_s", "pix_fmt"} <= info.measured
    assert info.video.keyframe_interval_s is not None
    truncated = fs.probe(str(truncated_video.path), full=True)
    assert truncated.video.frame_count_declared == truncated_video.declared_frame_count
    assert truncated.video.frame_count < truncated_video.declared_frame_count


def test_settings_are_validated():
    with pytest.raises(fs.SettingsError, match="interval_s"):
        fs.SamplingSpec(interval_s=0)
    with pytest.raises(fs.SettingsError, match="detector"):
        fs.SamplingSpec(detector="magic")
    with pytest.raises(fs.SettingsError, match="dedup_bits"):
        fs.SamplingSpec(dedup_bits=80)
    assert fs.SamplingSpec().fingerprint() == fs.SamplingSpec(threshold=27.0).fingerprint()
    assert fs.SamplingSpec().fingerprint() != fs.SamplingSpec(threshold=30.0).fingerprint()


@pytest.mark.parametrize("fixture", ["cuts_video", "cuts_video_sparse_keyframes"])
def test_fast_scene_analysis_finds_the_same_cuts(request, fixture):
    made = request.getfixturevalue(fixture)
    exact = fs.sample_video(str(made.path), fs.SamplingSpec(**SCENE_ONLY))
    fast = fs.sample_video(
        str(made.path), fs.SamplingSpec(decode=fs.DecodeSpec(fast=True), **SCENE_ONLY)
    )
    assert fast.stats.mode == "fast"
    assert fast.stats.frames_decoded < exact.stats.frames_decoded  # frames were skipped
    assert cut_frames(fast) == cut_frames(exact) == made.cut_frames
    assert fast.scenes["start_s"].to_list() == exact.scenes["start_s"].to_list()


def test_keyframe_mode_reports_true_frame_positions(cuts_video_sparse_keyframes):
    path = str(cuts_video_sparse_keyframes.path)
    full = fs.sample_video(path, fs.SamplingSpec(interval_s=None, detector=None))
    keys = full.analysis.filter(pl.col("keyframe"))["frame_index"].to_list()
    preview = fs.sample_video(path, fs.SamplingSpec(keyframes=True, interval_s=None))
    assert preview.frames["frame_index"].to_list() == keys


def test_missing_hardware_decoder_falls_back_silently(cuts_video, caplog):
    spec = fs.SamplingSpec(decode=fs.DecodeSpec(hwaccel="cuda"), **SCENE_ONLY)
    result = fs.sample_video(str(cuts_video.path), spec)
    assert cut_frames(result) == cuts_video.cut_frames
    assert result.stats.hwaccel in (None, "cuda")
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


def test_probe_lists_subtitle_and_audio_streams(subtitled_video, corrupt_audio_video):
    info = fs.probe(str(subtitled_video.path))
    assert [s.codec for s in info.subtitles] == ["mov_text"]
    audio = fs.probe(str(corrupt_audio_video.path)).audio
    assert len(audio) == 1
    assert audio[0].sample_rate


def test_progress_is_reported_up_to_the_end(cuts_video):
    seen: list[tuple[float, float]] = []
    fs.sample_video(
        str(cuts_video.path),
        fs.SamplingSpec(**SCENE_ONLY),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen
    assert seen[0] == (0.0, seen[-1][1])  # a start report, then progress
    assert seen[-1][0] == seen[-1][1] > 0
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_raw_elementary_stream_without_container_times(tmp_path):
    import av

    path = tmp_path / "raw.h264"
    with av.open(str(path), "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):
            image = np.full((48, 64, 3), (i * 8) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    result = fs.sample_video(str(path), fs.SamplingSpec(interval_s=0.4, detector=None))
    assert result.stats.frames_decoded == 30
    assert result.frames["time_s"].to_list() == pytest.approx([0.0, 0.4, 0.8])


def test_reselect_on_a_keyframe_pass_equals_a_new_pass(cuts_video_sparse_keyframes):
    path = str(cuts_video_sparse_keyframes.path)
    first = fs.sample_video(path, fs.SamplingSpec(keyframes=True, interval_s=None))
    other = fs.SamplingSpec(keyframes=True, interval_s=None, threshold=5.0, dedup_bits=20)
    again = fs.sample_video(path, other)
    chosen = reselect(
        first.analysis, other, detector="content", fps=first.media.video.avg_fps or 25.0
    )
    assert chosen.frames["frame_index"].to_list() == again.frames["frame_index"].to_list()
    assert chosen.frames["reasons"].to_list() == again.frames["reasons"].to_list()
    assert chosen.scenes.equals(again.scenes)


def _solid_video(path: Path, size: tuple[int, int], frames: int = 2) -> Path:
    """A small file with large pictures: ``frames`` grey MPEG-4 pictures of ``size``."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=1)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        picture = np.full((size[1], size[0], 3), 90, np.uint8)
        for _ in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _limited(**limits: object) -> fs.SamplingSpec:
    return fs.SamplingSpec(decode=fs.DecodeSpec(limits=fs.LimitsSpec(**limits)))  # type: ignore[arg-type]


def test_pictures_over_the_pixel_limit_are_refused_before_decoding(tmp_path: Path) -> None:
    path = _solid_video(tmp_path / "large.mp4", (1600, 1600))
    with pytest.raises(fs.MediaLimitError, match=r"1600x1600 .* limit of 2,000,000 pixels"):
        fs.sample_video(path, _limited(max_pixels=2_000_000))
    with pytest.raises(fs.MediaLimitError, match="max_pixels"):
        fs.probe(path, max_pixels=2_000_000)
    assert fs.probe(path, max_pixels=None).video.width == 1600
    assert fs.sample_video(path, fs.SamplingSpec()).frames.height >= 1  # default: admitted
    # A spec stored in a catalog before limits existed still reads, with the defaults.
    stored = fs.SamplingSpec().to_dict()
    del stored["decode"]["limits"]
    assert fs.SamplingSpec.from_dict(stored) == fs.SamplingSpec()
    assert _limited(max_pixels=None).fingerprint() == fs.SamplingSpec().fingerprint()


def test_decoding_stops_at_the_wall_time_limit(cuts_video) -> None:
    with pytest.raises(fs.MediaLimitError, match="longer than 1e-06 s"):
        fs.sample_video(cuts_video.path, _limited(max_video_s=1e-6))
    limits = fs.LimitsSpec(max_video_s=1e-6)
    fast = fs.SamplingSpec(decode=fs.DecodeSpec(fast=True, limits=limits))
    with pytest.raises(fs.MediaLimitError, match="max_video_s"):
        fs.sample_video(cuts_video.path, fast)


def test_decoder_memory_stays_within_its_budget(tmp_path: Path) -> None:
    from framesift.decode import VideoDecoder

    path = _solid_video(tmp_path / "large.mp4", (1600, 1600))
    media = fs.probe(path)
    tight = VideoDecoder(path, media, fs.DecodeSpec(limits=fs.LimitsSpec(decode_memory_mb=64)))
    # 1600x1600 x 3 bytes a picture, two pictures a frame thread: 4 fit in 64 MiB.
    assert tight.within_budget(16) == 4
    assert VideoDecoder(path, media, fs.DecodeSpec()).within_budget(16) == 16
    with tight:
        assert tight.stream.thread_count == 4
    with pytest.raises(fs.SettingsError, match="max_pixels"):
        fs.LimitsSpec(max_pixels=10)


# -- keyframes thinned by the interval --------------------------------------------------


def short_gops(folder: Path) -> Path:
    """Three 2.4-s scenes at 25 fps with a keyframe every 0.4 s (none forced at cuts):
    a keyframe preview would keep 2.5 frames a second."""
    import media

    return media.make_cuts_video(
        folder,
        colours_or_patterns=["gradient", "rings", "noise"],
        frames_per_scene=[60, 60, 60],
        fps=25,
        gop=10,
        options={"sc_threshold": "0"},
        name="short_gops.mp4",
    ).path


@pytest.mark.parametrize("interval_s", [1.0, 2.0])
def test_keyframes_with_an_interval_keep_at_most_one_per_interval(tmp_path, interval_s):
    path = str(short_gops(tmp_path))
    every = fs.sample_video(path, fs.SamplingSpec(keyframes=True, interval_s=None, detector=None))
    keys = every.frames["time_s"].to_list()
    assert len(keys) == 18  # every keyframe: 0, 0.4, 0.8 ...
    thinned = fs.sample_video(
        path, fs.SamplingSpec(keyframes=True, interval_s=interval_s, detector=None)
    )
    times = thinned.frames["time_s"].to_list()
    slots = [int(t // interval_s + 1e-6) for t in times]
    assert slots == sorted(set(slots))  # at most one per interval
    assert set(slots) == {int(t // interval_s + 1e-6) for t in keys}  # and one in each
    assert set(times) <= set(keys)
    assert all(r == ["interval", "keyframe"] for r in thinned.frames["reasons"].to_list())
    assert not thinned.stats.scenes_approximate  # no detector, no scenes to doubt


def test_keyframe_scenes_are_approximate_and_the_rule_is_the_same_in_reselect(tmp_path):
    path = str(short_gops(tmp_path))
    spec = fs.SamplingSpec(keyframes=True, interval_s=2.0, min_scene_len_frames=1)
    result = fs.sample_video(path, spec)
    assert result.stats.mode == "keyframes"
    assert result.stats.scenes_approximate
    # Scene starts are kept besides the thinned keyframes.
    starts = result.frames.filter(pl.col("reasons").list.contains("scene_start"))
    assert starts.height == result.scenes.height > 1  # each kept, however close
    assert {2.4, 4.8} <= {round(t, 3) for t in result.scenes["start_s"].to_list()}
    thinned = result.frames.filter(pl.col("reasons").list.contains("keyframe"))
    slots = [int(t // 2.0 + 1e-6) for t in thinned["time_s"].to_list()]
    assert slots == sorted(set(slots))
    assert fs.sample_video(path, fs.SamplingSpec()).stats.scenes_approximate is False
    # The replay driver keeps the same frames for the same reasons.
    chosen = reselect(result.analysis, spec, detector="content", fps=25.0)
    assert chosen.frames["frame_index"].to_list() == result.frames["frame_index"].to_list()
    assert chosen.frames["reasons"].to_list() == result.frames["reasons"].to_list()


def _cut_through_black(path: Path) -> tuple[int, int]:
    """A scene, a hard cut to 4 black frames, a 10-frame fade in to the next scene:
    (the frame the cut opens the scene at, the first frame of the settled picture)."""
    rng = np.random.default_rng(5)
    first, second = (rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8) for _ in range(2))
    frames = [first] * 25 + [np.zeros_like(first)] * 4
    frames += [(second * (k / 10)).astype(np.uint8) for k in range(1, 11)] + [second] * 25
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25, options={"x264-params": "asm=0"})
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return 25, 25 + 4 + 9


def test_a_scene_start_past_black_shows_the_scene(tmp_path):
    path = tmp_path / "black_cut.mp4"
    cut, settled = _cut_through_black(path)
    sink = fs.MemoryImageSink()
    spec = fs.SamplingSpec(interval_s=None, min_scene_len_frames=5)
    result = fs.sample_video(str(path), spec, sink=sink)
    assert result.scenes["start_frame"].to_list() == [0, cut]  # the scenes are unchanged
    starts = result.frames.filter(pl.col("reasons").list.contains("scene_start"))
    assert starts["scene_index"].to_list() == [0, 1]
    assert starts["blank_frames_skipped"].to_list() == [0, starts["frame_index"][1] - cut]
    shown = starts["frame_index"][1]
    assert settled - 1 <= shown <= settled + 1  # the fade has settled, within a frame
    thumbnail = sink.images[starts["thumbnail_uri"][1].removeprefix("memory://")]
    assert np.asarray(Image.open(io.BytesIO(thumbnail)).convert("L")).std() > 40  # not black
    # Other frames carry no value; the re-selection from the analysis chooses the same frame.
    assert (
        result.frames.filter(~pl.col("reasons").list.contains("scene_start"))[
            "blank_frames_skipped"
        ].null_count()
        == result.frames.height - 2
    )
    again = reselect(result.analysis, spec, detector="content", fps=25.0)
    assert again.frames["frame_index"].to_list() == result.frames["frame_index"].to_list()
    assert result.analysis["contrast"].null_count() == 0


def test_scene_start_look_ahead_is_bounded(tmp_path):
    """A scene that stays black: its first frame is kept after the look-ahead."""
    path = tmp_path / "black_scene.mp4"
    _cut_through_black(path)
    spec = fs.SamplingSpec(interval_s=None, min_scene_len_frames=5)
    chooser = fs_select.SceneStartChooser(lookahead=3)
    assert not chooser.open(10, 0.0)
    assert [chooser.offer(n, 0.0) for n in (11, 12)] == ["wait", "wait"]
    assert chooser.offer(13, 0.0) == "first"
    assert not chooser.waiting
    assert chooser.open(20, 50.0)  # a picture: its first frame at once
    assert fs.sample_video(str(path), spec).frames.height == 2


def test_the_trailers_scene_starts_show_their_scenes():
    """The Big Buck Bunny trailer excerpt (data/clips): one of its cuts passes through
    black; every scene-start frame kept shows a picture, the black one 23 frames on."""
    clip = Path(__file__).parent.parent / "data" / "clips" / "bbb-trailer-music.mp4"
    result = fs.sample_video(str(clip), fs.SamplingSpec(interval_s=None))
    starts = result.frames.join(result.analysis, on="frame_index")
    first_frames = result.analysis.filter(
        pl.col("frame_index").is_in(result.scenes["start_frame"].to_list())
    )
    assert (first_frames["contrast"] < fs_select.MIN_CONTRAST).sum() == 1  # the black one
    assert (starts["contrast"] >= fs_select.MIN_CONTRAST).all()
    assert starts["blank_frames_skipped"].to_list().count(0) == len(starts) - 1
    assert max(starts["blank_frames_skipped"].to_list()) > 0
