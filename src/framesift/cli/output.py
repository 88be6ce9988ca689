"""How the ``framesift`` command writes: results to stdout, one-line failures to stderr.

Every command writes through these few functions, so the output has one style: plain
lines (flushed, so they interleave correctly with the progress line on a terminal, and
written with a batch's progress bar lifted off it),
JSON indented by two, and failures as ``framesift <command>: <what>``. Nothing else in
the command prints.
"""

from __future__ import annotations

import contextlib
import json
import sys
from contextlib import AbstractContextManager
from typing import Any

__all__ = ["echo", "echo_json", "echo_text", "fail", "refuse_option"]


def echo(line: str = "") -> None:
    """One line of a result on stdout."""
    with _clear_of_progress_bars():
        print(line, flush=True)


def echo_text(text: str) -> None:
    """A block that is already lines (CSV, JSON lines) on stdout, as it is."""
    sys.stdout.write(text)
    sys.stdout.flush()


def echo_json(value: Any) -> None:
    """A result as JSON on stdout (values JSON lacks, such as datetimes, as strings)."""
    echo(json.dumps(value, indent=2, default=str))


def fail(command: str, message: str) -> None:
    """The one line on stderr that says why ``framesift <command>`` stopped."""
    with _clear_of_progress_bars():
        print(f"framesift {command}: {message}", file=sys.stderr, flush=True)


def _clear_of_progress_bars() -> AbstractContextManager[Any]:
    """Lift a progress bar off the terminal while a line is written, then draw it again
    (:class:`~framesift.cli.progress_bar.BatchProgressBar`; without tqdm loaded there is
    none)."""
    tqdm = sys.modules.get("tqdm")
    return tqdm.tqdm.external_write_mode() if tqdm is not None else contextlib.nullcontext()


def refuse_option(prog: str, message: str) -> None:
    """The one line on stderr that says which option ``prog`` (``framesift sample``)
    refused and why, and where its help is."""
    print(f"{prog}: {message} ({prog} --help)", file=sys.stderr, flush=True)
