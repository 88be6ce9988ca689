"""A notebook widget to browse a catalog: see its totals and failed sources, pick a video,
see its timeline (scenes, kept frames, text, a lane per frame analyzer that ran) and scene
starts with the analyzers' boxes drawn on them, search the catalog's text and see what
was on screen.

Thin over :class:`framesift.Catalog`: every view is one of its queries (``totals``,
``videos``, ``scenes``, ``frames``, ``segments``, ``detections``, ``search``) drawn as
HTML and a PNG plot, so it works the same on a local folder and on S3, and in an exported
HTML report as a static picture.
"""

from __future__ import annotations

import html
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from framesift.catalog.boxes import analyzers_run
from framesift.catalog.totals import CatalogTotals
from framesift.errors import SettingsError
from framesift.notebook.controls import ipywidgets, png_html, widget_bundle
from framesift.notebook.timeline import contact_sheets_html, detections_html, timeline_png

__all__ = ["CatalogBrowser"]


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
        analyzers = analyzers_run(row.get("analyzer_spec"))
        detections = cat.detections(video_id) if analyzers else None
        by_source = ", ".join(
            f"{n} {source}"
            for source, n in segments.group_by("source").len().sort("source").iter_rows()
        )
        self.facts.value = (
            f"<b>{html.escape(str(row['source_url']))}</b>: {row['duration_s'] or 0:.1f} s, "
            f"{row['width']}x{row['height']} {html.escape(str(row['codec']))}; "
            f"<b>{scenes.height}</b> scenes, <b>{frames.height}</b> kept frames, "
            f"<b>{segments.height}</b> text segments{f' ({by_source})' if by_source else ''}"
            f"{detections_html(detections, analyzers, prefix='; ')}"
        )
        self.timeline.value = timeline_png(
            row.get("duration_s"), scenes, frames, segments,
            detections=detections, analyzers=analyzers,
        )  # fmt: skip
        self.gallery.value = contact_sheets_html(
            cat, frames, detections, thumbnails=self.thumbnails, columns=8
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

    def snapshot(self) -> str:
        """The widget's current state as static HTML (what an exported report shows)."""
        return str(
            self.totals.value
            + (
                f"<div>video: <b>{html.escape(str(self.video.label))}</b></div>"
                if self.video.label
                else ""
            )
            + self.facts.value
            + png_html(self.timeline.value)
            + self.gallery.value
            + (
                f"<div>search: <b>{html.escape(str(self.query.value))}</b></div>"
                if self.query.value
                else ""
            )
            + self.hits.value
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return widget_bundle(self.widget, self.snapshot(), **kwargs)


def _totals_html(totals: CatalogTotals) -> str:
    """The catalog's totals on one line, then its failed sources, one per line."""
    failed = "".join(
        f"<li>{html.escape(f.source_url)}: {html.escape(f.error_type)}: "
        f"{html.escape(f.error_message)}</li>"
        for f in totals.failed
    )
    return f"<b>{html.escape(str(totals))}</b>" + (f"<ul>{failed}</ul>" if failed else "")
