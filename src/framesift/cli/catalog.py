"""``framesift catalog summary|vacuum|compact|check|repair|sync``: look after a catalog.

Each subcommand opens the catalog (``--catalog URL``, or the URL as the first argument),
calls one :class:`~framesift.catalog.Catalog` method and presents what it returns;
``sync SRC DST`` opens SRC and calls :meth:`~framesift.catalog.Catalog.sync_to`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from framesift.cli.arguments import (
    add_catalog_argument,
    add_storage_option,
    catalog_url,
    number_in,
    parse_storage_options,
    storage_options_from_args,
)
from framesift.cli.command import EXIT_OK, EXIT_PARTLY, command
from framesift.cli.output import echo
from framesift.plural import counted

if TYPE_CHECKING:
    from framesift.catalog import Catalog

__all__ = ["add_catalog_arguments", "register", "run_catalog"]


def add_catalog_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="catalog_command", required=True, metavar="COMMAND")
    summary = sub.add_parser("summary", help="print what the catalog holds")
    vacuum = sub.add_parser("vacuum", help="remove leftovers of interrupted or replaced writes")
    vacuum.add_argument(
        "--grace",
        type=number_in(float, 0.0),
        default=3600.0,
        metavar="SECONDS",
        help="keep unreferenced files younger than this (writes in flight; default 3600)",
    )
    vacuum.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    compact = sub.add_parser("compact", help="merge per-video parts for fast full-table queries")
    check = sub.add_parser(
        "check", help="look for damaged videos: missing parts, unreadable commit markers"
    )
    repair = sub.add_parser(
        "repair", help="hide damaged videos behind a tombstone (ingest their sources again)"
    )
    for each in (summary, vacuum, compact, check, repair):
        add_catalog_argument(each, positional=True)
        add_storage_option(each)
    _add_sync_arguments(sub)


def _add_sync_arguments(sub: Any) -> None:
    sync = sub.add_parser(
        "sync",
        help="copy committed videos to another catalog (local folder <-> S3), resumable",
    )
    sync.add_argument("catalog_positional", metavar="SRC", help="the catalog to copy from")
    sync.add_argument("target", metavar="DST", help="the catalog to copy to (made if missing)")
    sync.add_argument(
        "--dst-option",
        action="append",
        metavar="KEY=VALUE",
        help="fsspec option for DST (repeatable, as --storage-option, which opens SRC)",
    )
    sync.add_argument(
        "--workers",
        type=number_in(int, 1),
        default=16,
        metavar="N",
        help="files copied at once (default 16)",
    )
    sync.set_defaults(catalog=None)
    add_storage_option(sync)


@command("catalog")
def run_catalog(args: argparse.Namespace) -> int:
    from framesift.catalog import Catalog  # start-up: DuckDB loads for these commands only

    catalog = Catalog(catalog_url(args), storage_options_from_args(args), create=False)
    return _SUBCOMMANDS[args.catalog_command](catalog, args) or EXIT_OK


def _summary(catalog: Catalog, args: argparse.Namespace) -> int | None:
    """What the catalog holds: its totals, a line per video, a line per failed,
    interrupted or damaged source."""
    totals = catalog.totals()
    echo(f"{catalog.url}: {totals}")
    echo(f"  {totals.stages}")
    for row in catalog.summary().iter_rows(named=True):
        echo(
            f"  {row['video_id'][:12]}  {row['duration_s'] or 0:8.1f} s  "
            f"{row['width']}x{row['height']} {row['codec']:<10} "
            f"{counted(row['kept_frames'], 'frame'):>13} "
            f"{counted(row['scene_count'], 'scene'):>11}  {row['source_url']}"
        )
    for failed in totals.failed:
        # The message names the file first; the line already does.
        message = failed.error_message.removeprefix(f"{failed.source_url}: ")
        echo(f"  FAILED  {failed.source_url}: {failed.error_type}: {message}")
    for left in totals.interrupted:
        echo(f"  INTERRUPTED  {left.source_url}: {left.error_message}")
    for video_id, why in sorted(catalog.state().hidden.items()):
        echo(f"  DAMAGED  {video_id}: {why} (framesift catalog check / repair)")
    return None


def _vacuum(catalog: Catalog, args: argparse.Namespace) -> int | None:
    counts = catalog.vacuum(grace_s=args.grace, dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "nothing"
    echo(f"{catalog.url}: {verb} {listed}")
    return None


def _compact(catalog: Catalog, args: argparse.Namespace) -> int | None:
    sequence = catalog.compact()
    echo(f"{catalog.url}: " + (f"snapshot {sequence}" if sequence else "nothing to compact"))
    return None


def _check(catalog: Catalog, args: argparse.Namespace) -> int | None:
    """A line per damaged video; exit status 1 when there is any."""
    health = catalog.check()
    damaged = len(health.damaged)
    echo(f"{catalog.url}: {counted(health.videos_checked, 'video')} checked, {damaged} damaged")
    for damage in health.damaged:
        echo(f"  DAMAGED  {damage}")
    if health.snapshot_problem:
        echo(f"  SNAPSHOT  {health.snapshot_problem}")
    if not health.ok:
        echo("  run framesift catalog repair, then ingest the sources of damaged videos again")
    return EXIT_OK if health.ok else EXIT_PARTLY


def _repair(catalog: Catalog, args: argparse.Namespace) -> int | None:
    outcome = catalog.repair()
    echo(f"{catalog.url}: {len(outcome.tombstoned)} damaged videos hidden")
    for damage in outcome.tombstoned:
        echo(f"  HIDDEN  {damage}")
    for damage in outcome.skipped:
        echo(f"  SKIPPED  {damage} (a newer generation was committed meanwhile)")
    if outcome.snapshot_reset:
        echo("  the broken snapshot was set aside and the catalog compacted again")
    sources = sorted({d.source_url for d in outcome.tombstoned if d.source_url})
    if sources:
        echo("  ingest these sources again to restore them: " + " ".join(sources))
    return None


def _sync(catalog: Catalog, args: argparse.Namespace) -> int | None:
    """A line of counts, a line per video left alone or failed; exit status 1 when any
    video could not be copied (a re-run copies the rest)."""
    report = catalog.sync_to(
        args.target, parse_storage_options(args.dst_option), max_workers=args.workers
    )
    echo(f"{report.source_url} -> {report.target_url}: {report}")
    for video_id in report.newer_at_target:
        echo(f"  NEWER THERE  {video_id} (left alone)")
    for video_id in report.conflicts:
        echo(f"  CONFLICT  {video_id}: committed there with other content (left alone)")
    for failure in report.failed:
        echo(f"  FAILED  {failure}")
    return EXIT_OK if report.ok else EXIT_PARTLY


_SUBCOMMANDS: dict[str, Callable[[Catalog, argparse.Namespace], int | None]] = {
    "summary": _summary,
    "vacuum": _vacuum,
    "compact": _compact,
    "check": _check,
    "repair": _repair,
    "sync": _sync,
}


def register(subparsers: Any) -> None:
    """Add ``catalog`` (with its subcommands) to the command's subparsers."""
    p = subparsers.add_parser(
        "catalog", help="look after a catalog: summary, vacuum, compact, check, repair, sync"
    )
    add_catalog_arguments(p)
    p.set_defaults(func=run_catalog)
