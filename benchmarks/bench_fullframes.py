"""Full frames on demand: what the first request for a kept frame's full picture costs (a
decode from the source by its exact pts, then cached in the catalog), what the next one
costs (a read of the cache), against FFmpeg extracting the same frame
(``ffmpeg -ss T -i CLIP -frames:v 1 out.jpg``, an accurate seek: from the keyframe before T).

    .venv/bin/python benchmarks/bench_fullframes.py CLIP [--every 5]

CLIP is cataloged with thumbnails only, one kept frame every ``--every`` seconds; then, for
each kept frame in turn: FFmpeg's extraction (a child process), framesift's first request
and its second (in this process). Prints wall and CPU seconds (user + system; this process's
for framesift, the child's for FFmpeg) per kind: min, median, max over the kept frames.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import framesift as fs


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``call`` in this process."""
    wall, cpu = time.perf_counter(), own_cpu_s()
    call()
    return time.perf_counter() - wall, own_cpu_s() - cpu


def child(command: Sequence[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def spread(values: Sequence[float]) -> str:
    return f"{min(values):6.3f} {statistics.median(values):6.3f} {max(values):6.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between kept frames")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cat = fs.Catalog(str(Path(scratch) / "catalog"))
        fs.ingest([str(args.clip)], cat, fs.SamplingSpec(interval_s=args.every, detector=None))
        video_id = cat.video_ids()[0]
        frames = cat.frames(video_id)
        times: dict[str, list[tuple[float, float]]] = {"ffmpeg": [], "first": [], "cached": []}
        for row in frames.iter_rows(named=True):
            out = Path(scratch) / f"ffmpeg-{row['frame_index']}.jpg"
            times["ffmpeg"].append(child(
                ["ffmpeg", "-v", "error", "-threads", "2", "-ss", f"{row['time_s']:.6f}",
                 "-i", str(args.clip), "-frames:v", "1", "-q:v", "2", "-y", str(out)]
            ))  # fmt: skip
            fetch = functools.partial(cat.full_frame, video_id, row["frame_index"])
            times["first"].append(timed(fetch))
            times["cached"].append(timed(fetch))
            assert not cat.full_frame(video_id, row["frame_index"]).decoded
    print(f"{args.clip.name}: {frames.height} kept frames, every {args.every:g} s")
    print(f"{'':8} {'wall min/median/max (s)':>24}   {'cpu min/median/max (s)':>24}")
    for kind, pairs in times.items():
        print(f"{kind:8} {spread([w for w, _ in pairs]):>24}   {spread([c for _, c in pairs]):>24}")


if __name__ == "__main__":
    main()
