"""The ``framesift`` command: parses, calls the library, presents. No logic lives here.

Errors framesift raises on purpose print as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

import av
import polars as pl

from framesift import __version__
from framesift.errors import FramesiftError, SettingsError
from framesift.spec import DETECTOR_NAMES, DecodeSpec, ImageSpec, SamplingSpec

__all__ = ["add_sampling_arguments", "main", "parse_storage_options", "spec_from_args"]


class ProgressLine:
    """A self-overwriting status line on stderr while one video is sampled.

    Shown on a terminal (or with ``--progress``); ``--no-progress`` hides it. The sampling
    pass calls it with (seconds of video done, total seconds) a few times a second.
    """

    def __init__(self, enabled: bool | None, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = ""
        self._started = time.monotonic()
        self._width = 0

    def start(self, label: str) -> None:
        self.label = label
        self._started = time.monotonic()

    def __call__(self, done_s: float, total_s: float) -> None:
        if not self.enabled:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        share = f"{100.0 * done_s / total_s:5.1f}% " if total_s > 0 else ""
        line = (
            f"{self.label} {share}{done_s:,.0f}/{total_s:,.0f} s of video, "
            f"{done_s / elapsed:.1f}x realtime"
        )
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def clear(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show progress on stderr (default: when stderr is a terminal)",
    )


def add_sampling_arguments(parser: argparse.ArgumentParser, *, images: bool = True) -> None:
    """The sampling options, with the same names wherever sampling is configured."""
    group = parser.add_argument_group("sampling")
    group.add_argument(
        "--every",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="keep one frame every SECONDS (default 1; 0 turns it off)",
    )
    group.add_argument(
        "--keyframes",
        action="store_true",
        help="keep keyframes only; the decoder skips the rest (fast preview)",
    )
    group.add_argument(
        "--detector",
        default="content",
        choices=[*DETECTOR_NAMES, "none"],
        help="PySceneDetect detector fed by the same pass (default content)",
    )
    group.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="detector threshold (default: PySceneDetect's for the detector)",
    )
    group.add_argument(
        "--min-scene-len",
        type=int,
        default=15,
        metavar="FRAMES",
        help="shortest scene in frames (default 15)",
    )
    group.add_argument(
        "--representatives",
        type=int,
        default=0,
        metavar="K",
        help="keep K frames spread over each scene",
    )
    group.add_argument(
        "--dedup",
        type=int,
        default=None,
        metavar="BITS",
        help="skip frames within BITS (Hamming) of the last kept frame",
    )
    group.add_argument(
        "--analysis-width",
        type=int,
        default=256,
        metavar="PX",
        help="width of the image the detectors see (default 256, as PySceneDetect's CLI)",
    )
    group.add_argument(
        "--fast",
        action="store_true",
        help="scene analysis through decoder shortcuts, refined at cuts",
    )
    group.add_argument(
        "--hwaccel",
        default="auto",
        help="hardware decoder: auto, none, cuda, vaapi, videotoolbox, qsv",
    )
    if images:
        group.add_argument(
            "--thumb-size",
            type=int,
            default=320,
            metavar="PX",
            help="longest side of thumbnails in pixels (default 320)",
        )
        group.add_argument("--thumb-format", default="jpeg", choices=["jpeg", "webp", "png"])
        group.add_argument("--quality", type=int, default=85)
        group.add_argument(
            "--full-frames", action="store_true", help="also write full-resolution frames"
        )


def spec_from_args(args: argparse.Namespace) -> SamplingSpec:
    image = ImageSpec(
        max_side_px=getattr(args, "thumb_size", 320),
        format=getattr(args, "thumb_format", "jpeg"),
        quality=getattr(args, "quality", 85),
        full_frames=getattr(args, "full_frames", False),
    )
    return SamplingSpec(
        interval_s=args.every if args.every else None,
        keyframes=args.keyframes,
        detector=None if args.detector == "none" else args.detector,
        threshold=args.threshold,
        min_scene_len_frames=args.min_scene_len,
        representatives_per_scene=args.representatives,
        dedup_bits=args.dedup,
        analysis_width_px=getattr(args, "analysis_width", 256),
        image=image,
        decode=DecodeSpec(hwaccel=args.hwaccel, fast=args.fast),
    )


def parse_storage_options(pairs: Sequence[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs -> fsspec storage options. Values that parse as JSON are taken
    as such (``anon=true``, ``max_concurrency=4``); dots nest (``client_kwargs.region_name=
    eu-west-1``)."""
    options: dict[str, Any] = {}
    for pair in pairs or ():
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise SettingsError(f"--storage-option {pair!r}: expected KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        target = options
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise SettingsError(f"--storage-option {name}: {parent} is not a group")
        target[leaf] = value
    return options


def _add_storage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage-option",
        action="append",
        metavar="KEY=VALUE",
        help="fsspec storage option (repeatable), e.g. endpoint_url=...",
    )


def _num(value: float | int | None, fmt: str) -> str:
    return "?" if value is None else format(value, fmt)


def _cmd_probe(args: argparse.Namespace) -> int:
    from framesift.probe import probe

    options = parse_storage_options(args.storage_option)
    infos = [probe(url, options, full=args.full).to_dict() for url in args.paths]
    if args.json:
        print(json.dumps(infos if len(infos) > 1 else infos[0], indent=2, default=str))
        return 0
    for info in infos:
        v = info["video"]
        rate = "VFR" if v["vfr"] else "CFR" if v["vfr"] is not None else "rate unknown"
        print(
            f"{info['url']}: {info['container']}, {_num(info['duration_s'], '.2f')} s, "
            f"start {info['start_time_s']:.3f} s"
            + (f", TRUNCATED at byte {info['size_bytes']}" if info["truncated_at_byte"] else "")
        )
        print(
            f"  video: {v['codec']} {v['profile'] or ''} {v['pix_fmt']} {v['bit_depth']}-bit "
            f"{v['width']}x{v['height']} (coded {v['coded_width']}x{v['coded_height']}, "
            f"rotation {v['rotation_deg']}, pixel aspect {v['sample_aspect_ratio']}), "
            f"{_num(v['avg_fps'], '.3f')} fps {rate}, "
            f"{_num(v['frame_count'], 'd')} frames, keyframe every "
            f"{_num(v['keyframe_interval_s'], '.2f')} s"
        )
        for a in info["audio"]:
            print(f"  audio: {a['codec']} {a['language'] or ''} {a['sample_rate']} Hz")
        for s in info["subtitles"]:
            print(f"  subtitles: {s['codec']} {s['language'] or ''}")
        print(f"  measured: {', '.join(info['measured'])}")
    return 0


def _cmd_scenes(args: argparse.Namespace) -> int:
    from framesift.sample import sample_video

    spec = SamplingSpec(
        interval_s=None,
        detector=args.detector,
        threshold=args.threshold,
        min_scene_len_frames=args.min_scene_len,
        decode=DecodeSpec(fast=args.fast, hwaccel=args.hwaccel),
    )
    progress = ProgressLine(args.progress)
    progress.start(args.video)
    try:
        result = sample_video(
            args.video,
            spec,
            storage_options=parse_storage_options(args.storage_option),
            progress=progress,
        )
    finally:
        progress.clear()
    scenes = result.scenes.select(
        pl.col("scene_index") + 1, "start_s", "end_s", "start_frame", "end_frame", "score"
    )
    if args.json:
        print(json.dumps(scenes.to_dicts(), indent=2))
    elif args.csv:
        sys.stdout.write(scenes.write_csv())
    else:
        print(
            f"{len(scenes)} scenes in {result.url} ({args.detector}, threshold "
            f"{spec.effective_threshold})"
        )
        for row in scenes.iter_rows(named=True):
            print(
                f"  {row['scene_index']:4d}  {row['start_s']:10.3f} s - {row['end_s']:10.3f} s"
                f"  frames {row['start_frame']}-{row['end_frame'] - 1}"
            )
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from framesift.output import write_sample

    options = parse_storage_options(args.storage_option)
    progress = ProgressLine(args.progress)
    progress.start(args.video)
    try:
        result = write_sample(
            args.video, args.out, spec_from_args(args), storage_options=options, progress=progress
        )
    finally:
        progress.clear()
    s = result.stats
    print(
        f"{result.url}: kept {s.frames_kept} of {s.frames_decoded} frames "
        f"({s.duplicates_skipped} near-duplicates skipped), {s.scenes} scenes, "
        f"{s.damaged_packets} damaged packets, {s.seconds:.2f} s ({s.mode}) -> {args.out}"
    )
    return 0


def _cmd_estimate(args: argparse.Namespace) -> int:
    from framesift.estimate import estimate_collection

    estimate = estimate_collection(
        args.sources,
        spec_from_args(args),
        storage_options=parse_storage_options(args.storage_option),
        calibrate_videos=args.calibrate_videos,
        calibrate_s=args.calibrate_s,
    )
    if args.json:
        payload = {
            "totals": estimate.totals,
            "videos": estimate.videos.to_dicts(),
            "failed": [{"source_url": u, "error": e} for u, e in estimate.failed],
        }
        print(json.dumps(payload, indent=2))
        return 0
    for row in estimate.videos.iter_rows(named=True):
        megabytes = (row["thumbnail_bytes"] + row["table_bytes"]) / 1e6
        print(
            f"  {row['duration_s']:8.1f} s  {row['width']}x{row['height']}  "
            f"~{row['kept_frames']:6d} frames  ~{megabytes:7.2f} MB"
            f"  ~{row['seconds']:7.1f} s  {row['source_url']}"
        )
    for url, error in estimate.failed:
        print(f"  UNREADABLE  {url}: {error}")
    calibrated = ", ".join(f"{c.video_s:.0f} s of {c.source_url}" for c in estimate.calibration)
    print(f"{estimate}\nmeasured on: {calibrated or 'nothing readable'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="framesift", description=__doc__)
    parser.add_argument("--version", action="version", version=f"framesift {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("probe", help="describe media files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true")
    p.add_argument("--full", action="store_true", help="measure frame count and duration")
    _add_storage_option(p)
    p.set_defaults(func=_cmd_probe)

    p = sub.add_parser("scenes", help="print the scene cut list of a video")
    p.add_argument("video")
    p.add_argument("--detector", default="content", choices=DETECTOR_NAMES)
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--min-scene-len", type=int, default=15, metavar="FRAMES")
    p.add_argument("--fast", action="store_true")
    p.add_argument("--hwaccel", default="auto")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true")
    fmt.add_argument("--csv", action="store_true")
    _add_storage_option(p)
    add_progress_argument(p)
    p.set_defaults(func=_cmd_scenes)

    p = sub.add_parser("sample", help="write thumbnails and a Parquet of kept frames")
    p.add_argument("video")
    p.add_argument("--out", required=True, metavar="URL")
    add_sampling_arguments(p)
    _add_storage_option(p)
    add_progress_argument(p)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "estimate", help="estimate catalog size and sampling time for videos, before running"
    )
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="files, folders, globs, URLs")
    add_sampling_arguments(p)
    p.add_argument(
        "--calibrate-s",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="seconds sampled at the start of each calibration video (default 20)",
    )
    p.add_argument(
        "--calibrate-videos",
        type=int,
        default=2,
        metavar="N",
        help="videos sampled to calibrate the estimate (default 2)",
    )
    p.add_argument("--json", action="store_true")
    _add_storage_option(p)
    p.set_defaults(func=_cmd_estimate)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


def _catalog_commands(sub: Any) -> None:
    from framesift.catalog.cli import register_commands

    register_commands(sub)


_EXTRA_COMMANDS: list[Callable[[Any], None]] = [_catalog_commands]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if args.verbose == 0:
        # FFmpeg's own chatter about damaged packets is counted and summarised instead.
        logging.getLogger("framesift.decode").setLevel(logging.ERROR)
    try:
        return int(args.func(args))
    except FramesiftError as exc:
        print(f"framesift: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`framesift ... | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (av.error.FFmpegError, OSError) as exc:
        # Not expected to escape the library; still one line, never a traceback.
        print(f"framesift: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("framesift: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
