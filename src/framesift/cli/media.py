"""``framesift scenes|sample|estimate``: one video or a collection, no catalog
(``probe``: :mod:`framesift.cli.probe`).

Each command parses, calls the library (:func:`~framesift.sample.sample_video`,
:func:`~framesift.output.write_sample`, :func:`~framesift.batch.estimate_ingest`) and
presents what it returns.
"""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from framesift.cli.arguments import (
    add_decode_arguments,
    add_detection_arguments,
    add_format_arguments,
    add_sampling_arguments,
    add_storage_option,
    analyzer_spec_from_args,
    detection_spec_from_args,
    number_in,
    spec_from_args,
    storage_options_from_args,
)
from framesift.cli.command import EXIT_FAILED, EXIT_OK, command
from framesift.cli.ingest import add_text_arguments, text_from_args
from framesift.cli.output import echo, echo_json, echo_text, fail
from framesift.cli.process import importing
from framesift.cli.progress_line import ProgressLine, add_progress_argument
from framesift.later import LATER_FOR_SAMPLING, imported_in_background
from framesift.plural import counted
from framesift.progress import SAMPLE, for_stage

if TYPE_CHECKING:
    import polars as pl

__all__ = ["register", "run_estimate", "run_sample", "run_scenes"]


def _time_decimals(time_base: str) -> int:
    """Decimals that show every tick of a stream with this time base (``1/12800``: 5)."""
    try:
        ticks = Fraction(time_base).denominator
    except (ValueError, ZeroDivisionError):
        return 6
    return min(9, max(0, math.ceil(math.log10(ticks))))


@command("scenes")
def run_scenes(args: argparse.Namespace) -> int:
    spec = detection_spec_from_args(args)
    line = ProgressLine(args.progress)
    try:
        # start-up: PySceneDetect loads for the commands that detect scenes only (the stack
        # as framesift.cli.process says), polars in the background once the video decodes
        # (framesift.later: after the stack and the probe, which would share the interpreter
        # lock with it)
        with importing():
            from framesift.sample import sample_video
        with imported_in_background(LATER_FOR_SAMPLING, start=False) as later:
            result = sample_video(
                args.video,
                spec,
                storage_options=storage_options_from_args(args),
                progress=later.started_by(for_stage(line.report, args.video, SAMPLE)),
            )
    finally:
        line.clear()
    import polars as pl

    # As in the library and the catalog: scenes from 0, end_frame exclusive; times to the
    # stream's own precision (its time base), not to the last bit of a float.
    decimals = _time_decimals(result.media.video.time_base)
    scenes = result.scenes.select(
        "scene_index",
        pl.col("start_s").round(decimals),
        pl.col("end_s").round(decimals),
        "start_frame",
        "end_frame",
        "score",
        *_transition_columns(spec.transitions, decimals),
    )
    if args.json:
        echo_json(scenes.to_dicts())
    elif args.csv:
        echo_text(scenes.write_csv())
    else:
        echo(f"{counted(len(scenes), 'scene')} in {result.url} ({spec.detector}, threshold "
             f"{spec.effective_threshold})")  # fmt: skip
        for row in scenes.iter_rows(named=True):
            echo(
                f"  {row['scene_index']:4d}  {row['start_s']:10.3f} s - {row['end_s']:10.3f} s"
                f"  frames {row['start_frame']} to {row['end_frame'] - 1}"
                + (f"  ({row['transition']})" if row.get("transition") else "")
            )
    return EXIT_OK


def _transition_columns(on: bool, decimals: int) -> list[str | pl.Expr]:
    """The scenes' transition columns, listed when the transitions mode ran."""
    if not on:
        return []
    import polars as pl  # start-up: polars loads for the commands that use it

    return ["transition", "transition_end_frame", pl.col("transition_end_s").round(decimals)]


@command("sample")
def run_sample(args: argparse.Namespace) -> int:
    line = ProgressLine(args.progress)
    try:
        with importing():  # the sampling stack (framesift.cli.process)
            from framesift.output import loads_polars, write_sample
        spec, analyzers = spec_from_args(args), analyzer_spec_from_args(args)
        # start-up: the pass's tables are written without polars; where the pass needs it
        # (a fast scan, analyzers), it loads in the background once the video decodes
        later_modules = LATER_FOR_SAMPLING if loads_polars(spec, analyzers) else ()
        with imported_in_background(later_modules, start=False) as later:
            result = write_sample(
                args.video,
                args.out,
                spec,
                storage_options=storage_options_from_args(args),
                progress=later.started_by(for_stage(line.report, args.video, SAMPLE)),
                analyzers=analyzers,
            )
    finally:
        line.clear()
    s = result.stats
    approximate = " (approximate: found on keyframes only)" if s.scenes_approximate else ""
    echo(
        f"{result.url}: kept {s.frames_kept} of {s.frames_decoded} frames "
        f"({s.duplicates_skipped} near-duplicates skipped), {counted(s.scenes, 'scene')}"
        f"{approximate}, "
        f"{s.damaged_packets} damaged packets, {s.seconds:.2f} s ({s.mode}) -> {args.out}"
    )
    return EXIT_OK


@command("estimate")
def run_estimate(args: argparse.Namespace) -> int:
    # start-up: the calibration ingests into a catalog, so DuckDB loads for this command
    from framesift.batch import estimate_ingest

    estimate = estimate_ingest(
        args.sources,
        spec_from_args(args),
        text=text_from_args(args),
        storage_options=storage_options_from_args(args),
        calibrate_videos=args.calibrate_videos,
        calibrate_s=args.calibrate_s,
        analyzers=analyzer_spec_from_args(args),
    )
    if not estimate.videos.height:
        first = estimate.failed[0][1] if estimate.failed else "nothing readable"
        fail("estimate", f"no readable video among {len(estimate.failed)} sources ({first})")
        return EXIT_FAILED
    if args.json:
        echo_json(
            {
                "totals": estimate.totals,
                "ranges": {k: list(v) for k, v in estimate.ranges.items()},
                "videos": estimate.videos.to_dicts(),
                "failed": [{"source_url": u, "error": e} for u, e in estimate.failed],
                "estimate_cpu_seconds": estimate.cpu_s,
            }
        )
        return EXIT_OK
    for row in estimate.videos.iter_rows(named=True):
        megabytes = (row["thumbnail_bytes"] + row["table_bytes"] + row["overhead_bytes"]) / 1e6
        echo(
            f"  {row['duration_s']:8.1f} s  {row['width']}x{row['height']}  "
            f"~{row['kept_frames']:6d} frames  ~{megabytes:7.2f} MB"
            f"  ~{row['seconds']:7.1f} s ({row['cpu_seconds']:.1f} CPU s)  {row['source_url']}"
        )
    for url, error in estimate.failed:
        echo(f"  UNREADABLE  {url}: {error}")
    calibrated = ", ".join(f"{c.video_s:.0f} s of {c.source_url}" for c in estimate.calibration)
    echo(
        f"{estimate}\nmeasured on: {calibrated or 'nothing readable'} "
        f"(the estimate itself: {estimate.cpu_s:.1f} CPU seconds)"
    )
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``scenes``, ``sample`` and ``estimate`` to the command's subparsers."""
    p = subparsers.add_parser("scenes", help="print the scene cut list of a video")
    p.add_argument("video", metavar="VIDEO", help="a video file or fsspec URL")
    add_detection_arguments(p, can_be_off=False)
    add_decode_arguments(p)
    add_format_arguments(
        p, json_help="print the scenes as JSON", csv_help="print the scenes as CSV"
    )
    add_storage_option(p)
    add_progress_argument(p)
    p.set_defaults(func=run_scenes)

    p = subparsers.add_parser("sample", help="write thumbnails and a Parquet of kept frames")
    p.add_argument("video", metavar="VIDEO", help="a video file or fsspec URL")
    p.add_argument("--out", required=True, metavar="URL", help="folder or URL to write to")
    add_sampling_arguments(p)
    add_storage_option(p)
    add_progress_argument(p)
    p.set_defaults(func=run_sample)

    p = subparsers.add_parser(
        "estimate", help="estimate catalog size and sampling time for videos, before running"
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="files, folders, globs, URLs")
    add_sampling_arguments(p)
    add_text_arguments(p)
    _add_calibration_arguments(p)
    add_format_arguments(p, json_help="print the totals and each video's estimate as JSON")
    add_storage_option(p)
    p.set_defaults(func=run_estimate)


def _add_calibration_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("calibration")
    group.add_argument(
        "--calibrate-s",
        type=number_in(float, 0.1),
        default=20.0,
        metavar="SECONDS",
        help="seconds sampled at the start of each calibration video (default 20)",
    )
    group.add_argument(
        "--calibrate-videos",
        type=number_in(int, 1),
        default=2,
        metavar="N",
        help="videos sampled to calibrate the estimate (default 2)",
    )
