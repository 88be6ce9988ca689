"""What a catalog holds, in numbers: the totals every front end shows (``framesift catalog
show``, the catalog report notebook, the catalog browser widget), computed once here.

>>> totals = catalog.totals()                                    # doctest: +SKIP
>>> print(totals)                                                # doctest: +SKIP
3 videos, 1.2 min of footage, 40 kept frames, 7 scenes, 5 text segments, 0 failed sources
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

__all__ = ["CatalogTotals", "FailedSource"]


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
        )

    def __str__(self) -> str:
        text = (
            f"{self.videos} videos, {self.duration_s / 60:.1f} min of footage, "
            f"{self.kept_frames} kept frames, {self.scenes} scenes, "
            f"{self.text_segments} text segments, {len(self.failed)} failed sources"
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
