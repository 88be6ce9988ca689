"""The one error hierarchy of framesift.

Every error framesift raises on purpose derives from :class:`FramesiftError`, and also from
the builtin that fits, so callers can catch either::

    FramesiftError(Exception)
    ├── SettingsError(FramesiftError, ValueError)       a setting is out of range or inconsistent
    ├── MediaError(FramesiftError)                      a media file cannot be used (carries url)
    │   ├── NotAVideoError(MediaError, ValueError)       not a media container at all
    │   ├── NoVideoStreamError(MediaError, ValueError)   a container without a video stream
    │   ├── UnsupportedCodecError(MediaError, ValueError) no decoder for the video codec
    │   ├── TruncatedMediaError(MediaError, ValueError)  cut short or damaged beyond decoding
    │   ├── MediaNotFoundError(MediaError, FileNotFoundError)  nothing at that URL
    │   └── SubtitleError(MediaError, ValueError)        a subtitle stream or file is unreadable
    ├── PassStateError(FramesiftError, RuntimeError)    a sampling pass used out of order
    ├── ReportError(FramesiftError, RuntimeError)       a report's notebook stopped with an error
    ├── StorageError(FramesiftError, OSError)           reading or writing through fsspec failed
    └── CatalogError(FramesiftError)                    the catalog is unusable
        ├── CatalogVersionError(CatalogError, RuntimeError)  written by a newer framesift
        └── CatalogConflictError(CatalogError, RuntimeError) another writer holds the commit lock

Messages name the file and say what to do; URLs in messages never carry credentials.
"""

from __future__ import annotations

__all__ = [
    "CatalogConflictError",
    "CatalogError",
    "CatalogVersionError",
    "FramesiftError",
    "MediaError",
    "MediaNotFoundError",
    "NoVideoStreamError",
    "NotAVideoError",
    "PassStateError",
    "ReportError",
    "SettingsError",
    "StorageError",
    "SubtitleError",
    "TruncatedMediaError",
    "UnsupportedCodecError",
]


class FramesiftError(Exception):
    """Root of every error framesift raises on purpose."""


class SettingsError(FramesiftError, ValueError):
    """A setting is out of range or inconsistent with another one."""


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


class SubtitleError(MediaError, ValueError):
    """A subtitle file or stream cannot be read (unknown format, undecodable text)."""


class PassStateError(FramesiftError, RuntimeError):
    """A sampling pass was asked for its result before its frames were all read."""


class ReportError(FramesiftError, RuntimeError):
    """A report's notebook stopped with an error (the cell and the error it raised)."""


class StorageError(FramesiftError, OSError):
    """Reading or writing through fsspec failed (after retries, where they apply)."""


class CatalogError(FramesiftError):
    """The catalog cannot be used as asked."""


class CatalogVersionError(CatalogError, RuntimeError):
    """The catalog was written by a newer framesift than this one."""


class CatalogConflictError(CatalogError, RuntimeError):
    """Another process holds the catalog's commit lock."""
