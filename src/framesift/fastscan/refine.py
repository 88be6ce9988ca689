"""Refinement: each cut found after skipped pictures placed at its exact frame, or dropped;
then the kept frames as the refined scenes have them.

A cut found after skipped pictures is placed by decoding that stretch in full, unless it
falls on an I picture (encoders put them at cuts); a candidate whose exact scores never
reach the threshold is dropped, and a frame kept only as that candidate's scene start
goes with it.
"""

from __future__ import annotations

import bisect
import logging
from typing import Any

from framesift.analysis import Selection
from framesift.decode import VideoDecoder
from framesift.fastscan.join import JoinedRanges
from framesift.fastscan.parallel import chunks, run_parallel
from framesift.fastscan.setup import ScanSetup
from framesift.images import AnalysisRenderer
from framesift.scenes import SceneCutDetector
from framesift.schema import KeepReason
from framesift.select import EPS_S, FrameRow, drop_scene_start, frame_row

__all__ = ["kept_rows", "refine_scenes"]

logger = logging.getLogger(__name__)


def refine_scenes(
    setup: ScanSetup,
    scene_rows: list[dict[str, Any]],
    joined: JoinedRanges,
    workers: int,
    threads: int,
) -> list[dict[str, Any]]:
    """The scenes with each cut found after skipped pictures placed exactly (or dropped).

    A cut on an I picture, or with nothing skipped before it, is kept as it is. Refined
    rows keep the analysed frame they were found at as ``source_frame``.
    """
    index, times, intra = joined.index, joined.times, joined.intra
    position_of = {i: n for n, i in enumerate(index)}
    jobs: list[tuple[int, float, float]] = []  # (row, after_s, until_s)
    for r, row in enumerate(scene_rows[1:], start=1):
        n = position_of.get(row["start_frame"])
        if n is None or n == 0 or intra[n] or index[n] - index[n - 1] < 2:
            continue
        jobs.append((r, times[n - 1], times[n]))
    found: dict[int, tuple[float, float] | None] = {}
    parts = chunks(jobs, workers)

    def run(chunk: list[tuple[int, float, float]]) -> None:
        analysis = setup.renderers().analysis
        with setup.decoder(threads) as decoder:
            for r, after_s, until_s in chunk:
                found[r] = _exact_cut(setup, decoder, analysis, after_s, until_s)

    run_parallel(run, parts)
    return _renumbered(_placed(setup, scene_rows, found))


def _placed(
    setup: ScanSetup,
    scene_rows: list[dict[str, Any]],
    found: dict[int, tuple[float, float] | None],
) -> list[dict[str, Any]]:
    keep: list[dict[str, Any]] = []
    for r, row in enumerate(scene_rows):
        if r not in found:
            keep.append(row)
            continue
        exact = found[r]
        if exact is None:
            logger.debug("candidate cut at %.3f s not confirmed", row["start_s"])
            continue
        time_s, score = exact
        shift = round((time_s - row["start_s"]) * setup.fps)
        keep.append(
            {
                **row,
                "start_s": time_s,
                "start_frame": row["start_frame"] + shift,
                "score": score,
                "source_frame": row["start_frame"],
            }
        )
    if keep and scene_rows:
        keep[-1]["end_s"] = scene_rows[-1]["end_s"]
        keep[-1]["end_frame"] = scene_rows[-1]["end_frame"]
    return keep


def _renumbered(keep: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for n, row in enumerate(keep):
        row["scene_index"] = n
        if n + 1 < len(keep):
            row["end_s"] = keep[n + 1]["start_s"]
            row["end_frame"] = keep[n + 1]["start_frame"]
    return keep


def _exact_cut(
    setup: ScanSetup,
    decoder: VideoDecoder,
    analysis: AnalysisRenderer,
    after_s: float,
    until_s: float,
) -> tuple[float, float] | None:
    """(time, score) of the highest-scoring frame in (after_s, until_s], fully decoded;
    None when no frame there reaches the threshold."""
    scorer = SceneCutDetector.from_spec(setup.spec, setup.fps, min_scene_len_frames=0)
    best: tuple[float, float] | None = None
    stretch = decoder.frames_from(
        after_s, references_only_before=True, from_start=not setup.seekable
    )
    for number, decoded in enumerate(stretch):
        if decoded.time_s > until_s + EPS_S:
            break
        score, _ = scorer.push(number, analysis.render(decoded.frame)[0])
        if decoded.time_s > after_s + EPS_S and (best is None or score > best[1]):
            best = (decoded.time_s, score)
    if best is None or best[1] < (setup.spec.effective_threshold or 0.0):
        return None
    return best


def kept_rows(
    setup: ScanSetup,
    selection: Selection,
    scene_rows: list[dict[str, Any]],
    joined: JoinedRanges,
) -> list[FrameRow]:
    """The frames table of the selection, scenes as refined: a scene start whose cut was
    not confirmed loses that reason (and the frame, when it had no other)."""
    starts = [row["start_s"] for row in scene_rows]
    confirmed = {row["start_frame"] for row in scene_rows} | {
        row["source_frame"] for row in scene_rows if "source_frame" in row
    }
    position_of = {i: n for n, i in enumerate(joined.index)}
    keyframes = joined.analysis["keyframe"].to_list()
    video = setup.media.video
    rows: list[FrameRow] = []
    for frame in selection.frames.iter_rows(named=True):
        reasons = list(frame["reasons"])
        if frame["frame_index"] not in confirmed:
            drop_scene_start(reasons)  # its cut was not confirmed by the refinement
            if not reasons:
                continue
        n = position_of[frame["frame_index"]]
        rows.append(
            frame_row(
                frame_index=frame["frame_index"],
                time_s=frame["time_s"],
                pts=joined.pts[n],
                keyframe=keyframes[n],
                scene_index=max(0, bisect.bisect_right(starts, frame["time_s"] + EPS_S) - 1),
                reasons=reasons,
                phash=frame["phash"],
                width=video.width,
                height=video.height,
                blank_frames_skipped=(
                    frame["blank_frames_skipped"] if KeepReason.SCENE_START in reasons else None
                ),
            )
        )
    return rows
