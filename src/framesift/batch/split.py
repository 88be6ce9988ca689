"""Long videos split across the workers of a batch: time ranges as separate tasks, joined
into one commit.

On a process pool or a Dask cluster, :func:`run_long_videos` runs before the batch's
whole-video jobs: each job whose ``split_over_s`` is set is first planned in a worker
while the pool's other workers start (:func:`plan_long_video`: probe; a video longer than
the threshold, sampled by a full or a fast pass, is cut at keyframes into up to one range
per worker, of near-equal cost). Each range of a long video
then runs as its own task (:func:`scan_one_range`: it decodes only its range and sends back
its analysis and pictures, see :mod:`framesift.fastscan.split`); when the last range of a
video is back, this process joins them (the cuts at range borders scored across the
border) and commits the video through the per-video unit
(:func:`framesift.catalog.ingest.ingest_one`, with the join as its sampler), so text,
analyzers, the ledger and the commit protocol are those of any video, and the video
becomes visible once, complete, or not at all.

Each phase (plan, each range, join, commit) is logged at DEBUG with the wall clock and CPU
seconds of the process it ran in: the timeline ``benchmarks/bench_split.py`` prints.

Ranges write nothing, so a lost worker costs only the ranges it held: a Dask cluster runs
such a range again by itself; a local process pool breaks as a whole, so the ranges in
flight on it (never the ones already back) run again on a new pool. A range lost twice,
a range whose media fails, or ranges that do not join exactly send the video back to the
whole-video path, whose own rules (retried alone, then failed) apply. Videos committed
with the same settings are not split again (the per-video unit skips them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any

from framesift.batch.executors import JobPool, worker_lost_errors
from framesift.catalog.catalog import Catalog
from framesift.catalog.faults import fault_point
from framesift.catalog.ingest import ingest_one
from framesift.catalog.job import IngestJob, IngestOutcome
from framesift.catalog.jobs import committed_settings
from framesift.catalog.sources import fingerprint
from framesift.errors import FramesiftError, SettingsError
from framesift.fastscan import RangeScan
from framesift.fastscan.ranges import joined_cleanly
from framesift.fastscan.split import RangePlan, join_planned, plan_ranges, scan_planned
from framesift.probe import probe
from framesift.progress import SecondsProgress
from framesift.sample import DecodeMode, SampleResult, plan_decode, sample_result, scan_stats
from framesift.sink import ImageSink
from framesift.spec import SamplingSpec

__all__ = ["LongVideo", "plan_long_video", "run_long_videos", "scan_one_range"]

logger = logging.getLogger(__name__)

MAX_RANGE_LOSSES = 2
"""A range whose worker died this many times sends its video to the whole-video path."""

Finished = Callable[[int, IngestOutcome], None]


@contextlib.contextmanager
def _phase(name: str) -> Iterator[None]:
    """Log the start and end of one phase of a split at DEBUG, with this process's wall
    clock and CPU seconds (the timeline ``benchmarks/bench_split.py --timeline`` prints)."""
    if not logger.isEnabledFor(logging.DEBUG):
        yield
        return
    logger.debug("phase %s start wall %.3f cpu %.3f", name, time.time(), time.process_time())
    try:
        yield
    finally:
        logger.debug("phase %s end wall %.3f cpu %.3f", name, time.time(), time.process_time())


@dataclass(frozen=True)
class LongVideo:
    """A video to split: its ranges and its content fingerprint."""

    plan: RangePlan
    video_id: str


def plan_long_video(job: IngestJob, workers: int) -> LongVideo | None:
    """In a worker: the ranges of ``job``'s video when it is longer than the job's
    ``split_over_s`` and sampled by a full or a fast pass; None to run it whole (short, a
    keyframes or seeking pass, not cleanly seekable, or failing: the whole-video path meets
    the same error and records it)."""
    if job.split_over_s <= 0 or job.sampler is not None:
        return None
    with _phase("plan"):
        return _plan_long_video(job, workers)


def _plan_long_video(job: IngestJob, workers: int) -> LongVideo | None:
    spec = job.sampling_spec
    try:
        media = probe(job.source, max_pixels=spec.decode.limits.max_pixels)
        duration = media.duration_s
        if duration is None or duration <= job.split_over_s or media.truncated_at_byte:
            return None
        if plan_decode(media, spec) not in ("straight", "fast"):
            return None
        plan = plan_ranges(job.source, media, spec, ranges=workers, threads=_threads(spec))
        if plan is None:
            return None
        video_id, _ = fingerprint(job.source.url, job.source.storage_options, retry=job.retry)
    except FramesiftError as exc:
        logger.debug("%s: not split (%s)", job.source.shown, exc)
        return None
    return LongVideo(plan, video_id)


def _threads(spec: SamplingSpec) -> int:
    """Decoder threads per range: the spec's (a worker's share), else one (the ranges fill
    the workers)."""
    return spec.decode.threads or 1


def _worker_ready() -> None:
    """In a worker: nothing (sent to start a worker before its first range)."""


def scan_one_range(plan: RangePlan, number: int) -> RangeScan:
    """In a worker: range ``number`` of a long video (fault point ``range_started``)."""
    fault_point("range_started")
    with _phase(f"range{number + 1}"):
        return scan_planned(plan, number)


@dataclass(frozen=True)
class JoinedRanges:
    """The per-video unit's sampler for a split video: the scanned ranges joined (in this
    process), the pictures put in the unit's sink."""

    plan: RangePlan
    scans: tuple[RangeScan, ...]
    started: float  # perf_counter when its first range was sent

    def __call__(
        self,
        url: str,
        spec: SamplingSpec,
        *,
        storage_options: Mapping[str, Any] | None,
        sink: ImageSink | None,
        progress: SecondsProgress | None,
    ) -> SampleResult:
        setup = self.plan.setup
        if spec != setup.spec:
            raise SettingsError(
                f"{setup.source.shown}: its ranges were scanned with other settings"
            )
        with _phase("join"):
            joined = join_planned(self.plan, self.scans, sink=sink)
        assert joined is not None  # checked before the unit ran
        mode: DecodeMode = "fast" if setup.spec.decode.fast else "straight"
        stats = scan_stats(joined, mode, time.perf_counter() - self.started)
        if progress is not None:
            total = setup.media.duration_s or 0.0
            progress(total, total)
        return sample_result(
            setup.media, setup.spec, joined.rows, joined.scene_rows, joined.analysis, stats
        )


def run_long_videos(
    jobs: Sequence[IngestJob], catalog: Catalog, pool: JobPool, finished: Finished
) -> list[int]:
    """Split, run and commit the long videos among ``jobs`` on ``pool``, each reported to
    ``finished(index, outcome)``; the indices of the jobs left to run whole."""
    wanted = [i for i, job in enumerate(jobs) if job.split_over_s > 0 and job.sampler is None]
    if not wanted:
        return list(range(len(jobs)))
    with _phase("plans"):
        plans = _plans(pool, jobs, wanted)
    if plans:
        committed = committed_settings(catalog.refresh())
        plans = {
            i: long
            for i, long in plans.items()
            if jobs[i].force or committed.get(long.video_id) != jobs[i].settings_hash
        }
    for i, long in plans.items():
        logger.info("%s: split into %d time ranges", jobs[i].source.shown, long.plan.count)
    split = _SplitRun(pool, jobs, catalog, finished, plans)
    split.run()
    return [i for i in range(len(jobs)) if i not in split.committed]


def _plans(pool: JobPool, jobs: Sequence[IngestJob], wanted: list[int]) -> dict[int, LongVideo]:
    """The long videos among ``wanted``, planned in the workers."""
    assert pool.executor is not None
    futures = {i: pool.executor.submit(plan_long_video, jobs[i], pool.workers) for i in wanted}
    if pool.spec is not None and pool.spec.kind == "process":
        # A process pool starts a worker only when a job finds none idle: without these
        # the second range would wait for its worker's start-up (~1.5 CPU s of imports)
        # after the plan is back; with them every worker starts now, while the plans run.
        # (A Dask cluster's workers start with it.)
        for _ in range(pool.workers - len(futures)):
            pool.executor.submit(_worker_ready)
    plans: dict[int, LongVideo] = {}
    lost = False
    for i, future in futures.items():
        try:
            long = future.result()
        except worker_lost_errors():
            lost = True  # run whole: the batch's own lost-worker rules apply
            continue
        if long is not None:
            plans[i] = long
    if lost:
        pool.renew()
    return plans


class _SplitRun:
    """The ranges of the long videos on the pool, at most one per worker at a time, each
    video joined and committed as soon as its last range is back."""

    def __init__(
        self,
        pool: JobPool,
        jobs: Sequence[IngestJob],
        catalog: Catalog,
        finished: Finished,
        plans: dict[int, LongVideo],
    ) -> None:
        self.pool, self.jobs, self.catalog, self.finished = pool, jobs, catalog, finished
        self.plans = plans
        self.queue: deque[tuple[int, int]] = deque(
            (i, r) for i in sorted(plans) for r in range(plans[i].plan.count)
        )
        self.scans: dict[int, list[RangeScan | None]] = {
            i: [None] * long.plan.count for i, long in plans.items()
        }
        self.started: dict[int, float] = {}
        self.losses: Counter[tuple[int, int]] = Counter()
        self.in_flight: dict[Future[RangeScan], tuple[int, int]] = {}
        self.committed: set[int] = set()

    def run(self) -> None:
        try:
            while self.queue or self.in_flight:
                lost = self._submit()
                if self.in_flight:
                    done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
                    lost += self._collect(done)
                if lost:
                    self._recover(lost)
        except BaseException:  # the catalog failed, Ctrl-C: no range is worth waiting for
            for future in self.in_flight:
                future.cancel()
            raise

    def _submit(self) -> list[tuple[int, int]]:
        """Send ranges while a worker is free; a range the pool refused (it broke)."""
        assert self.pool.executor is not None
        while self.queue and len(self.in_flight) < self.pool.workers:
            i, r = self.queue.popleft()
            if i not in self.scans:
                continue  # its video went to the whole-video path
            try:
                future = self.pool.executor.submit(scan_one_range, self.plans[i].plan, r)
            except worker_lost_errors():
                return [(i, r)]
            self.started.setdefault(i, time.perf_counter())
            self.in_flight[future] = (i, r)
        return []

    def _collect(self, done: set[Future[RangeScan]]) -> list[tuple[int, int]]:
        """Store the ranges back; the ones whose worker died."""
        lost: list[tuple[int, int]] = []
        for future in done:
            i, r = self.in_flight.pop(future)
            try:
                scan = future.result()
            except worker_lost_errors():
                lost.append((i, r))
                continue
            except FramesiftError as exc:  # its media: the whole-video path records it
                logger.warning(
                    "%s: range %d failed (%s); ingesting it whole", self._shown(i), r + 1, exc
                )
                self.scans.pop(i, None)
                continue
            self._store(i, r, scan)
        return lost

    def _recover(self, lost: list[tuple[int, int]]) -> None:
        """Ranges whose worker died run again (a broken process pool loses every range in
        flight on it, and is renewed); twice lost, the video runs whole."""
        if self.pool.spec is not None and self.pool.spec.kind == "process":
            wait(self.in_flight)
            lost += self._collect(set(self.in_flight))
        renewed = self.pool.renew()
        for i, r in reversed(lost):
            if i not in self.scans:
                continue
            self.losses[(i, r)] += 1
            if not renewed or self.losses[(i, r)] >= MAX_RANGE_LOSSES:
                logger.warning(
                    "%s: range %d lost its worker again; ingesting it whole",
                    self._shown(i),
                    r + 1,
                )
                self.scans.pop(i)
                continue
            logger.warning(
                "%s: range %d lost its worker; running that range again", self._shown(i), r + 1
            )
            self.queue.appendleft((i, r))

    def _store(self, i: int, r: int, scan: RangeScan) -> None:
        scans = self.scans.get(i)
        if scans is None:
            return
        scans[r] = scan
        logger.debug("%s: range %d of %d back", self._shown(i), r + 1, len(scans))
        if all(s is not None for s in scans):
            self._commit(i, [s for s in scans if s is not None])

    def _commit(self, i: int, scans: list[RangeScan]) -> None:
        """Join the ranges and commit the video through the per-video unit (here)."""
        del self.scans[i]
        plan = self.plans[i].plan
        if not joined_cleanly(list(plan.segments), scans):
            logger.info("%s: its ranges did not join; ingesting it whole", self._shown(i))
            return
        sampler = JoinedRanges(plan, tuple(scans), self.started[i])
        job = dataclasses.replace(self.jobs[i], sampler=sampler)
        with _phase("commit"):
            outcome = ingest_one(job, catalog=self.catalog)
        self.finished(i, outcome)
        self.committed.add(i)

    def _shown(self, i: int) -> str:
        return self.jobs[i].source.shown
