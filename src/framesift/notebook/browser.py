"""A notebook widget to browse a catalog: see its totals and failed sources, pick a video,
see its timeline (scenes, kept frames, text, a lane per frame analyzer that ran) and scene
starts with the analyzers' boxes drawn on them, pick one of its kept frames and see its
full frame (decoded from the source on first use and cached in the catalog: see
:mod:`framesift.catalog.fullframes`), search the catalog's text and see what was on
screen, as thumbnails or full frames.

Thin over :class:`framesift.Catalog`: every view is one of its queries (``totals``,
``videos``, ``scenes``, ``frames``, ``segments``, ``detections``, ``search``,
``full_frame``, ``show_thumbnails``) drawn as
HTML and a PNG plot, so it works the same on a local folder and on S3, and in an exported
HTML report as a static picture.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

import polars as pl

from framesift.catalog.boxes import analyzers_run
from framesift.catalog.fullframes import FULL_FRAME_ERRORS, FullFrame
from framesift.catalog.totals import CatalogTotals
from framesift.errors import SettingsError
from framesift.notebook.controls import count_html, ipywidgets, png_html, widget_bundle
from framesift.notebook.timeline import contact_sheets_html, detections_html, timeline_png
from framesift.plural import counted

__all__ = ["CatalogBrowser"]


class CatalogBrowser:
    """Display it in a notebook cell; ``browser.video``, ``browser.frame`` (a kept frame
    of that video), ``browser.full_frame_button`` (shows the frame at full size:
    :meth:`show_full_frame`), ``browser.query`` and ``browser.hits_full`` (the hits' full
    frames) are its controls (set them, or click, from code as well). Full frames are
    decoded from the sources opened with ``source_options`` (an S3 bucket's credentials)."""

    def __init__(
        self,
        catalog: Any,
        *,
        thumbnails: int = 24,
        hits: int = 12,
        source_options: Mapping[str, Any] | None = None,
    ) -> None:
        w = ipywidgets()
        self.catalog = catalog
        self.source_options = source_options
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
        self.frame = w.Dropdown(description="kept frame", layout=w.Layout(width="30em"))
        self.full_frame_button = w.Button(
            description="full frame", tooltip="decoded from the source on first use, then cached"
        )
        self.full_frame_status = w.HTML()
        self.full_frame_image = w.Image(layout=w.Layout(max_width="100%"))
        self.full: FullFrame | None = None
        """The full frame shown, if any."""
        self.hits = w.HTML()
        self.hits_full = w.Checkbox(value=False, description="hits at full size")
        self.video.observe(self._on_video, names="value")
        self.frame.observe(self._on_frame, names="value")
        self.full_frame_button.on_click(lambda _: self.show_full_frame())
        self.query.observe(self._on_query, names="value")
        self.this_video_only.observe(self._on_query, names="value")
        self.hits_full.observe(self._on_query, names="value")
        self.widget = w.VBox(
            [
                self.totals,
                self.video,
                self.facts,
                self.timeline,
                self.gallery,
                w.HBox([self.frame, self.full_frame_button]),
                self.full_frame_status,
                self.full_frame_image,
                w.HBox([self.query, self.this_video_only, self.hits_full]),
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

    def _on_frame(self, change: object) -> None:
        self.full = None
        self.full_frame_status.value = ""
        self.full_frame_image.value = b""

    def show_full_frame(self) -> FullFrame | None:
        """Show the full frame of the kept frame chosen in ``frame`` (the "full frame"
        button): read from the catalog, or decoded from the source and cached on first
        use. A source that moved, changed or cannot be reached is one line in
        ``full_frame_status``, not a traceback; None then."""
        video_id, frame_index = self.video.value, self.frame.value
        if video_id is None or frame_index is None:
            self.full_frame_status.value = "<i>pick a kept frame first</i>"
            return None
        self.full_frame_status.value = "<i>fetching the full frame...</i>"
        try:
            full: FullFrame = self.catalog.full_frame(
                video_id, frame_index, source_options=self.source_options
            )
        except FULL_FRAME_ERRORS as exc:
            self.full, self.full_frame_image.value = None, b""
            self.full_frame_status.value = (
                f"<i>no full frame: {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</i>"
            )
            return None
        self.full = full
        self.full_frame_image.format = full.extension.replace("jpg", "jpeg")
        self.full_frame_image.value = full.data
        self.full_frame_status.value = html.escape(full.describe())
        return full

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
            f"{count_html(scenes.height, 'scene')}, {count_html(frames.height, 'kept frame')}, "
            f"{count_html(segments.height, 'text segment')}{f' ({by_source})' if by_source else ''}"
            f"{detections_html(detections, analyzers, prefix='; ')}"
        )
        self.timeline.value = timeline_png(
            row.get("duration_s"), scenes, frames, segments,
            detections=detections, analyzers=analyzers,
        )  # fmt: skip
        self.gallery.value = contact_sheets_html(
            cat, frames, detections, thumbnails=self.thumbnails, columns=8
        )
        self.frame.options = [
            (f"#{r['frame_index']} @ {r['time_s']:.2f} s ({', '.join(r['reasons'] or [])})",
             r["frame_index"])
            for r in frames.iter_rows(named=True)
        ]  # fmt: skip
        self._on_frame(None)  # the frame shown belonged to the video before

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
        if self.hits_full.value:
            grid = self.catalog.show_thumbnails(
                found, columns=2, full=True, source_options=self.source_options
            )._repr_html_()
        elif found.filter(pl.col("thumbnail_uri").is_not_null()).height:
            grid = self.catalog.show_thumbnails(found, columns=6)._repr_html_()
        self.hits.value = f"<b>{counted(found.height, 'hit')}</b><ol>{lines}</ol>{grid}"

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
                f"<div>{self.full_frame_status.value}</div>{self.full._repr_html_()}"
                if self.full is not None
                else f"<div>{self.full_frame_status.value}</div>"
                if self.full_frame_status.value
                else ""
            )
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
