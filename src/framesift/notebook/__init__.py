"""Notebook tools, thin over the library: ``SamplingTuner`` (sliders re-selecting from a
pass's analysis), ``CollectionEstimator`` (kept frames, bytes and time of a collection as
the settings move, before ingesting it) and ``CatalogBrowser`` (a catalog's videos,
timelines and text search), and the static pictures of a collection for reports
(``CollectionOverview``, ``timeline_png``). Needs the ``notebook`` extra (ipywidgets,
matplotlib)."""

from __future__ import annotations

from framesift.notebook.browser import CatalogBrowser
from framesift.notebook.estimator import CollectionEstimator
from framesift.notebook.timeline import CollectionOverview, timeline_png
from framesift.notebook.tuner import SamplingTuner

__all__ = [
    "CatalogBrowser",
    "CollectionEstimator",
    "CollectionOverview",
    "SamplingTuner",
    "timeline_png",
]
