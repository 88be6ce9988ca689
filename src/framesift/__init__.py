"""framesift: a searchable, reproducible catalog of frames, scenes and text from video."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from framesift._version import __version__
from framesift.errors import (
    AnalyzerError,
    CatalogConflictError,
    CatalogError,
    CatalogVersionError,
    FramesiftError,
    MediaError,
    MediaLimitError,
    MediaNotFoundError,
    ModelContractError,
    NotAVideoError,
    NoVideoStreamError,
    PassStateError,
    QueryNotAllowedError,
    ReportError,
    SettingsError,
    StorageError,
    SubtitleError,
    TruncatedMediaError,
    UnsupportedCodecError,
    WorkerLostError,
)
from framesift.probe import AudioStreamInfo, MediaInfo, SubtitleStreamInfo, VideoStreamInfo, probe
from framesift.sample import KeptFrame, PassStats, SampleResult, SamplingPass, sample_video
from framesift.sink import FsspecImageSink, ImageSink, MemoryImageSink
from framesift.spec import (
    AnalyzerSpec,
    DecodeSpec,
    ImageSpec,
    LimitsSpec,
    OnnxModelSpec,
    SamplingSpec,
    TextSpec,
)

if TYPE_CHECKING:
    from framesift.analysis import explain_cuts, reselect
    from framesift.batch import ExecutorSpec, ingest
    from framesift.catalog import Catalog
    from framesift.estimate import estimate_collection
    from framesift.output import write_sample
    from framesift.report import write_report

# Imported on first use: the catalog pulls in DuckDB and S3 support, re-selection
# PySceneDetect; a command that needs neither starts faster without them.
_LAZY = {
    "Catalog": "framesift.catalog",
    "ExecutorSpec": "framesift.batch",
    "estimate_collection": "framesift.estimate",
    "explain_cuts": "framesift.analysis",
    "ingest": "framesift.batch",
    "reselect": "framesift.analysis",
    "write_report": "framesift.report",
    "write_sample": "framesift.output",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framesift' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AnalyzerError",
    "AnalyzerSpec",
    "AudioStreamInfo",
    "Catalog",
    "CatalogConflictError",
    "CatalogError",
    "CatalogVersionError",
    "DecodeSpec",
    "ExecutorSpec",
    "FramesiftError",
    "FsspecImageSink",
    "ImageSink",
    "ImageSpec",
    "KeptFrame",
    "LimitsSpec",
    "MediaError",
    "MediaInfo",
    "MediaLimitError",
    "MediaNotFoundError",
    "MemoryImageSink",
    "ModelContractError",
    "NoVideoStreamError",
    "NotAVideoError",
    "OnnxModelSpec",
    "PassStateError",
    "PassStats",
    "QueryNotAllowedError",
    "ReportError",
    "SampleResult",
    "SamplingPass",
    "SamplingSpec",
    "SettingsError",
    "StorageError",
    "SubtitleError",
    "SubtitleStreamInfo",
    "TextSpec",
    "TruncatedMediaError",
    "UnsupportedCodecError",
    "VideoStreamInfo",
    "WorkerLostError",
    "__version__",
    "estimate_collection",
    "explain_cuts",
    "ingest",
    "probe",
    "reselect",
    "sample_video",
    "write_report",
    "write_sample",
]
