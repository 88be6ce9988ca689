"""Start-up benchmark: how long a ``framesift`` command takes before it does any work, and
what the fixed cost per command adds to a short video's sampling pass.

    .venv/bin/python benchmarks/bench_startup.py CLIP [--trailer TRAILER] [--repeat 10]
        [--trailer-repeat 3] [--baseline-src DIR] [--cached-bytecode]

Part 1, start-up: ``framesift --help`` and ``framesift probe CLIP`` against the reference
tools ``ffprobe CLIP`` and PySceneDetect's ``scenedetect --help``, each a child process,
run in turn (A B C D, A B C D, ...) after one warm-up round, so drifts in the machine's
speed hit all alike. Prints min, median and max wall seconds, and the CPU seconds the
kernel accounted to each child (user + system: less sensitive to a shared machine).
Target from the issue: under 0.3 s each.

Part 2, the fixed cost (with ``--trailer``, a ~1-minute 720p clip such as MoviePy's
``trailer_bbb.mp4``; data/fetch.sh says where it comes from): ``framesift sample TRAILER
--every 1`` (scenes by the content detector, one thumbnail a second) against FFmpeg's bare
decode ``ffmpeg -threads 2 -i TRAILER -f null -``, alternating, and the ratio pair by pair.
Target: within 1.25x. Then the same pair on the trailer's first 2 seconds (cut without
re-encoding), where nearly all that is left is the fixed cost of each command.

``--baseline-src DIR`` runs every framesift command a second time in each round with
``PYTHONPATH=DIR`` (another checkout's ``src``: the code before a change), interleaved, so
both meet the same machine. Python's bytecode cache: with ``PYTHONDONTWRITEBYTECODE`` set,
framesift's own modules (an editable install) are compiled from source on every command,
which an installed package or a usual environment does once; the header says which case is
measured, and ``--cached-bytecode`` lets the children cache bytecode in a temporary folder
(``PYTHONPYCACHEPREFIX``, filled by the warm-up round) as users' Pythons do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
STARTUP_TARGET_S = 0.3
TRAILER_TARGET = 1.25
FLOOR_OPTIONS = ("-v", "error", "-threads", "2")  # the floor of bench_sampling.py


def bytecode_state() -> str:
    """Whether the children read framesift's modules from cached bytecode."""
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        return f"bytecode cached under PYTHONPYCACHEPREFIX={os.environ['PYTHONPYCACHEPREFIX']}"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return "PYTHONDONTWRITEBYTECODE set: framesift's modules compiled on every command"
    return "bytecode cached beside the sources (Python's default)"


def with_path(src: Path | None, command: list[str]) -> list[str]:
    """``command`` run with ``src`` first on the module path (None: as installed)."""
    return command if src is None else ["env", f"PYTHONPATH={src}", *command]


def run(command: Sequence[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one child process."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(list(command), stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"failed: {' '.join(command)}\n{tail}")
    return wall, usage.ru_utime + usage.ru_stime


def spread(values: Sequence[float]) -> str:
    return (
        f"min {min(values):6.3f}  median {statistics.median(values):6.3f}  max {max(values):6.3f}"
    )


def interleaved(
    commands: dict[str, Callable[[], list[str]]], repeat: int, warmup: int = 1
) -> dict[str, list[tuple[float, float]]]:
    """Every command once per round, ``warmup`` rounds not counted, then ``repeat``."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_index in range(warmup + repeat):
        for name, make in commands.items():
            timing = run(make())
            if round_index >= warmup:
                runs[name].append(timing)
    return runs


def startup(clip: Path, repeat: int, baseline: Path | None) -> None:
    fsift = str(VENV_BIN / "framesift")
    commands: dict[str, Callable[[], list[str]]] = {
        "python -c pass": lambda: [sys.executable, "-c", "pass"],
        "framesift --help": lambda: [fsift, "--help"],
        "framesift probe CLIP": lambda: [fsift, "probe", str(clip)],
        "ffprobe CLIP": lambda: ["ffprobe", "-v", "error", "-show_format", str(clip)],
        "scenedetect --help": lambda: [str(VENV_BIN / "scenedetect"), "--help"],
    }
    if baseline is not None:
        commands["framesift --help (baseline)"] = lambda: with_path(baseline, [fsift, "--help"])
        commands["framesift probe CLIP (baseline)"] = lambda: with_path(
            baseline, [fsift, "probe", str(clip)]
        )
    runs = interleaved(commands, repeat)
    print(f"\nstart-up, {repeat} runs each after a warm-up (wall s, then CPU s):")
    for name, timings in runs.items():
        walls = [w for w, _ in timings]
        cpus = [c for _, c in timings]
        target = ""
        if name.startswith("framesift"):
            met = "met" if statistics.median(walls) < STARTUP_TARGET_S else "NOT met"
            target = f"  (target < {STARTUP_TARGET_S} s: {met})"
        print(f"  {name:33} wall {spread(walls)}   cpu {spread(cpus)}{target}")


def trailer_ratio(
    trailer: Path, repeat: int, label: str, baseline: Path | None, *, judged: bool = True
) -> None:
    fsift = str(VENV_BIN / "framesift")
    out = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:

        def sample(src: Path | None = None) -> list[str]:
            shutil.rmtree(out / "sampled", ignore_errors=True)
            command = [fsift, "sample", str(trailer), "--out", str(out / "sampled")]
            return with_path(src, [*command, "--every", "1"])

        commands = {
            "ffmpeg decode floor": lambda: [
                "ffmpeg",
                *FLOOR_OPTIONS,
                "-i",
                str(trailer),
                "-f",
                "null",
                "-",
            ],
            "framesift sample (scenes, 1 fps thumbs)": sample,
        }
        if baseline is not None:
            commands["framesift sample (baseline)"] = lambda: sample(baseline)
        runs = interleaved(commands, repeat)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    floor, ours = runs["ffmpeg decode floor"], runs["framesift sample (scenes, 1 fps thumbs)"]
    wall_ratios = [o[0] / f[0] for f, o in zip(floor, ours, strict=True)]
    cpu_ratios = [o[1] / f[1] for f, o in zip(floor, ours, strict=True)]
    print(f"\n{label}, {repeat} pairs after a warm-up pair (wall s, then CPU s):")
    for name, timings in runs.items():
        walls = [w for w, _ in timings]
        cpus = [c for _, c in timings]
        print(f"  {name:40} wall {spread(walls)}   cpu {spread(cpus)}")
    met = "met" if statistics.median(wall_ratios) <= TRAILER_TARGET else "NOT met"
    verdict = f"  (target <= {TRAILER_TARGET}: {met})" if judged else ""
    print(f"  sample / floor, pair by pair: wall {spread(wall_ratios)}{verdict}")
    print(f"  sample / floor, pair by pair: cpu  {spread(cpu_ratios)}")
    if "framesift sample (baseline)" in runs:
        before = runs["framesift sample (baseline)"]
        walls_before = [b[0] / f[0] for f, b in zip(floor, before, strict=True)]
        cpus_before = [b[1] / f[1] for f, b in zip(floor, before, strict=True)]
        print(f"  baseline / floor, pair by pair: wall {spread(walls_before)}")
        print(f"  baseline / floor, pair by pair: cpu  {spread(cpus_before)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("clip", type=Path, help="a video for probe")
    parser.add_argument("--trailer", type=Path, help="a ~1-minute 720p clip for part 2")
    parser.add_argument("--repeat", type=int, default=10, help="start-up runs of each command")
    parser.add_argument("--trailer-repeat", type=int, default=3, help="sample/floor pairs")
    parser.add_argument("--baseline-src", type=Path, help="another checkout's src folder")
    parser.add_argument(
        "--cached-bytecode",
        action="store_true",
        help="let the children cache bytecode (in a temporary folder) as usual Pythons do",
    )
    args = parser.parse_args()
    baseline = args.baseline_src.resolve() if args.baseline_src else None
    with tempfile.TemporaryDirectory(prefix="bench-startup-pyc-") as pycache:
        if args.cached_bytecode:
            os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
            os.environ["PYTHONPYCACHEPREFIX"] = pycache
        print(
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
            f"ffmpeg {shutil.which('ffmpeg')}; python {sys.version.split()[0]}; "
            f"{bytecode_state()}"
        )
        measure(args, baseline)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def measure(args: argparse.Namespace, baseline: Path | None) -> None:
    startup(args.clip.resolve(), args.repeat, baseline)
    if args.trailer is not None:
        trailer = args.trailer.resolve()
        trailer_ratio(trailer, args.trailer_repeat, trailer.name, baseline)
        # The same pair on the first 2 s: what is left is the fixed cost per command.
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
            start = Path(folder) / f"start-{trailer.name}"
            cut = ["ffmpeg", "-v", "error", "-i", str(trailer), "-t", "2", "-c", "copy"]
            subprocess.run([*cut, str(start)], check=True)
            label = f"its first 2 s ({start.name})"
            trailer_ratio(start, args.trailer_repeat, label, baseline, judged=False)


if __name__ == "__main__":
    main()
