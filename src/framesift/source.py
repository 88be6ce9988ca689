"""Opening media for reading: a local path or any fsspec URL, with typed errors.

Local paths go to FFmpeg directly (its own buffered I/O, fastest); other URLs go through
an fsspec file object, so S3, HTTP or memory filesystems work with the same code.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any

import av
import av.container
import fsspec

from framesift.errors import (
    MediaError,
    MediaNotFoundError,
    NotAVideoError,
    StorageError,
    TruncatedMediaError,
)
from framesift.storage import redact_url

__all__ = ["is_local", "open_container", "redact_url", "source_size"]

logger = logging.getLogger(__name__)


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _local_path(url: str) -> str:
    return url[len("file://") :] if url.startswith("file://") else url


def source_size(url: str, storage_options: Mapping[str, Any] | None = None) -> int:
    """Size in bytes of the media at ``url``; MediaNotFoundError when nothing is there."""
    try:
        if is_local(url):
            return os.path.getsize(_local_path(url))
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        return int(fs.size(path))
    except FileNotFoundError as exc:
        raise MediaNotFoundError(redact_url(url), "no such file") from exc
    except OSError as exc:
        raise StorageError(f"{redact_url(url)}: cannot read ({exc})") from exc


def _head(target: Any, size: int = 12) -> bytes:
    """The first bytes of a path or an open binary file (empty when unreadable)."""
    try:
        if isinstance(target, str):
            with open(target, "rb") as handle:
                return handle.read(size)
        target.seek(0)
        return bytes(target.read(size))
    except (OSError, ValueError):
        return b""


def _unreadable(shown: str, target: Any) -> MediaError:
    """The most telling error for a file FFmpeg could not open."""
    head = _head(target)
    if not head:
        return TruncatedMediaError(shown, "the file is empty")
    if head[4:8] == b"ftyp":
        # An MP4/MOV whose index (the moov box, often written last) is missing: the usual
        # sign of a recording or copy that stopped early.
        return TruncatedMediaError(
            shown, "MP4/MOV file without its index (moov box): probably cut short"
        )
    return NotAVideoError(shown, "not a media file FFmpeg can read")


@contextlib.contextmanager
def open_container(
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    **av_options: Any,
) -> Iterator[av.container.InputContainer]:
    """Open ``url`` with PyAV, mapping failures to framesift's typed errors."""
    shown = redact_url(url)
    handle = None
    try:
        if is_local(url):
            path = _local_path(url)
            if not os.path.exists(path):
                raise MediaNotFoundError(shown, "no such file")
            if os.path.isdir(path):
                raise NotAVideoError(shown, "is a directory, not a video file")
            target: Any = path
        else:
            try:
                handle = fsspec.open(url, "rb", **dict(storage_options or {})).open()
            except FileNotFoundError as exc:
                raise MediaNotFoundError(shown, "no such file") from exc
            except OSError as exc:
                raise StorageError(f"{shown}: cannot open ({exc})") from exc
            target = handle
        try:
            container = av.open(target, mode="r", **av_options)
        except av.error.InvalidDataError as exc:
            raise _unreadable(shown, target) from exc
        except av.error.EOFError as exc:
            raise TruncatedMediaError(shown, "file ends before its header does") from exc
        except av.error.FFmpegError as exc:
            raise NotAVideoError(shown, f"cannot open ({exc.strerror})") from exc
        except OSError as exc:
            raise StorageError(f"{shown}: cannot read ({exc})") from exc
        if not isinstance(container, av.container.InputContainer):
            raise MediaError(shown, "opened as an output container")
        try:
            yield container
        finally:
            container.close()
    finally:
        if handle is not None:
            handle.close()
