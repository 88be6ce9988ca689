"""The ``framesift`` command: parses, calls the library, presents. No logic lives here.

One module per command group (:mod:`~framesift.cli.media`: probe, scenes, sample,
estimate; :mod:`~framesift.cli.ingest`; :mod:`~framesift.cli.jobs`; :mod:`~framesift.cli.search`;
:mod:`~framesift.cli.catalog`; :mod:`~framesift.cli.report`), over the options they share
(:mod:`~framesift.cli.arguments`), one exit-status contract (:mod:`~framesift.cli.command`:
errors framesift raises on purpose print as one line on stderr with exit status 2), one
output style (:mod:`~framesift.cli.output`), the progress line of one video
(:mod:`~framesift.cli.progress_line`) and the bar over a batch
(:mod:`~framesift.cli.progress_bar`, for notebooks too).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from framesift.cli import catalog, ingest, jobs, media, report, search
from framesift.cli.arguments import (
    CommandParser,
    add_sampling_arguments,
    parse_storage_options,
    spec_from_args,
)
from framesift.cli.command import redactor_for
from framesift.cli.progress_bar import BatchProgressBar
from framesift.cli.progress_line import ProgressLine
from framesift.redact import RedactingFilter, Redactor

__all__ = [
    "BatchProgressBar",
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


class _VersionAction(argparse.Action):
    """``--version``: the installed version, read from the package metadata only when asked
    (start-up: reading it costs more than the rest of ``--help``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from framesift._version import __version__

        sys.stdout.write(f"framesift {__version__}\n")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="framesift", description="Sample, search and look after catalogs of video frames."
    )
    parser.add_argument("--version", action=_VersionAction)
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


CLUSTER_LOGGERS: tuple[str, ...] = ("bokeh", "distributed", "tornado")
"""A Dask cluster's loggers: it logs every start, connection and shutdown at INFO and sets
its loggers' levels itself when it loads, so a filter on the command's handler holds them
back (``--dask`` would print dozens of lines); ``-vv`` shows them."""


class _QuieterLibraries(logging.Filter):
    """Drops the records of ``loggers`` (and their children) below ``level``."""

    def __init__(self, loggers: tuple[str, ...], level: int) -> None:
        super().__init__()
        self.prefixes = tuple(f"{name}." for name in loggers)
        self.loggers = frozenset(loggers)
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.level:
            return True
        return record.name not in self.loggers and not record.name.startswith(self.prefixes)


def _configure_logging(verbose: int, redactor: Redactor) -> None:
    logging.basicConfig(
        level=logging.WARNING - 10 * min(verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    cluster_level = logging.DEBUG if verbose >= 2 else logging.WARNING
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter(redactor))
        handler.addFilter(_QuieterLibraries(CLUSTER_LOGGERS, cluster_level))
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
