"""What a catalog holds, in numbers: the totals every front end shows (``framesift catalog
show``, the catalog report notebook, the catalog browser widget), computed once here.

>>> totals = catalog.totals()                                    # doctest: +SKIP
>>> print(totals)                                                # doctest: +SKIP
3 videos, 1.2 min of footage, 40 kept frames, 7 scenes, 5 text segments, 0 failed sources
>>> print(totals.stages)                                         # doctest: +SKIP
time of the latest runs of 3 sources: 41.2 s, decode 35.0 s (85%), encode 3.1 s (8%), ...
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from framesift.catalog.stages import STAGES, stage_field
from framesift.plural import counted

__all__ = ["CatalogTotals", "FailedSource", "StageSeconds"]


@dataclass(frozen=True)
class StageSeconds:
    """Where ingest spent its time: the seconds per stage (see
    :mod:`framesift.catalog.stages`) of the latest run of each source in the ledger,
    summed, and the sum of those runs' wall times. ``unaccounted_s`` is what no stage
    covers (the ledger's writes, opening the catalog: the driver's overhead in the
    workers). Entries written before the ledger kept times count nothing."""

    runs: int = 0
    """Ledger entries with a wall time."""
    wall_s: float = 0.0
    seconds: tuple[tuple[str, float], ...] = ()
    """``(stage, seconds)`` for every stage, in the order a video meets them."""

    @classmethod
    def of(cls, jobs: pl.DataFrame) -> StageSeconds:
        """The sums over ``jobs`` (a ledger frame; missing columns count 0)."""
        if "wall_s" not in jobs.columns:
            return cls()
        timed = jobs.filter(pl.col("wall_s").is_not_null())
        seconds = tuple(
            (stage, float(timed[stage_field(stage)].fill_null(0).sum()))
            if stage_field(stage) in timed.columns
            else (stage, 0.0)
            for stage in STAGES
        )
        return cls(timed.height, float(timed["wall_s"].sum()), seconds)

    @property
    def unaccounted_s(self) -> float:
        return self.wall_s - sum(s for _, s in self.seconds)

    def __str__(self) -> str:
        if not self.runs:
            return "no timed runs in the ledger"
        parts = [
            f"{stage} {seconds:.1f} s ({seconds / self.wall_s:.0%})"
            for stage, seconds in self.seconds
            if seconds > 0 and self.wall_s > 0
        ]
        parts.append(f"other {max(0.0, self.unaccounted_s):.2f} s")
        runs = counted(self.runs, "source")
        return f"time of the latest runs of {runs}: {self.wall_s:.1f} s, " + ", ".join(parts)


@dataclass(frozen=True)
class FailedSource:
    """A source whose last ingest failed (or was interrupted), as the jobs ledger records
    it (URL without credentials, the typed error's class name and message)."""

    source_url: str
    error_type: str
    error_message: str


@dataclass(frozen=True)
class CatalogTotals:
    """Sums over the committed videos, and the sources that failed."""

    videos: int
    duration_s: float
    """Footage of every video (videos of unknown duration count 0)."""
    kept_frames: int
    scenes: int
    text_segments: int
    failed: tuple[FailedSource, ...]
    """Ledger entries in state ``failed``, by source URL."""
    interrupted: tuple[FailedSource, ...] = ()
    """Ledger entries left ``queued`` or ``running`` by a batch that ended (``interrupted``):
    a re-run takes them up."""
    in_progress: int = 0
    """Ledger entries ``queued`` or ``running`` in a batch still alive."""
    stages: StageSeconds = field(default_factory=StageSeconds)
    """Where the latest runs spent their time, per stage."""

    @classmethod
    def of(cls, videos: pl.DataFrame, jobs: pl.DataFrame, *, text_segments: int) -> CatalogTotals:
        """Totals of ``videos`` (rows of the videos table) and ``jobs`` (the ledger, its
        states reconciled with the commits: see :mod:`framesift.catalog.jobs`)."""
        return cls(
            videos=videos.height,
            duration_s=float(videos["duration_s"].fill_null(0).sum()),
            kept_frames=int(videos["kept_frames"].fill_null(0).sum()),
            scenes=int(videos["scene_count"].fill_null(0).sum()),
            text_segments=text_segments,
            failed=_sources_in(jobs, "failed"),
            interrupted=_sources_in(jobs, "interrupted"),
            in_progress=jobs.filter(pl.col("state").is_in(["queued", "running"])).height,
            stages=StageSeconds.of(jobs),
        )

    def __str__(self) -> str:
        text = (
            f"{counted(self.videos, 'video')}, {self.duration_s / 60:.1f} min of footage, "
            f"{counted(self.kept_frames, 'kept frame')}, {counted(self.scenes, 'scene')}, "
            f"{counted(self.text_segments, 'text segment')}, "
            f"{counted(len(self.failed), 'failed source')}"
        )
        if self.interrupted:
            text += f", {len(self.interrupted)} interrupted (a re-run takes them up)"
        if self.in_progress:
            text += f", {self.in_progress} queued or running"
        return text


def _sources_in(jobs: pl.DataFrame, state: str) -> tuple[FailedSource, ...]:
    return tuple(
        FailedSource(
            source_url=str(row["source_url"]),
            error_type=str(row["error_type"] or ""),
            error_message=str(row["error_message"] or ""),
        )
        for row in jobs.filter(pl.col("state") == state).sort("source_url").iter_rows(named=True)
    )
