"""framesift: a searchable, reproducible catalog of frames, scenes and text from video."""

from __future__ import annotations

__version__ = "0.1.0"

from framesift.analysis import reselect
from framesift.catalog import Catalog, ingest
from framesift.errors import (
    CatalogConflictError,
    CatalogError,
    CatalogVersionError,
    FramesiftError,
    MediaError,
    MediaNotFoundError,
    NotAVideoError,
    NoVideoStreamError,
    SettingsError,
    StorageError,
    TruncatedMediaError,
    UnsupportedCodecError,
)
from framesift.output import write_sample
from framesift.probe import AudioStreamInfo, MediaInfo, SubtitleStreamInfo, VideoStreamInfo, probe
from framesift.sample import KeptFrame, PassStats, SampleResult, SamplingPass, sample_video
from framesift.sink import FsspecImageSink, ImageSink, MemoryImageSink
from framesift.spec import DecodeSpec, ImageSpec, SamplingSpec

__all__ = [
    "AudioStreamInfo",
    "Catalog",
    "CatalogConflictError",
    "CatalogError",
    "CatalogVersionError",
    "DecodeSpec",
    "FramesiftError",
    "FsspecImageSink",
    "ImageSink",
    "ImageSpec",
    "KeptFrame",
    "MediaError",
    "MediaInfo",
    "MediaNotFoundError",
    "MemoryImageSink",
    "NoVideoStreamError",
    "NotAVideoError",
    "PassStats",
    "SampleResult",
    "SamplingPass",
    "SamplingSpec",
    "SettingsError",
    "StorageError",
    "SubtitleStreamInfo",
    "TruncatedMediaError",
    "UnsupportedCodecError",
    "VideoStreamInfo",
    "__version__",
    "ingest",
    "probe",
    "reselect",
    "sample_video",
    "write_sample",
]
