"""Where the per-video jobs of a batch run: this process, a local process pool, or a Dask
cluster.

Every backend is a :class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor`` on one
machine, ``distributed.Client.get_executor()`` on a cluster), so the batch has one code path.
Backends import on first use and say how to install what is missing. Workers are spawned,
not forked: the parent's decoder, fsspec and DuckDB threads must not be copied mid-flight.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Literal

from framesift.errors import SettingsError

__all__ = ["EXECUTOR_KINDS", "ExecutorSpec", "open_executor", "worker_lost_errors"]

ExecutorKind = Literal["serial", "process", "dask"]
EXECUTOR_KINDS: tuple[ExecutorKind, ...] = ("serial", "process", "dask")


@dataclass(frozen=True)
class ExecutorSpec:
    """How a batch runs its videos.

    ``serial``: one after the other in this process (per-video progress is shown).
    ``process``: ``workers`` processes on this machine.
    ``dask``: the Dask scheduler at ``address`` (``tcp://host:8786``), or with no address a
    local cluster of ``workers`` worker processes.
    """

    kind: ExecutorKind = "serial"
    workers: int = 1
    address: str | None = None
    connect_timeout_s: float = 20.0  # how long to wait for a remote scheduler

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise SettingsError(f"executor {self.kind!r}: allowed {', '.join(EXECUTOR_KINDS)}")
        if not 1 <= self.workers <= 1024:
            raise SettingsError(f"workers={self.workers}: allowed 1 to 1024")
        if self.address is not None and self.kind != "dask":
            raise SettingsError("an address is for the dask executor only")
        if self.connect_timeout_s <= 0:
            raise SettingsError(f"connect_timeout_s={self.connect_timeout_s}: must be > 0")

    def decode_threads(self) -> int:
        """Frame threads per video for local workers (0: the decoder's own default).

        Each worker decodes one video; together they should fill the cores, not
        oversubscribe them many times over. A remote cluster's workers decide for
        themselves.
        """
        if self.kind != "process" and not (self.kind == "dask" and self.address is None):
            return 0
        cores = os.cpu_count() or 2
        return max(2, cores // self.workers + 2)

    def inference_threads(self) -> int:
        """Inference threads per video for local workers (0: the analyzers' own default,
        every core this process may use): each worker's share of the cores, so the
        workers' model runtimes together do not oversubscribe the machine."""
        if self.decode_threads() == 0:
            return 0
        return max(1, (os.cpu_count() or 2) // self.workers)

    def fast_segments(self) -> int:
        """Most segments a fast pass decodes side by side for local workers (0: one per
        core, the pass's own default); with several workers they share the cores."""
        if self.decode_threads() == 0:
            return 0
        return max(1, (os.cpu_count() or 2) // self.workers)


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[Executor | None]:
    """The executor for ``spec``, shut down on exit; None for ``serial`` (run in-process)."""
    if spec.kind == "serial":
        yield None
    elif spec.kind == "process":
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=spec.workers, mp_context=context) as pool:
            yield pool
    else:
        with _dask_executor(spec) as pool:
            yield pool


def worker_lost_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean a job's worker died, not that the job failed: a broken process
    pool, a cancelled job, or (when Dask is in use) a worker the scheduler gave up on."""
    types: list[type[BaseException]] = [BrokenExecutor, CancelledError]
    scheduler = sys.modules.get("distributed")
    if scheduler is not None:
        types.append(scheduler.KilledWorker)
    return tuple(types)


@contextlib.contextmanager
def _dask_executor(spec: ExecutorSpec) -> Iterator[Executor]:
    try:
        import distributed
    except ImportError:
        raise SettingsError(
            "the dask executor needs Dask's distributed scheduler: pip install 'framesift[dask]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if spec.address is None:
            # distributed's constructors are untyped: the ignores below say only that.
            cluster = stack.enter_context(
                distributed.LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=spec.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(distributed.Client(cluster))  # type: ignore[no-untyped-call]
        else:
            try:
                client = stack.enter_context(
                    distributed.Client(spec.address, timeout=spec.connect_timeout_s)  # type: ignore[no-untyped-call]
                )
            except OSError as exc:
                raise SettingsError(
                    f"cannot reach the Dask scheduler at {spec.address}: {exc}"
                ) from None
        # pure=False: a re-run must run again (the catalog decides what to skip), not be
        # answered from the scheduler's memory of an identical call.
        yield client.get_executor(pure=False)
