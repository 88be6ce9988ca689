"""Long-video split benchmark: one video ingested by W single-threaded workers, each
decoding one time range, against one single-threaded pass over the same video.

    .venv/bin/python benchmarks/bench_split.py CLIP [--workers 2] [--repeat 1]

Each measurement is a child process running ``framesift.ingest`` into a new catalog with
the default sampling (content scenes, one frame a second, thumbnails) on one thread
(``DecodeSpec(threads=1)``: one decoder thread and no read-ahead thread, decoding and
analysis taking turns, as a worker given one core runs; OpenCV and OpenMP pinned to one
thread too):

* ``single``: a process pool of one worker, the video whole (``split_over_s=0``);
* ``split``: a process pool of W workers, the video cut into W ranges (``split_over_s=1``);
* ``floor``: ``ffmpeg -threads 1 -i CLIP -f null -``, the single-threaded decode floor.

They alternate (floor, single, split) ``--repeat`` times; the medians are compared. Then,
in one child, the CPU seconds of each stage run one after another (one whole pass; the
split's planning, each range, the join): on free cores the split's wall time is about
planning + the longest range + join, so their ratio to the whole pass is the speed-up a
machine shared with other work cannot show (``--stages`` runs only that, as JSON). Both
ingests pay the same fixed costs (a pool, a probe, the commit); the split also pays its
planning (a probe and a seek per range, in a worker), the join and the thumbnails it did
not render in a range. Target (issue 10): speed-up single / split >= 0.85 x W. The split's
rows are checked equal to the single pass's.

Each ingest child logs the split's phases (``framesift.batch.split`` at DEBUG: plan, each
range, join, commit, with each process's wall clock and CPU seconds); they are printed as
a timeline after each run. ``--timeline`` runs one split ingest only and prints its
timeline (on a shared machine its CPU columns are the fair part); ``--no-stages`` skips
the per-stage run at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PINNED = {"OMP_NUM_THREADS": "1", "OPENCV_FOR_THREADS_NUM": "1"}


def ingest_child(clip: str, catalog: str, workers: int, split: bool) -> None:
    """In the child: one ingest, its wall time printed as JSON; the split's phases logged
    on stderr (see :func:`timeline`)."""
    import framesift as fs
    from framesift.batch import ExecutorSpec

    logging.basicConfig(level=logging.WARNING, format="%(process)d %(message)s")
    logging.getLogger("framesift.batch.split").setLevel(logging.DEBUG)
    spec = fs.SamplingSpec(decode=fs.DecodeSpec(threads=1))
    executor = ExecutorSpec("process", workers=workers, split_over_s=1.0 if split else 0.0)
    started = time.perf_counter()
    _mark("ingest", "start")
    summary = fs.ingest([clip], catalog, spec, executor=executor, compact_after=None)
    _mark("ingest", "end")
    wall = time.perf_counter() - started
    if summary.counts["ingested"] != 1:
        raise SystemExit(f"ingest failed: {summary.outcomes}")
    print(
        json.dumps({"wall_s": wall, "cpu_s": _cpu(resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)})
    )


def _mark(name: str, edge: str) -> None:
    """A phase edge in the format of ``framesift.batch.split``'s phase logs."""
    print(
        f"{os.getpid()} phase {name} {edge} wall {time.time():.3f} cpu {time.process_time():.3f}",
        file=sys.stderr,
        flush=True,
    )


PHASE = re.compile(r"^(\d+) phase (\S+) (start|end) wall ([\d.]+) cpu ([\d.]+)$")


def timeline(stderr: str) -> list[dict[str, Any]]:
    """The phases an ingest child logged: process, name, start and end (wall seconds from
    the ingest's start), wall and CPU seconds (of that process) spent in it, and the
    process's CPU seconds when the phase started (a worker's start-up: its imports)."""
    edges: dict[tuple[str, str], dict[str, float]] = {}
    order: list[tuple[str, str]] = []
    for line in stderr.splitlines():
        found = PHASE.match(line.strip())
        if found is None:
            continue
        pid, name, edge, wall, cpu = found.groups()
        key = (pid, name)
        if key not in edges:
            order.append(key)
        edges.setdefault(key, {})[f"{edge}_wall"] = float(wall)
        edges[key][f"{edge}_cpu"] = float(cpu)
    origin = min((e["start_wall"] for e in edges.values() if "start_wall" in e), default=0.0)
    rows = []
    for pid, name in order:
        e = edges[(pid, name)]
        if "start_wall" not in e or "end_wall" not in e:
            continue
        rows.append(
            {
                "process": pid,
                "phase": name,
                "from_s": round(e["start_wall"] - origin, 2),
                "to_s": round(e["end_wall"] - origin, 2),
                "wall_s": round(e["end_wall"] - e["start_wall"], 2),
                "cpu_s": round(e["end_cpu"] - e["start_cpu"], 2),
                "cpu_before_s": round(e["start_cpu"], 2),
            }
        )
    return rows


def print_timeline(rows: list[dict[str, Any]]) -> None:
    print("  phase      process  from s    to s  wall s   CPU s  (process CPU s before it)")
    for row in rows:
        print(
            f"  {row['phase']:10s} {row['process']:>7s} {row['from_s']:7.2f} {row['to_s']:7.2f}"
            f" {row['wall_s']:7.2f} {row['cpu_s']:7.2f}  ({row['cpu_before_s']:.2f})"
        )


def _cpu(*who: int) -> float:
    """User + system CPU seconds of ``who`` (this process; its reaped children)."""
    return sum(resource.getrusage(w).ru_utime + resource.getrusage(w).ru_stime for w in who)


def stage_child(clip: str, workers: int) -> None:
    """In the child: the CPU seconds of each stage, run one after another in this process:
    one whole pass; the split's planning, each range, the join. On a machine whose cores
    are free, the split's wall time is about planning + the longest range + join."""
    import framesift as fs
    from framesift.batch.split import plan_long_video
    from framesift.catalog import IngestJob
    from framesift.fastscan.split import join_planned, scan_planned
    from framesift.source import Source

    spec = fs.SamplingSpec(decode=fs.DecodeSpec(threads=1))
    cpu = _cpu(resource.RUSAGE_SELF)
    fs.sample_video(clip, spec, sink=fs.MemoryImageSink())
    single = _cpu(resource.RUSAGE_SELF) - cpu
    cpu = _cpu(resource.RUSAGE_SELF)
    job = IngestJob(Source(clip), "unused", spec, split_over_s=1.0)
    long = plan_long_video(job, workers)
    if long is None:
        raise SystemExit(f"{clip}: not split (too short for {workers} ranges?)")
    plan = _cpu(resource.RUSAGE_SELF) - cpu
    ranges, scans = [], []
    for number in range(long.plan.count):
        cpu = _cpu(resource.RUSAGE_SELF)
        scans.append(scan_planned(long.plan, number))
        ranges.append(_cpu(resource.RUSAGE_SELF) - cpu)
    cpu = _cpu(resource.RUSAGE_SELF)
    join_planned(long.plan, scans, sink=fs.MemoryImageSink())
    join = _cpu(resource.RUSAGE_SELF) - cpu
    figures = {"single": single, "plan": plan, "ranges": ranges, "join": join}
    print(json.dumps({"wall_s": 0.0, "stages": figures}))


def run(command: list[str]) -> dict[str, Any]:
    """What one child process printed last as JSON (its wall time when it prints none),
    with the timeline of the phases it logged."""
    env = {**os.environ, **PINNED}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    figures = dict(json.loads(lines[-1])) if lines else {"wall_s": wall}
    figures["timeline"] = timeline(done.stderr)
    return figures


def same_rows(single: Path, split: Path) -> bool:
    import framesift as fs

    a, b = fs.Catalog(str(single)), fs.Catalog(str(split))
    uris = ["thumbnail_uri", "frame_uri"]
    return (
        a.frames().drop(uris).equals(b.frames().drop(uris))
        and a.scenes().equals(b.scenes())
        and a.analysis().equals(b.analysis())
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("clip", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--child", nargs=3, metavar=("CATALOG", "WORKERS", "SPLIT"), help=None)
    parser.add_argument(
        "--stages",
        action="store_true",
        help="only the CPU seconds of each stage, as JSON (a fair figure on a shared machine)",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="only one split ingest, its phases in wall and CPU seconds (no single pass)",
    )
    parser.add_argument(
        "--no-stages", action="store_true", help="skip the per-stage CPU run at the end"
    )
    args = parser.parse_args()
    if args.timeline:
        folder = Path(tempfile.mkdtemp(prefix="bench-split-"))
        try:
            me = [sys.executable, str(Path(__file__).resolve()), str(args.clip)]
            figures = run([*me, "--child", str(folder / "split"), str(args.workers), "1"])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print(f"split ingest, {args.workers} workers: wall {figures['wall_s']:.2f} s, "
              f"CPU {figures['cpu_s']:.2f} s (this process and its workers)")  # fmt: skip
        print_timeline(figures["timeline"])
        return
    if args.child:
        catalog, workers, split = args.child
        ingest_child(str(args.clip), catalog, int(workers), split == "1")
        return
    if args.stages:
        stage_child(str(args.clip), args.workers)
        return
    ffmpeg = shutil.which("ffmpeg")
    me = [sys.executable, str(Path(__file__).resolve()), str(args.clip)]
    walls: dict[str, list[float]] = {"floor": [], "single": [], "split": []}
    cpus: dict[str, list[float]] = {"single": [], "split": []}
    ok = True
    for _ in range(args.repeat):
        folder = Path(tempfile.mkdtemp(prefix="bench-split-"))
        try:
            if ffmpeg:
                command = [ffmpeg, "-v", "error", "-threads", "1", "-i", str(args.clip)]
                walls["floor"].append(run([*command, "-f", "null", "-"])["wall_s"])
            single, split = folder / "single", folder / "split"
            for name, child in (("single", [str(single), "1", "0"]),
                                ("split", [str(split), str(args.workers), "1"])):  # fmt: skip
                figures = run([*me, "--child", *child])
                walls[name].append(figures["wall_s"])
                cpus[name].append(figures["cpu_s"])
                print(f"{name}: wall {figures['wall_s']:.2f} s, CPU {figures['cpu_s']:.2f} s")
                print_timeline(figures["timeline"])
            ok = ok and same_rows(single, split)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print({k: [round(v, 2) for v in vs] for k, vs in walls.items()}, flush=True)
    stages = (
        None if args.no_stages else run([*me, "--workers", str(args.workers), "--stages"])["stages"]
    )
    report(args, walls, cpus, stages, ok)


def report(
    args: argparse.Namespace,
    walls: dict[str, list[float]],
    cpus: dict[str, list[float]],
    stages: dict[str, Any] | None,
    ok: bool,
) -> None:
    median = {k: statistics.median(vs) for k, vs in walls.items() if vs}
    target = 0.85 * args.workers
    speedup = median["single"] / median["split"]
    print(f"clip {args.clip}, {args.workers} workers, {args.repeat} run(s), medians:")
    for name, value in median.items():
        print(f"  {name:8s} wall {value:8.2f} s")
    if "floor" in median:
        print(f"  single pass / one-thread decode floor: {median['single'] / median['floor']:.3f}")
    cpu_single, cpu_split = statistics.median(cpus["single"]), statistics.median(cpus["split"])
    print(
        f"  CPU s, whole ingest with its workers: single {cpu_single:.2f}, split {cpu_split:.2f} "
        f"(split / single {cpu_split / cpu_single:.3f})"
    )
    print(
        f"  wall speed-up single / split: {speedup:.3f} (target >= {target:.2f}: "
        f"{'met' if speedup >= target else 'NOT met'})"
    )
    print(f"  split rows equal the single pass's: {ok}")
    if stages is None:
        return
    path = stages["plan"] + max(stages["ranges"]) + stages["join"]
    print(
        f"  stages, CPU s: one pass {stages['single']:.2f}; split: plan {stages['plan']:.2f}, "
        f"ranges {', '.join(f'{r:.2f}' for r in stages['ranges'])}, join {stages['join']:.2f}"
    )
    print(f"  speed-up on free cores (one pass / (plan + longest range + join), CPU s): "
          f"{stages['single'] / path:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
