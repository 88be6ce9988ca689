"""Pictures of a catalog for notebooks and reports: one video's timeline strip (scenes,
kept frames, text by source) and :class:`CollectionOverview`, the whole collection on one
screen (a strip and a contact sheet per video).

Static HTML and PNG only (no widget), so they look the same in JupyterLab and in an
exported report; :class:`~framesift.notebook.CatalogBrowser` draws its timeline with
:func:`timeline_png` too.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from framesift.notebook.controls import png_html
from framesift.text.model import TEXT_SOURCES

__all__ = ["CollectionOverview", "timeline_png"]

_SOURCE_COLOURS = {"subtitles": "tab:blue", "speech": "tab:orange", "ocr": "tab:purple"}


def timeline_png(
    duration_s: float | None,
    scenes: pl.DataFrame,
    frames: pl.DataFrame,
    segments: pl.DataFrame,
    *,
    width_in: float = 9.0,
) -> bytes:
    """One video's timeline as a PNG: scenes (alternating bands), kept frames (ticks) and a
    lane per text source (subtitles, speech, OCR)."""
    import matplotlib.pyplot as plt

    lanes = ["scenes", "kept frames", *TEXT_SOURCES]
    fig, ax = plt.subplots(figsize=(width_in, 1.8))
    for n, row in enumerate(scenes.iter_rows(named=True)):
        ax.axvspan(row["start_s"], row["end_s"], ymin=0.8, ymax=0.98,
                   color=("tab:green", "tab:olive")[n % 2], alpha=0.6)  # fmt: skip
    ax.vlines(frames["time_s"], 2.6, 3.4, color="black", lw=0.6)
    for source in TEXT_SOURCES:
        part = segments.filter(pl.col("source") == source)
        y = len(lanes) - 1 - lanes.index(source)
        ax.hlines([y] * part.height, part["start_s"], part["end_s"],
                  color=_SOURCE_COLOURS[source], lw=6)  # fmt: skip
    ax.set_yticks(range(len(lanes)), list(reversed(lanes)))
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(0, max(float(duration_s or 0.0), 0.1))
    ax.set_xlabel("time (s)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


@dataclass(frozen=True)
class CollectionOverview:
    """Every video of a catalog at a glance: its name and numbers, its timeline strip and
    a contact sheet of its scene starts (or of its kept frames when it has no scenes).
    Display it in a notebook cell (``_repr_html_``)."""

    catalog: Any = field(repr=False)
    thumbnails: int = 8

    def _repr_html_(self) -> str:
        cat = self.catalog
        summary = cat.summary()
        if summary.is_empty():
            return "<i>the catalog holds no video yet</i>"
        return "".join(self._video_html(cat, row) for row in summary.iter_rows(named=True))

    def _video_html(self, cat: Any, row: dict[str, Any]) -> str:
        video_id = row["video_id"]
        scenes, frames, segments = (
            cat.scenes(video_id),
            cat.frames(video_id),
            cat.segments(video_id),
        )
        starts = frames.filter(pl.col("reasons").list.contains("scene_start"))
        shown = starts if starts.height else frames
        sheet = ""
        if shown.filter(pl.col("thumbnail_uri").is_not_null()).height:
            grid = cat.show_thumbnails(shown, limit=self.thumbnails, columns=self.thumbnails)
            sheet = grid._repr_html_()
        name = html.escape(PurePosixPath(str(row["source_url"])).name)
        facts = (
            f"{row['duration_s'] or 0:.1f} s, {row['width']}x{row['height']} "
            f"{html.escape(str(row['codec']))}: {scenes.height} scenes, {frames.height} kept "
            f"frames, {segments.height} text segments"
        )
        strip = png_html(timeline_png(row["duration_s"], scenes, frames, segments, width_in=10))
        return (
            f'<div style="margin-bottom:1.5em"><div><b>{name}</b> '
            f'<span title="{html.escape(str(row["source_url"]))}">{facts}</span></div>'
            f"{strip}{sheet}</div>"
        )
