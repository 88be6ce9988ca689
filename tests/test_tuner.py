"""The tuning widget re-selects from the pass's analysis as its sliders move."""

from __future__ import annotations

import dataclasses

import pytest

import framesift as fs
from framesift.analysis import reselect
from framesift.errors import SettingsError
from framesift.notebook import SamplingTuner

SPEC = fs.SamplingSpec(interval_s=1.0, detector="content", min_scene_len_frames=5)


@pytest.fixture(scope="module")
def sampled(cuts_video) -> tuple[fs.SampleResult, dict[int, bytes]]:
    sink = fs.MemoryImageSink()
    result = fs.sample_video(str(cuts_video.path), SPEC, sink=sink)
    images = {
        row["frame_index"]: sink.images[row["thumbnail_uri"].removeprefix("memory://")]
        for row in result.frames.iter_rows(named=True)
    }
    return result, images


def test_sliders_reselect_without_decoding(sampled, cuts_video) -> None:
    result, images = sampled
    tuner = SamplingTuner(result, images=images)
    # Starts where the pass was: the same scenes and kept frames.
    assert tuner.spec == dataclasses.replace(SPEC, threshold=27.0)
    assert tuner.selection.scenes["start_frame"].to_list() == result.scenes["start_frame"].to_list()
    assert tuner.selection.frames["frame_index"].to_list() == (
        result.frames["frame_index"].to_list()
    )
    assert f"<b>{len(cuts_video.cut_frames) + 1}</b> scenes" in tuner.summary.value
    assert tuner.gallery.value.count("<img ") == min(12, result.frames.height)

    first_plot = bytes(tuner.plot.value)
    assert first_plot.startswith(b"\x89PNG")

    tuner.threshold.value = tuner.threshold.max  # above every score: one scene
    assert tuner.selection.scenes.height == 1
    assert "<b>1</b> scenes" in tuner.summary.value
    assert bytes(tuner.plot.value).startswith(b"\x89PNG")
    assert bytes(tuner.plot.value) != first_plot  # redrawn: the cut lines are gone
    tuner.threshold.value = 27.0
    tuner.interval.value = 0.0  # interval off: scene starts only
    assert tuner.spec.interval_s is None
    starts = tuner.selection.frames
    assert starts["frame_index"].to_list() == [0, *cuts_video.cut_frames]
    assert all(r == ["scene_start"] for r in starts["reasons"].to_list())

    tuner.interval.value = 0.5
    tuner.dedup.value = 64 if tuner.dedup.max >= 64 else tuner.dedup.max
    tuner.representatives.value = 2
    expected = reselect(result.analysis, tuner.spec, detector="content", fps=tuner._fps)
    assert tuner.selection.frames.equals(expected.frames)
    assert tuner.selection.duplicates_skipped == expected.duplicates_skipped > 0


def test_the_tuned_spec_gives_the_same_frames_in_a_new_pass(sampled, cuts_video) -> None:
    result, _ = sampled
    tuner = SamplingTuner(result)
    tuner.threshold.value = 40.0
    tuner.interval.value = 2.0
    fresh = fs.sample_video(str(cuts_video.path), tuner.spec)
    assert fresh.frames["frame_index"].to_list() == (
        tuner.selection.frames["frame_index"].to_list()
    )
    assert fresh.scenes["start_frame"].to_list() == (
        tuner.selection.scenes["start_frame"].to_list()
    )


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(
            fs.SamplingSpec(keyframes=True, interval_s=None, detector=None), id="keyframes"
        ),
        pytest.param(fs.SamplingSpec(interval_s=None, decode=fs.DecodeSpec(fast=True)), id="fast"),
    ],
)
def test_a_pass_that_skipped_frames_cannot_be_tuned(cuts_video, spec) -> None:
    with pytest.raises(SettingsError, match="pass over every frame"):
        SamplingTuner(fs.sample_video(str(cuts_video.path), spec))
