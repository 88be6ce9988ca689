"""What a batch did: the outcome of every source and the counts, as one value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from framesift.catalog.job import STATUSES, IngestOutcome
from framesift.catalog.mirror import MirrorReport
from framesift.plural import counted

__all__ = ["IngestProgress", "IngestSummary"]

IngestProgress = Callable[[IngestOutcome, int, int], None]
"""Called after each video with (outcome, videos done, videos in all)."""


@dataclass(frozen=True)
class IngestSummary:
    """The outcomes of a batch in the order of its sources, how long it took, and whether
    the catalog was compacted after it; ``str()`` is the one-line report."""

    outcomes: tuple[IngestOutcome, ...] = ()
    seconds: float = 0.0
    compacted: bool = False
    mirror: MirrorReport | None = None
    """What the mirror copied (``ingest(..., mirror=URL)``), and what it could not."""
    counts: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        counts = dict.fromkeys(STATUSES, 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        object.__setattr__(self, "counts", counts)

    @property
    def failed(self) -> tuple[IngestOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    def __str__(self) -> str:
        c = self.counts
        return (
            f"{counted(len(self.outcomes), 'video')} in {self.seconds:.1f} s: "
            f"{c['ingested']} ingested, {c['replaced']} replaced, {c['updated']} text updated, "
            f"{c['skipped']} skipped, {c['failed']} failed"
            + (f"; {self.mirror}" if self.mirror else "")
        )
