"""framesift's faster content score equals PySceneDetect's, frame for frame."""

from __future__ import annotations

import numpy as np
import pytest
from scenedetect import FrameTimecode
from scenedetect.detectors import AdaptiveDetector, ContentDetector

from framesift.errors import SettingsError
from framesift.scenes import (
    KNOWN_DETECTORS,
    FastAdaptiveDetector,
    FastContentDetector,
    SceneCutDetector,
    adapter_for,
)
from framesift.schema import KEEP_REASONS, KeepReason
from framesift.select import KeepReason as SelectKeepReason
from framesift.spec import DEFAULT_THRESHOLDS, DETECTOR_NAMES


def frames(seed: int, count: int = 40) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(72, 128, 3), dtype=np.uint8)
    out = []
    for i in range(count):
        if i % 13 == 0:  # a hard cut now and then
            base = rng.integers(0, 256, size=base.shape, dtype=np.uint8)
        jitter = rng.integers(-6, 7, size=base.shape)
        out.append(np.clip(base.astype(int) + jitter, 0, 255).astype(np.uint8))
    return out


@pytest.mark.parametrize(
    ("fast", "reference", "kwargs"),
    [
        (FastContentDetector, ContentDetector, {}),
        (FastContentDetector, ContentDetector, {"luma_only": True}),
        (
            FastContentDetector,
            ContentDetector,
            {"weights": ContentDetector.Components(1.0, 0.5, 1.0, 0.25)},
        ),
        (FastAdaptiveDetector, AdaptiveDetector, {}),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_score_equals_pyscenedetect(fast, reference, kwargs, seed):
    ours, theirs = fast(**kwargs), reference(**kwargs)
    for i, image in enumerate(frames(seed)):
        tc = FrameTimecode(i, fps=25.0)
        assert ours.process_frame(tc, image) == theirs.process_frame(tc, image)
        assert ours._frame_score == theirs._frame_score


def test_detector_reports_its_score_per_frame():
    detector = SceneCutDetector("content", 27.0, 5, 25.0)
    scores = [detector.push(i, image)[0] for i, image in enumerate(frames(3))]
    assert scores[0] == 0.0
    assert max(scores) > 27.0  # the cuts
    assert min(scores[1:]) > 0.0


def test_every_detector_name_has_its_adapter():
    assert set(KNOWN_DETECTORS) == set(DETECTOR_NAMES)
    for name in DETECTOR_NAMES:
        assert adapter_for(name).name == name
    with pytest.raises(SettingsError, match="allowed content"):
        adapter_for("histogram")


@pytest.mark.parametrize("name", DETECTOR_NAMES)
def test_replay_from_stored_scores_finds_the_streamed_cuts(name):
    detector = SceneCutDetector(name, None, 3, 25.0)
    images = frames(4, 60)
    for i in range(20, 26):  # a fade to black and back, for the threshold detector
        images[i] = images[i] // 40
    scores, cuts = [], []
    for i, image in enumerate(images):
        score, found = detector.push(i, image)
        scores.append(score)
        cuts.extend(found)
    cuts.extend(detector.finish())
    replayed = adapter_for(name).replay(
        DEFAULT_THRESHOLDS[name],
        3,
        list(range(len(images))),
        scores,
        25.0,
    )
    assert cuts
    assert replayed == cuts


def test_keep_reasons_have_one_definition():
    assert SelectKeepReason is KeepReason
    assert KEEP_REASONS == ("interval", "keyframe", "scene_start", "representative")
