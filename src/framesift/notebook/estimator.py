"""A notebook widget to size a collection before ingesting it: how many frames it will
keep, how many bytes the catalog will hold and how long sampling will take, as the
selection settings move.

Built on :func:`framesift.batch.estimate_ingest` (every video probed, the start of a few
ingested for real into a throwaway catalog, once: every byte and second an ingest spends)
and :func:`framesift.estimate.reestimate` (another interval, threshold or dedup setting
re-selected from the calibrated analysis: no decoding, so the numbers follow the sliders at
once). Each total comes with its range (the lowest and highest projection of the calibrated
videos, one by one), and time both as wall and as CPU time. ``estimator.spec`` is the
chosen setting.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from framesift.batch.calibrate import estimate_ingest
from framesift.errors import SettingsError
from framesift.estimate import CollectionEstimate, reestimate
from framesift.estimate_projection import time_unit
from framesift.fullpass import require_full_pass
from framesift.notebook.controls import (
    controls_html,
    dedup_and_representatives,
    interval_slider,
    ipywidgets,
    widget_bundle,
)
from framesift.spec import SamplingSpec, SelectionOptions, TextSpec

__all__ = ["CollectionEstimator"]


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


class CollectionEstimator:
    """Sliders over a collection's estimate; display it in a notebook cell."""

    def __init__(
        self,
        sources: Iterable[str] | CollectionEstimate,
        spec: SamplingSpec | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
        text: TextSpec | None = None,
        rows: int = 20,
    ) -> None:
        w = ipywidgets()
        if isinstance(sources, CollectionEstimate):
            self.base = sources
        else:
            self.base = estimate_ingest(
                list(sources), spec or SamplingSpec(), text=text, storage_options=storage_options
            )
        for calibration in self.base.calibration:  # the sliders re-select from these
            require_full_pass(calibration.mode, calibration.source_url)
        self.rows = rows
        base = self.base.spec
        style = {"description_width": "11em"}
        layout = w.Layout(width="36em")
        start = SelectionOptions.of(base)
        threshold = start.threshold or 0.0
        self.interval = interval_slider(w, start, style, layout)
        self.threshold = w.FloatSlider(
            value=threshold, min=0.0, max=max(3 * threshold, 1.0), step=0.1,
            description="threshold", disabled=base.detector is None, style=style, layout=layout,
        )  # fmt: skip
        self.dedup, self.representatives = dedup_and_representatives(w, base, style, layout)
        self.totals = w.HTML()
        self.table = w.HTML()
        for control in self.controls:
            control.observe(self._on_change, names="value")
        self.widget = w.VBox([*self.controls, self.totals, self.table])
        self.estimate: CollectionEstimate = self.base
        self._redraw()

    @property
    def controls(self) -> list[Any]:
        return [self.interval, self.threshold, self.dedup, self.representatives]

    @property
    def spec(self) -> SamplingSpec:
        """The settings the sliders show (the calibration's other settings kept)."""
        base = self.base.spec
        return replace(
            SelectionOptions.of(base),
            every_s=float(self.interval.value),
            threshold=float(self.threshold.value),
            dedup_bits=int(self.dedup.value),
            representatives_per_scene=int(self.representatives.value),
        ).apply_to(base)

    def _on_change(self, change: object) -> None:
        try:
            self.estimate = reestimate(self.base, self.spec)
        except SettingsError as exc:
            self.totals.value = f"<i>{html.escape(str(exc))}</i>"
            return
        self._redraw()

    def _redraw(self) -> None:
        t = self.estimate.totals
        calibrated = ", ".join(
            f"{html.escape(c.source_url.rsplit('/', 1)[-1])} ({c.video_s:.0f} s)"
            for c in self.estimate.calibration
        )
        ranges = self.estimate.ranges

        def between(name: str, show: Any) -> str:
            low, high = ranges.get(name, (t[name], t[name]))
            return f" ({show(low)} to {show(high)})" if name in ranges else ""

        def duration(name: str) -> tuple[str, str]:  # (~number unit, its range)
            unit, scale, fmt = time_unit(t[name])
            number = f"~{format(t[name] / scale, fmt)} {unit}"
            return number, between(name, lambda v: format(v / scale, fmt))

        wall, wall_range = duration("seconds")
        cpu, cpu_range = duration("cpu_seconds")
        self.totals.value = (
            f"<b>{int(t['videos'])}</b> videos, <b>{t['hours']:.2f} h</b> of footage: "
            f"~<b>{int(t['kept_frames']):,}</b> kept frames"
            f"{between('kept_frames', lambda v: f'{int(v):,}')}, ~<b>{_size(t['bytes'])}</b>"
            f"{between('bytes', _size)} in the catalog, <b>{wall}</b>{wall_range} of ingest in "
            f"one process on this machine when quiet, {cpu} of CPU{cpu_range} "
            f"({len(self.estimate.failed)} unreadable; measured on {calibrated or 'nothing'})"
        )
        head = "".join(
            f"<th>{h}</th>" for h in ("video", "duration", "size", "kept", "bytes", "time")
        )
        body = "".join(
            f"<tr><td>{html.escape(r['source_url'].rsplit('/', 1)[-1])}</td>"
            f"<td>{r['duration_s']:.0f} s</td><td>{r['width']}x{r['height']}</td>"
            f"<td>{r['kept_frames']:,}</td>"
            f"<td>{_size(r['thumbnail_bytes'] + r['table_bytes'] + r['overhead_bytes'])}</td>"
            f"<td>{r['seconds']:.0f} s</td></tr>"
            for r in self.estimate.videos.head(self.rows).iter_rows(named=True)
        )
        more = self.estimate.videos.height - self.rows
        tail = f"<div>... and {more} more videos</div>" if more > 0 else ""
        self.table.value = f"<table><tr>{head}</tr>{body}</table>{tail}"

    def snapshot(self) -> str:
        """The widget's current state as static HTML (what an exported report shows)."""
        return str(controls_html(self.controls) + self.totals.value + self.table.value)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return widget_bundle(self.widget, self.snapshot(), **kwargs)
