"""How close ``framesift estimate`` comes to the real ingest, on footage it has not seen.

Two splits of one collection (the real clips of data/clips and synthetic test media made
with tests/media.py): the estimator calibrates on some videos (``estimate_ingest``, the
calibration ``framesift estimate`` uses) and projects every video; the videos it did not
calibrate on are then ingested for real into a fresh local catalog with the same settings
(default sampling, subtitles and sidecar files on), and compared:

- bytes: every file under the catalog folder (the estimate of the held-out videos plus the
  catalog's own file, once);
- time: the wall time of ``framesift.ingest`` over the held-out videos in this process
  (the median of ``--repeat`` runs, each into a fresh catalog), against the sum of their
  estimated seconds.

    python benchmarks/bench_estimate.py [--repeat 3] [--calibrate-s 20] [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic test media

import framesift as fs  # noqa: E402
import media  # noqa: E402  (tests/media.py, found through the path above)
from framesift.batch import estimate_ingest  # noqa: E402

CLIPS = ROOT / "data" / "clips"


def synthetic(folder: Path) -> list[Path]:
    """Two synthetic videos unlike the real clips: 640x360 patterns with cuts (20 s, 25 fps)
    and 320x240 solid colours with cuts (12 s, 30 fps)."""
    a = media.make_cuts_video(
        folder,
        colours_or_patterns=["checkerboard", "gradient", "noise", "stripes", "rings"],
        frames_per_scene=[100, 100, 100, 100, 100],
        size=(640, 360),
        name="patterns.mp4",
    )
    b = media.make_cuts_video(
        folder,
        colours_or_patterns=[(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 220, 40)],
        frames_per_scene=[90, 90, 90, 90],
        fps=30,
        size=(320, 240),
        name="colours.mp4",
    )
    return [a.path, b.path]


def bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(
    name: str, calibrate: list[Path], held_out: list[Path], args: argparse.Namespace, work: Path
) -> dict[str, float]:
    spec = fs.SamplingSpec()
    sources = [str(p) for p in calibrate + held_out]
    started = time.perf_counter()
    estimate = estimate_ingest(
        sources, spec, calibrate_videos=len(calibrate), calibrate_s=args.calibrate_s
    )
    estimate_s = time.perf_counter() - started
    assert [c.source_url for c in estimate.calibration] == [str(p) for p in calibrate]
    rows = estimate.videos.filter(estimate.videos["source_url"].is_in([str(p) for p in held_out]))
    per_catalog = max(c.catalog_bytes for c in estimate.calibration)
    predicted_bytes = float(
        (rows["thumbnail_bytes"] + rows["table_bytes"] + rows["overhead_bytes"]).sum() + per_catalog
    )
    predicted_s = float(rows["seconds"].sum())
    walls, stored, kept = [], [], []
    for run in range(args.repeat):
        catalog = work / f"{name}-{run}"
        started = time.perf_counter()
        fs.ingest([str(p) for p in held_out], str(catalog), spec)
        walls.append(time.perf_counter() - started)
        stored.append(bytes_under(catalog))
        kept.append(fs.Catalog(str(catalog)).frames().height)
    real_s = statistics.median(walls)
    predicted_kept = int(rows["kept_frames"].sum())
    print(f"\n## {name}: calibrated on {', '.join(p.name for p in calibrate)}")
    print(f"held out: {', '.join(p.name for p in held_out)} (estimate took {estimate_s:.1f} s)")
    print(f"range of the whole collection's estimate: {dict(estimate.ranges)}")
    print("| | estimate | ingest | error |")
    print("|---|---|---|---|")
    print(f"| kept frames | {predicted_kept} | {kept[0]} | {predicted_kept / kept[0] - 1:+.1%} |")
    print(
        f"| catalog bytes | {predicted_bytes:,.0f} | {stored[0]:,} | "
        f"{predicted_bytes / stored[0] - 1:+.1%} |"
    )
    print(
        f"| ingest time | {predicted_s:.2f} s | {real_s:.2f} s (runs "
        f"{', '.join(f'{w:.2f}' for w in walls)}) | {predicted_s / real_s - 1:+.1%} |"
    )
    return {
        "bytes_error": predicted_bytes / stored[0] - 1,
        "time_error": predicted_s / real_s - 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="real ingests per split (3)")
    parser.add_argument("--calibrate-s", type=float, default=20.0)
    parser.add_argument("--out", type=Path, default=None, help="work folder (a temporary one)")
    args = parser.parse_args()
    real = sorted(p for p in CLIPS.iterdir() if p.suffix in {".mp4", ".mpg", ".ogv"})
    if len(real) < 4:
        print("needs the clips of data/clips: bash data/fetch.sh", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-estimate-") as tmp:
        work = args.out or Path(tmp)
        made = synthetic(work)
        by_name = {p.name: p for p in real}
        errors = [
            measure("synthetic -> real", made, real, args, work),
            measure(
                "real -> other real and synthetic",
                [by_name["cockatoo.mp4"], by_name["cityCC0.mpg"]],
                [p for p in real if p.name not in {"cockatoo.mp4", "cityCC0.mpg"}] + made,
                args,
                work,
            ),
        ]
    worst_bytes = max(abs(e["bytes_error"]) for e in errors)
    worst_time = max(abs(e["time_error"]) for e in errors)
    print(f"\nworst bytes error {worst_bytes:.1%} (target 5%), time {worst_time:.1%} (target 15%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
