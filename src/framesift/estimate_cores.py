"""How many cores a piece of work would get on a quiet machine, measured on a busy one.

CPU seconds per wall second (the cores the work got) follow the machine's load: a
calibration that shares two cores with two other busy processes gets one where, alone,
it gets nearly two, and an estimate that divided by what it got would be far off in a
quiet hour. The kernel also counts, per thread, the time it spent runnable but waiting
for a core (``/proc/<pid>/task/<tid>/schedstat``: on a core, waiting, in nanoseconds):
on a quiet machine that wait is spent working, so the work would have kept
``got * (1 + waiting / on_core)`` cores busy, at most the cores the process may use.
Where the system does not say (not Linux), the cores got are all there is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from framesift.estimate_projection import usable_cores

__all__ = ["ThreadTimes", "ThreadWatch", "cores_got", "thread_times"]

ThreadTimes = Mapping[int, tuple[float, float]]
"""Per live thread of this process: (seconds on a core, seconds waiting for one)."""

_TASKS = Path("/proc/self/task")


def cores_got(cpu_s: float, wall_s: float) -> float:
    """CPU seconds per wall second that work got: the cores it kept busy (1.0 when too
    short to tell)."""
    return cpu_s / wall_s if wall_s > 0.05 and cpu_s > 0 else 1.0


def thread_times() -> ThreadTimes:
    """Each live thread's time on a core and waiting for one (empty where unknown)."""
    times: dict[int, tuple[float, float]] = {}
    try:
        tasks = list(_TASKS.iterdir())
    except OSError:
        return times
    for task in tasks:
        try:
            on_core, waiting = (task / "schedstat").read_text().split()[:2]
        except (OSError, ValueError):
            continue  # the thread ended meanwhile, or the kernel keeps no such count
        times[int(task.name)] = (int(on_core) / 1e9, int(waiting) / 1e9)
    return times


@dataclass
class ThreadWatch:
    """This process's threads' times at the first and the latest of a run's marks."""

    first: ThreadTimes | None = None
    last: ThreadTimes = field(default_factory=dict)

    def mark(self) -> None:
        self.last = thread_times()
        if self.first is None:
            self.first = self.last

    def quiet_cores(self, cpu_s: float, wall_s: float) -> float:
        """The cores work that took ``cpu_s`` CPU seconds in ``wall_s`` between the first
        and the latest mark would get on a quiet machine (threads that started in between
        count from zero; those that ended are not seen)."""
        got = cores_got(cpu_s, wall_s)
        first = self.first or {}
        on_core = waiting = 0.0
        for tid, (core_s, wait_s) in self.last.items():
            core_0, wait_0 = first.get(tid, (0.0, 0.0))
            on_core += max(0.0, core_s - core_0)
            waiting += max(0.0, wait_s - wait_0)
        wanted = got * (1.0 + waiting / on_core) if on_core > 0.01 else got
        return max(got, min(float(usable_cores()), wanted))
