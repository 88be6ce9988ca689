"""The content fingerprint of a video: its id in the catalog.

What ingest accepts as sources (files, folders, globs, fsspec URLs) is expanded by
:func:`framesift.source.expand_sources`. The video id is a content fingerprint, so the
same footage under another name or path is recognised, and a file's name never becomes a
key in the catalog.

Fingerprint (``FINGERPRINT_METHOD``): SHA-256 over a version tag, the size in bytes, and
three 1 MiB chunks (the head, the middle, the tail; the whole file when it is at most
3 MiB), of which the first 24 hex digits (96 bits) are the video id. It reads at most
3 MiB per video however long it is; two files that differ only outside the three chunks
and have the same size would collide, which footage does not do in practice.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import Any

from framesift.errors import TruncatedMediaError
from framesift.source import VIDEO_EXTENSIONS, Source, expand_sources
from framesift.storage import RetryPolicy, with_retries

__all__ = ["CHUNK_BYTES", "VIDEO_EXTENSIONS", "expand_sources", "fingerprint"]
# VIDEO_EXTENSIONS and expand_sources live with the other source code (framesift.source);
# they are named here too because ingest has always offered them from here.

CHUNK_BYTES = 1 << 20


def fingerprint(
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    retry: RetryPolicy | None = None,
) -> tuple[str, int]:
    """(video_id, size in bytes) of the video at ``url``; reads at most 3 MiB."""
    source = Source(url, storage_options)
    policy = retry or RetryPolicy()

    def read() -> tuple[str, int]:
        if source.is_local:
            path = source.local_path
            source.check_regular_file()  # a folder, a FIFO or a device: refused, never opened
            with open(path, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                return _digest(size, lambda start, n: _read_at(handle, start, n)), size
        fs, path = source.filesystem()
        size = int(fs.size(path))
        # Keywords: s3fs takes version_id as its second positional argument.
        return _digest(size, lambda s, n: bytes(fs.cat_file(path, start=s, end=s + n))), size

    with source.mapped_errors("read"):
        video_id, size = with_retries(read, what=f"fingerprinting {source.shown}", policy=policy)
    if size == 0:
        raise TruncatedMediaError(source.shown, "the file is empty")
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
