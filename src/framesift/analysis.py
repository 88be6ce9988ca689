"""The per-frame analysis table: how a pass records it, and re-selection from it.

A sampling pass keeps, for every decoded frame, its time, keyframe flag, detector score,
luma and perceptual hash (``SampleResult.analysis``, :data:`~framesift.schema.ANALYSIS_SCHEMA`),
gathered in :class:`AnalysisColumns` as it goes. ``reselect`` answers "which frames and
scenes would another threshold, interval, dedup setting or k give?" from that table alone,
with the pass's own rules (:mod:`framesift.select`): the tuning widget runs on it, and so
does the fast scan once its segments are joined. ``explain_cuts`` says why frames whose
score reached the threshold opened no scene (what the tuner shows beside its counts).
"""

from __future__ import annotations

import functools
from array import array
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from framesift.errors import SettingsError
from framesift.scenes import replay_cuts
from framesift.select import (
    DedupGate,
    IntervalClock,
    SceneRow,
    SceneStartChooser,
    StartChoice,
    add_representative,
    add_scene_start,
    candidate_stride,
    choose_representatives,
    keep_reasons,
    lookahead_frames,
    scene_row,
    stream_end_s,
)
from framesift.spec import SamplingSpec

if TYPE_CHECKING:
    import polars as pl

    SELECTION_SCHEMA: dict[str, pl.DataType]

__all__ = [
    "SELECTION_SCHEMA",
    "AnalysisColumns",
    "CutReport",
    "MissedCut",
    "Selection",
    "explain_cuts",
    "reselect",
]

# Detectors whose cuts pass PySceneDetect's flash filter (merge mode) on "score >= threshold".
_FLASH_FILTERED = ("content", "hash")


def __getattr__(name: str) -> dict[str, pl.DataType]:
    """``SELECTION_SCHEMA``, built on first use: it holds polars types (start-up: a pass
    records its analysis without polars, which loads for the tables at its end)."""
    if name != "SELECTION_SCHEMA":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _selection_schema()


@functools.cache
def _selection_schema() -> dict[str, pl.DataType]:
    import polars as pl

    return {
        "frame_index": pl.Int64(),
        "time_s": pl.Float64(),
        "scene_index": pl.Int32(),
        "reasons": pl.List(pl.String()),
        "phash": pl.UInt64(),
        "blank_frames_skipped": pl.Int32(),
    }


class AnalysisColumns:
    """The analysis table's columns as a pass fills them: a few tens of bytes per frame
    in typed arrays, made a DataFrame once at the end."""

    __slots__ = ("contrast", "index", "keyframe", "luma", "phash", "pts", "score", "time_s")

    def __init__(self) -> None:
        self.index = array("q")
        self.time_s = array("d")
        self.pts = array("q")
        self.keyframe = array("b")
        self.score = array("f")
        self.luma = array("f")
        self.phash = array("Q")
        self.contrast = array("f")

    def __len__(self) -> int:
        return len(self.index)

    def add(
        self,
        index: int,
        time_s: float,
        pts: int,
        keyframe: bool,
        score: float,
        phash: int,
        luma: float,
        contrast: float | None = None,
    ) -> None:
        """One decoded frame's analysis (``contrast``: its gray-level spread, None when
        not measured)."""
        self.index.append(index)
        self.time_s.append(time_s)
        self.pts.append(pts)
        self.keyframe.append(1 if keyframe else 0)
        self.score.append(score)
        self.luma.append(luma)
        self.phash.append(phash)
        self.contrast.append(float("nan") if contrast is None else contrast)

    def arrays(self) -> dict[str, NDArray[Any]]:
        """The columns as numpy arrays over the recorded ones (no copy but the keyframe
        flags; a contrast not measured is NaN)."""
        return {
            "frame_index": np.frombuffer(self.index, dtype=np.int64),
            "time_s": np.frombuffer(self.time_s, dtype=np.float64),
            "pts": np.frombuffer(self.pts, dtype=np.int64),
            "keyframe": np.frombuffer(self.keyframe, dtype=np.int8).astype(bool),
            "score": np.frombuffer(self.score, dtype=np.float32),
            "luma": np.frombuffer(self.luma, dtype=np.float32),
            "phash": np.frombuffer(self.phash, dtype=np.uint64),
            "contrast": np.frombuffer(self.contrast, dtype=np.float32),
        }

    def to_frame(self) -> pl.DataFrame:
        """The columns as an analysis table (ANALYSIS_SCHEMA; contrast not measured: null)."""
        import polars as pl

        from framesift.schema import ANALYSIS_SCHEMA

        return pl.DataFrame(self.arrays(), schema=ANALYSIS_SCHEMA).with_columns(
            pl.col("contrast").fill_nan(None)
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
    import polars as pl

    from framesift.schema import SCENES_SCHEMA

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
            pl.DataFrame(schema=_selection_schema()), pl.DataFrame(schema=SCENES_SCHEMA), 0
        )
    scores = rows["score"].to_list()
    starts = _scene_starts(index, scores, spec, fps)
    keyframe_pass = spec.keyframes and all(rows["keyframe"].to_list())
    # Older analysis tables have no contrast: every frame then counts as showing a picture.
    contrasts = (
        rows["contrast"].fill_null(255.0).to_list()
        if "contrast" in rows.columns
        else [255.0] * len(index)
    )
    shown = _Shown(index, contrasts, lookahead_frames(fps) if spec.detector else 0)
    skips: dict[int, int] = {}  # scene starts: frames passed over to reach them
    kept, duplicates = _keep_by_rules(times, hashes, starts, spec, keyframe_pass, shown, skips)
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
            "blank_frames_skipped": [skips.get(i) for i in selected],
        },
        schema=_selection_schema(),
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


@dataclass(frozen=True)
class _Shown:
    """What the scene-start choice needs per frame: its number and gray-level spread."""

    numbers: list[int]
    contrasts: list[float]
    lookahead: int


def _keep_by_rules(
    times: list[float],
    hashes: list[int],
    starts: set[int],
    spec: SamplingSpec,
    keyframe_pass: bool,
    shown: _Shown,
    skips: dict[int, int],
) -> tuple[dict[int, list[str]], int]:
    """Frames kept in time order (interval, keyframe, scene start, then the dedup gate):
    their reasons by position, and how many near-duplicates were skipped; ``skips`` gets
    each scene start's count of frames passed over (0 when its first frame shows it).

    A scene start that shows nothing is chosen over the next frames as the streaming pass
    chooses it (:class:`~framesift.select.SceneStartChooser`, decided at the same frame).
    """
    clock = IntervalClock(spec.interval_s)
    gate = DedupGate(spec.dedup_bits)
    detecting = spec.detector is not None
    interval_on = spec.interval_s is not None
    chooser = SceneStartChooser(shown.lookahead)
    first = candidate = -1
    kept: dict[int, list[str]] = {}
    for i, time_s in enumerate(times):
        is_start = False
        if detecting and i in starts:
            if chooser.waiting:
                chosen = _chosen(chooser.close(), first, candidate)
                _mark_start(kept, chosen, hashes, gate)
                skips[chosen] = shown.numbers[chosen] - shown.numbers[first]
            is_start = chooser.open(shown.numbers[i], shown.contrasts[i])
            first, candidate = i, -1
            if is_start:
                skips[i] = 0
        elif chooser.waiting:
            choice = chooser.offer(shown.numbers[i], shown.contrasts[i])
            if chooser.candidate == shown.numbers[i]:
                candidate = i
            if choice != "wait":
                chosen = _chosen(choice, first, candidate)
                skips[chosen] = shown.numbers[chosen] - shown.numbers[first]
                if chosen == i:
                    is_start = True
                else:
                    _mark_start(kept, chosen, hashes, gate)
        reasons = keep_reasons(clock.due(time_s), keyframe_pass, is_start, interval_on=interval_on)
        if reasons and gate.admits(hashes[i], is_start):
            kept[i] = reasons
            gate.record(hashes[i])
    if chooser.waiting:
        chosen = _chosen(chooser.close(), first, candidate)
        _mark_start(kept, chosen, hashes, gate)
        skips[chosen] = shown.numbers[chosen] - shown.numbers[first]
    return kept, gate.skipped


def _chosen(choice: StartChoice, first: int, candidate: int) -> int:
    return candidate if choice == "candidate" and candidate >= 0 else first


def _mark_start(kept: dict[int, list[str]], i: int, hashes: list[int], gate: DedupGate) -> None:
    """Frame ``i`` (already offered) is its scene's start: mark it, or keep it now."""
    if i in kept:
        add_scene_start(kept[i])
    else:
        kept[i] = keep_reasons(False, False, True, interval_on=False)
        gate.record(hashes[i])


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


@dataclass(frozen=True)
class MissedCut:
    """A frame whose score reached the threshold but that opens no scene, and why."""

    frame_index: int
    time_s: float
    score: float
    reason: str


@dataclass(frozen=True)
class CutReport:
    """Why the detector cut where it did: one sentence, and the frames over the threshold
    that opened no scene (highest scores first, at most ``limit`` of them)."""

    summary: str
    missed: tuple[MissedCut, ...]


def explain_cuts(
    analysis: pl.DataFrame,
    spec: SamplingSpec,
    *,
    detector: str | None,
    fps: float,
    limit: int = 5,
) -> CutReport:
    """Why ``spec`` cuts a pass's analysis where it does (see :func:`reselect`).

    The content and hash detectors report a frame whose score reaches the threshold only
    when it comes at least ``min_scene_len_frames`` after the previous frame that reached
    it (the first frame counts as one), and merge a burst of such frames into one cut
    (PySceneDetect's flash filter); the cuts themselves come from PySceneDetect's own
    logic (:func:`reselect`), this only names the rule that held each other frame back.
    """
    if spec.detector is None:
        return CutReport("no scene detector: the video is one scene", ())
    threshold = spec.effective_threshold
    rows = analysis.sort("frame_index")
    numbers = rows["frame_index"].to_list()
    scores, times = rows["score"].to_list(), rows["time_s"].to_list()
    selection = reselect(analysis, spec, detector=detector, fps=fps)
    cuts = set(selection.scenes["start_frame"].to_list()[1:])
    above = [i for i, score in enumerate(scores) if threshold is not None and score >= threshold]
    head = f"{len(cuts)} cuts; {len(above)} of {len(numbers)} frames reach threshold {threshold:g}"
    if spec.detector not in _FLASH_FILTERED:
        return CutReport(
            f"{head}; the {spec.detector} detector decides by its own rules "
            "(PySceneDetect's documentation of it)",
            (),
        )
    min_len = spec.min_scene_len_frames
    missed: list[MissedCut] = []
    last_above = numbers[0] if numbers else 0
    for i in above:
        number = numbers[i]
        if number not in cuts:
            gap = number - last_above
            reason = (
                f"only {gap} frame{'s' * (gap != 1)} after frame {last_above}, which reached "
                "the threshold too: "
                f"a cut needs {min_len} (minimum scene length)"
                if gap < min_len
                else "merged with the frames over the threshold around it into one cut "
                "(PySceneDetect's flash filter)"
            )
            missed.append(MissedCut(number, times[i], scores[i], reason))
        last_above = number
    if numbers and len(above) == len(numbers):
        head += (
            f": every frame does, so none comes {min_len} frames after the previous one "
            "that did, and nothing is cut (raise the threshold)"
        )
    elif missed:
        head += f"; {len(missed)} of them open no scene"
    missed.sort(key=lambda m: -m.score)
    return CutReport(head, tuple(missed[:limit]))
