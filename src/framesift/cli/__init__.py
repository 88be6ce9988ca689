"""The ``framesift`` command: parses, calls the library, presents. No logic lives here.

One module per command group (:mod:`~framesift.cli.probe`; :mod:`~framesift.cli.media`:
scenes, sample, estimate; :mod:`~framesift.cli.ingest`; :mod:`~framesift.cli.jobs`;
:mod:`~framesift.cli.search`; :mod:`~framesift.cli.catalog`; :mod:`~framesift.cli.report`),
over the options they share (:mod:`~framesift.cli.options`; the sampling options in
:mod:`~framesift.cli.arguments`), one exit-status contract (:mod:`~framesift.cli.command`:
errors framesift raises on purpose print as one line on stderr with exit status 2), one
output style (:mod:`~framesift.cli.output`), the progress line of one video
(:mod:`~framesift.cli.progress_line`) and the bar over a batch
(:mod:`~framesift.cli.progress_bar`, for notebooks too).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from framesift.cli.command import redactor_for
from framesift.cli.options import CommandParser, parse_storage_options
from framesift.cli.process import command_process
from framesift.cli.progress_bar import BatchProgressBar
from framesift.cli.progress_line import ProgressLine
from framesift.redact import RedactingFilter, Redactor

if TYPE_CHECKING:
    from framesift.cli.arguments import add_sampling_arguments, spec_from_args

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


COMMAND_GROUPS: tuple[str, ...] = (
    "probe",
    "media",
    "ingest",
    "jobs",
    "search",
    "catalog",
    "report",
)
"""The modules of :mod:`framesift.cli` that add commands, in the order ``--help`` lists them."""

_ALONE: dict[str, str] = {
    "probe": "probe",
    "estimate": "media",
    "sample": "media",
    "scenes": "media",
}
"""Commands parsed by their group alone (start-up: ``probe`` then loads neither the other
groups nor the sampling options, hence not :mod:`framesift.spec`; ``sample`` not the
catalog's, search's or report's command modules)."""


def __getattr__(name: str) -> Any:
    """The sampling options' helpers, re-exported here, load with them on first use."""
    if name in ("add_sampling_arguments", "spec_from_args"):
        return getattr(importlib.import_module("framesift.cli.arguments"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register_commands(subparsers: Any, groups: Sequence[str] = COMMAND_GROUPS) -> None:
    """Add every ``framesift`` command (or those of ``groups``) to ``subparsers``."""
    for group in groups:
        importlib.import_module(f"framesift.cli.{group}").register(subparsers)


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


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command's parser; given the ``argv`` it will parse, only what that needs."""
    groups = COMMAND_GROUPS
    command = _command_name(argv or ())
    if command in _ALONE:
        groups = (_ALONE[command],)
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
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_commands(subparsers, groups)
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
    """Run ``framesift`` with ``argv``; the exit status. Without ``argv``, the process's own
    command line: the command is then the process's whole life (the console script,
    ``python -m framesift.cli``), and its start-up and exit are tuned for that
    (:mod:`framesift.cli.process`)."""
    if argv is not None:
        return _run(list(argv))
    argv = sys.argv[1:]
    with command_process(_command_name(argv)):
        return _run(argv)


def _command_name(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (None: none, only options such as ``--help``)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _run(argv: list[str]) -> int:
    try:
        args = build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # --help, --version, or an option refused in one line
        return exc.code if isinstance(exc.code, int) else 2
    _configure_logging(args.verbose, redactor_for(args))
    return int(args.func(args))
