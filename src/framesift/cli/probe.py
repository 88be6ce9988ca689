"""``framesift probe``: what a media file holds. A group of its own (start-up: it parses
with :mod:`framesift.cli.options` alone, so the command loads PyAV and little else)."""

from __future__ import annotations

import argparse
from typing import Any

from framesift.cli.command import EXIT_OK, command
from framesift.cli.options import (
    add_format_arguments,
    add_storage_option,
    storage_options_from_args,
)
from framesift.cli.output import echo, echo_json
from framesift.cli.process import importing

__all__ = ["register", "run_probe"]


def _num(value: float | int | None, fmt: str) -> str:
    return "?" if value is None else format(value, fmt)


@command("probe")
def run_probe(args: argparse.Namespace) -> int:
    with importing():  # start-up: PyAV loads for the media commands only
        from framesift.probe import probe

    options = storage_options_from_args(args)
    infos = [probe(url, options, full=args.full).to_dict() for url in args.paths]
    if args.json:
        echo_json(infos if len(infos) > 1 else infos[0])
        return EXIT_OK
    for info in infos:
        _echo_media(info)
    return EXIT_OK


def _echo_media(info: dict[str, Any]) -> None:
    v = info["video"]
    rate = "VFR" if v["vfr"] else "CFR" if v["vfr"] is not None else "rate unknown"
    echo(
        f"{info['url']}: {info['container']}, {_num(info['duration_s'], '.2f')} s, "
        f"start {info['start_time_s']:.3f} s"
        + (f", TRUNCATED at byte {info['size_bytes']}" if info["truncated_at_byte"] else "")
    )
    echo(
        f"  video: {v['codec']} {v['profile'] or ''} {v['pix_fmt']} {v['bit_depth']}-bit "
        f"{v['width']}x{v['height']} (coded {v['coded_width']}x{v['coded_height']}, "
        f"rotation {v['rotation_deg']}, pixel aspect {v['sample_aspect_ratio']}), "
        f"{_num(v['avg_fps'], '.3f')} fps {rate}, "
        f"{_num(v['frame_count'], 'd')} frames, keyframe every "
        f"{_num(v['keyframe_interval_s'], '.2f')} s"
    )
    for a in info["audio"]:
        echo(f"  audio: {a['codec']} {a['language'] or ''} {a['sample_rate']} Hz")
    for s in info["subtitles"]:
        echo(f"  subtitles: {s['codec']} {s['language'] or ''}")
    echo(f"  measured: {', '.join(info['measured'])}")


def register(subparsers: Any) -> None:
    """Add ``probe`` to the command's subparsers."""
    p = subparsers.add_parser("probe", help="describe media files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="media files or fsspec URLs")
    p.add_argument("--full", action="store_true", help="measure frame count and duration")
    add_format_arguments(p, json_help="print the description as JSON")
    add_storage_option(p)
    p.set_defaults(func=run_probe)
