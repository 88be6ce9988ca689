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

import av

from framesift.cli.output import fail
from framesift.errors import FramesiftError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTLY",
    "Run",
    "command",
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
                fail(name, f"{type(exc).__name__}: {exc}")
                return EXIT_FAILED
            except BrokenPipeError:
                # Later writes (and the interpreter's last flush) go nowhere instead of failing.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return EXIT_BROKEN_PIPE
            except (av.error.FFmpegError, OSError) as exc:
                # Not expected to escape the library; still one line, never a traceback.
                fail(name, f"{type(exc).__name__}: {exc}")
                return EXIT_FAILED
            except KeyboardInterrupt:
                fail(name, "interrupted")
                return EXIT_INTERRUPTED

        return guarded

    return wrap
