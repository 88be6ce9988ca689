"""``framesift search QUERY``: ranked search of a catalog's timed text.

Calls :meth:`~framesift.catalog.Catalog.search` and prints the hits as lines, JSON lines
or CSV. ``--full-frames DIR`` writes the full frame on screen at each hit into DIR (a
folder or fsspec URL; :func:`~framesift.catalog.fullframes.write_full_frames`: decoded
from the source and cached in the catalog where it was not stored) and prints each file
beside its hit (a ``full_frame`` column in JSON and CSV). Exit status 0 with hits (and
every full frame written), 1 without hits or when a full frame could not be fetched (one
line each on stderr), 2 when the catalog could not be used.
"""

from __future__ import annotations

import argparse
from typing import Any

from framesift.cli.arguments import (
    add_catalog_argument,
    add_format_arguments,
    add_storage_option,
    catalog_url,
    number_in,
    storage_options_from_args,
)
from framesift.cli.command import EXIT_OK, EXIT_PARTLY, command
from framesift.cli.output import echo, echo_text, fail
from framesift.plural import counted

__all__ = ["add_search_arguments", "register", "run_search"]


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", help="words to look for")
    add_catalog_argument(parser)
    parser.add_argument(
        "--limit", type=number_in(int, 1), default=20, metavar="N", help="most hits (20)"
    )
    parser.add_argument(
        "--source",
        action="append",
        choices=("subtitles", "speech", "ocr"),
        help="only this kind of text (repeatable)",
    )
    parser.add_argument("--video", metavar="VIDEO_ID", help="only this video")
    parser.add_argument(
        "--language",
        metavar="CODE",
        help="only text in this language, a BCP-47 code: en (also finds en-US), fr, pt-BR",
    )
    parser.add_argument(
        "--full-frames",
        metavar="DIR",
        help="write the full frame on screen at each hit into DIR (a folder or fsspec URL), "
        "decoded from the source and cached in the catalog where it was not stored "
        "(--storage-option applies to DIR too)",
    )
    add_format_arguments(
        parser, json_help="print the hits as JSON lines", csv_help="print the hits as CSV"
    )
    add_storage_option(parser)


@command("search")
def run_search(args: argparse.Namespace) -> int:
    import polars as pl  # start-up: polars and DuckDB load for these commands only

    from framesift.catalog import Catalog

    catalog = Catalog(catalog_url(args), storage_options_from_args(args), create=False)
    hits = catalog.search(
        args.query,
        limit=args.limit,
        sources=args.source,
        video_id=args.video,
        language=args.language,
    )
    if not len(hits) and not catalog.totals().text_segments:
        fail(
            "search",
            f"{catalog.url} holds no text to search: ingest with subtitles (streams or files "
            "beside the videos), --speech or --ocr",
        )
        return EXIT_PARTLY
    failures: tuple[str, ...] = ()
    if args.full_frames:
        from framesift.catalog.fullframes import write_full_frames

        files = write_full_frames(catalog, hits, args.full_frames, storage_options_from_args(args))
        hits = hits.with_columns(pl.Series("full_frame", files.urls, dtype=pl.String))
        failures = files.failures
    if args.json:
        echo_text(hits.write_ndjson())
    elif args.csv:
        echo_text(hits.write_csv())
    else:
        echo(f"{counted(len(hits), 'hit')} for {args.query!r} in {catalog.url}")
        for row in hits.iter_rows(named=True):
            text = " / ".join(row["text"].splitlines())
            frame = "" if row["frame_index"] is None else f"  frame {row['frame_index']}"
            written = f"\n          -> {row['full_frame']}" if row.get("full_frame") else ""
            echo(
                f"  {row['score']:6.2f}  {row['start_s']:9.2f}-{row['end_s']:.2f} s  "
                f"{row['source_url']}{frame}\n          {text}{written}"
            )
    for failure in failures:
        fail("search", f"no full frame for {failure}")
    return EXIT_OK if len(hits) and not failures else EXIT_PARTLY


def register(subparsers: Any) -> None:
    """Add ``search`` to the command's subparsers."""
    p = subparsers.add_parser("search", help="ranked search of the catalog's timed text")
    add_search_arguments(p)
    p.set_defaults(func=run_search)
