"""The one error hierarchy of framesift.

Every error framesift raises on purpose derives from :class:`FramesiftError`, and also from
the builtin that fits, so callers can catch either::

    FramesiftError(Exception)
    ├── SettingsError(FramesiftError, ValueError)       a setting is out of range or inconsistent
    │   └── ModelContractError(SettingsError)            a model file is not ONNX or not as declared
    ├── MediaError(FramesiftError)                      a media file cannot be used (carries url)
    │   ├── NotAVideoError(MediaError, ValueError)       not a media container at all
    │   ├── NoVideoStreamError(MediaError, ValueError)   a container without a video stream
    │   ├── UnsupportedCodecError(MediaError, ValueError) no decoder for the video codec
    │   ├── TruncatedMediaError(MediaError, ValueError)  cut short or damaged beyond decoding
    │   ├── MediaNotFoundError(MediaError, FileNotFoundError)  nothing at that URL
    │   ├── MediaLimitError(MediaError, ValueError)      over a limit set on untrusted media
    │   ├── SubtitleError(MediaError, ValueError)        a subtitle stream or file is unreadable
    │   └── SourceChangedError(MediaError, ValueError)   a cataloged source holds other content now
    ├── PassStateError(FramesiftError, RuntimeError)    a sampling pass used out of order
    ├── AnalyzerError(FramesiftError, RuntimeError)     a frame analyzer failed on a video's frame
    ├── ReportError(FramesiftError, RuntimeError)       a report's notebook stopped with an error
    ├── StorageError(FramesiftError, OSError)           reading or writing through fsspec failed
    │   └── SyncError(StorageError)                     copying a catalog's videos elsewhere failed
    ├── WorkerLostError(FramesiftError, RuntimeError)   the worker running a video died (transient)
    └── CatalogError(FramesiftError)                    the catalog is unusable
        ├── CatalogVersionError(CatalogError, RuntimeError)  written by a newer framesift
        ├── CatalogConflictError(CatalogError, RuntimeError) another writer holds the commit lock
        └── QueryNotAllowedError(CatalogError, PermissionError)  a query that is not read-only

Messages name the file and say what to do; URLs in messages never carry credentials.
"""

from __future__ import annotations

__all__ = [
    "AnalyzerError",
    "CatalogConflictError",
    "CatalogError",
    "CatalogVersionError",
    "FramesiftError",
    "MediaError",
    "MediaLimitError",
    "MediaNotFoundError",
    "ModelContractError",
    "NoVideoStreamError",
    "NotAVideoError",
    "PassStateError",
    "QueryNotAllowedError",
    "ReportError",
    "SettingsError",
    "SourceChangedError",
    "StorageError",
    "SubtitleError",
    "SyncError",
    "TruncatedMediaError",
    "UnsupportedCodecError",
    "WorkerLostError",
]


class FramesiftError(Exception):
    """Root of every error framesift raises on purpose."""


class SettingsError(FramesiftError, ValueError):
    """A setting is out of range or inconsistent with another one."""


class ModelContractError(SettingsError):
    """A model given to an analyzer is not an ONNX model, or its inputs and outputs are
    not what its declared contract says; raised before any video is read."""


class MediaError(FramesiftError):
    """A media file cannot be used. ``url`` names it (without credentials)."""

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


class NotAVideoError(MediaError, ValueError):
    """The file is not a media container framesift can open."""


class NoVideoStreamError(MediaError, ValueError):
    """The container opened but holds no video stream."""


class UnsupportedCodecError(MediaError, ValueError):
    """The video stream uses a codec this build of FFmpeg cannot decode."""


class TruncatedMediaError(MediaError, ValueError):
    """The file is cut short or damaged so that no frame can be decoded."""


class MediaNotFoundError(MediaError, FileNotFoundError):
    """Nothing exists at the URL."""


class MediaLimitError(MediaError, ValueError):
    """The file exceeds a limit set on untrusted media (picture size, decoding time); the
    message names the limit and the setting that raises it."""


class SubtitleError(MediaError, ValueError):
    """A subtitle file or stream cannot be read (unknown format, undecodable text)."""


class SourceChangedError(MediaError, ValueError):
    """The source a catalog's video came from holds other content now (its fingerprint is
    not the video's id), or lacks a frame the catalog kept: ingest it again."""


class PassStateError(FramesiftError, RuntimeError):
    """A sampling pass was asked for its result before its frames were all read."""


class AnalyzerError(FramesiftError, RuntimeError):
    """A frame analyzer raised on a kept frame: the video fails (no rows of it are
    written). ``url`` names the video, ``analyzer`` the analyzer, ``frame_index`` the frame."""

    def __init__(self, url: str, analyzer: str, frame_index: int | None, problem: str) -> None:
        self.url = url
        self.analyzer = analyzer
        self.frame_index = frame_index
        self.problem = problem
        where = f" on frame {frame_index}" if frame_index is not None else ""
        super().__init__(f"{url}: analyzer {analyzer!r} failed{where}: {problem}")


class ReportError(FramesiftError, RuntimeError):
    """A report's notebook stopped with an error (the cell and the error it raised)."""


class StorageError(FramesiftError, OSError):
    """Reading or writing through fsspec failed (after retries, where they apply).
    ``transient``: it gave up retrying a failure that may pass (a 503, a timeout), so a
    later try may succeed."""

    transient: bool = False


class SyncError(StorageError):
    """Copying a catalog's videos to another location failed for some videos (named, with
    why); what was copied is complete and visible there, and a re-run copies the rest."""


class WorkerLostError(FramesiftError, RuntimeError):
    """The process or cluster worker running a video died (twice: it is retried once).
    Transient as far as framesift knows: a re-run tries the video again."""


class CatalogError(FramesiftError):
    """The catalog cannot be used as asked."""


class CatalogVersionError(CatalogError, RuntimeError):
    """The catalog was written by a newer framesift than this one."""


class CatalogConflictError(CatalogError, RuntimeError):
    """Another process holds the catalog's commit lock."""


class QueryNotAllowedError(CatalogError, PermissionError):
    """``Catalog.sql`` refused a query: it is read-only by default (one SELECT over the
    catalog's views); ``unsafe=True`` runs anything DuckDB runs."""
