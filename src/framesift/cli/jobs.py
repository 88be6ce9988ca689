"""``framesift jobs``: the catalog's jobs ledger, one line per source (or JSON).

Reads :meth:`~framesift.catalog.Catalog.jobs` (states reconciled with the commits) and
prints each source's latest run: its state and outcome or typed error (``transient`` or
``deterministic``), attempts, wall time, seconds per stage and worker. ``--failed`` lists
only the sources whose latest run failed (what ``framesift ingest --retry-failed`` runs
again). Exit status 0, 2 when the catalog could not be used.
"""

from __future__ import annotations

import argparse
from typing import Any

from framesift.cli.arguments import (
    add_catalog_argument,
    add_storage_option,
    catalog_url,
    storage_options_from_args,
)
from framesift.cli.command import EXIT_OK, command
from framesift.cli.output import echo, echo_json
from framesift.plural import counted

__all__ = ["add_jobs_arguments", "register", "run_jobs"]


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    add_catalog_argument(parser, positional=True)
    parser.add_argument(
        "--failed", action="store_true", help="only the sources whose latest run failed"
    )
    parser.add_argument("--json", action="store_true", help="print the entries as JSON")
    add_storage_option(parser)


@command("jobs")
def run_jobs(args: argparse.Namespace) -> int:
    # start-up: DuckDB loads for catalog commands only
    from framesift.catalog import Catalog
    from framesift.catalog.jobs import failed_jobs
    from framesift.catalog.stages import stages_of

    catalog = Catalog(catalog_url(args), storage_options_from_args(args), create=False)
    jobs = catalog.jobs()
    if args.failed:
        jobs = failed_jobs(jobs)
    if args.json:
        echo_json(jobs.to_dicts())
        return EXIT_OK
    for row in jobs.iter_rows(named=True):
        echo(_line(row, stages_of(row)))
    echo(counted(jobs.height, "source") + (" failed" if args.failed else ""))
    return EXIT_OK


def _line(row: dict[str, Any], stages: tuple[tuple[str, float], ...]) -> str:
    """``state outcome attempts wall stages worker source``; a failure's error beneath."""
    what = row["outcome"] or row["error_type"] or ""
    if row["failure_kind"]:
        what += f" ({row['failure_kind']})"
    wall = f"{row['wall_s']:8.2f} s" if row["wall_s"] is not None else " " * 10
    # Every stage that ran, however short; one that did not run is not in the ledger.
    timed = ", ".join(f"{stage} {seconds:.2f}" for stage, seconds in stages)
    line = (
        f"{row['state']:<11} {what:<32} {row['attempts'] or 0:>2}x {wall}  "
        f"{row['source_url']}  [{timed or 'no stage times'}]  {row['worker'] or ''}"
    )
    if row["state"] in ("failed", "interrupted") and row["error_message"]:
        line += f"\n    {row['error_message']}"
    return line


def register(subparsers: Any) -> None:
    """Add ``jobs`` to the command's subparsers."""
    p = subparsers.add_parser(
        "jobs", help="list the catalog's jobs ledger: state, errors, seconds per stage"
    )
    add_jobs_arguments(p)
    p.set_defaults(func=run_jobs)
