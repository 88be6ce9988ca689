"""Controls the notebook widgets share: the ipywidgets import with its install hint, the
sliders for the selection settings, whose "off" positions are the library's
(:class:`framesift.spec.SelectionOptions`), and the static picture each widget carries
beside its live view (:func:`widget_bundle`), which an exported HTML report shows where it
cannot run the widget."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from typing import Any

from framesift.errors import SettingsError
from framesift.plural import counted
from framesift.spec import OFF_DEDUP_BITS, OFF_INTERVAL_S, SamplingSpec, SelectionOptions

__all__ = [
    "controls_html",
    "count_html",
    "dedup_and_representatives",
    "interval_slider",
    "ipywidgets",
    "png_html",
    "widget_bundle",
]


def ipywidgets() -> Any:
    """The ipywidgets module, or a SettingsError that says how to install it."""
    try:
        import ipywidgets
    except ImportError:
        raise SettingsError(
            "framesift's notebook widgets need ipywidgets: pip install 'framesift[notebook]'"
        ) from None
    return ipywidgets


def dedup_and_representatives(
    w: Any, base: SamplingSpec, style: dict[str, str], layout: Any
) -> tuple[Any, Any]:
    """The near-duplicate bits (-1: off) and representatives-per-scene sliders."""
    start = SelectionOptions.of(base)
    dedup = w.IntSlider(
        value=start.dedup_bits, min=OFF_DEDUP_BITS, max=32,
        description=f"dedup bits ({OFF_DEDUP_BITS}: off)", style=style, layout=layout,
    )  # fmt: skip
    representatives = w.IntSlider(
        value=start.representatives_per_scene, min=0, max=8, description="representatives",
        disabled=base.detector is None, style=style, layout=layout,
    )  # fmt: skip
    return dedup, representatives


def interval_slider(w: Any, start: SelectionOptions, style: dict[str, str], layout: Any) -> Any:
    """The seconds-between-kept-frames slider (0: off)."""
    return w.FloatSlider(
        value=start.every_s, min=OFF_INTERVAL_S, max=60.0, step=0.5,
        description=f"every (s, {OFF_INTERVAL_S:g}: off)", style=style, layout=layout,
    )  # fmt: skip


def widget_bundle(widget: Any, snapshot_html: str, **kwargs: Any) -> dict[str, Any]:
    """The widget's display data with a static picture of its state as ``text/html``:
    Jupyter draws the live widget, an exported page (``framesift report``) the picture."""
    data = dict(widget._repr_mimebundle_(**kwargs))
    data["text/html"] = f'<div class="framesift-snapshot">{snapshot_html}</div>'
    return data


def controls_html(controls: Iterable[Any]) -> str:
    """The settings the controls show, as one line of text."""
    return (
        "<div>"
        + " &middot; ".join(
            f"{html.escape(str(c.description))}: <b>{html.escape(str(c.value))}</b>"
            for c in controls
        )
        + "</div>"
    )


def count_html(n: int, noun: str) -> str:
    """A count in words, its number in bold: ``<b>3</b> scenes``, ``<b>1</b> scene``."""
    number, _, words = counted(n, noun).partition(" ")
    return f"<b>{number}</b> {words}"


def png_html(data: bytes) -> str:
    """A PNG as an inline image (nothing when there is none yet)."""
    if not data:
        return ""
    return f'<img src="data:image/png;base64,{base64.b64encode(data).decode()}"/>'
