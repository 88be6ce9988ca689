"""Pictures of a catalog for notebooks and reports: one video's timeline strip (scenes,
kept frames, text by source, a lane per frame analyzer that ran) and
:class:`CollectionOverview`, the whole collection on one screen (a strip, the analyzers'
findings and a contact sheet per video, boxes drawn).

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

from framesift.catalog.boxes import analyzer_colour, analyzers_run, frames_with_boxes
from framesift.notebook.controls import png_html
from framesift.plural import counted
from framesift.text.model import TEXT_SOURCES

__all__ = ["CollectionOverview", "contact_sheets_html", "detections_html", "timeline_png"]

_SOURCE_COLOURS = {"subtitles": "tab:blue", "speech": "tab:orange", "ocr": "tab:purple"}


def timeline_png(
    duration_s: float | None,
    scenes: pl.DataFrame,
    frames: pl.DataFrame,
    segments: pl.DataFrame,
    *,
    detections: pl.DataFrame | None = None,
    analyzers: tuple[str, ...] = (),
    width_in: float = 9.0,
) -> bytes:
    """One video's timeline as a PNG: scenes (alternating bands), kept frames (ticks), a
    lane per text source (subtitles, speech, OCR) and one per frame analyzer in
    ``analyzers`` (those that ran), marked at each kept frame where it found something
    (rows of ``detections``)."""
    import matplotlib.pyplot as plt

    lanes = ["scenes", "kept frames", *TEXT_SOURCES, *(f"{a} found" for a in analyzers)]
    fig, ax = plt.subplots(figsize=(width_in, 1.8 + 0.25 * len(analyzers)))
    top = len(lanes) - 1
    for n, row in enumerate(scenes.iter_rows(named=True)):
        ax.fill_between([row["start_s"], row["end_s"]], top - 0.4, top + 0.4,
                        color=("tab:green", "tab:olive")[n % 2], alpha=0.6, lw=0)  # fmt: skip
    ax.vlines(frames["time_s"], top - 1.4, top - 0.6, color="black", lw=0.6)
    for source in TEXT_SOURCES:
        part = segments.filter(pl.col("source") == source)
        y = top - lanes.index(source)
        ax.hlines([y] * part.height, part["start_s"], part["end_s"],
                  color=_SOURCE_COLOURS[source], lw=6)  # fmt: skip
    for analyzer in analyzers:
        found = pl.Series("time_s", [], pl.Float64)
        if detections is not None:
            found = detections.filter(pl.col("analyzer") == analyzer)["time_s"].unique()
        y = top - lanes.index(f"{analyzer} found")
        colour = tuple(c / 255 for c in analyzer_colour(analyzer))
        ax.vlines(found, y - 0.4, y + 0.4, color=colour, lw=2)
    ax.set_yticks(range(len(lanes)), list(reversed(lanes)))
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    end_s = max(float(duration_s or 0.0), 0.1)
    ax.set_xlim(-0.01 * end_s, end_s)  # a tick at 0 s stays in sight
    ax.set_xlabel("time (s)")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


@dataclass(frozen=True)
class CollectionOverview:
    """Every video of a catalog at a glance: its name and numbers (what each frame analyzer
    found included), its timeline strip, a contact sheet of its scene starts (or of its
    kept frames when it has no scenes) and one of the frames where an analyzer found
    something, boxes drawn. Display it in a notebook cell (``_repr_html_``)."""

    catalog: Any = field(repr=False)
    thumbnails: int = 8

    def _repr_html_(self) -> str:
        cat = self.catalog
        summary = cat.summary()
        if summary.is_empty():
            return "<i>the catalog holds no video yet</i>"
        specs = dict(cat.videos(columns=["video_id", "analyzer_spec"]).iter_rows())
        return "".join(
            self._video_html(cat, row, analyzers_run(specs.get(row["video_id"])))
            for row in summary.iter_rows(named=True)
        )

    def _video_html(self, cat: Any, row: dict[str, Any], analyzers: tuple[str, ...]) -> str:
        video_id = row["video_id"]
        scenes, frames, segments = (
            cat.scenes(video_id),
            cat.frames(video_id),
            cat.segments(video_id),
        )
        detections = cat.detections(video_id) if analyzers else None
        sheet = contact_sheets_html(
            cat, frames, detections, thumbnails=self.thumbnails, columns=self.thumbnails
        )
        name = html.escape(PurePosixPath(str(row["source_url"])).name)
        facts = (
            f"{row['duration_s'] or 0:.1f} s, {row['width']}x{row['height']} "
            f"{html.escape(str(row['codec']))}: {counted(scenes.height, 'scene')}, "
            f"{counted(frames.height, 'kept frame')}, {counted(segments.height, 'text segment')}"
            f"{detections_html(detections, analyzers, prefix='; ')}"
        )
        strip = png_html(
            timeline_png(row["duration_s"], scenes, frames, segments,
                         detections=detections, analyzers=analyzers, width_in=10)
        )  # fmt: skip
        return (
            f'<div style="margin-bottom:1.5em"><div><b>{name}</b> '
            f'<span title="{html.escape(str(row["source_url"]))}">{facts}</span></div>'
            f"{strip}{sheet}</div>"
        )


def contact_sheets_html(
    cat: Any,
    frames: pl.DataFrame,
    detections: pl.DataFrame | None,
    *,
    thumbnails: int,
    columns: int,
) -> str:
    """One video's contact sheets: its scene starts (its kept frames when it has no
    scenes), then the kept frames where an analyzer found something, boxes drawn; nothing
    without thumbnails."""

    def sheet(shown: pl.DataFrame) -> str:
        if not shown.filter(pl.col("thumbnail_uri").is_not_null()).height:
            return ""
        return str(cat.show_thumbnails(shown, limit=thumbnails, columns=columns)._repr_html_())

    starts = frames.filter(pl.col("reasons").list.contains("scene_start"))
    found = sheet(frames_with_boxes(frames, detections))
    return sheet(starts if starts.height else frames) + (
        f"<div>where the analyzers found something:</div>{found}" if found else ""
    )


def detections_html(
    detections: pl.DataFrame | None, analyzers: tuple[str, ...], *, prefix: str = ""
) -> str:
    """What each analyzer that ran found, in words ("faces: 12 on 6 kept frames"), each in
    its colour; empty when none ran."""
    if not analyzers:
        return ""
    parts = []
    for analyzer in analyzers:
        rows = (
            detections.filter(pl.col("analyzer") == analyzer)
            if detections is not None
            else pl.DataFrame(schema={"frame_index": pl.Int64})
        )
        r, g, b = analyzer_colour(analyzer)
        parts.append(
            f'<span style="border-bottom:3px solid rgb({r},{g},{b})">{html.escape(analyzer)}</span>'
            f": {rows.height} on {counted(rows['frame_index'].n_unique(), 'kept frame')}"
        )
    return prefix + ", ".join(parts)
