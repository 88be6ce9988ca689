"""Many short clips: clips per hour, the batch against ffmpeg's decode floors, and the
driver's overhead per video, from the catalog's own ledger.

    python benchmarks/bench_clips.py                       # 20 clips, serial and 2 workers
    python benchmarks/bench_clips.py --clips 4 --workers 1 # a quick look

Makes ``--clips`` 30-second 720p H.264 clips (25 fps, B-frames, like
benchmarks/make_clip.py: hard cuts between shots of the real clips in data/clips and
FFmpeg's generators, each clip its own seed), cached in ``--cache`` (default
``~/.cache/framesift-bench/clips720``, outside the repository) and made once. Then, for
each ``--workers`` value, interleaved so that drifts in machine speed hit both alike:

1. ffmpeg's decode floor of every clip, one after the other (``ffmpeg -threads 2 -i CLIP
   -f null -``), summed;
2. the batch: ``framesift.ingest(clips, fresh_catalog)`` with the default sampling, in a
   child process (its wall time includes starting Python and importing framesift);
3. the floors again.

Reported per batch: its CPU seconds (user + sys of the child) against ffmpeg's for the same
clips (on a shared machine the figure to judge by), clips per hour (from the child's whole
wall time), the batch's wall time over the mean of the two floor sums, and the driver's
overhead per video (scheduling, ledger, commit): the ingest call's wall time times the
workers, less the seconds the ledger gives to the media stages (probe, decode, encode,
analyzers, text) and to writing the outputs (thumbnails, parts), over the clips (when the
videos' own times add up to more than the call's, because each video's write and commit
ran behind the next one's decoding, the writes are not taken off: an upper bound); broken
down into fingerprint, commit, the rest of each job (ledger writes, opening the catalog)
and the batch around the jobs (queueing, scheduling, reconciling, compaction; negative
when the videos overlapped). The same batch is then run again on the same catalog, every
clip skipped, and once more with as many clips as workers: the two give the driver's cost
per video with no media work at all (their difference, in worker seconds, over the clips
more) and the batch's fixed start-up (each of a process pool's workers starting and
importing framesift), which the overhead per video is also given without (it does not
grow with the clips). ``--baseline-src OLD/src`` runs every batch again with another
framesift tree, interleaved, for an A/B in the same minutes.
Targets (issue 10): >= 1,000 clips per hour on 2 cores, <= 1.3x the floor sum, < 50 ms
overhead per video (start-up apart). Exits 1 when one is missed. The machine's load
average is printed: on a shared machine the figures are not the stack's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
# A batch's child imports framesift from the tree the parent names (--baseline-src).
sys.path.insert(0, os.environ.get("BENCH_CLIPS_SRC") or str(Path(__file__).parents[1] / "src"))

import make_clip  # beside this file
from framesift.catalog.stages import STAGES

SRC = Path(__file__).parents[1] / "src"
SRC_ENV = "BENCH_CLIPS_SRC"
"""The framesift source tree a batch's child imports (``--baseline-src``)."""

CLIP_S = 30
WIDTH, HEIGHT = 1280, 720
SEED = 20261130
MEDIA_STAGES = tuple(s for s in STAGES if s not in ("fingerprint", "write", "commit"))
"""Probe, decode, encode, analyzers and text: the work on the media itself."""
TARGET_CLIPS_PER_HOUR = 1000.0
TARGET_FLOOR_RATIO = 1.3
TARGET_OVERHEAD_S = 0.050
FLOOR_CPU_S: list[float] = []
"""CPU seconds of each floor sum, in the order they ran."""


def make_clips(cache: Path, count: int) -> list[Path]:
    """``count`` distinct 30-s 720p clips in ``cache`` (made once, then reused)."""
    cache.mkdir(parents=True, exist_ok=True)
    frames = CLIP_S * make_clip.FPS
    clips = []
    for index in range(count):
        path = cache / f"clip720-{SEED + index}.mp4"
        if not path.is_file():
            started = time.perf_counter()
            plan = make_clip.plan_segments(frames, SEED + index, use_clips=True)
            graph = make_clip.build_filtergraph(plan, WIDTH, HEIGHT, 360, 2)
            partial = path.with_suffix(".partial.mp4")
            make_clip.encode(graph, partial, frames, "veryfast")
            partial.replace(path)
            print(f"made {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
        clips.append(path)
    return clips


def children_cpu_s() -> float:
    """CPU seconds (user + sys) of this process's children that have ended so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def floor_sum(clips: list[Path]) -> float:
    """Seconds ffmpeg takes to decode every clip, one after the other (2 threads); its
    CPU seconds are added to ``FLOOR_CPU_S``."""
    total = 0.0
    cpu_before = children_cpu_s()
    for clip in clips:
        started = time.perf_counter()
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-threads", "2", "-i", str(clip),
             "-f", "null", "-"],
            check=True,
        )  # fmt: skip
        total += time.perf_counter() - started
    FLOOR_CPU_S.append(children_cpu_s() - cpu_before)
    return total


def run_batch(
    clips: list[Path], workers: int, catalog: Path, src: Path | None = None
) -> dict[str, Any]:
    """The batch in a child process (framesift from ``src``, default this checkout's):
    its wall and CPU time, the ingest call's, the ledger."""
    env = dict(os.environ, **{SRC_ENV: str(src or SRC)})
    started, cpu_before = time.perf_counter(), children_cpu_s()
    child = subprocess.run(
        [sys.executable, __file__, "--child", str(catalog), str(workers), *map(str, clips)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - started
    cpu = children_cpu_s() - cpu_before
    result: dict[str, Any] = json.loads(child.stdout.splitlines()[-1])
    result["wall_s"] = wall
    result["cpu_s"] = cpu
    result["jobs"] = [json.loads(p.read_text()) for p in (catalog / "jobs").glob("*.json")]
    return result


def child(catalog: str, workers: int, clips: list[str]) -> None:
    """In the child: import framesift, ingest, print the times as one JSON line."""
    import framesift as fs
    import framesift.batch.loop  # imported here, not timed in the call

    started = time.perf_counter()
    executor = fs.ExecutorSpec("process", workers=workers) if workers > 1 else None
    summary = fs.ingest(clips, catalog, fs.SamplingSpec(), executor=executor)
    ingest_s = time.perf_counter() - started
    print(json.dumps({"ingest_s": ingest_s, "counts": summary.counts}))


def overhead(result: dict[str, Any], workers: int) -> dict[str, float]:
    """Per video: the driver's overhead and its parts (see the module's description)."""
    jobs = result["jobs"]
    n = len(jobs)

    def total(field: str) -> float:
        return sum(job.get(field) or 0.0 for job in jobs)

    media = sum(total(f"{stage}_s") for stage in MEDIA_STAGES)
    staged = media + total("fingerprint_s") + total("write_s") + total("commit_s")
    busy = result["ingest_s"] * workers
    # Videos overlapped (a video's write and commit behind the next one's decoding): the
    # writes are not all on the batch's path, and those that are count as overhead here.
    writes = total("write_s") if total("wall_s") <= busy else 0.0
    return {
        "overhead_s": (busy - media - writes) / n,
        "fingerprint_s": total("fingerprint_s") / n,
        "commit_s": total("commit_s") / n,
        "job_other_s": (total("wall_s") - staged) / n,
        "batch_s": (result["ingest_s"] * workers - total("wall_s")) / n,
        "write_s": total("write_s") / n,
        "decode_s": total("decode_s") / n,
        "encode_s": total("encode_s") / n,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=20, help="clips in the batch (20)")
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="batches to run (1 2)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "framesift-bench" / "clips720",
        help="where the clips are kept between runs",
    )
    parser.add_argument(
        "--baseline-src",
        type=Path,
        help="another framesift source tree (its src folder) whose batches run interleaved "
        "with this checkout's, for an A/B on the same machine in the same minutes",
    )
    args = parser.parse_args()
    if args.clips <= max(args.workers):
        parser.error("--clips must be more than the most --workers (the start-up needs both)")
    clips = make_clips(args.cache, args.clips)
    print(f"{len(clips)} clips of {CLIP_S} s, {WIDTH}x{HEIGHT}, in {args.cache}", flush=True)
    missed = False
    before = floor_sum(clips)
    trees = [("this checkout", None)]
    if args.baseline_src is not None:
        trees.append(("baseline", args.baseline_src.resolve()))
    for workers, (tree, src) in ((w, t) for w in args.workers for t in trees):
        catalog = Path(tempfile.mkdtemp(prefix="bench-clips-")) / "catalog"
        result = run_batch(clips, workers, catalog, src)
        after = floor_sum(clips)
        again = run_batch(clips, workers, catalog, src)
        alone = run_batch(clips[:workers], workers, catalog, src)
        shutil.rmtree(catalog.parent, ignore_errors=True)
        more = max(1, len(clips) - workers)
        driver = (again["ingest_s"] - alone["ingest_s"]) * workers / more
        start_up = max(0.0, alone["ingest_s"] - driver)
        floors = statistics.mean((before, after))
        if (result["counts"]["ingested"], again["counts"]["skipped"]) != (len(clips),) * 2:
            print(f"  not every clip went in, then was skipped: {result}, {again}")
            return 1
        per_hour = len(clips) / result["wall_s"] * 3600
        ratio = result["wall_s"] / floors
        parts = overhead(result, workers)
        per_video = parts["overhead_s"] - start_up * workers / len(clips)
        missed |= (
            per_hour < TARGET_CLIPS_PER_HOUR
            or ratio > TARGET_FLOOR_RATIO
            or per_video > TARGET_OVERHEAD_S
        )
        floor_cpu = statistics.mean(FLOOR_CPU_S[-2:])
        print(
            f"{tree}, workers={workers}: CPU {result['cpu_s']:.1f} s (user+sys of the child, "
            f"{result['cpu_s'] / len(clips):.2f} s a clip) against ffmpeg's {floor_cpu:.1f} s: "
            f"{result['cpu_s'] / floor_cpu:.2f}x",
            flush=True,
        )
        print(
            f"{tree}, workers={workers}: {result['wall_s']:.1f} s for {len(clips)} clips "
            f"(ingest call {result['ingest_s']:.1f} s) = {per_hour:.0f} clips/hour "
            f"(target >= {TARGET_CLIPS_PER_HOUR:.0f}); ffmpeg floors {floors:.1f} s "
            f"(runs {before:.1f}/{after:.1f}), ratio {ratio:.2f}x (target <= "
            f"{TARGET_FLOOR_RATIO}x); overhead {per_video * 1000:.0f} ms/video "
            f"(target < {TARGET_OVERHEAD_S * 1000:.0f}; with the start-up "
            f"{parts['overhead_s'] * 1000:.0f})",
            flush=True,
        )
        before = after
        print(
            "  per video: " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in parts.items()),
            flush=True,
        )
        print(
            f"  again, every clip skipped: {again['ingest_s']:.2f} s, its first {workers} "
            f"alone {alone['ingest_s']:.2f} s: the driver alone {driver * 1000:.0f} ms per video "
            f"(fingerprint, ledger, scheduling), start-up {start_up:.2f} s per batch",
            flush=True,
        )
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 1 if missed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(main())
