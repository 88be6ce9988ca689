"""What ``framesift ingest`` accepts as sources, and the content fingerprint of a video.

Sources: files, folders (searched recursively for video extensions), globs, and fsspec
URLs of any of those (videos on S3 too). The video id is a content fingerprint, so the
same footage under another name or path is recognised, and a file's name never becomes a
key in the catalog.

Fingerprint (``FINGERPRINT_METHOD``): SHA-256 over a version tag, the size in bytes, and
three 1 MiB chunks (the head, the middle, the tail; the whole file when it is at most
3 MiB), of which the first 24 hex digits (96 bits) are the video id. It reads at most
3 MiB per video however long it is; two files that differ only outside the three chunks
and have the same size would collide, which footage does not do in practice.
"""

from __future__ import annotations

import glob as globlib
import hashlib
import logging
import os
from collections.abc import Iterable, Mapping
from typing import Any

import fsspec

from framesift.errors import (
    MediaNotFoundError,
    NotAVideoError,
    StorageError,
    TruncatedMediaError,
)
from framesift.storage import RetryPolicy, redact_url, with_retries

__all__ = ["CHUNK_BYTES", "VIDEO_EXTENSIONS", "expand_sources", "fingerprint"]

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".3gp",
        ".avi",
        ".flv",
        ".m2ts",
        ".m4v",
        ".mkv",
        ".mov",
        ".mp4",
        ".mpeg",
        ".mpg",
        ".mts",
        ".mxf",
        ".ogv",
        ".ts",
        ".vob",
        ".webm",
        ".wmv",
    }
)
_GLOB_CHARS = frozenset("*?[")


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _is_video_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def expand_sources(
    sources: Iterable[str], storage_options: Mapping[str, Any] | None = None
) -> list[str]:
    """Files, folders, globs and URLs -> a sorted list of video URLs, without repeats.

    A named file is kept whatever its extension (it will fail with a typed error if it is
    not a video); folders and globs contribute files with video extensions only. A source
    that does not exist is kept too, so that its failure is recorded in the ledger.
    """
    found: dict[str, None] = {}
    for source in sources:
        source = str(source)
        if _is_local(source):
            path = source[len("file://") :] if source.startswith("file://") else source
            if any(c in _GLOB_CHARS for c in path):
                matches = sorted(globlib.glob(path, recursive=True))
                hits = [m for m in matches if os.path.isfile(m) and _is_video_name(m)]
                if not hits:
                    logger.warning("no videos match %s", source)
                found.update(dict.fromkeys(os.path.abspath(m) for m in hits))
            elif os.path.isdir(path):
                for folder, dirs, files in os.walk(path):
                    dirs.sort()
                    for name in sorted(files):
                        if _is_video_name(name) and not name.startswith("."):
                            found[os.path.abspath(os.path.join(folder, name))] = None
            else:
                found[os.path.abspath(path)] = None
            continue
        if source.startswith(("http://", "https://")):
            found[source] = None  # a URL names one file ('?' starts its query, not a glob)
            continue
        fs, path = fsspec.core.url_to_fs(source, **dict(storage_options or {}))
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        shown = redact_url(source)
        try:
            if any(c in _GLOB_CHARS for c in path):
                paths = [p for p in fs.glob(path) if _is_video_name(p) and fs.isfile(p)]
                if not paths:
                    logger.warning("no videos match %s", shown)
            elif fs.isdir(path):
                paths = [p for p in fs.find(path) if _is_video_name(p)]
            else:
                paths = [path]
        except OSError as exc:
            raise StorageError(f"listing {shown} failed: {exc}") from None
        found.update(dict.fromkeys(f"{protocol}://{fs._strip_protocol(p)}" for p in sorted(paths)))
    return list(found)


def fingerprint(
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    retry: RetryPolicy | None = None,
) -> tuple[str, int]:
    """(video_id, size in bytes) of the video at ``url``; reads at most 3 MiB."""
    shown = redact_url(url)
    policy = retry or RetryPolicy()

    def read() -> tuple[str, int]:
        if _is_local(url):
            path = url[len("file://") :] if url.startswith("file://") else url
            if os.path.isdir(path):
                raise NotAVideoError(shown, "is a directory, not a video file")
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                return _digest(size, lambda start, n: _read_at(handle, start, n)), size
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        size = int(fs.size(path))
        # Keywords: s3fs takes version_id as its second positional argument.
        return _digest(size, lambda s, n: bytes(fs.cat_file(path, start=s, end=s + n))), size

    try:
        video_id, size = with_retries(read, what=f"fingerprinting {shown}", policy=policy)
    except FileNotFoundError:
        raise MediaNotFoundError(shown, "no such file") from None
    except IsADirectoryError:
        raise NotAVideoError(shown, "is a directory, not a video file") from None
    except PermissionError:
        raise StorageError(f"{shown}: permission denied") from None
    if size == 0:
        raise TruncatedMediaError(shown, "the file is empty")
    return video_id, size


def _read_at(handle: Any, start: int, n: int) -> bytes:
    handle.seek(start)
    return bytes(handle.read(n))


def _digest(size: int, read: Any) -> str:
    h = hashlib.sha256(b"framesift-fingerprint-v1\0")
    h.update(size.to_bytes(8, "big"))
    if size <= 3 * CHUNK_BYTES:
        h.update(read(0, size))
    else:
        for start in (0, (size - CHUNK_BYTES) // 2, size - CHUNK_BYTES):
            h.update(read(start, CHUNK_BYTES))
    return h.hexdigest()[:24]
