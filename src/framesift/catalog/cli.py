"""Command-line shells over the catalog: ``framesift ingest`` and ``framesift catalog ...``.

They only parse, call the library, and present; framesift/cli.py registers them on its
subcommands through :func:`register_commands`.

Each ``run_*`` returns the process exit status: 0 success, 1 some videos failed (the rest
went in), 2 the catalog could not be used (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from framesift.batch.executors import ExecutorSpec
from framesift.cli import (
    ProgressLine,
    add_progress_argument,
    add_sampling_arguments,
    parse_storage_options,
    spec_from_args,
)
from framesift.errors import FramesiftError

__all__ = [
    "DEFAULT_CATALOG",
    "add_catalog_arguments",
    "add_ingest_arguments",
    "add_search_arguments",
    "register_commands",
    "run_catalog",
    "run_ingest",
    "run_search",
]

logger = logging.getLogger(__name__)

DEFAULT_CATALOG = "data/catalog"


def _add_storage_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage-option",
        action="append",
        metavar="KEY=VALUE",
        default=[],
        help="fsspec option for the catalog and sources (repeatable; e.g. endpoint_url=..., "
        "anon=true); AWS settings also come from the standard environment and config files",
    )


def _add_catalog_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--catalog",
        default=DEFAULT_CATALOG,
        metavar="URL",
        help=f"catalog folder or URL (default {DEFAULT_CATALOG})",
    )


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="video files, folders, globs or fsspec URLs"
    )
    _add_catalog_option(parser)
    parser.add_argument(
        "--force",
        action="store_true",
        help="re-ingest videos already in the catalog with the same settings",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="videos sampled at once, each in its own process (default 1: in this process)",
    )
    parser.add_argument(
        "--dask",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run the videos on the Dask scheduler at ADDRESS (tcp://host:8786), or on a "
        "local cluster of --workers processes when no address is given",
    )
    parser.add_argument(
        "--no-subtitles",
        dest="subtitles",
        action="store_false",
        help="leave out the text subtitle streams of the videos",
    )
    parser.add_argument(
        "--no-sidecars",
        dest="sidecars",
        action="store_false",
        help="leave out subtitle files beside the videos (movie.srt, movie.en.vtt ...)",
    )
    parser.add_argument(
        "--speech",
        action="store_true",
        help="transcribe each video's speech offline (pip install 'framesift[speech]')",
    )
    parser.add_argument(
        "--speech-language", metavar="CODE", help="the spoken language (default: detected)"
    )
    parser.add_argument(
        "--ocr",
        action="store_true",
        help="read on-screen text of the kept frames (Tesseract: apt-get install tesseract-ocr)",
    )
    parser.add_argument(
        "--ocr-language", default="eng", metavar="LANG", help="Tesseract language(s) (eng)"
    )
    _add_storage_option(parser)
    add_sampling_arguments(parser)
    add_progress_argument(parser)


def executor_from_args(args: argparse.Namespace) -> ExecutorSpec:
    if args.dask is not None:
        address = None if args.dask == "local" else args.dask
        return ExecutorSpec("dask", workers=args.workers, address=address)
    if args.workers > 1:
        return ExecutorSpec("process", workers=args.workers)
    return ExecutorSpec("serial", workers=args.workers)


def run_ingest(args: argparse.Namespace) -> int:
    from framesift.catalog.ingest import IngestOutcome, ingest
    from framesift.redact import redact_url
    from framesift.spec import TextSpec

    line = ProgressLine(args.progress)

    def video_progress(url: str, done_s: float, total_s: float) -> None:
        if line.label != url:
            line.start(url)
        line(done_s, total_s)

    def report(outcome: IngestOutcome, done: int, total: int) -> None:
        line.clear()
        detail = outcome.video_id or ""
        if outcome.status == "failed":
            detail = f"{outcome.error_type}: {outcome.error_message}"
        sys.stdout.write(f"[{done}/{total}] {outcome.status:8} {outcome.source_url}  {detail}\n")
        sys.stdout.flush()

    try:
        spec = spec_from_args(args)
        summary = ingest(
            args.sources,
            args.catalog,
            spec,
            force=args.force,
            storage_options=parse_storage_options(args.storage_option),
            progress=report,
            video_progress=video_progress,
            executor=executor_from_args(args),
            text=TextSpec(
                subtitles=args.subtitles,
                sidecars=args.sidecars,
                speech=args.speech,
                speech_language=args.speech_language,
                ocr=args.ocr,
                ocr_language=args.ocr_language,
            ),
        )
    except FramesiftError as exc:
        sys.stderr.write(f"framesift ingest: {type(exc).__name__}: {exc}\n")
        return 2
    sys.stdout.write(f"{summary}\ncatalog: {redact_url(str(args.catalog))}\n")
    return 1 if summary.counts["failed"] else 0


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    vac = sub.add_parser("vacuum", help="remove leftovers of interrupted or replaced writes")
    vac.add_argument("url", metavar="URL", help="catalog folder or URL")
    vac.add_argument(
        "--grace",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="keep unreferenced files younger than this (writes in flight; default 3600)",
    )
    vac.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    _add_storage_option(vac)
    summ = sub.add_parser("summary", help="print what the catalog holds")
    summ.add_argument(
        "url",
        metavar="URL",
        nargs="?",
        default=DEFAULT_CATALOG,
        help=f"catalog folder or URL (default {DEFAULT_CATALOG})",
    )
    _add_storage_option(summ)
    comp = sub.add_parser("compact", help="merge per-video parts for fast full-table queries")
    comp.add_argument("url", metavar="URL", help="catalog folder or URL")
    _add_storage_option(comp)


def run_catalog(args: argparse.Namespace) -> int:
    from framesift.catalog.catalog import Catalog

    try:
        catalog = Catalog(args.url, parse_storage_options(args.storage_option), create=False)
        if args.catalog_command == "summary":
            _print_summary(catalog)
        elif args.catalog_command == "vacuum":
            counts = catalog.vacuum(grace_s=args.grace, dry_run=args.dry_run)
            verb = "would remove" if args.dry_run else "removed"
            listed = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"
            sys.stdout.write(f"{catalog.url}: {verb} {listed}\n")
        else:
            sequence = catalog.compact()
            sys.stdout.write(
                f"{catalog.url}: "
                + (f"snapshot {sequence}\n" if sequence else "nothing to compact\n")
            )
    except FramesiftError as exc:
        sys.stderr.write(f"framesift catalog: {type(exc).__name__}: {exc}\n")
        return 2
    return 0


def _print_summary(catalog: Any) -> None:
    videos = catalog.summary()
    jobs = catalog.jobs()
    failed = jobs.filter(jobs["state"] == "failed") if "state" in jobs.columns else jobs.clear()
    total_s = float(videos["duration_s"].fill_null(0).sum()) if len(videos) else 0.0
    frames = int(videos["kept_frames"].sum()) if len(videos) else 0
    scenes = int(videos["scene_count"].sum()) if len(videos) else 0
    texts = int(catalog.sql("SELECT count(*) AS n FROM segments")["n"][0])
    out = sys.stdout
    out.write(
        f"{catalog.url}: {len(videos)} videos, {total_s / 60:.1f} min of footage, "
        f"{frames} kept frames, {scenes} scenes, {texts} text segments, "
        f"{len(failed)} failed sources\n"
    )
    for row in videos.iter_rows(named=True):
        out.write(
            f"  {row['video_id'][:12]}  {row['duration_s'] or 0:8.1f} s  "
            f"{row['width']}x{row['height']} {row['codec']:<10} {row['kept_frames']:6d} frames "
            f"{row['scene_count']:5d} scenes  {row['source_url']}\n"
        )
    for row in failed.iter_rows(named=True):
        out.write(
            f"  FAILED  {row.get('source_url')}: {row.get('error_type')}: "
            f"{row.get('error_message')}\n"
        )


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", help="words to look for")
    _add_catalog_option(parser)
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="most hits (20)")
    parser.add_argument(
        "--source",
        action="append",
        choices=("subtitles", "speech", "ocr"),
        help="only this kind of text (repeatable)",
    )
    parser.add_argument("--video", metavar="VIDEO_ID", help="only this video")
    parser.add_argument("--language", metavar="CODE", help="only text in this language")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the hits as JSON lines")
    out.add_argument("--csv", action="store_true", help="print the hits as CSV")
    _add_storage_option(parser)


def run_search(args: argparse.Namespace) -> int:
    from framesift.catalog.catalog import Catalog

    try:
        catalog = Catalog(args.catalog, parse_storage_options(args.storage_option), create=False)
        hits = catalog.search(
            args.query,
            limit=args.limit,
            sources=args.source,
            video_id=args.video,
            language=args.language,
        )
    except FramesiftError as exc:
        sys.stderr.write(f"framesift search: {type(exc).__name__}: {exc}\n")
        return 2
    out = sys.stdout
    if args.json:
        out.write(hits.write_ndjson())
    elif args.csv:
        out.write(hits.write_csv())
    else:
        noun = "hit" if len(hits) == 1 else "hits"
        out.write(f"{len(hits)} {noun} for {args.query!r} in {catalog.url}\n")
        for row in hits.iter_rows(named=True):
            text = " / ".join(row["text"].splitlines())
            frame = "" if row["frame_index"] is None else f"  frame {row['frame_index']}"
            out.write(
                f"  {row['score']:6.2f}  {row['start_s']:9.2f}-{row['end_s']:.2f} s  "
                f"{row['source_url']}{frame}\n          {text}\n"
            )
    return 0 if len(hits) else 1


def register_commands(subparsers: Any) -> None:
    """Add ``ingest``, ``search`` and ``catalog`` to the ``framesift`` command's
    subparsers."""
    p = subparsers.add_parser("ingest", help="sample videos into a catalog (incremental)")
    add_ingest_arguments(p)
    p.set_defaults(func=run_ingest)
    p = subparsers.add_parser("search", help="ranked search of the catalog's timed text")
    add_search_arguments(p)
    p.set_defaults(func=run_search)
    p = subparsers.add_parser("catalog", help="look after a catalog: summary, vacuum, compact")
    add_catalog_arguments(p)
    p.set_defaults(func=run_catalog)
