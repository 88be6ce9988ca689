"""Column schemas shared by the sampling engine and the catalog.

One place defines what a frame row, a scene row and a per-frame analysis row hold, so that
``sample_video`` results, the Parquet parts of the catalog and the notebook tools agree.
Times are seconds from the stream's pts x time_base (``time_s``), never frame numbers.
The catalog adds a leading ``video_id`` column to each table.

Each table's columns are declared once, as kinds (:data:`COLUMN_KINDS`); the ``*_SCHEMA``
dicts hold their polars types, built on first use (start-up: a sampling pass records its
rows without polars, and the ``sample`` command writes its tables with
:mod:`framesift.parquet`, without it).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    ANALYSIS_SCHEMA: dict[str, pl.DataType]
    DETECTIONS_SCHEMA: dict[str, pl.DataType]
    FRAMES_SCHEMA: dict[str, pl.DataType]
    SCENES_SCHEMA: dict[str, pl.DataType]
    SEGMENTS_SCHEMA: dict[str, pl.DataType]

__all__ = [
    "ANALYSIS_SCHEMA",
    "COLUMN_KINDS",
    "DETECTIONS_SCHEMA",
    "FRAMES_SCHEMA",
    "KEEP_REASONS",
    "SCENES_SCHEMA",
    "SEGMENTS_SCHEMA",
    "KeepReason",
    "polars_schema",
]


class KeepReason(StrEnum):
    """Why a frame was kept; a frame can have several reasons. The frames table's
    ``reasons`` column holds their values (the rules live in :mod:`framesift.select`)."""

    INTERVAL = "interval"
    KEYFRAME = "keyframe"
    SCENE_START = "scene_start"
    REPRESENTATIVE = "representative"


KEEP_REASONS: tuple[str, ...] = tuple(reason.value for reason in KeepReason)
"""The values of :class:`KeepReason`, in the order a row lists them."""

_SCHEMA_TABLES: dict[str, str] = {
    "ANALYSIS_SCHEMA": "analysis",
    "DETECTIONS_SCHEMA": "detections",
    "FRAMES_SCHEMA": "frames",
    "SCENES_SCHEMA": "scenes",
    "SEGMENTS_SCHEMA": "segments",
}


def __getattr__(name: str) -> dict[str, pl.DataType]:
    """The table schemas, built (and kept in the module) the first time one is asked for."""
    table = _SCHEMA_TABLES.get(name)
    if table is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    schema = polars_schema(COLUMN_KINDS[table])
    globals()[name] = schema
    return schema


def polars_schema(kinds: dict[str, str]) -> dict[str, pl.DataType]:
    """The polars types of columns of the kinds of :data:`COLUMN_KINDS`."""
    import polars as pl

    scalars: dict[str, pl.DataType] = {
        "bool": pl.Boolean(),
        "i32": pl.Int32(),
        "i64": pl.Int64(),
        "u64": pl.UInt64(),
        "f32": pl.Float32(),
        "f64": pl.Float64(),
        "str": pl.String(),
    }

    def polars_type(kind: str) -> pl.DataType:
        if kind.startswith("list["):
            return pl.List(scalars[kind[5:-1]])
        return scalars[kind]

    return {name: polars_type(kind) for name, kind in kinds.items()}


def _column_kinds() -> dict[str, dict[str, str]]:
    """Each table's columns and their kinds."""
    tables: dict[str, dict[str, str]] = {}
    tables["frames"] = {
        "frame_index": "i64",  # position in presentation order among decoded frames
        "time_s": "f64",  # pts x time_base, start time kept
        "pts": "i64",
        "keyframe": "bool",
        "scene_index": "i32",
        "reasons": "list[str]",  # subset of KEEP_REASONS
        "phash": "u64",  # 64-bit perceptual hash (DCT), see framesift.dedup
        "width": "i32",  # display size (non-square pixels, rotation applied), in pixels
        "height": "i32",
        "thumbnail_uri": "str",  # None when thumbnails are off
        "frame_uri": "str",  # full-resolution image, None unless asked for
        "thumbnail_bytes": "i64",
        # Scene starts: frames passed over from the scene's first frame because they showed
        # nothing (black, blank, fading in); 0 when the first frame itself is shown. Null on
        # other frames, and in catalogs written before this column.
        "blank_frames_skipped": "i32",
    }

    tables["scenes"] = {
        "scene_index": "i32",
        "start_s": "f64",
        "end_s": "f64",  # time of the first frame after the scene (or the stream's end)
        "start_frame": "i64",
        "end_frame": "i64",  # exclusive
        "score": "f32",  # detector score at the cut that opened the scene (0 for the first)
        # How the scene starts, with SamplingSpec.transitions on (null otherwise, and for the
        # first scene): cut, dissolve or fade, from start_frame to transition_end_frame, the
        # first frame of the new shot's clean picture (== start_frame for a cut).
        "transition": "str",
        "transition_end_frame": "i64",
        "transition_end_s": "f64",
    }

    tables["analysis"] = {
        "frame_index": "i64",
        "time_s": "f64",
        "pts": "i64",
        "keyframe": "bool",
        "score": "f32",  # the detector's per-frame score (content_val, intensity, ...)
        "luma": "f32",  # mean luma 0-255 (BT.601) of the analysis image
        "phash": "u64",
        # standard deviation of that luma: under 12 the frame shows nothing (black, blank,
        # fading in; framesift.select.shows_picture); null in catalogs written before it
        "contrast": "f32",
    }

    # One timed text of a video (:class:`framesift.text.TextSegment`), with its video's id.
    tables["segments"] = {
        "video_id": "str",
        "source": "str",  # subtitles, speech, ocr
        "start_s": "f64",
        "end_s": "f64",
        "text": "str",
        "confidence": "f32",  # 0 to 1, None when the source gives none
        "language": "str",  # BCP 47 / ISO 639 code, None when unknown
    }

    # One result of a frame analyzer on a kept frame
    # (:class:`framesift.analyzers.Detection`); the catalog adds the video's id.
    tables["detections"] = {
        "frame_index": "i64",  # the kept frame (frames.frame_index)
        "time_s": "f64",  # its time, as in frames
        "analyzer": "str",  # faces, onnx
        "label": "str",  # face; a class name; "embedding"
        "score": "f32",  # 0 to 1
        "x_px": "f32",  # box in display pixels of the frame (frames.width x height),
        "y_px": "f32",  # left, top, width, height; None when the result has no box
        "w_px": "f32",
        "h_px": "f32",
        "extra": "str",  # JSON: the analyzer's own details (a face's five landmarks ...)
        "embedding": "list[f32]",  # a vector, for analyzers that give one
    }
    return tables


COLUMN_KINDS: dict[str, dict[str, str]] = _column_kinds()
"""Each table's columns (frames, scenes, analysis, segments, detections) and their kinds:
``bool i32 i64 u64 f32 f64 str`` and lists of them (``list[str]``). The polars schemas
(``FRAMES_SCHEMA`` ...) and the Parquet types of :mod:`framesift.parquet` are made from
them."""
