"""Notebook tools, thin over the library: ``SamplingTuner`` (sliders re-selecting from a
pass's analysis). Needs the ``notebook`` extra (ipywidgets, matplotlib)."""

from __future__ import annotations

from framesift.notebook.tuner import SamplingTuner

__all__ = ["SamplingTuner"]
