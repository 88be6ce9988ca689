"""The options several commands share, declared once each.

- ``--catalog URL`` for ``ingest``, ``search`` and every ``catalog ...`` command (the
  ``catalog`` commands also take the URL as their first argument, as they always did);
- ``--storage-option KEY=VALUE`` for every command that reads or writes through fsspec;
- the sampling options, in groups: selection (``--every``, ``--keyframes``,
  ``--representatives``, ``--dedup``), scene detection (``--detector``, ``--threshold``,
  ``--min-scene-len``, ``--analysis-width``), decoding (``--fast``, ``--hwaccel``) and
  images (``--thumb-size`` ...), frame analyzers (``--analyze faces,onnx``, ``--model``
  ...). ``scenes`` takes detection and decoding; ``sample``, ``ingest`` and ``estimate``
  take them all;
- ``--json`` / ``--csv`` where a command can print its result as data.

What the values mean ("0 turns it off") is the library's :class:`~framesift.spec.
SelectionOptions`; this module only names the options and reads them back. A value out of
range is refused by the option's type, so the message names the option as typed
(``--every``) and :class:`CommandParser` prints it as one line.
"""

from __future__ import annotations

import argparse

from framesift.cli.options import (
    CommandParser,
    add_format_arguments,
    add_storage_option,
    number_in,
    parse_storage_options,
    storage_options_from_args,
)
from framesift.errors import SettingsError
from framesift.spec import (
    ANALYZER_NAMES,
    DETECTOR_NAMES,
    OFF_DEDUP_BITS,
    OFF_DETECTOR,
    OFF_INTERVAL_S,
    AnalyzerSpec,
    DecodeSpec,
    ImageSpec,
    LimitsSpec,
    OnnxModelSpec,
    SamplingSpec,
    SelectionOptions,
)

__all__ = [
    "DEFAULT_CATALOG",
    "CommandParser",
    "add_catalog_argument",
    "add_decode_arguments",
    "add_detection_arguments",
    "add_format_arguments",
    "add_sampling_arguments",
    "add_storage_option",
    "analyzer_spec_from_args",
    "catalog_url",
    "detection_spec_from_args",
    "number_in",
    "parse_storage_options",
    "spec_from_args",
    "storage_options_from_args",
]

DEFAULT_CATALOG = "data/catalog"


def add_catalog_argument(parser: argparse.ArgumentParser, *, positional: bool = False) -> None:
    """``--catalog URL``, read by :func:`catalog_url`. With ``positional`` the URL may also
    come first, as ``framesift catalog vacuum URL`` (the older spelling, kept for scripts)."""
    parser.add_argument(
        "--catalog",
        default=None,
        metavar="URL",
        help=f"catalog folder or URL (default {DEFAULT_CATALOG})",
    )
    if positional:
        parser.add_argument(
            "catalog_positional",
            nargs="?",
            default=None,
            metavar="URL",
            help="the catalog, as --catalog URL (the older spelling)",
        )


def catalog_url(args: argparse.Namespace) -> str:
    """The catalog the command names, however it was given; SettingsError when it names
    two different ones."""
    option: str | None = args.catalog
    positional: str | None = getattr(args, "catalog_positional", None)
    if option is not None and positional is not None and option != positional:
        raise SettingsError(
            f"two catalogs given ({positional} and --catalog {option}): give one, as --catalog"
        )
    return positional or option or DEFAULT_CATALOG


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """Every sampling option, read back by :func:`spec_from_args`."""
    _add_selection_arguments(parser)
    add_detection_arguments(parser, can_be_off=True)
    add_decode_arguments(parser)
    _add_image_arguments(parser)
    _add_analyzer_arguments(parser)


def spec_from_args(args: argparse.Namespace) -> SamplingSpec:
    """The SamplingSpec the options of :func:`add_sampling_arguments` ask for."""
    base = SamplingSpec(
        keyframes=args.keyframes,
        transitions=args.transitions,
        analysis_width_px=args.analysis_width,
        image=ImageSpec(
            max_side_px=args.thumb_size,
            format=args.thumb_format,
            quality=args.quality,
            full_frames=args.full_frames,
        ),
        decode=_decode_from_args(args),
    )
    return _selection_from_args(args, every_s=args.every).apply_to(base)


def detection_spec_from_args(args: argparse.Namespace) -> SamplingSpec:
    """Scene detection only (no interval), as ``framesift scenes`` runs it: the options of
    :func:`add_detection_arguments` and the decoding options."""
    base = SamplingSpec(
        analysis_width_px=args.analysis_width,
        transitions=args.transitions,
        decode=_decode_from_args(args),
    )
    return _selection_from_args(args, every_s=OFF_INTERVAL_S).apply_to(base)


def _selection_from_args(args: argparse.Namespace, *, every_s: float) -> SelectionOptions:
    if getattr(args, "representatives", 0) and args.detector == OFF_DETECTOR:
        raise SettingsError(
            f"--representatives needs scenes to spread over: not with --detector {OFF_DETECTOR}"
        )
    return SelectionOptions(
        every_s=every_s,
        detector=args.detector,
        threshold=args.threshold,
        min_scene_len_frames=args.min_scene_len,
        representatives_per_scene=getattr(args, "representatives", 0),
        dedup_bits=getattr(args, "dedup", None),
    )


def _decode_from_args(args: argparse.Namespace) -> DecodeSpec:
    defaults = LimitsSpec()
    max_pixels = getattr(args, "max_pixels", defaults.max_pixels)
    max_video_s = getattr(args, "max_video_seconds", defaults.max_video_s)
    limits = LimitsSpec(
        max_pixels=max_pixels or None,  # 0: no limit
        max_video_s=max_video_s or None,
    )
    return DecodeSpec(hwaccel=args.hwaccel, fast=args.fast, limits=limits)


def _add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frame selection")
    group.add_argument(
        "--every",
        type=number_in(float, 0.001, off=OFF_INTERVAL_S),
        default=1.0,
        metavar="SECONDS",
        help=f"keep one frame every SECONDS (default 1; {OFF_INTERVAL_S:g} turns it off)",
    )
    group.add_argument(
        "--keyframes",
        action="store_true",
        help="keep keyframes only, at most one per --every SECONDS (--every 0: all); the "
        "decoder skips the rest (fast preview; scenes found on keyframes are approximate)",
    )
    group.add_argument(
        "--representatives",
        type=number_in(int, 0, 100),
        default=0,
        metavar="K",
        help="keep K frames spread over each scene",
    )
    group.add_argument(
        "--dedup",
        type=number_in(int, 0, 63, off=OFF_DEDUP_BITS),
        default=None,
        metavar="BITS",
        help="skip frames within BITS (Hamming) of the last kept frame (0: exact repeats "
        f"only; default and {OFF_DEDUP_BITS}: keep near-duplicates)",
    )


def add_detection_arguments(parser: argparse.ArgumentParser, *, can_be_off: bool) -> None:
    """The scene detection options; ``can_be_off`` offers ``--detector none``."""
    group = parser.add_argument_group("scene detection")
    group.add_argument(
        "--detector",
        default="content",
        choices=[*DETECTOR_NAMES, OFF_DETECTOR] if can_be_off else list(DETECTOR_NAMES),
        help="PySceneDetect detector fed by the same pass (default content"
        + (f"; {OFF_DETECTOR}: no scenes)" if can_be_off else ")"),
    )
    group.add_argument(
        "--threshold",
        type=number_in(float, 0),
        default=None,
        help="detector threshold (default: PySceneDetect's for the detector)",
    )
    group.add_argument(
        "--min-scene-len",
        type=number_in(int, 0),
        default=15,
        metavar="FRAMES",
        help="shortest scene in frames (default 15)",
    )
    group.add_argument(
        "--analysis-width",
        type=number_in(int, 32, 1024),
        default=256,
        metavar="PX",
        help="width of the image the detectors see (default 256, as PySceneDetect's CLI)",
    )
    group.add_argument(
        "--transitions",
        action="store_true",
        help="find dissolves and fades too: each opens one scene at its first frame, and "
        "every scene records how it starts (cut, dissolve, fade)",
    )


def add_decode_arguments(parser: argparse.ArgumentParser) -> None:
    """``--fast`` and ``--hwaccel``: how the one decode pass runs."""
    group = parser.add_argument_group("decoding")
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
    limits = LimitsSpec()
    group.add_argument(
        "--max-pixels",
        type=number_in(int, 1, off=0),
        default=limits.max_pixels,
        metavar="N",
        help=f"refuse videos whose pictures are larger (default {limits.max_pixels:,}; 0: no "
        "limit)",
    )
    group.add_argument(
        "--max-video-seconds",
        type=number_in(float, 0.001, off=0),
        default=limits.max_video_s,
        metavar="S",
        help=f"fail a video whose decoding (in ingest: sampling and text extraction) runs "
        f"longer than this wall time (default {limits.max_video_s:g}; "
        "0: no limit)",
    )


def _add_image_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("images")
    group.add_argument(
        "--thumb-size",
        type=number_in(int, 16, 8192),
        default=320,
        metavar="PX",
        help="longest side of thumbnails in pixels (default 320)",
    )
    group.add_argument(
        "--thumb-format",
        default="jpeg",
        choices=["jpeg", "webp", "png"],
        help="thumbnail image format (default jpeg)",
    )
    group.add_argument(
        "--quality",
        type=number_in(int, 1, 100),
        default=85,
        metavar="Q",
        help="thumbnail quality for jpeg and webp, 1 to 100 (default 85)",
    )
    group.add_argument(
        "--full-frames", action="store_true", help="also write full-resolution frames"
    )


def _add_analyzer_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("frame analyzers")
    group.add_argument(
        "--analyze",
        default="",
        metavar="NAMES",
        help=f"run analyzers on the kept frames, comma separated: {', '.join(ANALYZER_NAMES)} "
        "(pip install 'framesift[analyze]')",
    )
    group.add_argument(
        "--face-confidence",
        type=number_in(float, 0.0, 1.0),
        default=AnalyzerSpec.face_min_confidence,
        metavar="P",
        help="faces: lowest confidence recorded, 0 to 1 (default %(default)s)",
    )
    group.add_argument("--model", default=None, metavar="URL", help="onnx: the model file")
    group.add_argument(
        "--model-size",
        default="224x224",
        metavar="WxH",
        help="onnx: input width x height in pixels (default 224x224)",
    )
    group.add_argument(
        "--model-output",
        default="labels",
        choices=["labels", "boxes", "embedding"],
        help="onnx: what the first output means (default labels)",
    )
    group.add_argument(
        "--model-labels", default="", metavar="A,B,...", help="onnx: the class names, in order"
    )
    group.add_argument(
        "--model-colour", default="rgb", choices=["rgb", "bgr"], help="onnx: channel order"
    )
    group.add_argument(
        "--model-layout", default="nchw", choices=["nchw", "nhwc"], help="onnx: input layout"
    )
    group.add_argument(
        "--model-mean", default="0,0,0", metavar="R,G,B", help="onnx: mean per channel (0-1)"
    )
    group.add_argument(
        "--model-std", default="1,1,1", metavar="R,G,B", help="onnx: std per channel (0-1)"
    )
    group.add_argument(
        "--model-min-score",
        type=number_in(float, 0.0, 1.0),
        default=0.5,
        metavar="P",
        help="onnx: lowest score kept, 0 to 1 (default 0.5)",
    )
    group.add_argument(
        "--int8", action="store_true", help="onnx: run an INT8 (dynamically quantised) copy"
    )


def analyzer_spec_from_args(args: argparse.Namespace) -> AnalyzerSpec:
    """The AnalyzerSpec the options of the ``frame analyzers`` group ask for."""
    model = None
    if args.model:
        width, sep, height = args.model_size.lower().partition("x")
        try:
            size = (int(width), int(height))
            mean = _three(args.model_mean)
            std = _three(args.model_std)
        except ValueError:
            raise SettingsError(
                f"--model-size {args.model_size!r}, --model-mean {args.model_mean!r}, "
                f"--model-std {args.model_std!r}: expected WxH and three numbers R,G,B"
            ) from None
        if not sep:
            raise SettingsError(f"--model-size {args.model_size!r}: expected WxH, e.g. 224x224")
        model = OnnxModelSpec(
            url=args.model,
            input_width_px=size[0],
            input_height_px=size[1],
            colour=args.model_colour,
            layout=args.model_layout,
            mean=mean,
            std=std,
            output=args.model_output,
            labels=tuple(n.strip() for n in args.model_labels.split(",") if n.strip()),
            min_score=args.model_min_score,
            int8=args.int8,
            storage_options=storage_options_from_args(args) or None,
        )
    return AnalyzerSpec.parse(args.analyze, face_min_confidence=args.face_confidence, model=model)


def _three(text: str) -> tuple[float, float, float]:
    values = tuple(float(v) for v in text.split(","))
    if len(values) != 3:
        raise ValueError(text)
    return values[0], values[1], values[2]
