"""The jobs ledger: one small JSON document per source, rewritten atomically at each state
change (queued -> running -> done | failed). The batch capability fills it the same way
from workers: each worker writes only the documents of the sources it runs.

A failed video leaves its ledger entry (error type and message, credentials removed) and
nothing else. An entry left ``running`` by a killed process is taken over by the next run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from typing import Any

import polars as pl

from framesift.catalog import layout
from framesift.catalog.tables import JOBS_SCHEMA, row_frame
from framesift.redact import redact_url
from framesift.storage import Storage

__all__ = ["JobLedger", "job_id_for"]

logger = logging.getLogger(__name__)

_TIMES = ("started_at", "finished_at", "updated_at")


def job_id_for(source_url: str) -> str:
    """The ledger key of a source: a hash of its URL without credentials."""
    return hashlib.sha256(redact_url(source_url).encode()).hexdigest()[:24]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class JobLedger:
    """Reads and writes ``jobs/<job_id>.json`` under a catalog root."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[object, ...], dict[str, Any]]] = {}

    # writing -----------------------------------------------------------------

    def _read(self, job_id: str) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self._storage.read_bytes(layout.job_key(job_id))))
        except FileNotFoundError:
            return None
        except ValueError:
            logger.warning("ledger entry %s is unreadable; starting it afresh", job_id)
            return None

    def _write(self, record: dict[str, Any]) -> dict[str, Any]:
        record["updated_at"] = _now()
        data = json.dumps(record, sort_keys=True, indent=1).encode()
        self._storage.write_bytes(layout.job_key(record["job_id"]), data)
        return record

    def queue(self, source_url: str, settings_hash: str) -> str:
        job_id = job_id_for(source_url)
        old = self._read(job_id) or {}
        self._write(
            {
                **old,
                "job_id": job_id,
                "source_url": redact_url(source_url),
                "state": "queued",
                "outcome": None,
                "settings_hash": settings_hash,
                "attempts": int(old.get("attempts") or 0),
            }
        )
        return job_id

    def start(self, source_url: str, settings_hash: str) -> str:
        job_id = job_id_for(source_url)
        old = self._read(job_id) or {}
        if old.get("state") == "running":
            logger.info(
                "taking over %s, left running by %s", redact_url(source_url), old.get("worker")
            )
        self._write(
            {
                "job_id": job_id,
                "source_url": redact_url(source_url),
                "video_id": old.get("video_id"),
                "state": "running",
                "outcome": None,
                "settings_hash": settings_hash,
                "attempts": int(old.get("attempts") or 0) + 1,
                "error_type": None,
                "error_message": None,
                "started_at": _now(),
                "finished_at": None,
                "worker": f"{socket.gethostname()}:{os.getpid()}",
            }
        )
        return job_id

    def _finish(self, job_id: str, **fields: Any) -> None:
        old = self._read(job_id) or {"job_id": job_id, "attempts": 1}
        old.update(fields)
        old["finished_at"] = _now()
        self._write(old)

    def done(self, job_id: str, *, video_id: str, outcome: str) -> None:
        self._finish(
            job_id,
            state="done",
            outcome=outcome,
            video_id=video_id,
            error_type=None,
            error_message=None,
        )

    def failed(
        self, job_id: str, *, error_type: str, message: str, video_id: str | None = None
    ) -> None:
        self._finish(
            job_id,
            state="failed",
            outcome=None,
            error_type=error_type,
            error_message=self._storage.redact(message),
            video_id=video_id,
        )

    # reading -----------------------------------------------------------------

    def frame(self) -> tuple[pl.DataFrame, tuple[object, ...]]:
        """The ledger as a polars frame, and a token that changes when it does."""
        listing = {
            k: (v["size"], v["mtime_s"], v["etag"])
            for k, v in self._storage.list_files(layout.JOBS).items()
            if k.endswith(".json") and "/." not in k
        }
        with self._lock:
            stale = [k for k, sig in listing.items() if self._cache.get(k, ((),))[0] != sig]
        fresh: dict[str, bytes] = {}
        for key in stale:  # one by one: an entry may be replaced while we read
            try:
                fresh[key] = self._storage.read_bytes(key)
            except FileNotFoundError:
                continue
        with self._lock:
            for key, data in fresh.items():
                try:
                    self._cache[key] = (listing[key], dict(json.loads(data)))
                except ValueError:
                    logger.warning("ignoring unreadable ledger entry %s", key)
            for key in set(self._cache) - set(listing):
                del self._cache[key]
            records = [rec for _, rec in self._cache.values()]
            token = tuple(sorted((k, *sig) for k, (sig, _) in self._cache.items()))
        if not records:
            return pl.DataFrame(schema=JOBS_SCHEMA), token
        frames = [row_frame(_parse_times(r), "jobs") for r in records]
        return pl.concat(frames).sort("source_url"), token


def _parse_times(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for name in _TIMES:
        value = out.get(name)
        out[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
    return out
