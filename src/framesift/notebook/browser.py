"""A notebook widget to browse a catalog: see its totals and failed sources, pick a video,
see its timeline (scenes, kept frames, text) and scene starts, search the catalog's text
and see what was on screen.

Thin over :class:`framesift.Catalog`: every view is one of its queries (``totals``,
``videos``, ``scenes``, ``frames``, ``segments``, ``search``) drawn as HTML and a PNG plot,
so it works the same on a local folder and on S3, and in an exported HTML report as a
static picture.
"""

from __future__ import annotations

import html
import io
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from framesift.catalog.totals import CatalogTotals
from framesift.errors import SettingsError
from framesift.notebook.controls import ipywidgets
from framesift.text.model import TEXT_SOURCES

__all__ = ["CatalogBrowser"]

_SOURCE_COLOURS = {"subtitles": "tab:blue", "speech": "tab:orange", "ocr": "tab:purple"}


class CatalogBrowser:
    """Display it in a notebook cell; ``browser.video`` and ``browser.query`` are its
    controls (set them from code as well)."""

    def __init__(self, catalog: Any, *, thumbnails: int = 24, hits: int = 12) -> None:
        w = ipywidgets()
        self.catalog = catalog
        self.thumbnails = thumbnails
        self.max_hits = hits
        self.totals = w.HTML(_totals_html(catalog.totals()))
        videos = catalog.summary()
        options = [
            (f"{PurePosixPath(row['source_url']).name} ({row['duration_s'] or 0:.0f} s)", vid)
            for row, vid in zip(videos.iter_rows(named=True), videos["video_id"], strict=True)
        ]
        self.video = w.Dropdown(options=options, description="video", layout=w.Layout(width="40em"))
        self.query = w.Text(
            placeholder="words said or shown", description="search", continuous_update=False
        )
        self.this_video_only = w.Checkbox(value=False, description="this video only")
        self.facts = w.HTML()
        self.timeline = w.Image(format="png")
        self.gallery = w.HTML()
        self.hits = w.HTML()
        self.video.observe(self._on_video, names="value")
        self.query.observe(self._on_query, names="value")
        self.this_video_only.observe(self._on_query, names="value")
        self.widget = w.VBox(
            [
                self.totals,
                self.video,
                self.facts,
                self.timeline,
                self.gallery,
                w.HBox([self.query, self.this_video_only]),
                self.hits,
            ]
        )
        self._show_video()

    # -- views ----------------------------------------------------------------------------

    def _on_video(self, change: object) -> None:
        self._show_video()
        if self.this_video_only.value:
            self._show_hits()

    def _on_query(self, change: object) -> None:
        self._show_hits()

    def _show_video(self) -> None:
        video_id = self.video.value
        if video_id is None:
            self.facts.value = "<i>the catalog holds no video yet</i>"
            return
        cat = self.catalog
        scenes = cat.scenes(video_id)
        frames = cat.frames(video_id)
        segments = cat.segments(video_id)
        row = cat.videos().filter(pl.col("video_id") == video_id).row(0, named=True)
        by_source = ", ".join(
            f"{n} {source}"
            for source, n in segments.group_by("source").len().sort("source").iter_rows()
        )
        self.facts.value = (
            f"<b>{html.escape(str(row['source_url']))}</b>: {row['duration_s'] or 0:.1f} s, "
            f"{row['width']}x{row['height']} {html.escape(str(row['codec']))}; "
            f"<b>{scenes.height}</b> scenes, <b>{frames.height}</b> kept frames, "
            f"<b>{segments.height}</b> text segments{f' ({by_source})' if by_source else ''}"
        )
        self.timeline.value = self._plot(row, scenes, frames, segments)
        starts = frames.filter(pl.col("reasons").list.contains("scene_start"))
        shown = starts if starts.height else frames
        self.gallery.value = (
            cat.show_thumbnails(shown, limit=self.thumbnails, columns=8)._repr_html_()
            if shown.filter(pl.col("thumbnail_uri").is_not_null()).height
            else ""
        )

    def _show_hits(self) -> None:
        query = str(self.query.value).strip()
        if not query:
            self.hits.value = ""
            return
        try:
            found = self.catalog.search(
                query,
                limit=self.max_hits,
                video_id=self.video.value if self.this_video_only.value else None,
            )
        except SettingsError as exc:
            self.hits.value = f"<i>{html.escape(str(exc))}</i>"
            return
        if found.is_empty():
            self.hits.value = f"<i>no text matches {html.escape(query)!s}</i>"
            return
        lines = "".join(
            f"<li><b>{r['score']:.2f}</b> {html.escape(PurePosixPath(r['source_url']).name)} "
            f"{r['start_s']:.1f}-{r['end_s']:.1f} s ({html.escape(r['source'])}): "
            f"{html.escape(r['text'])}</li>"
            for r in found.iter_rows(named=True)
        )
        grid = ""
        if found.filter(pl.col("thumbnail_uri").is_not_null()).height:
            grid = self.catalog.show_thumbnails(found, columns=6)._repr_html_()
        noun = "hit" if found.height == 1 else "hits"
        self.hits.value = f"<b>{found.height} {noun}</b><ol>{lines}</ol>{grid}"

    @staticmethod
    def _plot(
        video: dict[str, Any], scenes: pl.DataFrame, frames: pl.DataFrame, segments: pl.DataFrame
    ) -> bytes:
        import matplotlib.pyplot as plt

        lanes = ["scenes", "kept frames", *TEXT_SOURCES]
        fig, ax = plt.subplots(figsize=(9, 1.8))
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
        ax.set_xlim(0, max(float(video.get("duration_s") or 0.0), 0.1))
        ax.set_xlabel("time (s)")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        plt.close(fig)
        return buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def _totals_html(totals: CatalogTotals) -> str:
    """The catalog's totals on one line, then its failed sources, one per line."""
    failed = "".join(
        f"<li>{html.escape(f.source_url)}: {html.escape(f.error_type)}: "
        f"{html.escape(f.error_message)}</li>"
        for f in totals.failed
    )
    return f"<b>{html.escape(str(totals))}</b>" + (f"<ul>{failed}</ul>" if failed else "")
