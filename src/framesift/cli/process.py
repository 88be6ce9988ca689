"""A command run as the whole life of a process: its start-up and its exit.

The ``framesift`` console script (and ``python -m framesift.cli``) runs one command and
ends. Such a process imports tens of thousands of long-lived objects (the modules of PyAV,
numpy, OpenCV, polars, PySceneDetect: classes, functions, their dicts), and Python's
cyclic garbage collector walks all of them again at every full collection: once or twice
while the imports themselves run, and three times more as the interpreter exits, after the
command is done, finding nothing to free. On ``framesift sample`` that was about a quarter
of a CPU second of the fixed cost per command (benchmarks/RESULTS.md, "Seventh session").

So, for a command that is the process's whole life (and only then: :func:`main
<framesift.cli.main>` called inside another program, a notebook or the tests, changes
nothing):

- :func:`importing` runs the block that imports a command's stack with the collector off
  (imports make long-lived objects, not garbage) and then freezes what it imported
  (:func:`gc.freeze`: out of the collector's sight, alive until the process ends anyway);
  the collector is on again when the block ends, for the command's own work;
- when a command that leaves nothing open has returned (:data:`ENDS_CLEAN`: its files
  are closed and its threads joined by then), everything still alive is frozen, so the
  interpreter's exit skips those last collections. The exit is otherwise Python's usual
  one: non-daemon threads joined, ``atexit`` handlers run, modules cleared, streams
  flushed; only reference cycles still alive at that point are left to the operating
  system without their finalizers, which is why a command has to be listed to get it.

And numpy's OpenBLAS, as numpy is imported, starts a thread per core that spins on a core
for a while (about 0.13 CPU seconds at the import, ~0.2 over a 55-s pass: the cores the
decoder's frame threads need). The pass multiplies no matrices that large, so a command
listed in :data:`ENDS_CLEAN` runs with one OpenBLAS thread (``OPENBLAS_NUM_THREADS=1``,
unless the environment already says otherwise).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ENDS_CLEAN", "command_process", "importing"]

ENDS_CLEAN: frozenset[str] = frozenset({"probe", "sample", "scenes"})
"""Commands whose files are closed (``with`` blocks) and threads joined when they return:
the interpreter's last collections would find nothing for them to finalize."""

_own_process = False
"""Whether the running command is the process's whole life (:func:`command_process`)."""


@contextmanager
def command_process(command: str | None) -> Iterator[None]:
    """The block running ``command`` as the whole life of this process (``None``: the
    command line was refused or only asked for help)."""
    global _own_process
    _own_process = True
    if command in ENDS_CLEAN:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy's import
    try:
        yield
    finally:
        _own_process = False
        if command is None or command in ENDS_CLEAN:
            gc.freeze()


@contextmanager
def importing() -> Iterator[None]:
    """A block that imports a command's stack: the collector off while it runs and what
    it imported frozen after, when the command is the process's whole life."""
    if not _own_process:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
