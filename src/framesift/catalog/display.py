"""Notebook display: a grid of inline thumbnails (base64 data URIs, no server needed)."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

__all__ = ["ThumbnailGrid"]


def _mime(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


@dataclass(frozen=True)
class ThumbnailGrid:
    """Captioned images that render as an HTML grid in Jupyter (``_repr_html_``)."""

    items: tuple[tuple[str, bytes], ...]
    columns: int = 8

    def __len__(self) -> int:
        return len(self.items)

    def _repr_html_(self) -> str:
        cells = []
        for caption, data in self.items:
            src = f"data:{_mime(data)};base64,{base64.b64encode(data).decode()}"
            cells.append(
                '<figure style="margin:0">'
                f'<img src="{src}" style="width:100%;height:auto" alt="{html.escape(caption)}"/>'
                f'<figcaption style="font-size:11px">{html.escape(caption)}</figcaption></figure>'
            )
        return (
            f'<div style="display:grid;grid-template-columns:repeat({self.columns},1fr);'
            f'gap:4px">{"".join(cells)}</div>'
        )

    def __repr__(self) -> str:
        return f"ThumbnailGrid({len(self.items)} images)"
