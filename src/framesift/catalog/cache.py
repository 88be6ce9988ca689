"""A local read cache for catalogs on object stores.

Committed parts and compacted files never change once their commit marker or snapshot
exists, so a reader can keep copies: a remote catalog is queried at local-disk speed after
the first read. Cached files are named by key plus a version (the commit's or snapshot's
creation time), so a key that is ever reused with new content gets a new cache file.
Files of this catalog that the current state no longer references are pruned when a table
is bound. The cache lives under ``$FRAMESIFT_CACHE_DIR`` or ``$XDG_CACHE_HOME/framesift``
(default ``~/.cache/framesift``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence

from framesift.storage import Storage, local_atomic_write

__all__ = ["ObjectCache", "default_cache_dir"]

logger = logging.getLogger(__name__)

_BATCH = 256


def default_cache_dir() -> str:
    explicit = os.environ.get("FRAMESIFT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "framesift")


def _short_hash(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


class ObjectCache:
    """Local copies of immutable catalog objects of one catalog."""

    def __init__(self, storage: Storage, folder: str) -> None:
        self._storage = storage
        self.root = os.path.join(folder, "catalogs", _short_hash(storage.identity, 20))

    def path(self, key: str, version: str) -> str:
        base, ext = os.path.splitext(key)
        return os.path.join(self.root, f"{base}.{_short_hash(version, 12)}{ext}")

    def fetch(self, items: Sequence[tuple[str, str]]) -> list[str]:
        """Local paths of (key, version) items, downloading the missing ones concurrently."""
        paths = [self.path(key, version) for key, version in items]
        missing = {
            key: p for (key, _), p in zip(items, paths, strict=True) if not os.path.exists(p)
        }
        keys = list(missing)
        for start in range(0, len(keys), _BATCH):
            batch = keys[start : start + _BATCH]
            got = self._storage.read_many(batch)
            gone = [k for k in batch if k not in got]
            if gone:
                raise FileNotFoundError(f"{self._storage.url}/{gone[0]}")
            for key, data in got.items():
                local_atomic_write(missing[key], data, exclusive=False, durable=False)
        if missing:
            logger.debug("cached %d objects of %s", len(missing), self._storage.url)
        return paths

    def put(self, key: str, version: str, data: bytes) -> str:
        path = self.path(key, version)
        local_atomic_write(path, data, exclusive=False, durable=False)
        return path

    def prune(self, prefixes: Iterable[str], keep: set[str]) -> int:
        """Delete cached files under ``prefixes`` (keys) that are not in ``keep`` (paths)."""
        removed = 0
        for prefix in prefixes:
            folder = os.path.join(self.root, prefix)
            for dirpath, _, files in os.walk(folder):
                for name in files:
                    path = os.path.join(dirpath, name)
                    if path not in keep:
                        with contextlib.suppress(FileNotFoundError):
                            os.unlink(path)
                            removed += 1
        return removed
