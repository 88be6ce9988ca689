"""Where one video's ingest spent its time: the stages its ledger entry records.

A :class:`StageClock` runs for one job, from the moment the per-video unit starts until
its ledger entry is written for the last time. Each stage is timed where it runs (wall
seconds, ``time.perf_counter``), and the stages are disjoint, so their sum is the job's
wall time less what no stage covers: the ledger's own writes, opening the catalog, looking
up the previous generation (the driver's overhead, measured as ``wall_s`` minus the sum).

Stages, in the order a video meets them (each a ledger field ``<stage>_s``):

- ``fingerprint``: reading the bytes that identify the video;
- ``probe``: the container's and streams' facts (``framesift.probe``);
- ``decode``: the sampling pass (decoding, analysis, scene detection, selection) less the
  time it spent encoding pictures and waiting for the analyzers; a custom sampler's probe
  is counted here, and the fast scan's picture encoding (it runs in its segment threads,
  beside the decoding);
- ``encode``: thumbnails (and full frames) rendered, encoded and handed to the catalog's
  writer threads;
- ``analyzers``: loading the models, the pass waiting for the analyzers' queue, the
  queue's remainder after the pass, or the kept frames decoded again for them;
- ``text_subtitles``, ``text_speech``, ``text_ocr``: timed text, per source (subtitle
  streams and sidecar files; speech; on-screen text);
- ``write``: the thumbnails' last writes, the parts built and written;
- ``commit``: the commit marker, then older generations retired.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Final

__all__ = ["STAGES", "StageClock", "stage_field", "stages_of"]

STAGES: Final = (
    "fingerprint",
    "probe",
    "decode",
    "encode",
    "analyzers",
    "text_subtitles",
    "text_speech",
    "text_ocr",
    "write",
    "commit",
)


def stage_field(stage: str) -> str:
    """The ledger field (and jobs column) holding a stage's seconds: ``decode_s``."""
    return f"{stage}_s"


def stages_of(record: Mapping[str, object]) -> tuple[tuple[str, float], ...]:
    """``(stage, seconds)`` for each stage a ledger entry (or a row of ``Catalog.jobs()``)
    has a time for, in the order a video meets them."""
    found = ((stage, record.get(stage_field(stage))) for stage in STAGES)
    return tuple((stage, float(s)) for stage, s in found if isinstance(s, int | float))


class StageClock:
    """Seconds per stage of one job, and the wall time since it started. A job without
    frame analyzers (``analyzers=False``) records no ``analyzers`` stage: a stage that did
    not run is absent from the ledger (blank in ``framesift jobs``), not 0 s."""

    def __init__(self, *, analyzers: bool = True) -> None:
        self._started = time.perf_counter()
        self._seconds: dict[str, float] = {}
        self._not_run: frozenset[str] = frozenset() if analyzers else frozenset({"analyzers"})

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Count the ``with`` block's wall time to stage ``name`` (also when it raises)."""
        began = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - began)

    def add(self, name: str, seconds: float) -> None:
        if name not in STAGES:
            raise ValueError(f"no stage {name!r}: stages are {', '.join(STAGES)}")
        if name in self._not_run:
            return
        self._seconds[name] = self._seconds.get(name, 0.0) + max(0.0, seconds)

    def wall_s(self) -> float:
        """Seconds since the job started."""
        return time.perf_counter() - self._started

    def fields(self) -> dict[str, float]:
        """The ledger's fields: ``<stage>_s`` for each stage that ran, and ``wall_s``."""
        timed: Mapping[str, float] = self._seconds
        out = {stage_field(name): round(timed[name], 4) for name in STAGES if name in timed}
        out["wall_s"] = round(self.wall_s(), 4)
        return out
