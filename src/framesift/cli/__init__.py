"""The ``framesift`` command: parses, calls the library, presents. No logic lives here.

One module per command group (:mod:`~framesift.cli.media`: probe, scenes, sample,
estimate; :mod:`~framesift.cli.ingest`; :mod:`~framesift.cli.jobs`; :mod:`~framesift.cli.search`;
:mod:`~framesift.cli.catalog`; :mod:`~framesift.cli.report`), over the options they share
(:mod:`~framesift.cli.arguments`), one exit-status contract (:mod:`~framesift.cli.command`:
errors framesift raises on purpose print as one line on stderr with exit status 2), one
output style (:mod:`~framesift.cli.output`) and the progress line
(:mod:`~framesift.cli.progress_line`).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from typing import Any

from framesift._version import __version__
from framesift.cli import catalog, ingest, jobs, media, report, search
from framesift.cli.arguments import (
    CommandParser,
    add_sampling_arguments,
    parse_storage_options,
    spec_from_args,
)
from framesift.cli.command import redactor_for
from framesift.cli.progress_line import ProgressLine
from framesift.redact import RedactingFilter, Redactor

__all__ = [
    "ProgressLine",
    "add_sampling_arguments",
    "build_parser",
    "main",
    "parse_storage_options",
    "register_commands",
    "spec_from_args",
]


def register_commands(subparsers: Any) -> None:
    """Add every ``framesift`` command to ``subparsers``."""
    for group in (media, ingest, jobs, search, catalog, report):
        group.register(subparsers)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="framesift", description="Sample, search and look after catalogs of video frames."
    )
    parser.add_argument("--version", action="version", version=f"framesift {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log more on stderr (-v: progress notes, -vv: debugging detail)",
    )
    register_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    return parser


THIRD_PARTY_LOGGERS: tuple[str, ...] = (
    "aiobotocore",
    "aiohttp",
    "asyncio",
    "boto3",
    "botocore",
    "fsspec",
    "s3fs",
    "s3transfer",
    "urllib3",
)
"""Libraries whose debug logs print request headers (session tokens, signatures): held at
WARNING whatever ``-v`` says; ``-vv`` is framesift's own detail."""


def _configure_logging(verbose: int, redactor: Redactor) -> None:
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(redactor))
    for name in THIRD_PARTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if verbose == 0:
        # FFmpeg's own chatter about damaged packets is counted and summarised instead.
        logging.getLogger("framesift.decode").setLevel(logging.ERROR)
        # A video that failed is printed once, on its own line of the command's output.
        logging.getLogger("framesift.catalog.ingest").setLevel(logging.ERROR)
        logging.getLogger("framesift.batch.loop").setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``framesift`` with ``argv`` (default: the process's arguments); the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an option refused in one line
        return exc.code if isinstance(exc.code, int) else 2
    _configure_logging(args.verbose, redactor_for(args))
    return int(args.func(args))
