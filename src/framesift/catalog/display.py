"""Showing the catalog's pictures: one kept frame's image, and a grid of inline thumbnails
(or full frames, fetched through :mod:`framesift.catalog.fullframes`) for notebooks
(base64 data URIs, no server needed) with what the frame analyzers found drawn on them
(:mod:`framesift.catalog.boxes`)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from framesift.catalog.boxes import draw_detections
from framesift.catalog.fullframes import FullFrameSource, full_frames, image_mime
from framesift.catalog.image_uris import image_key
from framesift.errors import CatalogError
from framesift.plural import counted
from framesift.storage import Storage

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "ThumbnailGrid",
    "catalog_html",
    "full_frame_grid",
    "kept_image",
    "show_grid",
    "thumbnail_grid",
]


@dataclass(frozen=True)
class ThumbnailGrid:
    """Captioned images that render as an HTML grid in Jupyter (``_repr_html_``), and a
    line beneath for each picture that could not be shown."""

    items: tuple[tuple[str, bytes], ...]
    columns: int = 8
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.items)

    def _repr_html_(self) -> str:
        cells = []
        for caption, data in self.items:
            src = f"data:{image_mime(data)};base64,{base64.b64encode(data).decode()}"
            cells.append(
                '<figure style="margin:0">'
                f'<img src="{src}" style="width:100%;height:auto" alt="{html.escape(caption)}"/>'
                f'<figcaption style="font-size:11px">{html.escape(caption)}</figcaption></figure>'
            )
        notes = "".join(f"<div><i>{html.escape(note)}</i></div>" for note in self.notes)
        return (
            f'<div style="display:grid;grid-template-columns:repeat({self.columns},1fr);'
            f'gap:4px">{"".join(cells)}</div>{notes}'
        )

    def __repr__(self) -> str:
        return f"ThumbnailGrid({len(self.items)} images)"


def catalog_html(url: str, version: int, videos: int) -> str:
    """A catalog as one line of HTML (its ``_repr_html_`` in Jupyter)."""
    return (
        f"<b>framesift catalog</b> <code>{html.escape(url)}</code> "
        f"(schema v{version}): {counted(videos, 'video')}"
    )


def thumbnail_grid(
    storage: Storage,
    frames: pl.DataFrame,
    *,
    limit: int,
    columns: int,
    detections: pl.DataFrame | None = None,
) -> ThumbnailGrid:
    """The grid of ``frames`` (rows of the frames table, or search hits) with thumbnails;
    with ``detections`` (rows of the detections table) and the frames' ``width`` and
    ``height``, each thumbnail shows its frame's boxes."""
    rows = frames.filter(pl.col("thumbnail_uri").is_not_null()).head(limit)
    keys = [image_key(storage, u) for u in rows["thumbnail_uri"]]
    images = storage.read_many(keys)
    if detections is not None and not detections.is_empty():
        images = _with_boxes(rows, keys, images, detections)
    return ThumbnailGrid(
        items=tuple(
            (c, images[k]) for c, k in zip(_captions(rows), keys, strict=True) if k in images
        ),
        columns=columns,
    )


def full_frame_grid(
    catalog: FullFrameSource,
    frames: pl.DataFrame,
    *,
    limit: int,
    columns: int,
    detections: pl.DataFrame | None = None,
    source_options: Mapping[str, Any] | None = None,
) -> ThumbnailGrid:
    """The grid of ``frames`` (rows of the frames table, or search hits) at full size,
    each full frame fetched from the catalog or decoded from its source and cached
    (:func:`~framesift.catalog.fullframes.full_frames`); a frame that could not be fetched
    (its source moved or changed) is a one-line note beneath the grid."""
    found, failed = full_frames(catalog, frames, limit=limit, source_options=source_options)
    rows = pl.DataFrame([row for row, _ in found], schema=frames.schema, orient="row")
    keys = [str(n) for n in range(len(found))]
    images = {key: frame.data for key, (_, frame) in zip(keys, found, strict=True)}
    if detections is not None and not detections.is_empty():
        images = _with_boxes(rows, keys, images, detections)
    return ThumbnailGrid(
        items=tuple((c, images[k]) for c, k in zip(_captions(rows), keys, strict=True)),
        columns=columns,
        notes=tuple(
            f"{row['video_id'][:8]} #{row['frame_index']}: {message}" for row, message in failed
        ),
    )


def _captions(rows: pl.DataFrame) -> list[str]:
    """A caption per row: the frame (video, index, time), or for search hits what was said
    or shown, and when."""
    if "text" in rows.columns:
        return [
            f"{start:.1f}s: {text[:60]}"
            for start, text in zip(rows["start_s"], rows["text"], strict=True)
        ]
    return [
        f"{vid[:8]} #{idx} @ {t:.2f}s"
        for vid, idx, t in zip(rows["video_id"], rows["frame_index"], rows["time_s"], strict=True)
    ]


def _with_boxes(
    rows: pl.DataFrame, keys: list[str], images: dict[str, bytes], detections: pl.DataFrame
) -> dict[str, bytes]:
    found = detections.partition_by(["video_id", "frame_index"], as_dict=True)
    boxed = dict(images)
    for row, key in zip(rows.iter_rows(named=True), keys, strict=True):
        mine = found.get((row["video_id"], row["frame_index"]))
        if mine is not None and key in images and row.get("width") and row.get("height"):
            boxed[key] = draw_detections(
                images[key], mine, frame_width_px=row["width"], frame_height_px=row["height"]
            )
    return boxed


_BOX_COLUMNS = ("video_id", "frame_index", "analyzer", "label", "score", "x_px", "y_px", "w_px",
                "h_px")  # fmt: skip
"""What a box is drawn from (not the embeddings)."""


class GridSource(FullFrameSource, Protocol):
    """What :func:`show_grid` reads from a catalog (a :class:`~framesift.catalog.Catalog`)."""

    def sql(self, query: str, params: Any = None) -> pl.DataFrame: ...

    def detections(self, video_id: Any = None, *, columns: Any = None) -> pl.DataFrame: ...


def show_grid(
    catalog: GridSource,
    frames: pl.DataFrame | str | None,
    *,
    limit: int,
    columns: int,
    boxes: bool,
    full: bool = False,
    source_options: Mapping[str, Any] | None = None,
) -> ThumbnailGrid:
    """``Catalog.show_thumbnails``: the grid of ``frames`` (rows, a video's id, or None: the
    catalog's first frames), with the analyzers' boxes when ``boxes``, at full size when
    ``full``."""
    if frames is None:
        frames = catalog.sql(
            "SELECT video_id, frame_index, time_s, width, height, thumbnail_uri FROM frames "
            "WHERE thumbnail_uri IS NOT NULL ORDER BY video_id, frame_index LIMIT ?",
            [limit],
        )
    elif isinstance(frames, str):
        frames = catalog.frames(frames)
    detections = None
    if boxes and not frames.is_empty():
        ids = frames["video_id"].unique().to_list()
        detections = catalog.detections(ids, columns=_BOX_COLUMNS)
        if not detections.is_empty() and not {"width", "height"} <= set(frames.columns):
            sizes = catalog.frames(ids, columns=["video_id", "frame_index", "width", "height"])
            frames = frames.join(sizes, on=["video_id", "frame_index"], how="left")
    if full:
        return full_frame_grid(
            catalog, frames, limit=limit, columns=columns, detections=detections,
            source_options=source_options,
        )  # fmt: skip
    return thumbnail_grid(
        catalog.storage, frames, limit=limit, columns=columns, detections=detections
    )


def kept_image(
    storage: Storage, frames: pl.DataFrame, video_id: str, frame_index: int, *, column: str
) -> Image:
    """The picture of kept frame ``frame_index`` named by ``column`` (``thumbnail_uri`` or
    ``frame_uri``) of ``frames`` (that video's rows of the frames table)."""
    from PIL import Image as PILImage

    rows = frames.filter(pl.col("frame_index") == frame_index)
    if rows.is_empty():
        raise CatalogError(f"video {video_id} has no kept frame {frame_index} in {storage.url}")
    uri = rows[column][0]
    if uri is None:
        kind = "full frame" if column == "frame_uri" else "thumbnail"
        raise CatalogError(
            f"frame {frame_index} of video {video_id} has no {kind}: sample with images turned on"
        )
    image = PILImage.open(io.BytesIO(storage.read_bytes(image_key(storage, uri))))
    image.load()
    return image
