"""How close ``framesift estimate`` comes to the real ingest, on footage it has not seen.

Splits of one collection (the real clips of data/clips, ``--more VIDEO`` real videos of
one's own, and synthetic test media made with tests/media.py; each ``--long VIDEO`` adds a
split that holds out that longer video): the estimator calibrates on some videos
(``estimate_ingest``, the calibration ``framesift estimate`` runs) and projects every
video; the videos it did not calibrate on are then ingested for real, in one batch, into a
fresh local catalog with the same settings (default sampling, subtitles and sidecar files
on), ``--repeat`` times, and compared, per file and overall. A long video is estimated
twice against the same real ingests: calibrated on two short clips, and on itself alone
(what ``framesift estimate LONG`` does).

- kept frames: the catalog's frames;
- bytes: per file, everything under its video id (thumbnails, every table's part, commit
  markers) and its ledger entry; overall, every file under the catalog folder;
- CPU seconds of this process (all threads) and wall seconds: per file, between the batch
  loop's reports of one video and the next (the first includes opening the catalog);
  overall, the whole ``framesift.ingest`` call. The median of the repeats.

Error = estimate / real - 1; the cores column compares the estimate's CPU seconds per wall
second with the real ingest's (the wall error is the CPU seconds' and the cores' together).
The estimate's own cost is its CPU seconds over the real
ingest's. The machine's load average is printed with each split, and the cores other
processes kept busy during each real ingest (``/proc/stat``): wall time on a shared machine
follows the other processes, CPU time much less. The estimate says the wall time of a quiet
machine: on a shared one, ``--wait-quiet S`` starts each estimate and each real ingest in a
quiet second (waiting S seconds at most), and the others' cores say whether the ingest
stayed quiet. The machine's own speed moves too: a fixed piece of work (one thread
decoding cockatoo.mp4's first 60 frames, median of 3) is timed before each estimate and
each real ingest and printed (on the 2-vCPU VM it took 0.16-0.29 CPU s within minutes, so
the CPU seconds of one short ingest move by as much, whatever the estimate says).

With ``--interleave`` every calibration estimates again before each real ingest, and the
medians of the estimates are compared with the medians of the ingests: one estimate
against one ingest a minute later mostly measures how the machine's speed moved.

    python benchmarks/bench_estimate.py [--repeat 2] [--calibrate-s 20] [--more VIDEO ...]
        [--long VIDEO ...] [--no-short] [--wait-quiet S] [--interleave]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic test media

import framesift as fs  # noqa: E402
import media  # noqa: E402  (tests/media.py, found through the path above)
from framesift.batch import estimate_ingest  # noqa: E402
from framesift.estimate_cores import ThreadWatch  # noqa: E402

CLIPS = ROOT / "data" / "clips"
SPEED_CLIP = CLIPS / "cockatoo.mp4"


def machine_speed() -> float:
    """CPU seconds one thread takes to decode the first 60 frames of a fixed clip, median
    of 3: the machine's speed now (higher: slower)."""
    times = []
    for _ in range(3):
        with av.open(str(SPEED_CLIP)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "NONE"
            start = time.thread_time()
            for number, _frame in enumerate(container.decode(stream)):
                if number == 59:
                    break
            times.append(time.thread_time() - start)
    return statistics.median(times)


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


def video_bytes(catalog: Path, video_id: str) -> int:
    """Every file of one video: thumbnails, table parts, commit markers, ledger entry."""
    total = bytes_under(catalog / "thumbs" / video_id) + bytes_under(catalog / "commits" / video_id)
    for table in (catalog / "tables").iterdir():
        total += bytes_under(table / video_id)
    for job in (catalog / "jobs").glob("*.json"):
        if json.loads(job.read_text()).get("video_id") == video_id:
            total += job.stat().st_size
    return total


@dataclass
class Measure:
    kept: int = 0
    bytes: float = 0.0
    cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)  # cores other processes kept busy
    speed: list[float] = field(default_factory=list)  # machine_speed() before each ingest


def others_now(seconds: float = 1.0) -> float:
    """The cores other processes keep busy over the next ``seconds``."""
    watch = ThreadWatch()
    watch.mark()
    time.sleep(seconds)
    watch.mark()
    return watch.others() or 0.0


def wait_quiet(limit_s: float, below: float = 0.1) -> float:
    """Wait (at most ``limit_s``) for a second in which other processes keep fewer than
    ``below`` cores busy; the cores they kept busy in the last second waited."""
    waited, others = 0.0, others_now()
    while others >= below and waited < limit_s:
        others = others_now()
        waited += 1.0
    return others


def ingest_once(
    held_out: list[Path], catalog: Path, real: dict[str, Measure], wait_s: float = 0.0
) -> None:
    """One batch into a fresh catalog: per file and overall (key "") measures; with
    ``wait_s``, after waiting that long at most for a quiet second."""
    spec = fs.SamplingSpec()
    if wait_s > 0:
        wait_quiet(wait_s)
    speed = machine_speed()
    if wait_s > 0:
        wait_quiet(wait_s)
    watch = ThreadWatch()
    watch.mark()
    marks: list[tuple[str, str | None, float, float]] = []

    def heard(outcome: fs.IngestOutcome, done: int, total: int) -> None:
        marks.append(
            (outcome.source_url, outcome.video_id, time.perf_counter(), time.process_time())
        )

    wall, cpu = time.perf_counter(), time.process_time()
    fs.ingest([str(p) for p in held_out], str(catalog), spec, progress=heard)
    end_wall, end_cpu = time.perf_counter(), time.process_time()
    watch.mark()
    cat = fs.Catalog(str(catalog))
    frames = cat.frames()
    overall = real.setdefault("", Measure())
    overall.kept, overall.bytes = frames.height, float(bytes_under(catalog))
    overall.cpu_s.append(end_cpu - cpu)
    overall.wall_s.append(end_wall - wall)
    overall.others.append(watch.others() or 0.0)
    overall.speed.append(speed)
    previous = (wall, cpu)
    for url, video_id, at_wall, at_cpu in marks:
        one = real.setdefault(url, Measure())
        assert video_id is not None, f"{url} failed"
        one.kept = frames.filter(frames["video_id"] == video_id).height
        one.bytes = float(video_bytes(catalog, video_id))
        one.cpu_s.append(at_cpu - previous[1])
        one.wall_s.append(at_wall - previous[0])
        previous = (at_wall, at_cpu)


def row(name: str, est: dict[str, float], real: Measure) -> str:
    def cell(e: float, r: float, fmt: str) -> str:
        return f"{format(e, fmt)} / {format(r, fmt)} ({e / r - 1:+.1%})" if r else "-"

    cpu, wall = statistics.median(real.cpu_s), statistics.median(real.wall_s)
    return (
        f"| {name} | {cell(est['kept'], real.kept, '.0f')} "
        f"| {cell(est['bytes'], real.bytes, ',.0f')} "
        f"| {cell(est['cpu'], cpu, '.2f')} | {cell(est['wall'], wall, '.2f')} |"
    )


def project(
    calibrate: list[Path], everything: list[Path], held_out: list[Path], args: argparse.Namespace
) -> tuple[dict[str, dict[str, float]], float, str]:
    """The estimate of ``held_out`` calibrated on ``calibrate``: per file and overall (key
    ""), its own CPU seconds, and its ranges in words."""
    speed = machine_speed()
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)
    estimate = estimate_ingest(
        [str(p) for p in everything],
        fs.SamplingSpec(),
        calibrate_videos=len(calibrate),
        calibrate_s=args.calibrate_s,
    )
    assert [c.source_url for c in estimate.calibration] == [str(p) for p in calibrate]
    rows = estimate.videos.filter(estimate.videos["source_url"].is_in([str(p) for p in held_out]))
    per_file = {
        r["source_url"]: {
            "kept": r["kept_frames"],
            "bytes": r["thumbnail_bytes"] + r["table_bytes"] + r["overhead_bytes"],
            "cpu": r["cpu_seconds"],
            "wall": r["seconds"],
        }
        for r in rows.iter_rows(named=True)
    }
    overall = {k: sum(v[k] for v in per_file.values()) for k in ("kept", "bytes", "cpu", "wall")}
    overall["bytes"] += max(c.catalog_bytes for c in estimate.calibration)
    overall["speed"] = speed
    per_file[""] = overall
    ranges = ", ".join(f"{k} {lo:,.1f}-{hi:,.1f}" for k, (lo, hi) in estimate.ranges.items())
    fits = ", ".join(
        f"{Path(m.url).name} {slope * 1e6:.3f} ms a frame per KB"
        for m, slope in zip(estimate.media, estimate.looks.slopes, strict=True)
        if slope
    )
    return per_file, estimate.cpu_s, f"{ranges}; cost fitted to bytes: {fits or 'none'}"


def _median_estimate(
    runs: list[tuple[dict[str, dict[str, float]], float, str]],
) -> tuple[dict[str, dict[str, float]], float, str]:
    """Several estimates of the same split as one: each figure's median (the first's
    ranges)."""
    per_file = {
        key: {k: statistics.median(run[0][key][k] for run in runs) for k in figures}
        for key, figures in runs[0][0].items()
    }
    return per_file, statistics.median(run[1] for run in runs), runs[0][2]


def measure(
    name: str,
    calibrations: list[list[Path]],
    held_out: list[Path],
    args: argparse.Namespace,
    work: Path,
) -> dict[str, dict[str, float]]:
    """Each calibration's estimate of ``held_out``, against the same real ingests."""
    tag = "".join(c if c.isalnum() else "-" for c in name)  # each split its own catalogs
    load = os.getloadavg()[0]
    rounds: list[list[tuple[dict[str, dict[str, float]], float, str]]] = []
    real: dict[str, Measure] = {}
    for run in range(args.repeat):
        if run == 0 or args.interleave:  # each round: every calibration's estimate, then one
            rounds.append(
                [
                    project(
                        calibrate,
                        calibrate + [p for p in held_out if p not in calibrate],
                        held_out,
                        args,
                    )
                    for calibrate in calibrations
                ]
            )
        ingest_once(held_out, work / f"{tag}-{run}", real, args.wait_quiet)
    estimates = [
        (calibrate, *_median_estimate([r[i] for r in rounds]))
        for i, calibrate in enumerate(calibrations)
    ]
    errors = {}
    for calibrate, per_file, own_cpu_s, ranges in estimates:
        seen = ", ".join(p.name for p in calibrate)
        whole, overall = real[""], per_file[""]
        real_cpu = statistics.median(whole.cpu_s)
        print(f"\n## {name}: calibrated on {seen}")
        print(
            f"the estimate cost {own_cpu_s:.1f} CPU s ({own_cpu_s / real_cpu:.1%} of the "
            f"ingest's); load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; "
            f"ranges of the whole collection: {ranges}"
        )
        runs = zip(whole.cpu_s, whole.wall_s, whole.others, strict=True)
        print(
            f"cores: the estimate's {overall['cpu'] / overall['wall']:.2f}; each real ingest "
            "got (other processes' cores meanwhile) "
            + ", ".join(f"{c / w:.2f} ({o:.2f})" for c, w, o in runs)
        )
        drift = statistics.median(whole.speed) / overall["speed"]
        print(
            f"the machine's speed (a fixed decode's CPU s): {overall['speed']:.3f} at the "
            f"estimate, {', '.join(f'{v:.3f}' for v in whole.speed)} at the real ingests "
            f"(x{drift:.2f})"
        )
        print("| file | kept frames | bytes | CPU s | wall s |")
        print("|---|---|---|---|---|")
        for path in held_out:
            print(row(path.name, per_file[str(path)], real[str(path)]))
        print(row("**all held out**", overall, whole))
        errors[f"{name} (calibrated on {seen})"] = {
            "bytes": overall["bytes"] / whole.bytes - 1,
            "cpu": overall["cpu"] / real_cpu - 1,
            "wall": overall["wall"] / statistics.median(whole.wall_s) - 1,
            "others": max(whole.others),
            "cores": (overall["cpu"] / overall["wall"])
            / statistics.median(c / w for c, w in zip(whole.cpu_s, whole.wall_s, strict=True))
            - 1,
            "cost": own_cpu_s / real_cpu,
            "worst_file_bytes": max(
                abs(per_file[str(p)]["bytes"] / real[str(p)].bytes - 1) for p in held_out
            ),
        }
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="real ingests per split (2)")
    parser.add_argument("--calibrate-s", type=float, default=20.0)
    parser.add_argument(
        "--more", type=Path, nargs="*", default=[], metavar="VIDEO", help="more real footage"
    )
    parser.add_argument(
        "--long", type=Path, action="append", default=[], metavar="VIDEO", help="a longer video"
    )
    parser.add_argument(
        "--no-short", action="store_true", help="only the --long splits, not the short clips"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help="before each estimate and real ingest, wait up to S seconds for a quiet second",
    )
    parser.add_argument(
        "--interleave",
        action="store_true",
        help="estimate again before each real ingest and compare the medians (the machine's "
        "speed moves between minutes)",
    )
    parser.add_argument("--out", type=Path, default=None, help="work folder (a temporary one)")
    args = parser.parse_args()
    real = sorted(p for p in CLIPS.iterdir() if p.suffix in {".mp4", ".mpg", ".ogv"})
    if len(real) < 4:
        print("needs the clips of data/clips: bash data/fetch.sh", file=sys.stderr)
        return 2
    real += args.more
    with tempfile.TemporaryDirectory(prefix="bench-estimate-") as tmp:
        work = args.out or Path(tmp)
        made = synthetic(work)
        by_name = {p.name: p for p in real}
        seen = [by_name["cockatoo.mp4"], by_name["cityCC0.mpg"]]
        splits = [
            ("synthetic -> real", [made], real),
            ("real -> other real and synthetic", [seen], [p for p in real if p not in seen] + made),
        ]
        if args.no_short:
            splits = []
        splits += [(f"-> {long.name}", [seen, [long]], [long]) for long in args.long]
        errors: dict[str, dict[str, float]] = {}
        for name, calibrations, held_out in splits:
            errors.update(measure(name, calibrations, held_out, args, work))
    print(
        "\n| split | bytes | worst file's bytes | CPU s | wall s | cores | estimate's cost "
        "| others' cores (most) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, e in errors.items():
        print(
            f"| {name} | {e['bytes']:+.1%} | {e['worst_file_bytes']:.1%} | {e['cpu']:+.1%} "
            f"| {e['wall']:+.1%} | {e['cores']:+.1%} | {e['cost']:.1%} | {e['others']:.2f} |"
        )
    print("targets: bytes within 5%, time within 15% (overall); the estimate under 10% of it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
