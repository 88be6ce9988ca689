"""The batch's logging, carried into its worker processes.

A spawned worker starts with Python's default logging: no handler, so each warning goes
to Python's last-resort handler on stderr, unformatted, unredacted and at levels the
command turned down (a failed video printed by its worker and again by the command).
:class:`WorkerLogging` records what this process set (the levels of the root and of
framesift's loggers, the message format, the redactors on its handlers) and sets the same
in a worker: records go to the worker's stderr the way the command prints them, or
nowhere when this process prints none.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from framesift.redact import RedactingFilter, Redactor

__all__ = ["WorkerLogging"]

_DEFAULT_FORMAT = "%(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True)
class WorkerLogging:
    """What a worker needs to log as this process does (picklable)."""

    levels: tuple[tuple[str, int], ...]
    """Logger name ("" for the root) -> the level set on it."""
    handled: bool
    """Whether this process has a handler on its root logger (else records go nowhere)."""
    format: str = _DEFAULT_FORMAT
    redactors: tuple[Redactor, ...] = ()

    @classmethod
    def of_this_process(cls) -> WorkerLogging:
        root = logging.getLogger()
        levels = [("", root.level)]
        for name, item in sorted(logging.root.manager.loggerDict.items()):
            ours = name == "framesift" or name.startswith("framesift.")
            if ours and isinstance(item, logging.Logger) and item.level != logging.NOTSET:
                levels.append((name, item.level))
        formats = [
            fmt
            for handler in root.handlers
            if handler.formatter is not None and isinstance(fmt := handler.formatter._fmt, str)
        ]
        redactors = tuple(
            f.redactor for h in root.handlers for f in h.filters if isinstance(f, RedactingFilter)
        )
        fmt = formats[0] if formats else _DEFAULT_FORMAT
        return cls(tuple(levels), bool(root.handlers), fmt, redactors)

    def apply(self) -> None:
        """Set this process's logging as recorded (in a worker, before any job)."""
        for name, level in self.levels:
            logging.getLogger(name or None).setLevel(level)
        handler: logging.Handler
        if self.handled:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter(self.format))
            for redactor in self.redactors:
                handler.addFilter(RedactingFilter(redactor))
        else:
            handler = logging.NullHandler()  # not Python's last-resort handler either
        logging.getLogger().addHandler(handler)
