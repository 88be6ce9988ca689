"""Scene detectors by name: ``SamplingSpec.detector`` -> its :class:`DetectorAdapter`.

Each name maps to the module that implements it (one detector per file); the module is
imported the first time the name is asked for, and its ``ADAPTER`` is the adapter.
A new detector is a new file beside the others and one line here (and its name in
``framesift.spec.DETECTOR_NAMES``, which settings are validated against).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from framesift.errors import SettingsError
from framesift.spec import DEFAULT_THRESHOLDS, DETECTOR_NAMES

if TYPE_CHECKING:
    from framesift.scenes.adapter import DetectorAdapter

__all__ = ["KNOWN_DETECTORS", "adapter_for", "resolved_threshold"]

KNOWN_DETECTORS: dict[str, str] = {
    "content": "framesift.scenes.content",
    "adaptive": "framesift.scenes.adaptive",
    "threshold": "framesift.scenes.threshold",
    "hash": "framesift.scenes.hash",
}

_loaded: dict[str, DetectorAdapter] = {}


def adapter_for(name: str) -> DetectorAdapter:
    """The adapter of the detector called ``name`` (SettingsError for an unknown one)."""
    adapter = _loaded.get(name)
    if adapter is None:
        module = KNOWN_DETECTORS.get(name)
        if module is None:
            allowed = ", ".join(DETECTOR_NAMES)
            raise SettingsError(f"detector={name!r}: allowed {allowed}")
        adapter = importlib.import_module(module).ADAPTER
        _loaded[name] = adapter
    return adapter


def resolved_threshold(name: str, threshold: float | None) -> float:
    """The threshold a detector runs with: the given one, else PySceneDetect's CLI default."""
    return DEFAULT_THRESHOLDS[name] if threshold is None else threshold
