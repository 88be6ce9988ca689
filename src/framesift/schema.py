"""Column schemas shared by the sampling engine and the catalog.

One place defines what a frame row, a scene row and a per-frame analysis row hold, so that
``sample_video`` results, the Parquet parts of the catalog and the notebook tools agree.
Times are seconds from the stream's pts x time_base (``time_s``), never frame numbers.
The catalog adds a leading ``video_id`` column to each table.

The ``*_SCHEMA`` dicts hold polars types, so they are built on first use (start-up: a
sampling pass imports polars only for its tables at the end, see :mod:`framesift.later`).
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
    "DETECTIONS_SCHEMA",
    "FRAMES_SCHEMA",
    "KEEP_REASONS",
    "SCENES_SCHEMA",
    "SEGMENTS_SCHEMA",
    "KeepReason",
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

_TABLES = frozenset(
    {"ANALYSIS_SCHEMA", "DETECTIONS_SCHEMA", "FRAMES_SCHEMA", "SCENES_SCHEMA", "SEGMENTS_SCHEMA"}
)


def __getattr__(name: str) -> dict[str, pl.DataType]:
    """The table schemas, built (and kept in the module) the first time one is asked for."""
    if name not in _TABLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    tables = _table_schemas()
    globals().update(tables)
    return tables[name]


def _table_schemas() -> dict[str, dict[str, pl.DataType]]:
    import polars as pl

    tables: dict[str, dict[str, pl.DataType]] = {}
    tables["FRAMES_SCHEMA"] = {
        "frame_index": pl.Int64(),  # position in presentation order among decoded frames
        "time_s": pl.Float64(),  # pts x time_base, start time kept
        "pts": pl.Int64(),
        "keyframe": pl.Boolean(),
        "scene_index": pl.Int32(),
        "reasons": pl.List(pl.String()),  # subset of KEEP_REASONS
        "phash": pl.UInt64(),  # 64-bit perceptual hash (DCT), see framesift.dedup
        "width": pl.Int32(),  # display size (non-square pixels, rotation applied), in pixels
        "height": pl.Int32(),
        "thumbnail_uri": pl.String(),  # None when thumbnails are off
        "frame_uri": pl.String(),  # full-resolution image, None unless asked for
        "thumbnail_bytes": pl.Int64(),
        # Scene starts: frames passed over from the scene's first frame because they showed
        # nothing (black, blank, fading in); 0 when the first frame itself is shown. Null on
        # other frames, and in catalogs written before this column.
        "blank_frames_skipped": pl.Int32(),
    }

    tables["SCENES_SCHEMA"] = {
        "scene_index": pl.Int32(),
        "start_s": pl.Float64(),
        "end_s": pl.Float64(),  # time of the first frame after the scene (or the stream's end)
        "start_frame": pl.Int64(),
        "end_frame": pl.Int64(),  # exclusive
        "score": pl.Float32(),  # detector score at the cut that opened the scene (0 for the first)
        # How the scene starts, with SamplingSpec.transitions on (null otherwise, and for the
        # first scene): cut, dissolve or fade, from start_frame to transition_end_frame, the
        # first frame of the new shot's clean picture (== start_frame for a cut).
        "transition": pl.String(),
        "transition_end_frame": pl.Int64(),
        "transition_end_s": pl.Float64(),
    }

    tables["ANALYSIS_SCHEMA"] = {
        "frame_index": pl.Int64(),
        "time_s": pl.Float64(),
        "pts": pl.Int64(),
        "keyframe": pl.Boolean(),
        "score": pl.Float32(),  # the detector's per-frame score (content_val, intensity, ...)
        "luma": pl.Float32(),  # mean luma 0-255 (BT.601) of the analysis image
        "phash": pl.UInt64(),
        # standard deviation of that luma: under 12 the frame shows nothing (black, blank,
        # fading in; framesift.select.shows_picture); null in catalogs written before it
        "contrast": pl.Float32(),
    }

    # One timed text of a video (:class:`framesift.text.TextSegment`), with its video's id.
    tables["SEGMENTS_SCHEMA"] = {
        "video_id": pl.String(),
        "source": pl.String(),  # subtitles, speech, ocr
        "start_s": pl.Float64(),
        "end_s": pl.Float64(),
        "text": pl.String(),
        "confidence": pl.Float32(),  # 0 to 1, None when the source gives none
        "language": pl.String(),  # BCP 47 / ISO 639 code, None when unknown
    }

    # One result of a frame analyzer on a kept frame
    # (:class:`framesift.analyzers.Detection`); the catalog adds the video's id.
    tables["DETECTIONS_SCHEMA"] = {
        "frame_index": pl.Int64(),  # the kept frame (frames.frame_index)
        "time_s": pl.Float64(),  # its time, as in frames
        "analyzer": pl.String(),  # faces, onnx
        "label": pl.String(),  # face; a class name; "embedding"
        "score": pl.Float32(),  # 0 to 1
        "x_px": pl.Float32(),  # box in display pixels of the frame (frames.width x height),
        "y_px": pl.Float32(),  # left, top, width, height; None when the result has no box
        "w_px": pl.Float32(),
        "h_px": pl.Float32(),
        "extra": pl.String(),  # JSON: the analyzer's own details (a face's five landmarks ...)
        "embedding": pl.List(pl.Float32()),  # a vector, for analyzers that give one
    }
    return tables
