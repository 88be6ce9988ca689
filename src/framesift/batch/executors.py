"""Where the per-video jobs of a batch run: this process, a local process pool, or a Dask
cluster.

Every backend is a :class:`concurrent.futures.Executor` (a ``ProcessPoolExecutor`` on one
machine, ``distributed.Client.get_executor()`` on a cluster), so the batch has one code path.
Backends import on first use and say how to install what is missing. Workers are spawned,
not forked: the parent's decoder, fsspec and DuckDB threads must not be copied mid-flight.

Workers never outlive the batch: a local worker asks the kernel to kill it when its parent
dies (Linux's parent-death signal, set by the pool's initializer), and Dask's local workers
end with the process that started them (distributed's own parent watch; the cluster is
closed and its futures cancelled when the batch ends in any way). A :class:`JobPool` is
renewed after a worker died: a process pool cannot be used once one of its processes
ended abruptly.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Executor, ProcessPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

from framesift.batch.worker_logs import WorkerLogging
from framesift.errors import SettingsError

__all__ = ["EXECUTOR_KINDS", "ExecutorSpec", "JobPool", "open_executor", "worker_lost_errors"]

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # linux/prctl.h

ExecutorKind = Literal["serial", "process", "dask"]
EXECUTOR_KINDS: tuple[ExecutorKind, ...] = ("serial", "process", "dask")


@dataclass(frozen=True)
class ExecutorSpec:
    """How a batch runs its videos.

    ``serial``: one after the other in this process (per-video progress is shown).
    ``process``: ``workers`` processes on this machine.
    ``dask``: the Dask scheduler at ``address`` (``tcp://host:8786``), or with no address a
    local cluster of ``workers`` worker processes.
    ``split_over_s``: on a pool or a cluster, a video longer than this is cut at keyframes
    into up to ``workers`` time ranges that run as separate tasks and are joined into one
    commit (:mod:`framesift.batch.split`; 0: never).
    """

    kind: ExecutorKind = "serial"
    workers: int = 1
    address: str | None = None
    connect_timeout_s: float = 20.0  # how long to wait for a remote scheduler
    split_over_s: float = 20 * 60.0

    def __post_init__(self) -> None:
        if self.kind not in EXECUTOR_KINDS:
            raise SettingsError(f"executor {self.kind!r}: allowed {', '.join(EXECUTOR_KINDS)}")
        if not 1 <= self.workers <= 1024:
            raise SettingsError(f"workers={self.workers}: allowed 1 to 1024")
        if self.address is not None and self.kind != "dask":
            raise SettingsError("an address is for the dask executor only")
        if self.connect_timeout_s <= 0:
            raise SettingsError(f"connect_timeout_s={self.connect_timeout_s}: must be > 0")
        if not self.split_over_s >= 0:
            raise SettingsError(
                f"split_over_s={self.split_over_s}: must be >= 0 seconds (0: never split)"
            )

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
        with ProcessPoolExecutor(
            max_workers=spec.workers,
            mp_context=context,
            initializer=start_worker,
            initargs=(os.getpid(), WorkerLogging.of_this_process()),
        ) as pool:
            yield pool
    else:
        with _dask_executor(spec) as pool:
            yield pool


def start_worker(parent_pid: int, logs: WorkerLogging) -> None:
    """A local worker's first acts: die with its parent, log as its parent does."""
    die_with_parent(parent_pid)
    logs.apply()


def die_with_parent(parent_pid: int) -> None:
    """A worker's first act: be killed when the process that started it dies (Linux's
    parent-death signal; elsewhere nothing), and end now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError) as exc:
            logger.debug("no parent-death signal for this worker: %s", exc)
    if os.getppid() != parent_pid:  # the parent died before the signal was set
        os._exit(1)


class JobPool:
    """The executor a batch runs on, renewed when its processes broke.

    Use as a context manager: ``executor`` is None for ``serial``. :meth:`renew` replaces
    a local process pool after one of its workers died (the old one is shut down; its
    other workers with it); a Dask client stays as it is (the scheduler replaces lost
    workers itself). :meth:`of` wraps an executor the caller opened, which cannot be
    renewed.
    """

    def __init__(self, spec: ExecutorSpec | None) -> None:
        self.spec = spec
        self.executor: Executor | None = None
        self._stack = contextlib.ExitStack()

    @classmethod
    def of(cls, executor: Executor | None) -> JobPool:
        pool = cls(None)
        pool.executor = executor
        return pool

    def __enter__(self) -> JobPool:
        if self.spec is not None:
            self.executor = self._stack.enter_context(open_executor(self.spec))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    @property
    def workers(self) -> int:
        """How many jobs run at once: the spec's workers (an executor given by the caller:
        taken to be 2)."""
        return self.spec.workers if self.spec is not None else 2

    def renew(self) -> bool:
        """A working executor again after a worker died; False when this pool cannot be
        renewed (an executor given by the caller)."""
        if self.spec is None:
            return False
        if self.spec.kind != "process":
            return True
        self._stack.close()
        self._stack = contextlib.ExitStack()
        self.executor = self._stack.enter_context(open_executor(self.spec))
        logger.info("a worker died: the batch goes on in a new process pool")
        return True


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
                    # no dashboard; its HTTP server (metrics) on a free local port, not
                    # 8787, which another cluster on this machine may hold
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
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
        _log_like_this_process(distributed, client)
        # pure=False: a re-run must run again (the catalog decides what to skip), not be
        # answered from the scheduler's memory of an identical call.
        yield client.get_executor(pure=False)


def _log_like_this_process(distributed: Any, client: Any) -> None:
    """Each Dask worker, present and future, logs as this process does (a worker plugin);
    a scheduler that refuses plugins leaves its workers' logging as it was."""
    logs = WorkerLogging.of_this_process()

    class _Logging(distributed.WorkerPlugin):  # type: ignore[misc]
        name = "framesift-logging"

        def setup(self, worker: Any) -> None:
            logs.apply()

    try:
        client.register_plugin(_Logging())
    except Exception as exc:  # a remote cluster's own rules; logging is not worth failing for
        logger.debug("Dask workers keep their own logging: %s", exc)
