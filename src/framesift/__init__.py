"""framesift: a searchable, reproducible catalog of frames, scenes and text from video."""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

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
    SourceChangedError,
    StorageError,
    SubtitleError,
    SyncError,
    TruncatedMediaError,
    UnsupportedCodecError,
    WorkerLostError,
)

if TYPE_CHECKING:
    from framesift._version import __version__
    from framesift.analysis import explain_cuts, reselect
    from framesift.batch import ExecutorSpec, ingest
    from framesift.catalog import Catalog
    from framesift.estimate import estimate_collection
    from framesift.output import write_sample
    from framesift.probe import (
        AudioStreamInfo,
        MediaInfo,
        SubtitleStreamInfo,
        VideoStreamInfo,
        probe,
    )
    from framesift.report import write_report
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

# Everything but the error tree is imported on first use (PEP 562): PyAV, fsspec, polars,
# PySceneDetect, OpenCV and DuckDB load only for the work that needs them, so
# ``framesift --help`` and ``framesift probe`` start fast. ``from framesift import X``
# works as before.
_LAZY: dict[str, str] = {
    "__version__": "framesift._version",
    **dict.fromkeys(
        ("AudioStreamInfo", "MediaInfo", "SubtitleStreamInfo", "VideoStreamInfo", "probe"),
        "framesift.probe",
    ),
    **dict.fromkeys(
        ("KeptFrame", "PassStats", "SampleResult", "SamplingPass", "sample_video"),
        "framesift.sample",
    ),
    **dict.fromkeys(("FsspecImageSink", "ImageSink", "MemoryImageSink"), "framesift.sink"),
    **dict.fromkeys(
        (
            "AnalyzerSpec",
            "DecodeSpec",
            "ImageSpec",
            "LimitsSpec",
            "OnnxModelSpec",
            "SamplingSpec",
            "TextSpec",
        ),
        "framesift.spec",
    ),
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


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package's own module type, for one case: importing a submodule binds it on the
    package under its name, and ``framesift.probe`` (the module) would then hide
    ``framesift.probe`` (the function); the function is bound instead."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


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
    "SourceChangedError",
    "StorageError",
    "SubtitleError",
    "SubtitleStreamInfo",
    "SyncError",
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
