"""A notebook widget to tune sampling settings on one pass's per-frame analysis.

Sliders for the detector threshold, minimum scene length, interval, near-duplicate bits and
representatives per scene; every change re-selects with :func:`framesift.reselect` from the
cached analysis (no decoding, milliseconds) and redraws the score plot, the counts, why
frames over the threshold opened no scene (:func:`framesift.analysis.explain_cuts`) and the
kept frames' thumbnails (those the pass wrote). ``tuner.spec`` is the chosen
:class:`~framesift.spec.SamplingSpec`, ready for ``ingest``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from framesift.analysis import CutReport, Selection, explain_cuts, reselect
from framesift.fullpass import require_full_pass
from framesift.notebook.controls import (
    controls_html,
    count_html,
    dedup_and_representatives,
    interval_slider,
    ipywidgets,
    png_html,
    widget_bundle,
)
from framesift.sample import SampleResult
from framesift.spec import SamplingSpec, SelectionOptions

__all__ = ["SamplingTuner"]


class SamplingTuner:
    """Sliders over a pass's analysis; display it in a notebook cell.

    ``images`` maps frame indices to encoded thumbnails (for example a
    ``MemoryImageSink``'s images by the pass's frames); kept frames without one are listed
    by time. The pass must have decoded every frame (not keyframes-only, seek or fast mode).
    """

    def __init__(
        self,
        result: SampleResult,
        *,
        images: Mapping[int, bytes] | None = None,
        preview: int = 12,
    ) -> None:
        require_full_pass(result.stats.mode, result.url)
        w = ipywidgets()
        self.result = result
        self.images = dict(images or {})
        self.preview = preview
        base = result.spec
        self._fps = result.media.video.fps
        detector = base.detector
        start = SelectionOptions.of(base)
        threshold = start.threshold or 0.0
        peak = result.analysis.select(result.analysis["score"].max()).item() or 0.0
        top = max(float(peak), threshold) * 1.2 + 1.0
        style = {"description_width": "11em"}
        layout = w.Layout(width="36em")
        self.threshold = w.FloatSlider(
            value=threshold, min=0.0, max=round(top, 1), step=0.1, description="threshold",
            disabled=detector is None, style=style, layout=layout,
        )  # fmt: skip
        self.min_scene_len = w.IntSlider(
            value=start.min_scene_len_frames, min=0, max=120, description="min scene (frames)",
            disabled=detector is None, style=style, layout=layout,
        )  # fmt: skip
        self.interval = interval_slider(w, start, style, layout)
        self.dedup, self.representatives = dedup_and_representatives(w, base, style, layout)
        self.summary = w.HTML()
        self.cuts = w.HTML()
        self.plot = w.Image(format="png")
        self.gallery = w.HTML()
        for control in self.controls:
            control.observe(self._on_change, names="value")
        self.widget = w.VBox([*self.controls, self.summary, self.cuts, self.plot, self.gallery])
        self.selection: Selection = self._select()
        self.report: CutReport = self._explain()
        self._redraw()

    @property
    def controls(self) -> list[Any]:
        return [self.threshold, self.min_scene_len, self.interval, self.dedup, self.representatives]

    @property
    def spec(self) -> SamplingSpec:
        """The settings the sliders show, as a SamplingSpec (the pass's other settings kept)."""
        base = self.result.spec
        return replace(
            SelectionOptions.of(base),
            every_s=float(self.interval.value),
            threshold=float(self.threshold.value),
            min_scene_len_frames=int(self.min_scene_len.value),
            representatives_per_scene=int(self.representatives.value),
            dedup_bits=int(self.dedup.value),
        ).apply_to(base)

    def _select(self) -> Selection:
        return reselect(
            self.result.analysis, self.spec, detector=self.result.spec.detector, fps=self._fps
        )

    def _explain(self) -> CutReport:
        return explain_cuts(
            self.result.analysis, self.spec, detector=self.result.spec.detector, fps=self._fps
        )

    def _on_change(self, change: object) -> None:
        self.selection = self._select()
        self.report = self._explain()
        self._redraw()

    def _redraw(self) -> None:
        sel = self.selection
        self.summary.value = (
            f"{count_html(sel.scenes.height, 'scene')}, "
            f"{count_html(sel.frames.height, 'kept frame')}, "
            f"{sel.duplicates_skipped} near-duplicates skipped "
            f"(of {self.result.analysis.height} analysed frames)"
        )
        if self.result.spec.transitions:
            self.summary.value += (
                "<br>Dissolves and fades are not previewed: these scenes are the cut "
                "detector's alone; the pass's transitions mode found "
                f"<b>{self.result.scenes.height}</b> scenes."
            )
        missed = "".join(
            f"<li>{m.time_s:.2f} s (frame {m.frame_index}, score {m.score:.1f}): "
            f"{html.escape(m.reason)}</li>"
            for m in self.report.missed
        )
        self.cuts.value = (
            f'<div style="font-size:12px">{html.escape(self.report.summary)}'
            + (f"<ul>{missed}</ul>" if missed else "")
            + "</div>"
        )
        self._draw_plot()
        self.gallery.value = self._gallery_html()

    def _draw_plot(self) -> None:
        import matplotlib.pyplot as plt

        analysis = self.result.analysis
        fig, ax = plt.subplots(figsize=(9, 2.4))
        ax.plot(analysis["time_s"], analysis["score"], lw=0.8)
        if self.result.spec.detector is not None:
            ax.axhline(float(self.threshold.value), color="tab:red", ls="--", lw=0.8)
        for start in self.selection.scenes["start_s"][1:]:
            ax.axvline(start, color="tab:green", lw=0.6, alpha=0.7)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("score")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        self.plot.value = buffer.getvalue()
        plt.close(fig)  # one figure at a time, however often the sliders move

    def _gallery_html(self) -> str:
        tiles = []
        for row in self.selection.frames.head(self.preview).iter_rows(named=True):
            caption = html.escape(f"{row['time_s']:.2f} s: {', '.join(row['reasons'])}")
            data = self.images.get(row["frame_index"])
            picture = (
                f'<img src="data:image/jpeg;base64,{base64.b64encode(data).decode()}" '
                'style="height:90px"/>'
                if data is not None
                else '<div style="height:90px;width:120px;background:#eee"></div>'
            )
            tiles.append(
                f'<figure style="display:inline-block;margin:3px">{picture}'
                f'<figcaption style="font-size:11px">{caption}</figcaption></figure>'
            )
        more = self.selection.frames.height - self.preview
        tail = f"<div>... and {more} more</div>" if more > 0 else ""
        return "".join(tiles) + tail

    def snapshot(self) -> str:
        """The widget's current state as static HTML (what an exported report shows)."""
        return str(
            controls_html(self.controls)
            + self.summary.value
            + self.cuts.value
            + png_html(self.plot.value)
            + self.gallery.value
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return widget_bundle(self.widget, self.snapshot(), **kwargs)
