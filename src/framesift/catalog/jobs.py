"""The jobs ledger: one small JSON document per source, rewritten atomically at each state
change (queued -> running -> done | failed). The batch capability fills it the same way
from workers: each worker writes only the documents of the sources it runs.

A failed video leaves its ledger entry (error type and message, credentials removed, and
whether the failure was ``transient``, retried, or ``deterministic``) and nothing else. An
entry left ``running`` by a killed process is taken over by the next run. Each finished run
records its worker (``host``, ``pid``), its seconds per stage (``decode_s``, ...: see
:mod:`framesift.catalog.stages`) and its wall time (``wall_s``); entries written before
these fields existed read them as null.

The ledger tells the truth about the catalog, whatever happened to the runs that wrote it
(:func:`reconciled`): an entry left ``queued`` or ``running`` by a batch that is no longer
alive reads ``interrupted``, and one that reads ``failed`` or ``interrupted`` although its
video is committed with the same settings (another run committed it first) reads ``done``.
Readers see the corrected states; every batch writes them back (:meth:`JobLedger.reconcile`).
That is also why entries are written atomically but not flushed to disk: after a power cut,
an entry that went back to an older state reads right again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from framesift.catalog import layout
from framesift.catalog.commits import CatalogState
from framesift.catalog.tables import JOBS_SCHEMA, row_frame
from framesift.redact import redact_url
from framesift.retries import FailureKind
from framesift.storage import Storage

__all__ = [
    "JobLedger",
    "committed_settings",
    "failed_jobs",
    "failed_sources",
    "job_id_for",
    "reconciled",
    "this_process",
]

logger = logging.getLogger(__name__)

_TIMES = ("started_at", "finished_at", "updated_at")


def job_id_for(source_url: str) -> str:
    """The ledger key of a source: a hash of its URL without credentials."""
    return hashlib.sha256(redact_url(source_url).encode()).hexdigest()[:24]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def this_process() -> str:
    """``host:pid`` of this process, as ledger entries name their batch and worker."""
    return f"{socket.gethostname()}:{os.getpid()}"


def committed_settings(state: CatalogState) -> dict[str, str | None]:
    """The settings hash of each committed video of ``state``, by video id and by the
    source URL it was committed from (a run killed before it wrote its video id to the
    ledger is known by its URL)."""
    found: dict[str, str | None] = {}
    for video_id, commit in state.live.items():
        if commit.source_url:
            found[commit.source_url] = commit.settings_hash
        found[video_id] = commit.settings_hash
    return found


def _gone(owner: object) -> bool:
    """Whether the process ``host:pid`` is known to have ended: on this host and not
    running. A process on another host is taken to be alive."""
    if not isinstance(owner, str) or ":" not in owner:
        return False
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def reconciled(
    record: Mapping[str, Any], committed: Mapping[str, str | None]
) -> dict[str, Any] | None:
    """The entry as it truly stands, or None when it is right as written.

    ``committed`` maps each committed video (its id and its source URL, see
    :func:`committed_settings`) to its settings hash. An entry left ``queued``
    or ``running`` by a batch (or, without one, a worker) that has ended is
    ``interrupted``; an entry ``failed`` or ``interrupted`` whose video is committed with
    its settings is ``done``."""
    fixed = dict(record)
    state = fixed.get("state")
    if state in ("queued", "running"):
        owner = fixed.get("run") or fixed.get("worker")
        if _gone(owner):
            fixed.update(
                state="interrupted",
                outcome=None,
                error_type=None,
                error_message=f"the batch {owner} ended while this source was {state}",
                failure_kind=None,
            )
    video_id = fixed.get("video_id")
    key = video_id if isinstance(video_id, str) else fixed.get("source_url")
    if (
        fixed.get("state") in ("failed", "interrupted")
        and isinstance(key, str)
        and key in committed
        and committed[key] == fixed.get("settings_hash")
    ):
        fixed.update(
            state="done", outcome="skipped", error_type=None, error_message=None, failure_kind=None
        )
    return fixed if fixed != record else None


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
        # Atomic, not flushed to disk (a local catalog): an entry that a power cut took back
        # to an older state is corrected by :func:`reconciled` against the durable commits,
        # and three flushes per video were most of the driver's time per video.
        self._storage.write_bytes(layout.job_key(record["job_id"]), data, durable=False)
        return record

    def queue(self, source_url: str, settings_hash: str) -> str:
        """Enter a source in this process's batch (``run``: this process)."""
        job_id = job_id_for(source_url)
        old = self._read(job_id) or {}
        self._write(
            {
                **old,
                "job_id": job_id,
                "source_url": redact_url(source_url),
                "state": "queued",
                "outcome": None,
                "error_type": None,
                "error_message": None,
                "failure_kind": None,
                "settings_hash": settings_hash,
                "attempts": int(old.get("attempts") or 0),
                "run": this_process(),
            }
        )
        return job_id

    def read(self, job_id: str) -> dict[str, Any] | None:
        """One entry as written, or None."""
        return self._read(job_id)

    def reconcile(self, committed: Mapping[str, str | None]) -> int:
        """Write back what :func:`reconciled` corrects (see the module's description);
        how many entries changed."""
        changed = 0
        for key in self._storage.list_files(layout.JOBS):
            if not key.endswith(".json") or "/." in key:
                continue
            job_id = key.rsplit("/", 1)[-1][: -len(".json")]
            record = self._read(job_id)
            fixed = reconciled(record, committed) if record is not None else None
            if fixed is not None:
                logger.info(
                    "ledger: %s was %s, is %s", fixed["source_url"], record and record["state"],
                    fixed["state"],
                )  # fmt: skip
                self._write(fixed)
                changed += 1
        return changed

    def interrupt(self, job_ids: Iterable[str]) -> None:
        """Mark the entries ``job_ids`` still ``queued`` or ``running`` as interrupted: a
        batch that stops early leaves none of its sources queued."""
        for job_id in job_ids:
            record = self._read(job_id)
            if record is not None and record.get("state") in ("queued", "running"):
                record.update(
                    state="interrupted",
                    outcome=None,
                    error_type=None,
                    error_message=f"the batch stopped while this source was {record['state']}",
                )
                self._write(record)

    def start(self, source_url: str, settings_hash: str) -> str:
        """A run of the source begins in this process (its earlier run's timings cleared)."""
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
                "worker": this_process(),
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "run": old.get("run"),
            }
        )
        return job_id

    def _finish(self, job_id: str, **fields: Any) -> None:
        old = self._read(job_id) or {"job_id": job_id, "attempts": 1}
        old.update(fields)
        old["finished_at"] = _now()
        self._write(old)

    def done(
        self,
        job_id: str,
        *,
        video_id: str,
        outcome: str,
        timings: Mapping[str, float] | None = None,
    ) -> None:
        """The run succeeded; ``timings``: its ``<stage>_s`` and ``wall_s`` fields."""
        self._finish(
            job_id,
            **dict(timings or {}),
            state="done",
            outcome=outcome,
            video_id=video_id,
            error_type=None,
            error_message=None,
            failure_kind=None,
        )

    def failed(
        self,
        job_id: str,
        *,
        error_type: str,
        message: str,
        video_id: str | None = None,
        kind: FailureKind = "deterministic",
        timings: Mapping[str, float] | None = None,
    ) -> None:
        """The run failed with ``error_type``; ``kind``: whether a retry may succeed."""
        self._finish(
            job_id,
            **dict(timings or {}),
            state="failed",
            outcome=None,
            error_type=error_type,
            error_message=self._storage.redact(message),
            video_id=video_id,
            failure_kind=kind,
        )

    # reading -----------------------------------------------------------------

    def frame(
        self, committed: Mapping[str, str | None] | None = None
    ) -> tuple[pl.DataFrame, tuple[object, ...]]:
        """The ledger as a polars frame, and a token that changes when it does.
        ``committed`` (video id -> settings hash of its commit): the states are shown
        :func:`reconciled` with it."""
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
            token: tuple[object, ...] = tuple(
                sorted((k, *sig) for k, (sig, _) in self._cache.items())
            )
        if committed is not None:
            records = [reconciled(r, committed) or r for r in records]
            fixed = tuple(sorted(f"{r.get('job_id')}:{r.get('state')}" for r in records))
            token = (*token, hash(fixed))
        if not records:
            return pl.DataFrame(schema=JOBS_SCHEMA), token
        frames = [row_frame(_parse_times(r), "jobs") for r in records]
        return pl.concat(frames).sort("source_url"), token


def failed_jobs(jobs: pl.DataFrame) -> pl.DataFrame:
    """The entries of ``jobs`` (a ledger frame, e.g. ``Catalog.jobs()``) whose latest run
    failed: what ``framesift jobs --failed`` lists and ``ingest --retry-failed`` runs."""
    return jobs.filter(pl.col("state") == "failed")


def failed_sources(jobs: pl.DataFrame, among: Sequence[str] = ()) -> list[str]:
    """The sources to run again after failures: of ``among`` (URLs, as given), those whose
    latest run failed in ``jobs`` (a ledger frame); with ``among`` empty, every failed
    source the ledger names (its URL as recorded, without credentials)."""
    failed = failed_jobs(jobs)
    if not among:
        return sorted(failed["source_url"].to_list())
    ids = set(failed["job_id"].to_list())
    return [url for url in among if job_id_for(url) in ids]


def _parse_times(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for name in _TIMES:
        value = out.get(name)
        out[name] = datetime.fromisoformat(value) if isinstance(value, str) else None
    return out
