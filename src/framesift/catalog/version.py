"""The catalog's format file ``_catalog.json``: schema version, creation, migrations.

A catalog records the schema version that wrote it. This framesift opens catalogs of its
own version, migrates older ones step by step through :data:`MIGRATIONS` (each step takes
the catalog from version ``v`` to ``v + 1`` and must be idempotent, since two processes may
run it at once), and refuses newer ones with :class:`~framesift.errors.CatalogVersionError`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from framesift._version import __version__
from framesift.catalog.layout import CATALOG_FILE
from framesift.errors import CatalogError, CatalogVersionError
from framesift.storage import Storage

__all__ = [
    "CATALOG_FORMAT",
    "CATALOG_VERSION",
    "FINGERPRINT_METHOD",
    "MIGRATIONS",
    "CatalogInfo",
    "framesift_version",
    "open_catalog_root",
]

logger = logging.getLogger(__name__)

CATALOG_FORMAT = "framesift.catalog"
CATALOG_VERSION = 2
"""Schema version this framesift writes. 2: the ``detections`` table and the videos
columns ``text_spec``, ``analyzer_spec``, ``analyzer_runs`` (a framesift that knows only
version 1 would take a commit naming a detections part for a foreign one)."""

FINGERPRINT_METHOD = "sha256(size,head 1MiB,middle 1MiB,tail 1MiB)[:24]"

Migration = Callable[[Storage], None]


def _add_detections(storage: Storage) -> None:
    """1 -> 2: nothing to rewrite; the new table and columns start empty (the views
    read missing columns of older parts as nulls)."""
    del storage


MIGRATIONS: dict[int, Migration] = {1: _add_detections}
"""``MIGRATIONS[v]`` upgrades a catalog from version ``v`` to ``v + 1`` in place."""


def framesift_version() -> str:
    """The version of this framesift, as catalogs record it."""
    return __version__


@dataclass(frozen=True)
class CatalogInfo:
    """The contents of ``_catalog.json``."""

    format: str
    version: int
    created_at: str
    created_by: str
    fingerprint_method: str
    migrated_from: int | None = None

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes, where: str) -> CatalogInfo:
        try:
            raw = json.loads(data)
            return cls(
                format=str(raw["format"]),
                version=int(raw["version"]),
                created_at=str(raw.get("created_at", "")),
                created_by=str(raw.get("created_by", "")),
                fingerprint_method=str(raw.get("fingerprint_method", FINGERPRINT_METHOD)),
                migrated_from=raw.get("migrated_from"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CatalogError(
                f"{where}/{CATALOG_FILE} is not a framesift catalog file ({exc}); "
                "point --catalog at a catalog folder or an empty one"
            ) from None


def _new_info() -> CatalogInfo:
    return CatalogInfo(
        format=CATALOG_FORMAT,
        version=CATALOG_VERSION,
        created_at=datetime.now(UTC).isoformat(),
        created_by=f"framesift {framesift_version()}",
        fingerprint_method=FINGERPRINT_METHOD,
    )


def open_catalog_root(storage: Storage, *, create: bool = True) -> CatalogInfo:
    """Read (or create) ``_catalog.json`` at the root, migrating an older catalog.

    A root that holds other files but no ``_catalog.json`` is refused: vacuum deletes what
    it does not recognise under the catalog's folders, so a catalog never adopts a folder.
    """
    try:
        info = CatalogInfo.from_json(storage.read_bytes(CATALOG_FILE), storage.url)
    except FileNotFoundError:
        if not create:
            raise CatalogError(
                f"no catalog at {storage.url}: ingest into it first, or check the URL"
            ) from None
        existing = storage.list_files("")
        if existing:
            raise CatalogError(
                f"{storage.url} holds {len(existing)} files but no {CATALOG_FILE}: a catalog "
                "needs an empty folder or prefix of its own"
            ) from None
        info = _new_info()
        if not storage.create_exclusive(CATALOG_FILE, info.to_json()):
            # Another process created it first: use theirs.
            info = CatalogInfo.from_json(storage.read_bytes(CATALOG_FILE), storage.url)
        else:
            logger.info("created catalog %s (schema version %d)", storage.url, info.version)
    if info.format != CATALOG_FORMAT:
        raise CatalogError(f"{storage.url}: format {info.format!r} is not {CATALOG_FORMAT!r}")
    if info.version > CATALOG_VERSION:
        raise CatalogVersionError(
            f"{storage.url} has catalog schema version {info.version}, written by "
            f"{info.created_by or 'a newer framesift'}; this framesift "
            f"({framesift_version()}) reads versions up to {CATALOG_VERSION}: upgrade framesift"
        )
    if info.version < CATALOG_VERSION:
        info = _migrate(storage, info)
    return info


def _migrate(storage: Storage, info: CatalogInfo) -> CatalogInfo:
    start = info.version
    for version in range(start, CATALOG_VERSION):
        step = MIGRATIONS.get(version)
        if step is None:
            raise CatalogError(
                f"{storage.url}: no migration from catalog schema version {version} to "
                f"{version + 1}; open it with the framesift that wrote it and re-ingest"
            )
        logger.info("migrating catalog %s from version %d to %d", storage.url, version, version + 1)
        step(storage)
    migrated = CatalogInfo(
        format=info.format,
        version=CATALOG_VERSION,
        created_at=info.created_at,
        created_by=info.created_by,
        fingerprint_method=info.fingerprint_method,
        migrated_from=start,
    )
    storage.write_bytes(CATALOG_FILE, migrated.to_json())
    return migrated
