"""Scene-cut parity with PySceneDetect's CLI on real footage, and what the analysis image costs.

    .venv/bin/python benchmarks/bench_parity.py CLIP [CLIP ...] [--cost CLIP_720 CLIP_1080]

Parity: for each clip, the cut list of PySceneDetect's CLI (``scenedetect -i CLIP -m 15
detect-content list-scenes``: content detector, threshold 27, minimum scene length 15
frames, its default OpenCV reader and downscaling) against framesift's with default
settings (the same detector, threshold and minimum scene length) and with
``analysis_scaling="exact"``: cuts on each side, F1 frame-exact and within one frame, the
largest per-frame score difference (PySceneDetect's ``--stats``), and wall times.

Cost (``--cost``): ``ffmpeg -threads 2 -i X -f null -`` (the decode floor) against
framesift's one pass (1 fps plus scene starts, no images written) with the default
analysis image and with the exact one, run as child processes, interleaved, the median of
``--repeat`` runs, printed as ratios to the floor in wall time and in CPU seconds (user +
system of each child: on a shared machine the CPU ratio is the fair one).
``--baseline-src DIR`` adds the default pass of another framesift checkout (its ``src``
folder) for an A/B in the same minutes.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_sampling import f1_within as f1  # beside this file: the same cut matching

VENV_BIN = Path(sys.executable).parent
MIN_SCENE_LEN_FRAMES = 15  # framesift's default, passed to the CLI as -m 15

_PASS = """
import sys
from framesift import SamplingSpec, sample_video
spec = SamplingSpec(analysis_scaling=sys.argv[2])
result = sample_video(sys.argv[1], spec)
print(len(result.scenes))
"""


def run(command: list[str]) -> tuple[float, str]:
    """(wall seconds, stdout) of one child process; stops the benchmark when it fails."""
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{proc.stderr[-2000:]}")
    return wall, proc.stdout


def pyscenedetect(clip: Path, folder: Path) -> tuple[float, list[int], dict[int, float]]:
    """(wall seconds, cut frames, content_val per frame) from PySceneDetect's CLI."""
    wall, _ = run(
        [
            str(VENV_BIN / "scenedetect"),
            "-i",
            str(clip),
            "-m",
            str(MIN_SCENE_LEN_FRAMES),
            "-o",
            str(folder),
            "-s",
            "stats.csv",
            "detect-content",
            "list-scenes",
            "-q",
        ]
    )
    (table,) = folder.glob("*-Scenes.csv")
    lines = table.read_text().splitlines()[1:]  # the first line is the timecode list
    cuts = [int(r["Start Frame"]) - 1 for r in csv.DictReader(lines)][1:]
    stats = csv.DictReader((folder / "stats.csv").read_text().splitlines())
    # The stats count frames from 1 and start at the second frame (the first has no score).
    scores = {int(r["Frame Number"]) - 1: float(r["content_val"]) for r in stats}
    return wall, cuts, scores


def framesift(clip: Path, scaling: str) -> tuple[float, list[int], dict[int, float]]:
    """(seconds, cut frames, score by frame number) of framesift's pass with default
    settings (frame numbers, like PySceneDetect's, follow time where a stream skips)."""
    from framesift import SamplingSpec, sample_video

    started = time.perf_counter()
    result = sample_video(str(clip), SamplingSpec(analysis_scaling=scaling))
    wall = time.perf_counter() - started
    cuts = result.scenes["start_frame"].to_list()[1:]
    scores = dict(zip(result.analysis["frame_index"], result.analysis["score"], strict=True))
    return wall, cuts, scores


def largest(scores: dict[int, float], ref: dict[int, float]) -> float:
    """The largest difference between framesift's and PySceneDetect's score of a frame
    (framesift keeps scores as float32: differences under 1e-4 are that rounding)."""
    return max((abs(scores[n] - v) for n, v in ref.items() if n in scores), default=0.0)


def parity(clips: list[Path]) -> None:
    print(
        "| clip | PySceneDetect cuts | framesift cuts (default / exact) | F1 exact | "
        "F1 within 1 frame | largest score difference (default / exact) | "
        "time: CLI / framesift |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for clip in clips:
        with tempfile.TemporaryDirectory(prefix="parity-") as folder:
            cli_s, theirs, ref = pyscenedetect(clip, Path(folder))
        fast_s, ours, fast_scores = framesift(clip, "fast")
        _, exact, exact_scores = framesift(clip, "exact")

        print(
            f"| {clip.name} | {len(theirs)} | {len(ours)} / {len(exact)} | "
            f"{f1(ours, theirs, 0):.3f} | {f1(ours, theirs, 1):.3f} | "
            f"{largest(fast_scores, ref):.4f} / {largest(exact_scores, ref):.4f} | "
            f"{cli_s:.1f} s / {fast_s:.1f} s |",
            flush=True,
        )
        if ours != theirs:
            print(f"  cuts differ: PySceneDetect {theirs}\n  framesift {ours}", flush=True)


def child_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one child process."""
    before = child_cpu_s()
    wall, _ = run(command)
    return wall, child_cpu_s() - before


def cost(clips: list[Path], repeat: int, baseline: Path | None) -> None:
    python = sys.executable
    variants = ["fast", "exact"] + (["baseline"] if baseline else [])
    for clip in clips:
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ["floor", *variants]}
        for _ in range(repeat):  # interleaved: drifts in machine speed hit all alike
            runs["floor"].append(
                timed_run(
                    ["ffmpeg", "-v", "error", "-threads", "2", "-i", str(clip), "-f", "null", "-"]
                )
            )
            for name in variants:
                command = [python, "-c", _PASS, str(clip), "fast" if name == "baseline" else name]
                if name == "baseline":
                    command = ["env", f"PYTHONPATH={baseline}", *command]
                runs[name].append(timed_run(command))
        floor = statistics.median(w for w, _ in runs["floor"])
        floor_cpu = statistics.median(c for _, c in runs["floor"])
        floors = ", ".join(f"{w:.2f}" for w, _ in runs["floor"])
        print(f"{clip.name}: floor {floor:.2f} s, {floor_cpu:.2f} CPU s (runs {floors})")
        for scaling in variants:
            wall = statistics.median(w for w, _ in runs[scaling])
            cpu = statistics.median(c for _, c in runs[scaling])
            print(
                f"  one pass, {scaling}: {wall:.2f} s = {wall / floor:.3f}x the floor; "
                f"{cpu:.2f} CPU s = {cpu / floor_cpu:.3f}x "
                f"(runs {', '.join(f'{w:.2f}' for w, _ in runs[scaling])})",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("clips", type=Path, nargs="*")
    parser.add_argument("--cost", type=Path, nargs="*", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src folder")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; PySceneDetect {VENV_BIN / 'scenedetect'}", flush=True)
    if args.clips:
        parity([c.resolve() for c in args.clips])
    if args.cost:
        cost([c.resolve() for c in args.cost], args.repeat, args.baseline_src)


if __name__ == "__main__":
    main()
