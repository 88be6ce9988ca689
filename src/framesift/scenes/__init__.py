"""Scene-cut detection: PySceneDetect's detectors fed from framesift's decode pass.

One adapter per detector, one per file, behind the interface in
:mod:`~framesift.scenes.adapter`; :func:`~framesift.scenes.registry.adapter_for` finds
one by name:

- ``content`` (:mod:`.content`), ``adaptive`` (:mod:`.adaptive`),
  ``threshold`` (:mod:`.threshold`), ``hash`` (:mod:`.hash`).

:class:`SceneCutDetector` feeds one detector frame by frame during a pass and reports
cuts as frame indices together with the detector's per-frame score; the scores are kept
in the pass's analysis table, and :func:`replay_cuts` runs the same detector logic again
on them with another threshold, without decoding (what the tuning widget uses).
"""

from __future__ import annotations

from framesift.scenes.adapter import DetectorAdapter
from framesift.scenes.adaptive import FastAdaptiveDetector
from framesift.scenes.content import FastContentDetector
from framesift.scenes.detector import SceneCutDetector, make_detector, replay_cuts
from framesift.scenes.registry import KNOWN_DETECTORS, adapter_for

__all__ = [
    "KNOWN_DETECTORS",
    "DetectorAdapter",
    "FastAdaptiveDetector",
    "FastContentDetector",
    "SceneCutDetector",
    "adapter_for",
    "make_detector",
    "replay_cuts",
]
