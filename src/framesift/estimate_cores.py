"""How many cores a piece of work would get on a quiet machine, measured on a busy one.

CPU seconds per wall second (the cores the work got) follow the machine's load: a
calibration that shares two cores with another busy process gets one where, alone, it gets
one and a half, and an estimate that divided by what it got would be far off in a quiet
hour. Three measures bound what it would get alone (:func:`quiet_cores`):

- the cores *other processes* kept busy meanwhile (``/proc/stat``'s busy time of every
  core, less the CPU seconds of this process and its children): alone, the work can gain
  at most those. Its own threads waiting for each other (six frame threads, the main
  thread and the read-ahead on two cores) are no core another process took: on a quiet
  machine that wait stays, so a quiet calibration's cores are the cores it got;
- the time its threads spent runnable but waiting for a core
  (``/proc/<pid>/task/<tid>/schedstat``: on a core, waiting, in nanoseconds): it can gain
  at most that (``got * waiting / on_core``);
- its busiest thread: a thread is on one core at a time, so the work cannot take less
  wall time than that thread's time on a core, whatever the machine (CPU seconds of all
  threads over the busiest one's: the most cores it can use).

Where the system does not say (not Linux), the cores got are all there is.

Each video of an estimate gets the cores its calibrations' work got at its picture size
(:func:`cores_at`); a video longer than the calibrated stretches spends its frames past
their length at the cores of the calibrations' pass loops alone (:func:`wall_seconds`):
the work around the pass (set-up, commit) runs on one thread, so a short calibration's
whole work got fewer cores than a long video's ingest, which is nearly all pass (the
ten-minute benchmark videos' ingests got 1.81-1.91 cores, their calibrations 1.73-1.84).
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "CoreUse",
    "ThreadTimes",
    "ThreadWatch",
    "WatchMark",
    "cores_at",
    "cores_got",
    "machine_busy_s",
    "pooled_cores",
    "quiet_cores",
    "thread_times",
    "usable_cores",
    "wall_seconds",
]

ThreadTimes = Mapping[int, tuple[float, float]]
"""Per live thread of this process: (seconds on a core, seconds waiting for one)."""

_TASKS = Path("/proc/self/task")
_STAT = Path("/proc/stat")
# A core's line: user nice system idle iowait irq softirq steal guest guest_nice (guest time
# is already in user and nice).
_IDLE_FIELDS = (3, 4)
_STEAL = 7


def cores_got(cpu_s: float, wall_s: float) -> float:
    """CPU seconds per wall second that work got: the cores it kept busy (1.0 when too
    short to tell)."""
    return cpu_s / wall_s if wall_s > 0.05 and cpu_s > 0 else 1.0


def quiet_cores(
    got: float,
    others: float | None,
    on_core_s: float,
    waiting_s: float,
    busiest_s: float,
    usable: float,
) -> float:
    """The cores work that got ``got`` cores would get on a quiet machine, while other
    processes kept ``others`` cores busy (None: unknown, so no gain) and its threads spent
    ``on_core_s`` on a core, ``waiting_s`` waiting for one, the busiest of them
    ``busiest_s`` on a core: ``got`` plus the lesser of ``others`` and its threads' wait
    (as cores), at most the cores its busiest thread lets it use and ``usable``; never
    fewer than it got."""
    if on_core_s <= 0.01 or not others or others <= 0:
        return got
    gain = min(others, got * waiting_s / on_core_s)
    bound = min(usable, on_core_s / busiest_s) if busiest_s > 0.01 else usable
    return max(got, min(bound, got + gain))


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


def machine_busy_s() -> float | None:
    """Busy seconds since boot of the cores this process may run on, whoever kept them
    busy (None where unknown). Time stolen by the hypervisor is not counted: a quiet
    machine on a busy host loses it too."""
    try:
        lines = _STAT.read_text().splitlines()
    except OSError:
        return None
    mine = {f"cpu{n}" for n in _affinity()}
    busy = 0
    for line in lines:
        name, *fields = line.split()
        if name in mine:
            ticks = [int(f) for f in fields[:_STEAL]]
            busy += sum(ticks) - sum(ticks[i] for i in _IDLE_FIELDS)
    return busy / os.sysconf("SC_CLK_TCK") if busy else None


def _affinity() -> set[int]:
    try:
        return os.sched_getaffinity(0)
    except AttributeError:  # not Linux
        return set(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class WatchMark:
    """One moment of a watch: this process's threads, the machine's busy seconds, the CPU
    seconds of this process and of its finished children, and the wall clock."""

    threads: ThreadTimes
    machine_busy_s: float | None
    own_cpu_s: float
    wall_s: float

    @classmethod
    def now(cls) -> WatchMark:
        own = os.times()  # the kernel's accounting, as /proc/stat's (its clock ticks)
        return cls(
            thread_times(),
            machine_busy_s(),
            own.user + own.system + own.children_user + own.children_system,
            time.perf_counter(),
        )


class ThreadWatch:
    """This process's threads and the machine's load at the first and the latest of a
    run's marks."""

    def __init__(self) -> None:
        self.first: WatchMark | None = None
        self.last: WatchMark | None = None

    def mark(self) -> None:
        self.last = WatchMark.now()
        if self.first is None:
            self.first = self.last

    def others(self) -> float | None:
        """The cores other processes kept busy between the first and the latest mark
        (None: unknown, or no time between them)."""
        first, last = self.first, self.last
        if first is None or last is None or first.machine_busy_s is None:
            return None
        wall = last.wall_s - first.wall_s
        if last.machine_busy_s is None or wall <= 0.05:
            return None
        busy = last.machine_busy_s - first.machine_busy_s
        return max(0.0, (busy - (last.own_cpu_s - first.own_cpu_s)) / wall)

    def thread_seconds(self) -> tuple[float, float, float]:
        """Between the first and the latest mark: this process's threads' seconds on a
        core, waiting for one, and the busiest thread's on a core (threads that started in
        between count from zero, those that ended are not seen)."""
        on_core = waiting = busiest = 0.0
        if self.first is None or self.last is None:
            return on_core, waiting, busiest
        for tid, (core_s, wait_s) in self.last.threads.items():
            core_0, wait_0 = self.first.threads.get(tid, (0.0, 0.0))
            on_core += max(0.0, core_s - core_0)
            waiting += max(0.0, wait_s - wait_0)
            busiest = max(busiest, core_s - core_0)
        return on_core, waiting, busiest

    def quiet_cores(self, cpu_s: float, wall_s: float) -> float:
        """The cores work that took ``cpu_s`` CPU seconds in ``wall_s`` would get on a
        quiet machine (:func:`quiet_cores`, from what happened between the first and the
        latest mark)."""
        on_core, waiting, busiest = self.thread_seconds()
        return quiet_cores(
            cores_got(cpu_s, wall_s),
            self.others(),
            on_core,
            waiting,
            busiest,
            float(usable_cores()),
        )


class CoreUse(Protocol):
    """What a calibration measured of the cores its work got (see
    :class:`framesift.estimate_projection.Calibration`)."""

    @property
    def pixels(self) -> int: ...
    @property
    def cpu_s(self) -> float: ...
    @property
    def setup_cpu_s(self) -> float: ...
    @property
    def other_cpu_s(self) -> float: ...
    @property
    def cores(self) -> float: ...
    @property
    def loop_cores(self) -> float: ...


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pooled_cores(calibration: Sequence[CoreUse], *, loop: bool = False) -> float:
    """The cores the calibrations' work gets (``loop``: their passes' loops alone), pooled
    by CPU seconds, at most the cores this process may use."""
    if loop:
        cpu = sum(c.cpu_s for c in calibration)
        wall = sum(c.cpu_s / (c.loop_cores or c.cores) for c in calibration)
    else:
        cpu = sum(c.cpu_s + c.setup_cpu_s + c.other_cpu_s for c in calibration)
        wall = sum((c.cpu_s + c.setup_cpu_s + c.other_cpu_s) / c.cores for c in calibration)
    return min(float(usable_cores()), cpu / wall) if wall > 0 else 1.0


def cores_at(calibration: Sequence[CoreUse], pixels: int, *, loop: bool = False) -> float:
    """The cores a video of ``pixels`` per frame gets, from the calibrations: linear in the
    logarithm of the pixels between the calibrated sizes, the nearest one's beyond them
    (calibrations of one size pooled by CPU seconds). The decoder's frame threads share the
    work that grows with the picture; the analysis of each frame (on a small image) and the
    work around the pass stay on one thread: a bigger picture keeps more cores busy."""
    sizes: dict[int, list[CoreUse]] = {}
    for c in calibration:
        sizes.setdefault(c.pixels, []).append(c)
    points = sorted(
        (math.log(max(1, size)), pooled_cores(cs, loop=loop)) for size, cs in sizes.items()
    )
    if not points:
        return 1.0
    x = math.log(max(1, pixels))
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return points[-1][1]


def wall_seconds(
    cpu_s: float,
    longer_cpu_s: float,
    calibration: Sequence[CoreUse],
    own: CoreUse | None,
    pixels: int,
) -> float:
    """Wall seconds of a video's ``cpu_s`` CPU seconds, of which ``longer_cpu_s`` are its
    frames past the calibrated stretches' length: those at the cores the calibrations'
    pass loops got (the pass is nearly all of a long video's ingest, and its frame threads
    keep more cores busy than the work around it), the rest at the cores of the
    calibrations' whole work (``own``: a calibrated video's own)."""
    if own is not None:
        cores, loop = own.cores, own.loop_cores or own.cores
    else:
        cores = cores_at(calibration, pixels)
        loop = cores_at(calibration, pixels, loop=True)
    return (cpu_s - longer_cpu_s) / cores + longer_cpu_s / loop
