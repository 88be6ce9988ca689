"""One video's ingest as values: what to do (:class:`IngestJob`) and what came of it
(:class:`IngestOutcome`).

The batch loop builds one job per source and hands it to the per-video unit
(:func:`framesift.catalog.ingest.ingest_one`), in this process or in a worker of a process
pool or a Dask cluster: a job is frozen and picklable, holds URLs and options rather than
open connections, and a worker opens the catalog from it. The jobs ledger
(:mod:`framesift.catalog.jobs`) records each job's state under the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from framesift.catalog.catalog import Catalog
from framesift.catalog.sampler import Sampler
from framesift.errors import SettingsError
from framesift.retries import FailureKind
from framesift.source import Source
from framesift.spec import AnalyzerSpec, SamplingSpec, TextSpec, settings_fingerprint
from framesift.storage import RetryPolicy

__all__ = ["STATUSES", "IngestJob", "IngestOutcome", "Status"]

Status = Literal["ingested", "replaced", "updated", "skipped", "failed"]
"""``updated``: sampled before with the same sampling settings; only its text was extracted
again and/or its analyzers run again."""
STATUSES: tuple[Status, ...] = ("ingested", "replaced", "updated", "skipped", "failed")


@dataclass(frozen=True)
class IngestJob:
    """Everything one video's ingest needs, built once per source by the batch loop.

    ``source`` is the video with the storage options that open it; ``catalog_options``
    (and ``retry``) open the catalog.
    ``decode_threads`` and ``fast_segments`` are what the executor chose for a worker
    (0: leave the spec's own value); they fill the spec's ``decode.threads`` and
    ``decode.segments`` only where the spec leaves them automatic, and change no output.
    ``sampler``: None for framesift's own pass; a custom one runs in-process only.
    ``analyzers``: the frame analyzers run on the kept pictures; ``inference_threads`` is
    the executor's share of cores for them in a worker (0: the analyzers' own setting).
    ``settings_hash`` is derived: the catalog's fingerprint of ``spec``, ``text`` and
    ``analyzers``.
    ``split_over_s``: on a pool or a cluster, a video longer than this is scanned in time
    ranges by several workers and joined into one commit (0: never;
    :mod:`framesift.batch.split`); it changes no output.
    """

    source: Source
    catalog_url: str
    spec: SamplingSpec = field(default_factory=SamplingSpec)
    text: TextSpec = field(default_factory=TextSpec)
    force: bool = False
    catalog_options: Mapping[str, Any] | None = None
    retry: RetryPolicy | None = None
    decode_threads: int = 0
    fast_segments: int = 0
    sampler: Sampler | None = None
    analyzers: AnalyzerSpec = field(default_factory=AnalyzerSpec)
    inference_threads: int = 0
    split_over_s: float = 0.0
    settings_hash: str = field(init=False)

    def __post_init__(self) -> None:
        if min(self.decode_threads, self.fast_segments, self.inference_threads) < 0:
            raise SettingsError(
                f"decode_threads={self.decode_threads}, fast_segments={self.fast_segments}, "
                f"inference_threads={self.inference_threads}: allowed 0 (the spec's own) or more"
            )
        if not self.split_over_s >= 0:
            raise SettingsError(f"split_over_s={self.split_over_s}: allowed 0 (never) or more")
        object.__setattr__(
            self, "settings_hash", settings_fingerprint(self.spec, self.text, self.analyzers)
        )

    @property
    def sampling_spec(self) -> SamplingSpec:
        """The spec the pass runs with: ``spec`` with the executor's decoding choices."""
        decode = self.spec.decode
        if self.decode_threads and not decode.threads:
            decode = replace(decode, threads=self.decode_threads)
        if self.fast_segments and not decode.segments:
            decode = replace(decode, segments=self.fast_segments)
        return self.spec if decode is self.spec.decode else replace(self.spec, decode=decode)

    @property
    def analyzer_spec(self) -> AnalyzerSpec:
        """The analyzers' settings with the executor's share of threads."""
        if self.inference_threads and not self.analyzers.threads:
            return replace(self.analyzers, threads=self.inference_threads)
        return self.analyzers

    def open_catalog(self) -> Catalog:
        """The catalog this job writes to, opened from its URL and options (in a worker)."""
        return Catalog(self.catalog_url, self.catalog_options, retry=self.retry)


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one source."""

    source_url: str
    """Without credentials."""
    status: Status
    video_id: str | None = None
    generation: int | None = None
    frames: int = 0
    error_type: str | None = None
    error_message: str | None = None
    seconds: float = 0.0
    """Wall time of its last run."""
    failure_kind: FailureKind | None = None
    """For ``failed``: ``transient`` (retried with backoff before it was given up) or
    ``deterministic`` (not retried: the same input fails the same way)."""
