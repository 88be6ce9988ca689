"""``framesift ingest``: sample videos into a catalog, incrementally.

Parses the sources, catalog, sampling, text and executor options, calls
:func:`framesift.batch.ingest`, and presents one line per finished video, a progress
bar over the batch (:mod:`~framesift.cli.progress_bar`), and the summary. Exit status 0
when every video went in, 1 when some failed (the rest went in), 2 when the catalog could
not be used.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from framesift.cli.arguments import (
    add_catalog_argument,
    add_sampling_arguments,
    add_storage_option,
    analyzer_spec_from_args,
    catalog_url,
    number_in,
    parse_storage_options,
    spec_from_args,
    storage_options_from_args,
)
from framesift.cli.command import EXIT_OK, EXIT_PARTLY, command
from framesift.cli.output import echo
from framesift.cli.progress_bar import BatchProgressBar
from framesift.cli.progress_line import add_progress_argument
from framesift.errors import SettingsError
from framesift.redact import redact_url
from framesift.spec import OCR_ENGINES, TextSpec

if TYPE_CHECKING:
    from framesift.batch import ExecutorSpec, IngestOutcome

__all__ = [
    "add_ingest_arguments",
    "add_text_arguments",
    "executor_from_args",
    "register",
    "run_ingest",
    "text_from_args",
]

SPLIT_OVER_MINUTES = 20.0
"""``--split-over``'s default: ExecutorSpec's ``split_over_s`` in minutes (a test holds them
equal; the CLI does not import the executors to build its options)."""


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="video files, folders, globs or fsspec URLs (optional with --retry-failed)",
    )
    add_catalog_argument(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="re-ingest videos already in the catalog with the same settings",
    )
    parser.add_argument(
        "--retry-failed",
        action="store_true",
        help="run only the sources whose latest run failed (framesift jobs --failed): of "
        "the SOURCEs given, or all of them",
    )
    _add_executor_arguments(parser)
    add_text_arguments(parser)
    add_storage_option(parser)
    parser.add_argument(
        "--mirror",
        metavar="URL",
        help="sync each committed video to the catalog at URL in the background (s3://...)",
    )
    parser.add_argument(
        "--mirror-option",
        action="append",
        metavar="KEY=VALUE",
        help="fsspec option for the --mirror catalog (repeatable, as --storage-option)",
    )
    add_sampling_arguments(parser)
    add_progress_argument(parser)


def _add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("workers")
    group.add_argument(
        "--workers",
        type=number_in(int, 1),
        default=1,
        metavar="N",
        help="videos sampled at once, each in its own process (default 1: in this process)",
    )
    group.add_argument(
        "--dask",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run the videos on the Dask scheduler at ADDRESS (tcp://host:8786), or on a "
        "local cluster of --workers processes when no address is given",
    )
    group.add_argument(
        "--split-over",
        type=number_in(float, 0.0),
        default=SPLIT_OVER_MINUTES,
        metavar="MINUTES",
        help="with --workers or --dask, cut a video longer than this into time ranges "
        "sampled by several workers and joined into one commit (default 20; 0: never)",
    )


def add_text_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("timed text")
    group.add_argument(
        "--no-subtitles",
        dest="subtitles",
        action="store_false",
        help="leave out the text subtitle streams of the videos",
    )
    group.add_argument(
        "--no-sidecars",
        dest="sidecars",
        action="store_false",
        help="leave out subtitle files beside the videos (movie.srt, movie.en.vtt ...)",
    )
    group.add_argument(
        "--speech",
        action="store_true",
        help="transcribe each video's speech offline (pip install 'framesift[speech]')",
    )
    group.add_argument(
        "--speech-language",
        metavar="CODE",
        help="the spoken language, a BCP-47 / ISO 639 code: en, fr, pt (default: detected)",
    )
    group.add_argument(
        "--ocr",
        action="store_true",
        help="read on-screen text of the kept frames (PP-OCR by rapidocr when installed, "
        "else Tesseract: apt-get install tesseract-ocr)",
    )
    group.add_argument(
        "--ocr-engine",
        choices=OCR_ENGINES,
        default=None,
        help="what reads on-screen text (default: rapidocr when installed, else tesseract)",
    )
    group.add_argument(
        "--ocr-language",
        default="en",
        metavar="LANG",
        help="language(s) of on-screen text: BCP-47 codes or Tesseract names, joined by + "
        "(default en; e.g. de, en+fr, zh-Hans, chi_sim)",
    )
    group.add_argument(
        "--max-sidecar-bytes",
        type=number_in(int, 1024),
        default=TextSpec().max_sidecar_bytes,
        metavar="N",
        help="fail a video whose subtitle file is larger (default 16 MiB)",
    )


def executor_from_args(args: argparse.Namespace) -> ExecutorSpec:
    """Where the videos run: ``--dask [ADDRESS]``, ``--workers N`` processes, or here."""
    from framesift.batch import ExecutorSpec  # start-up: multiprocessing loads for ingest only

    split_over_s = args.split_over * 60
    if args.dask is not None:
        address = None if args.dask == "local" else args.dask
        return ExecutorSpec(
            "dask", workers=args.workers, address=address, split_over_s=split_over_s
        )
    if args.workers > 1:
        return ExecutorSpec("process", workers=args.workers, split_over_s=split_over_s)
    return ExecutorSpec("serial", workers=args.workers, split_over_s=split_over_s)


def text_from_args(args: argparse.Namespace) -> TextSpec:
    return TextSpec(
        subtitles=args.subtitles,
        sidecars=args.sidecars,
        speech=args.speech,
        speech_language=args.speech_language,
        ocr=args.ocr,
        ocr_language=args.ocr_language,
        ocr_engine=args.ocr_engine,
        max_sidecar_bytes=args.max_sidecar_bytes,
    )


@command("ingest")
def run_ingest(args: argparse.Namespace) -> int:
    from framesift.batch import ingest  # start-up: DuckDB loads for catalog commands only

    bar = BatchProgressBar(args.progress, leave=False)

    def report(outcome: IngestOutcome, done: int, total: int) -> None:
        bar.video_done(outcome, done, total)
        detail = outcome.video_id or ""
        if outcome.status == "failed":
            # The message names the file first; the line already does.
            message = (outcome.error_message or "").removeprefix(f"{outcome.source_url}: ")
            detail = f"{outcome.error_type}: {message}"
        echo(f"[{done}/{total}] {outcome.status:8} {outcome.source_url}  {detail}")

    catalog = catalog_url(args)
    if not args.sources and not args.retry_failed:
        raise SettingsError("no SOURCE given: name video files, folders or URLs")
    summary = ingest(
        args.sources,
        catalog,
        spec_from_args(args),
        force=args.force,
        storage_options=storage_options_from_args(args),
        progress=report,
        video_progress=bar.video_progress,
        executor=executor_from_args(args),
        text=text_from_args(args),
        analyzers=analyzer_spec_from_args(args),
        mirror=args.mirror,
        mirror_options=parse_storage_options(args.mirror_option),
        retry_failed=args.retry_failed,
    )
    bar.close()
    echo(f"{summary}\ncatalog: {redact_url(catalog)}")
    for error in summary.mirror.errors if summary.mirror else ():
        echo(f"  MIRROR  SyncError: {error}")
    failed = summary.counts["failed"] or (summary.mirror and summary.mirror.failed)
    return EXIT_PARTLY if failed else EXIT_OK


def register(subparsers: Any) -> None:
    """Add ``ingest`` to the command's subparsers."""
    p = subparsers.add_parser("ingest", help="sample videos into a catalog (incremental)")
    add_ingest_arguments(p)
    p.set_defaults(func=run_ingest)
