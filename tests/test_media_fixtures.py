"""The synthetic media's ground truth really holds, checked with PyAV directly (not framesift)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

import media


def _rgb_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _block_means(rgb: np.ndarray, block: int = 16) -> np.ndarray:
    """The picture shrunk by ``block`` (mean of each block), as near-duplicate checks see it."""
    h, w, _ = rgb.shape
    h, w = h // block * block, w // block * block
    return rgb[:h, :w].reshape(h // block, block, w // block, block, 3).mean(axis=(1, 3))


# --------------------------------------------------------------------------- cuts


def test_cuts_video_cut_frames_are_where_the_picture_jumps(cuts_video: media.CutsVideo) -> None:
    frames = [_block_means(f) for f in _rgb_frames(cuts_video.path)]
    assert len(frames) == sum(media.CUTS_FIXTURE_FRAMES_PER_SCENE)
    diffs = [float(np.abs(a - b).mean()) for a, b in itertools.pairwise(frames)]
    jumps = [i + 1 for i, d in enumerate(diffs) if d > 25]
    assert jumps == cuts_video.cut_frames
    assert min(diffs[i - 1] for i in cuts_video.cut_frames) > 40
    within = [d for i, d in enumerate(diffs) if i + 1 not in cuts_video.cut_frames]
    assert max(within) < 10, "frames inside a scene should be near-duplicates"
    assert min(within) > 0, "frames inside a scene should not be identical"


def test_cuts_video_times_and_bframes(cuts_video: media.CutsVideo) -> None:
    with av.open(str(cuts_video.path)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (320, 240)
        assert stream.average_rate == media.CUTS_FIXTURE_FPS
        packets = [p for p in container.demux(stream) if p.size]
    assert any(p.pts != p.dts for p in packets), "B-frames: decode order != display order"
    times = sorted(float(p.pts * p.time_base) for p in packets)
    for cut in cuts_video.cut_frames:
        assert times[cut] == pytest.approx(cut / media.CUTS_FIXTURE_FPS)


def test_cuts_video_sparse_keyframes_miss_the_cuts(
    cuts_video_sparse_keyframes: media.CutsVideo,
) -> None:
    with av.open(str(cuts_video_sparse_keyframes.path)) as container:
        stream = container.streams.video[0]
        keyframe_times = [
            float(p.pts * p.time_base) for p in container.demux(stream) if p.size and p.is_keyframe
        ]
    assert keyframe_times == [0.0]
    assert len(_rgb_frames(cuts_video_sparse_keyframes.path)) == sum(
        media.CUTS_FIXTURE_FRAMES_PER_SCENE
    )


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda d: media.make_cuts_video(
                d,
                colours_or_patterns=["noise", (10, 200, 30), "stripes"],
                frames_per_scene=[6, 5, 6],
            ),
            id="cuts",
        ),
        pytest.param(media.make_vfr_video, id="vfr"),
        pytest.param(media.make_rotated_video, id="rotated"),
        pytest.param(media.make_offset_start_video, id="offset-start"),
        pytest.param(lambda d: media.make_colour_split_video(d, "gbrp"), id="colour-split-mkv"),
        pytest.param(media.make_corrupt_audio_video, id="corrupt-audio"),
        pytest.param(media.make_truncated_video, id="truncated"),
        pytest.param(media.make_audio_only_file, id="audio-only"),
        pytest.param(media.make_broken_slice_video, id="broken-slice"),
    ],
)
def test_generators_are_byte_for_byte_deterministic(
    tmp_path: Path, make: Callable[[Path], tuple[Any, ...]]
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = make(tmp_path / "a"), make(tmp_path / "b")
    assert a[1:] == b[1:]
    assert a[0].read_bytes() == b[0].read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"colours_or_patterns": ["noise"], "frames_per_scene": [3, 4]},
            "one frame count per scene",
            id="length-mismatch",
        ),
        pytest.param(
            {"colours_or_patterns": ["plaid"], "frames_per_scene": [3]},
            "unknown pattern",
            id="unknown-pattern",
        ),
        pytest.param(
            {"colours_or_patterns": ["noise", "noise"], "frames_per_scene": [3, 3]},
            "invisible",
            id="same-scene-twice",
        ),
        pytest.param(
            {"colours_or_patterns": ["noise"], "frames_per_scene": [3], "size": (33, 24)},
            "even",
            id="odd-size-420",
        ),
    ],
)
def test_cuts_video_rejects_bad_arguments(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        media.make_cuts_video(tmp_path, **kwargs)


# --------------------------------------------------------------------------- timing


def test_vfr_video_frame_times(vfr_video: media.VfrVideo) -> None:
    with av.open(str(vfr_video.path)) as container:
        times = [f.time for f in container.decode(video=0)]
    assert times == pytest.approx(vfr_video.frame_times_s, abs=1e-9)
    durations = np.round(np.diff(vfr_video.frame_times_s) * 60).astype(int)
    assert set(durations.tolist()) == {1, 2, 6}, "durations 1/60, 1/30 and 1/10 s"


def test_offset_start_video_starts_at_ten_seconds(
    offset_start_video: media.OffsetStartVideo,
) -> None:
    with av.open(str(offset_start_video.path)) as container:
        stream = container.streams.video[0]
        assert container.start_time / av.time_base == pytest.approx(10.0)
        assert float(stream.start_time * stream.time_base) == pytest.approx(10.0)
        first = next(container.decode(stream))
    assert first.time == pytest.approx(offset_start_video.first_time_s)


# --------------------------------------------------------------------------- pictures


def test_rotated_video_has_a_90_degree_display_matrix(rotated_video: media.RotatedVideo) -> None:
    with av.open(str(rotated_video.path)) as container:
        frame = next(container.decode(video=0))
    assert frame.rotation == 90  # counter-clockwise, as FFmpeg's display matrix says
    assert any(sd.type.name == "DISPLAYMATRIX" for sd in frame.side_data)
    assert (frame.width, frame.height) == rotated_video.coded_size
    shown = np.rot90(frame.to_ndarray(format="rgb24"), k=1)  # k=1: counter-clockwise
    assert (shown.shape[1], shown.shape[0]) == rotated_video.display_size
    # The red block, coded top-left, is displayed bottom-left; the blue one top-left.
    assert shown[-4, 4].tolist() == pytest.approx([255, 0, 0], abs=12)
    assert shown[4, 4].tolist() == pytest.approx([0, 0, 255], abs=12)


def test_colour_split_video_colours_survive_conversion(
    colour_split_video: media.ColourSplitVideo,
) -> None:
    with av.open(str(colour_split_video.path)) as container:
        frames = list(container.decode(video=0))
    assert frames
    assert frames[0].format.name == colour_split_video.pix_fmt
    for frame in frames:
        rgb = frame.to_ndarray(format="rgb24").astype(int)
        width = rgb.shape[1]
        left = rgb[:, : width // 2 - 4].reshape(-1, 3)
        right = rgb[:, width // 2 + 4 :].reshape(-1, 3)
        assert np.abs(left - colour_split_video.left_rgb).max() <= 4
        assert np.abs(right - colour_split_video.right_rgb).max() <= 4


# --------------------------------------------------------------------------- damaged files


def test_corrupt_audio_video_audio_fails_video_decodes(
    corrupt_audio_video: media.CorruptAudioVideo,
) -> None:
    with av.open(str(corrupt_audio_video.path)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == corrupt_audio_video.video_frame_count
    assert not any(f.is_corrupt for f in frames)

    with (
        av.open(str(corrupt_audio_video.path)) as container,
        pytest.raises(av.error.InvalidDataError),
    ):
        for _ in container.decode(audio=0):
            pass

    # Packet by packet: only the overwritten packets fail.
    failed = []
    with av.open(str(corrupt_audio_video.path)) as container:
        for packet in container.demux(audio=0):
            if not packet.size:
                continue
            try:
                packet.decode()
            except av.error.InvalidDataError:
                failed.append(float(packet.pts * packet.time_base))
    assert failed
    assert set(failed) <= set(corrupt_audio_video.corrupt_audio_times_s)


def test_truncated_video_opens_but_ends_early(truncated_video: media.TruncatedVideo) -> None:
    decoded = 0
    with av.open(str(truncated_video.path)) as container:
        stream = container.streams.video[0]
        assert stream.frames == truncated_video.declared_frame_count
        try:
            for _ in container.decode(stream):
                decoded += 1
        except av.error.InvalidDataError:
            pass  # the last, cut-off packet
    assert 0 < decoded < truncated_video.declared_frame_count // 2


def test_not_a_video_is_rejected(not_a_video: Path) -> None:
    with pytest.raises(av.error.InvalidDataError):
        av.open(str(not_a_video))


def test_audio_only_file_has_no_video(audio_only_file: media.AudioOnlyFile) -> None:
    with av.open(str(audio_only_file.path)) as container:
        assert not container.streams.video
        (stream,) = container.streams.audio
        assert stream.codec_context.name == "aac"
        samples = sum(f.samples for f in container.decode(stream))
    # The AAC encoder pads the last frame; it never drops samples.
    expected = audio_only_file.duration_s * audio_only_file.sample_rate
    assert expected <= samples < expected + 2048 + 1024


def test_broken_slice_video_damage_is_where_the_bytes_were_garbled(
    broken_slice_video: media.BrokenSliceVideo,
) -> None:
    refused: list[float] = []  # packets the decoder raised on
    flagged: list[float] = []  # frames it concealed and marked corrupt
    clean: list[float] = []
    with av.open(str(broken_slice_video.path)) as container:
        for packet in container.demux(video=0):
            if not packet.size:
                continue
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                refused.append(float(packet.pts * packet.time_base))
                continue
            for frame in frames:
                (flagged if frame.is_corrupt else clean).append(frame.time)
    expected = broken_slice_video.corrupt_frame_times_s
    damaged = sorted(refused + flagged)
    assert damaged[: len(expected)] == pytest.approx(expected)
    assert all(t < min(expected) or t > max(expected) for t in clean)
    assert len(clean) + len(damaged) == broken_slice_video.frame_count


# --------------------------------------------------------------------------- text


def test_subtitled_video_cues(subtitled_video: media.SubtitledVideo) -> None:
    got = []
    with av.open(str(subtitled_video.path)) as container:
        (stream,) = container.streams.subtitles
        assert stream.codec_context.name == "mov_text"
        assert stream.language == "eng"
        for packet in container.demux(stream):
            if packet.size <= 2:  # mov_text gap packets: just an empty length prefix
                continue
            start = float(packet.pts * packet.time_base)
            end = start + float(packet.duration * packet.time_base)
            # av >= 15 yields AssSubtitle objects; .dialogue is the ASS text as bytes.
            text = "".join(sub.dialogue.decode("utf-8") for sub in packet.decode())
            got.append((start, end, text))
    times = [t for start, end, _ in got for t in (start, end)]
    expected = [t for cue in subtitled_video.cues for t in (cue.start_s, cue.end_s)]
    assert times == pytest.approx(expected, abs=1e-3)
    assert "{\\i1}" in got[2][2], "the third cue is italic in the .srt"
    plain = [re.sub(r"\{[^}]*\}", "", text).strip() for _, _, text in got]
    assert plain == [cue.text for cue in subtitled_video.cues]
