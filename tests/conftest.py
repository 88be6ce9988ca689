"""Session-scoped fixtures: synthetic test media with ground truth (see tests/media.py).

Each file is generated the first time a test asks for its fixture, once per
session, into one temporary directory. Fixture -> what it returns:

- ``media_dir``: the directory (``Path``) the files are written to
- ``cuts_video``: ``CutsVideo(path, cut_frames)``, 7 scenes, 25 fps, 320x240 H.264 with B-frames
- ``cuts_video_sparse_keyframes``: the same scenes with one keyframe per 100 frames and
  no keyframes forced at cuts (for keyframe-only decoding)
- ``vfr_video``: ``VfrVideo(path, frame_times_s)``
- ``rotated_video``: ``RotatedVideo(path, coded_size, display_size)``, rotation 90
- ``offset_start_video``: ``OffsetStartVideo(path, first_time_s)``, first frame at 10 s
- ``colour_split_video``: ``ColourSplitVideo(path, pix_fmt, left_rgb, right_rgb)``,
  parametrized over yuv444p, yuvj422p, gbrp, rgb24, yuv420p10le
- ``corrupt_audio_video``: ``CorruptAudioVideo(path, corrupt_audio_times_s, video_frame_count)``
- ``truncated_video``: ``TruncatedVideo(path, declared_frame_count)``
- ``not_a_video``: ``Path`` of a text file named ``.mp4``
- ``audio_only_file``: ``AudioOnlyFile(path, duration_s, sample_rate)``
- ``broken_slice_video``: ``BrokenSliceVideo(path, corrupt_frame_times_s, frame_count)``
- ``subtitled_video``: ``SubtitledVideo(path, cues)``; skipped when the ffmpeg CLI is missing
- ``titled_video``: ``TitledVideo(path, cards)``, text cards for OCR
- ``spoken_video``: ``SpokenVideo(path, words, speech_start_s)``, an espeak-ng voice; skipped
  without ffmpeg and espeak-ng

Every test also runs under ``log_guard``'s autouse fixture: a test that logs an ERROR it did
not declare with ``@pytest.mark.expected_errors`` fails (see tests/log_guard.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import media

pytest_plugins = ["log_guard"]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def cuts_video(media_dir: Path) -> media.CutsVideo:
    return media.make_cuts_video(
        media_dir,
        colours_or_patterns=media.CUTS_FIXTURE_SCENES,
        frames_per_scene=media.CUTS_FIXTURE_FRAMES_PER_SCENE,
        fps=media.CUTS_FIXTURE_FPS,
    )


@pytest.fixture(scope="session")
def cuts_video_sparse_keyframes(media_dir: Path) -> media.CutsVideo:
    return media.make_cuts_video(
        media_dir,
        colours_or_patterns=media.CUTS_FIXTURE_SCENES,
        frames_per_scene=media.CUTS_FIXTURE_FRAMES_PER_SCENE,
        fps=media.CUTS_FIXTURE_FPS,
        gop=100,
        options={"sc_threshold": "0"},  # x264 would otherwise start a GOP at every cut
        name="cuts_sparse_keyframes.mp4",
    )


@pytest.fixture(scope="session")
def vfr_video(media_dir: Path) -> media.VfrVideo:
    return media.make_vfr_video(media_dir)


@pytest.fixture(scope="session")
def rotated_video(media_dir: Path) -> media.RotatedVideo:
    return media.make_rotated_video(media_dir)


@pytest.fixture(scope="session")
def offset_start_video(media_dir: Path) -> media.OffsetStartVideo:
    return media.make_offset_start_video(media_dir)


@pytest.fixture(scope="session", params=sorted(media.COLOUR_SPLIT_VARIANTS))
def colour_split_video(media_dir: Path, request: pytest.FixtureRequest) -> media.ColourSplitVideo:
    return media.make_colour_split_video(media_dir, request.param)


@pytest.fixture(scope="session")
def corrupt_audio_video(media_dir: Path) -> media.CorruptAudioVideo:
    return media.make_corrupt_audio_video(media_dir)


@pytest.fixture(scope="session")
def truncated_video(media_dir: Path) -> media.TruncatedVideo:
    return media.make_truncated_video(media_dir)


@pytest.fixture(scope="session")
def not_a_video(media_dir: Path) -> Path:
    return media.make_not_a_video(media_dir)


@pytest.fixture(scope="session")
def audio_only_file(media_dir: Path) -> media.AudioOnlyFile:
    return media.make_audio_only_file(media_dir)


@pytest.fixture(scope="session")
def broken_slice_video(media_dir: Path) -> media.BrokenSliceVideo:
    return media.make_broken_slice_video(media_dir)


@pytest.fixture(scope="session")
def subtitled_video(media_dir: Path) -> media.SubtitledVideo:
    try:
        return media.make_subtitled_video(media_dir)
    except media.FfmpegCliMissingError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def spoken_video(media_dir: Path) -> media.SpokenVideo:
    try:
        return media.make_spoken_video(media_dir)
    except media.FfmpegCliMissingError as err:
        pytest.skip(str(err))


@pytest.fixture(scope="session")
def titled_video(media_dir: Path) -> media.TitledVideo:
    return media.make_titled_video(media_dir)
