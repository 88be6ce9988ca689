"""Hostile media: peak memory of one sampling pass with framesift's limits on (the
defaults) and off.

Makes the files with the ffmpeg CLI (small files, large pictures), then samples each in a
child process (``sample_video`` with thumbnails into memory) and reports the child's peak
RSS, its wall time and what came of it:

* ``16k``: one 16000x16000 H.264 picture (a few hundred KB);
* ``8k-square``: 8000x8000 H.264, 2 s at 10 fps;
* ``8k-uhd``: 7680x4320 H.264, 2 s at 10 fps: under the picture limit, so it is decoded
  with the decoder memory budget (``LimitsSpec.decode_memory_mb``) on and off.

    python benchmarks/bench_limits.py                 # files in a temporary folder
    python benchmarks/bench_limits.py --keep DIR      # make them (once) in DIR

Prints a Markdown table; exits non-zero when a file over the limit is not refused or a
refused file's child peaks above 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

FILES = {
    "16k": ("16000x16000", 1, 1),
    "8k-square": ("8000x8000", 10, 2),
    "8k-uhd": ("7680x4320", 10, 2),
}

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import framesift as fs
from framesift.sink import MemoryImageSink
path, limits, full = sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "full"
image = fs.ImageSpec(full_frames=full)
spec = fs.SamplingSpec(image=image, decode=fs.DecodeSpec(limits=fs.LimitsSpec(**limits)))
started = time.perf_counter()
try:
    result = fs.sample_video(path, spec, sink=MemoryImageSink())
    outcome = f"{result.frames.height} frames kept"
except fs.MediaLimitError as exc:
    outcome = f"MediaLimitError: {exc.problem}"
seconds = time.perf_counter() - started
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcome": outcome, "seconds": seconds, "rss_mb": rss_mb}))
"""

RUNS = [
    # (file, label, limits, full frames)
    ("16k", "limits on (default)", {}, False),
    ("16k", "limits off", {"max_pixels": None}, False),
    ("16k", "limits off, full frames", {"max_pixels": None}, True),
    ("8k-square", "limits on (default)", {}, False),
    ("8k-square", "limits off", {"max_pixels": None}, False),
    ("8k-uhd", "limits on (default)", {}, False),
    ("8k-uhd", "decoder memory budget off", {"decode_memory_mb": 1 << 20}, False),
]


def make(folder: Path, name: str) -> Path:
    size, rate, seconds = FILES[name]
    path = folder / f"{name}.mp4"
    if not path.exists():
        subprocess.run(
            [
                "ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi",
                "-i", f"testsrc2=s={size}:r={rate}:d={seconds}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path),
            ],
            check=True,
        )  # fmt: skip
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="make the files in this folder and keep them")
    args = parser.parse_args()
    src = str(Path(__file__).parents[1] / "src")
    with tempfile.TemporaryDirectory() as temp:
        folder = args.keep or Path(temp)
        folder.mkdir(parents=True, exist_ok=True)
        print("| file | size | run | outcome | wall | peak RSS |")
        print("|---|---|---|---|---|---|")
        missed = []
        for name, label, limits, full in RUNS:
            path = make(folder, name)
            child = subprocess.run(
                [sys.executable, "-c", CHILD, src, str(path), json.dumps(limits),
                 "full" if full else "thumbs"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            result = json.loads(child.stdout.strip().splitlines()[-1])
            kb = path.stat().st_size / 1024
            print(
                f"| {name} ({FILES[name][0]}) | {kb:.0f} KB | {label} | {result['outcome']} | "
                f"{result['seconds']:.1f} s | {result['rss_mb']:.0f} MB |"
            )
            refused = result["outcome"].startswith("MediaLimitError")
            if label.startswith("limits on") and name != "8k-uhd" and not refused:
                missed.append(f"{name}: not refused")
            if refused and result["rss_mb"] > 300:
                missed.append(f"{name}: refused at {result['rss_mb']:.0f} MB")
        for line in missed:
            print("MISSED:", line)
        return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
