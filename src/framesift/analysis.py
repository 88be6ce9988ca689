"""The per-frame analysis table: how a pass records it, and re-selection from it.

A sampling pass keeps, for every decoded frame, its time, keyframe flag, detector score,
luma and perceptual hash (``SampleResult.analysis``, :data:`~framesift.schema.ANALYSIS_SCHEMA`),
gathered in :class:`AnalysisColumns` as it goes. ``reselect`` answers "which frames and
scenes would another threshold, interval, dedup setting or k give?" from that table alone,
with the pass's own rules (:mod:`framesift.select`): the tuning widget runs on it, and so
does the fast scan once its segments are joined.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import polars as pl

from framesift.errors import SettingsError
from framesift.scenes import replay_cuts
from framesift.schema import ANALYSIS_SCHEMA, SCENES_SCHEMA
from framesift.select import (
    DedupGate,
    IntervalClock,
    SceneRow,
    add_representative,
    candidate_stride,
    choose_representatives,
    keep_reasons,
    scene_row,
    stream_end_s,
)
from framesift.spec import SamplingSpec

__all__ = ["SELECTION_SCHEMA", "AnalysisColumns", "Selection", "reselect"]

SELECTION_SCHEMA: dict[str, pl.DataType] = {
    "frame_index": pl.Int64(),
    "time_s": pl.Float64(),
    "scene_index": pl.Int32(),
    "reasons": pl.List(pl.String()),
    "phash": pl.UInt64(),
}


class AnalysisColumns:
    """The analysis table's columns as a pass fills them: a few tens of bytes per frame
    in typed arrays, made a DataFrame once at the end."""

    __slots__ = ("index", "keyframe", "luma", "phash", "pts", "score", "time_s")

    def __init__(self) -> None:
        self.index = array("q")
        self.time_s = array("d")
        self.pts = array("q")
        self.keyframe = array("b")
        self.score = array("f")
        self.luma = array("f")
        self.phash = array("Q")

    def __len__(self) -> int:
        return len(self.index)

    def add(
        self,
        index: int,
        time_s: float,
        pts: int,
        keyframe: bool,
        score: float,
        luma: float,
        phash: int,
    ) -> None:
        """One decoded frame's analysis."""
        self.index.append(index)
        self.time_s.append(time_s)
        self.pts.append(pts)
        self.keyframe.append(1 if keyframe else 0)
        self.score.append(score)
        self.luma.append(luma)
        self.phash.append(phash)

    def to_frame(self) -> pl.DataFrame:
        """The columns as an analysis table (ANALYSIS_SCHEMA)."""
        return pl.DataFrame(
            {
                "frame_index": np.frombuffer(self.index, dtype=np.int64),
                "time_s": np.frombuffer(self.time_s, dtype=np.float64),
                "pts": np.frombuffer(self.pts, dtype=np.int64),
                "keyframe": np.frombuffer(self.keyframe, dtype=np.int8).astype(bool),
                "score": np.frombuffer(self.score, dtype=np.float32),
                "luma": np.frombuffer(self.luma, dtype=np.float32),
                "phash": np.frombuffer(self.phash, dtype=np.uint64),
            },
            schema=ANALYSIS_SCHEMA,
        )


@dataclass(frozen=True)
class Selection:
    frames: pl.DataFrame  # frame_index, time_s, scene_index, reasons, phash
    scenes: pl.DataFrame  # as SampleResult.scenes
    duplicates_skipped: int


def reselect(
    analysis: pl.DataFrame,
    spec: SamplingSpec,
    *,
    detector: str | None,
    fps: float,
) -> Selection:
    """Which frames ``spec`` keeps, given the analysis of a pass made with ``detector``.

    The detector (content, adaptive, threshold, hash) cannot change: the scores were
    computed by it. Its threshold and minimum scene length can. The pass must have decoded
    every frame (not a seek-mode pass) for the result to equal a new pass's.
    """
    if spec.detector is not None and spec.detector != detector:
        raise SettingsError(
            f"the analysis holds {detector or 'no'} detector scores; "
            f"re-selecting with detector={spec.detector!r} needs a new pass"
        )
    rows = analysis.sort("frame_index")
    index = rows["frame_index"].to_list()
    times = rows["time_s"].to_list()
    hashes = rows["phash"].to_list()
    if not index:
        return Selection(
            pl.DataFrame(schema=SELECTION_SCHEMA), pl.DataFrame(schema=SCENES_SCHEMA), 0
        )
    scores = rows["score"].to_list()
    starts = _scene_starts(index, scores, spec, fps)
    keyframe_pass = spec.keyframes and all(rows["keyframe"].to_list())
    kept, duplicates = _keep_by_rules(times, hashes, starts, spec, keyframe_pass)
    scene_rows = _scenes(index, times, scores, sorted(starts), spec, fps, kept)
    scene_of = _scene_of(len(index), starts)
    selected = sorted(kept)
    frames = pl.DataFrame(
        {
            "frame_index": [index[i] for i in selected],
            "time_s": [times[i] for i in selected],
            "scene_index": [scene_of[i] for i in selected],
            "reasons": [kept[i] for i in selected],
            "phash": [hashes[i] for i in selected],
        },
        schema=SELECTION_SCHEMA,
    )
    scenes = pl.DataFrame(scene_rows, schema=SCENES_SCHEMA, orient="row")
    return Selection(frames, scenes, duplicates)


def _scene_starts(
    numbers: list[int], scores: list[float], spec: SamplingSpec, fps: float
) -> set[int]:
    """Positions of the first frame of every scene (the first frame always opens one).

    The detector saw frame indices (positions estimated from time where the decoder
    skipped frames), so the replay uses the same numbers.
    """
    starts = {0}
    if spec.detector is None:
        return starts
    cuts = replay_cuts(
        spec.detector, spec.threshold, spec.min_scene_len_frames, numbers, scores, fps
    )
    position = {num: i for i, num in enumerate(numbers)}
    for cut in cuts:
        # A cut names a frame number; place it at the first frame at or after it.
        i = position.get(cut)
        if i is None:
            i = next((j for j, num in enumerate(numbers) if num >= cut), None)
        if i is not None:
            starts.add(i)
    return starts


def _keep_by_rules(
    times: list[float],
    hashes: list[int],
    starts: set[int],
    spec: SamplingSpec,
    keyframe_pass: bool,
) -> tuple[dict[int, list[str]], int]:
    """Frames kept in time order (interval, keyframe, scene start, then the dedup gate):
    their reasons by position, and how many near-duplicates were skipped."""
    clock = IntervalClock(spec.interval_s)
    gate = DedupGate(spec.dedup_bits)
    detecting = spec.detector is not None
    interval_on = spec.interval_s is not None
    kept: dict[int, list[str]] = {}
    for i, time_s in enumerate(times):
        is_start = detecting and i in starts
        reasons = keep_reasons(clock.due(time_s), keyframe_pass, is_start, interval_on=interval_on)
        if reasons and gate.admits(hashes[i], is_start):
            kept[i] = reasons
            gate.record(hashes[i])
    return kept, gate.skipped


def _scenes(
    index: list[int],
    times: list[float],
    scores: list[float],
    ordered_starts: list[int],
    spec: SamplingSpec,
    fps: float,
    kept: dict[int, list[str]],
) -> list[SceneRow]:
    """The scenes table; each scene's representatives are added to ``kept``."""
    n = len(index)
    end_time = stream_end_s(times[-1], times[-2] if n >= 2 else None, fps)
    out: list[SceneRow] = []
    k = spec.representatives_per_scene
    for s, first in enumerate(ordered_starts):
        last_excl = ordered_starts[s + 1] if s + 1 < len(ordered_starts) else n
        end_s = times[last_excl] if last_excl < n else end_time
        out.append(
            scene_row(
                s,
                start_s=times[first],
                end_s=end_s,
                start_frame=index[first],
                end_frame=index[last_excl] if last_excl < n else index[-1] + 1,
                cut_score=scores[first],
            )
        )
        if k:
            grid = list(range(first, last_excl, candidate_stride(last_excl - first, k)))
            for pos in choose_representatives([times[g] for g in grid], times[first], end_s, k):
                add_representative(kept.setdefault(grid[pos], []))
    return out


def _scene_of(n: int, starts: set[int]) -> list[int]:
    scene_of = [0] * n
    scene = -1
    for i in range(n):
        if i in starts:
            scene += 1
        scene_of[i] = scene
    return scene_of
