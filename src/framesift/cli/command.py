"""The one place where a command's failures become exit statuses.

Every command is a function ``run(args) -> int`` wrapped by :func:`command`, which keeps
the CLI's contract for all of them:

- 0 success; the command itself returns 1 for "partly" (some videos failed, no hits);
- 2 a failure framesift raised on purpose (:class:`~framesift.errors.FramesiftError`): one
  line on stderr, ``framesift <command>: <ErrorType>: <message>``, never a traceback. A
  decoder or I/O error that escaped the library is reported the same way;
- 130 interrupted (Ctrl-C);
- 141 the reader of stdout went away (``framesift ... | head``): stop quietly, as Unix
  tools do.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable

from framesift.cli.options import parse_storage_options
from framesift.cli.output import fail
from framesift.errors import FramesiftError, SettingsError
from framesift.redact import Redactor

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTLY",
    "Run",
    "command",
    "redactor_for",
]

EXIT_OK = 0
EXIT_PARTLY = 1
EXIT_FAILED = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

Run = Callable[[argparse.Namespace], int]


def command(name: str) -> Callable[[Run], Run]:
    """Make ``run`` the ``framesift <name>`` command: its exceptions become exit statuses
    and one line on stderr (see the module's docstring)."""

    def wrap(run: Run) -> Run:
        @functools.wraps(run)
        def guarded(args: argparse.Namespace) -> int:
            try:
                return int(run(args))
            except FramesiftError as exc:
                fail(name, _redacted(args, f"{type(exc).__name__}: {exc}"))
                return EXIT_FAILED
            except BrokenPipeError:
                # Later writes (and the interpreter's last flush) go nowhere instead of failing.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return EXIT_BROKEN_PIPE
            except _escaped_library_errors() as exc:
                # Not expected to escape the library; still one line, never a traceback.
                fail(name, _redacted(args, f"{type(exc).__name__}: {exc}"))
                return EXIT_FAILED
            except KeyboardInterrupt:
                fail(name, "interrupted")
                return EXIT_INTERRUPTED

        return guarded

    return wrap


def _escaped_library_errors() -> tuple[type[Exception], ...]:
    """The decoder's and the system's errors. PyAV is not imported for this (start-up): an
    FFmpeg error can only have been raised where PyAV is loaded already."""
    av = sys.modules.get("av")
    return (OSError,) if av is None else (av.error.FFmpegError, OSError)


def _redacted(args: argparse.Namespace, message: str) -> str:
    """``message`` without credentials: URL userinfo, the AWS environment's secrets and
    those of the command's ``--storage-option`` values."""
    return redactor_for(args)(message)


def redactor_for(args: argparse.Namespace) -> Redactor:
    """A Redactor for everything a command was given: the ``--storage-option`` secrets,
    the credentials inside any URL argument, the AWS environment's secrets."""
    try:
        options = parse_storage_options(getattr(args, "storage_option", None))
    except SettingsError:
        options = {}
    values = [v for v in vars(args).values() if isinstance(v, str)]
    values += [
        i for v in vars(args).values() if isinstance(v, list) for i in v if isinstance(i, str)
    ]
    return Redactor(options, urls=values)
