"""The tuning widget re-selects from the pass's analysis as its sliders move."""

from __future__ import annotations

import dataclasses

import pytest

import framesift as fs
from framesift.analysis import explain_cuts, reselect
from framesift.errors import SettingsError
from framesift.fullpass import is_full_pass, require_full_pass
from framesift.notebook import SamplingTuner
from framesift.spec import OFF_DEDUP_BITS, OFF_DETECTOR, OFF_INTERVAL_S, SelectionOptions

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
    assert "<b>1</b> scene," in tuner.summary.value
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


def test_off_values_become_none_fields_and_back() -> None:
    base = fs.SamplingSpec(keyframes=True, image=fs.ImageSpec(max_side_px=160))
    off = SelectionOptions(
        every_s=OFF_INTERVAL_S, detector=OFF_DETECTOR, threshold=5.0, dedup_bits=OFF_DEDUP_BITS
    ).apply_to(base)
    assert (off.interval_s, off.detector, off.threshold, off.dedup_bits) == (None, None, None, None)
    assert off.keyframes  # the rest of the base kept
    assert off.image.max_side_px == 160
    assert SelectionOptions(every_s=None, dedup_bits=None).apply_to(base).dedup_bits is None
    on = SelectionOptions(every_s=2.0, detector="hash", dedup_bits=0).apply_to(base)
    assert (on.interval_s, on.detector, on.threshold, on.dedup_bits) == (2.0, "hash", None, 0)
    start = SelectionOptions.of(off)  # where the controls of an all-off spec start
    assert (start.every_s, start.detector, start.threshold, start.dedup_bits) == (
        OFF_INTERVAL_S,
        OFF_DETECTOR,
        0.0,
        OFF_DEDUP_BITS,
    )
    assert start.apply_to(off) == off
    assert SelectionOptions.of(SPEC).apply_to(SPEC) == dataclasses.replace(SPEC, threshold=27.0)
    with pytest.raises(SettingsError, match="interval_s=-1"):
        SelectionOptions(every_s=-1.0).apply_to(base)
    with pytest.raises(SettingsError, match="needs a detector"):
        SelectionOptions(detector=OFF_DETECTOR, representatives_per_scene=2).apply_to(base)


def test_only_a_pass_over_every_frame_can_be_reselected() -> None:
    assert is_full_pass("straight")
    require_full_pass("straight", "a.mp4")
    for mode in ("keyframes", "seek", "fast"):
        assert not is_full_pass(mode)
        with pytest.raises(SettingsError, match=f"a.mp4 ran in '{mode}' mode"):
            require_full_pass(mode, "a.mp4")


def test_the_tuner_says_why_frames_over_the_threshold_open_no_scene(sampled, cuts_video) -> None:
    result, images = sampled
    tuner = SamplingTuner(result, images=images)
    assert f"{len(cuts_video.cut_frames)} cuts" in tuner.cuts.value
    tuner.threshold.value = 0.0  # every frame reaches it: the flash filter allows no cut
    assert tuner.selection.scenes.height == 1
    assert "every frame does" in tuner.report.summary
    assert "nothing is cut" in tuner.cuts.value
    assert tuner.report.missed
    assert all("minimum scene length" in m.reason for m in tuner.report.missed)
    assert "every frame does" in tuner.snapshot()
    # Cuts closer together than the minimum scene length: the later ones are held back.
    tuner.threshold.value = 27.0
    gaps = [b - a for a, b in zip(cuts_video.cut_frames, cuts_video.cut_frames[1:], strict=False)]
    tuner.min_scene_len.value = max(gaps) + 1
    assert f"a cut needs {max(gaps) + 1}" in tuner.cuts.value
    report = explain_cuts(
        result.analysis, tuner.spec, detector="content", fps=result.media.video.fps, limit=50
    )
    missed = {m.frame_index: m.reason for m in report.missed}
    opened = set(tuner.selection.scenes["start_frame"].to_list())
    assert set(cuts_video.cut_frames) <= set(missed) | opened  # each cut: made, or said why
    assert opened.isdisjoint(missed)


def test_explain_cuts_without_a_detector(sampled) -> None:
    result, _ = sampled
    spec = dataclasses.replace(SPEC, detector=None)
    report = explain_cuts(result.analysis, spec, detector="content", fps=25.0)
    assert report.summary.startswith("no scene detector")
    assert report.missed == ()
