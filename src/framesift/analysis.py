"""Re-selection from a pass's per-frame analysis, without decoding again.

A sampling pass keeps, for every decoded frame, its time, keyframe flag, detector score,
luma and perceptual hash (``SampleResult.analysis``). ``reselect`` answers "which frames and
scenes would another threshold, interval, dedup setting or k give?" from that table alone,
with the same rules as the pass: the tuning widget runs on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import polars as pl

from framesift.dedup import hamming
from framesift.errors import SettingsError
from framesift.scenes import replay_cuts
from framesift.schema import SCENES_SCHEMA
from framesift.spec import SamplingSpec

__all__ = ["Selection", "reselect"]

SELECTION_SCHEMA: dict[str, pl.DataType] = {
    "frame_index": pl.Int64(),
    "time_s": pl.Float64(),
    "scene_index": pl.Int32(),
    "reasons": pl.List(pl.String()),
    "phash": pl.UInt64(),
}


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
    from framesift.sample import candidate_stride, choose_representatives

    rows = analysis.sort("frame_index")
    index = rows["frame_index"].to_list()
    times = rows["time_s"].to_list()
    hashes = rows["phash"].to_list()
    keyframes = rows["keyframe"].to_list()
    n = len(index)
    if n == 0:
        return Selection(
            pl.DataFrame(schema=SELECTION_SCHEMA), pl.DataFrame(schema=SCENES_SCHEMA), 0
        )
    keyframe_pass = all(keyframes)
    # The detector saw frame indices (positions estimated from time where the decoder
    # skipped frames), so the replay uses the same numbers.
    numbers = index
    starts = {0}
    if spec.detector is not None:
        cut_numbers = replay_cuts(
            spec.detector,
            spec.threshold,
            spec.min_scene_len_frames,
            numbers,
            rows["score"].to_list(),
            fps,
        )
        position = {num: i for i, num in enumerate(numbers)}
        for cut in cut_numbers:
            # A cut names a frame number; place it at the first frame at or after it.
            i = position.get(cut)
            if i is None:
                i = next((j for j, num in enumerate(numbers) if num >= cut), None)
            if i is not None:
                starts.add(i)
    scene_of = [0] * n
    scene = -1
    for i in range(n):
        if i in starts:
            scene += 1
        scene_of[i] = scene

    kept: dict[int, list[str]] = {}
    next_target = times[0]
    last_hash: int | None = None
    duplicates = 0
    for i in range(n):
        reasons: list[str] = []
        if spec.interval_s is not None and times[i] >= next_target - 1e-6:
            reasons.append("interval")
            steps = math.floor((times[i] - times[0]) / spec.interval_s + 1e-6) + 1
            next_target = times[0] + steps * spec.interval_s
        if keyframe_pass and spec.keyframes:
            reasons.append("keyframe")
        is_start = spec.detector is not None and i in starts
        if is_start:
            reasons.append("scene_start")
        if not reasons:
            continue
        if (
            spec.dedup_bits is not None
            and not is_start
            and last_hash is not None
            and hamming(hashes[i], last_hash) <= spec.dedup_bits
        ):
            duplicates += 1
            continue
        kept[i] = reasons
        last_hash = hashes[i]

    scene_rows: list[dict[str, Any]] = []
    ordered_starts = sorted(starts)
    scores = rows["score"].to_list()
    end_time = times[-1] + ((times[-1] - times[-2]) if n >= 2 else 1.0 / fps)
    for s, first in enumerate(ordered_starts):
        last_excl = ordered_starts[s + 1] if s + 1 < len(ordered_starts) else n
        end_s = times[last_excl] if last_excl < n else end_time
        scene_rows.append(
            {
                "scene_index": s,
                "start_s": times[first],
                "end_s": end_s,
                "start_frame": index[first],
                "end_frame": index[last_excl] if last_excl < n else index[-1] + 1,
                "score": scores[first] if s > 0 else 0.0,
            }
        )
        k = spec.representatives_per_scene
        if k:
            stride = candidate_stride(last_excl - first, k)
            grid = list(range(first, last_excl, stride))
            for pos in choose_representatives([times[g] for g in grid], times[first], end_s, k):
                i = grid[pos]
                kept.setdefault(i, [])
                if "representative" not in kept[i]:
                    kept[i].append("representative")

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
