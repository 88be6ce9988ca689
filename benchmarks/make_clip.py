"""Make the benchmark clip: long 1080p H.264 with hard cuts at known times.

The clip is a deterministic sequence of segments, 2-12 s each, cut hard from one
visually different source to the next: FFmpeg's lavfi generators (testsrc2,
mandelbrot, life, cellauto, smptehdbars, gradients, sierpinski) and single
shots of the real clips in data/clips/ (fetch them with data/fetch.sh), all
at 25 fps, with light temporal noise so nothing is trivially compressible.
Encoded by the ffmpeg CLI: libx264, preset veryfast, 3 B-frames, keyint 250,
yuv420p, CRF 23, moov at the front.

Beside the clip, ``<clip>.json`` records the ground truth: cut times (s) and
frame indices, every segment's source, and the encoder settings.

    python benchmarks/make_clip.py --minutes 10 --out /work/bench-media/clip10.mp4
    # 60 minutes for the long-input memory test: the 10-minute clip six times,
    # joined with the concat demuxer and -c copy (seconds, not an hour of encoding):
    python benchmarks/make_clip.py --minutes 60 --out /work/bench-media/clip60.mp4 \\
        --concat-from /work/bench-media/clip10.mp4
    # check the ground truth against the pixels (decodes the clip at 64x36):
    python benchmarks/make_clip.py --verify /work/bench-media/clip10.mp4

Needs the ffmpeg command-line tool (Debian: apt-get install ffmpeg) and numpy
for --verify. Run one at a time: the encode uses every core.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

FPS = 25
MIN_SEGMENT_S = 2.0
MAX_SEGMENT_S = 12.0
CLIPS_DIR = Path(__file__).resolve().parents[1] / "data" / "clips"

# Real clips and their single shots (start_s, end_s, from the clip's first frame),
# kept clear of the clips' own cuts so that the only cuts in the benchmark clip are
# the ones in the ground truth: cityCC0.mpg cuts at 4.64 s, cockatoo.mp4 jumps at
# 7.84 s, the 1906 film has a splice at 5.40 s (mean abs diff of 64x36 frames > 40).
CLIP_SHOTS: dict[str, list[tuple[float, float]]] = {
    "cityCC0.mpg": [(0.0, 4.5), (4.8, 7.5)],
    "cockatoo.mp4": [(0.0, 7.7), (8.0, 13.9)],
    "Shepard_Calais_1906_FrenchGP.160p.ogv": [(0.0, 5.3), (5.6, 19.0)],
    "bigbuckbunny.mp4": [(0.0, 5.2)],
}

GENERATORS = (
    "testsrc2",
    "mandelbrot",
    "life",
    "cellauto",
    "smptehdbars",
    "gradients",
    "sierpinski",
)


@dataclass(frozen=True)
class Segment:
    start_frame: int
    frame_count: int
    source: str  # a GENERATORS name or a clip file name
    detail: str  # the parameters that make it differ from other segments of that source

    @property
    def start_s(self) -> float:
        return self.start_frame / FPS

    @property
    def duration_s(self) -> float:
        return self.frame_count / FPS


def _colour(rng: random.Random) -> str:
    return f"0x{rng.randrange(0x1000000):06x}"


def plan_segments(total_frames: int, seed: int, use_clips: bool) -> list[tuple[Segment, str]]:
    """Deterministic (segment, lavfi chain) list covering exactly ``total_frames`` frames.

    Each chain produces ``frame_count`` frames of the work size ``{W}x{H}`` (filled
    in later); consecutive segments never share a source.
    """
    rng = random.Random(seed)
    sources = list(GENERATORS)
    if use_clips:
        sources += [name for name in CLIP_SHOTS if (CLIPS_DIR / name).is_file()]
    out: list[tuple[Segment, str]] = []
    frame = 0
    previous = ""
    while frame < total_frames:
        source = rng.choice([s for s in sources if s != previous])
        frames = rng.randint(int(MIN_SEGMENT_S * FPS), int(MAX_SEGMENT_S * FPS))
        chain, detail, frames = _source_chain(source, frames, rng)
        left = total_frames - frame - frames
        if 0 < left < MIN_SEGMENT_S * FPS:
            # Too little left for a segment of its own: a lavfi source stretches,
            # a real clip's shot may not, so end on a generator instead.
            if source in CLIP_SHOTS:
                continue
            frames += left
        frames = min(frames, total_frames - frame)
        out.append((Segment(frame, frames, source, detail), chain))
        frame += frames
        previous = source
    return out


def _source_chain(source: str, frames: int, rng: random.Random) -> tuple[str, str, int]:
    """(lavfi chain at {W}x{H}, description, frame count, shortened to fit a real shot)."""
    seed = rng.randrange(2**31)
    if source == "testsrc2":
        hue = rng.randrange(360)
        return f"testsrc2=s={{W}}x{{H}}:r={FPS},hue=h={hue}", f"hue={hue}", frames
    if source == "mandelbrot":
        x, y = rng.choice([(-0.743643887, 0.131825904), (-0.75, 0.1), (-1.25066, 0.02012)])
        scale = 0.5 + seed % 251 / 100  # from the seed: keeps the plan's random sequence
        detail = f"start_x={x}:start_y={y}:start_scale={scale}"
        # A slow zoom (20x over 300 s): faster zooms make the picture strobe, with
        # frame-to-frame changes as large as a cut.
        chain = (
            f"mandelbrot=s={{W2}}x{{H2}}:r={FPS}:maxiter=128:{detail}:"
            f"end_scale={scale / 20:.4f}:end_pts=300:outer=normalized_iteration_count,"
            f"scale={{W}}:{{H}}"
        )
        return chain, detail, frames
    if source == "life":
        life, death, mold = _colour(rng), _colour(rng), _colour(rng)
        detail = f"seed={seed}:life_color={life}:death_color={death}:mold_color={mold}"
        # The random first generations collapse in big jumps: start after them.
        chain = (
            f"life=s={{W4}}x{{H4}}:r={FPS}:mold=10:ratio=0.{rng.randint(1, 5)}:{detail},"
            f"trim=start_frame=50,setpts=PTS-STARTPTS,scale={{W}}:{{H}}:flags=neighbor"
        )
        return chain, detail, frames
    if source == "cellauto":
        rule = rng.choice([18, 30, 45, 73, 90, 105, 110, 150])
        r, g, b = (round(rng.uniform(0.3, 1.0), 2) for _ in range(3))
        detail = f"rule={rule}:seed={seed}:tint={r},{g},{b}"
        chain = (
            f"cellauto=s={{W2}}x{{H2}}:r={FPS}:rule={rule}:seed={seed}:scroll=1,format=rgb24,"
            f"lutrgb=r=val*{r}:g=val*{g}:b=val*{b},scale={{W}}:{{H}}:flags=neighbor"
        )
        return chain, detail, frames
    if source == "smptehdbars":
        return f"smptehdbars=s={{W}}x{{H}}:r={FPS}", "", frames
    if source == "gradients":
        n = rng.randint(2, 6)
        speed = round(rng.uniform(0.01, 0.06), 3)
        detail = f"n={n}:seed={seed}:speed={speed}"
        return f"gradients=s={{W2}}x{{H2}}:r={FPS}:{detail},scale={{W}}:{{H}}", detail, frames
    if source == "sierpinski":
        kind = rng.choice(["carpet", "triangle"])
        detail = f"seed={seed}:type={kind}"
        chain = f"sierpinski=s={{W2}}x{{H2}}:r={FPS}:{detail},scale={{W}}:{{H}}"
        return chain, detail, frames
    # A real clip: one shot, trimmed, converted to 25 fps, scaled and cropped to fill.
    shot_start, shot_end = rng.choice(CLIP_SHOTS[source])
    usable = math.floor((shot_end - shot_start) * FPS) - 2
    frames = min(frames, usable)
    offset = round(rng.uniform(0, (usable - frames) / FPS), 2)
    start = shot_start + offset
    path = str(CLIPS_DIR / source).replace("\\", "/").replace("'", r"\'")
    chain = (
        f"movie=filename='{path}',setpts=PTS-STARTPTS,trim=start={start}:end={shot_end},"
        f"setpts=PTS-STARTPTS,"
        f"fps={FPS},scale={{W}}:{{H}}:force_original_aspect_ratio=increase,crop={{W}}:{{H}}"
    )
    return chain, f"from {start:.2f} s", frames


def build_filtergraph(
    plan: list[tuple[Segment, str]], width: int, height: int, work_height: int, noise: int
) -> str:
    work_w = round(work_height * width / height / 4) * 4
    sizes = {
        "W": work_w,
        "H": work_height,
        "W2": work_w // 2,
        "H2": work_height // 2,
        "W4": work_w // 4,
        "H4": work_height // 4,
    }
    lines = []
    labels = []
    for k, (segment, chain) in enumerate(plan):
        body = chain.format(**sizes)
        lines.append(
            f"{body},trim=end_frame={segment.frame_count},setpts=N/({FPS}*TB),"
            f"format=yuv420p,setsar=1[s{k}];"
        )
        labels.append(f"[s{k}]")
    lines.append(
        f"{''.join(labels)}concat=n={len(labels)}:v=1:a=0,"
        f"noise=alls={noise}:allf=t,scale={width}:{height}:flags=bicubic,"
        f"format=yuv420p,setsar=1[out]"
    )
    return "\n".join(lines)


def encode(graph: str, out: Path, total_frames: int, preset: str) -> None:
    ffmpeg = _ffmpeg()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "graph.txt"
        script.write_text(graph, encoding="utf-8")
        command = [
            ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            "-stats",
            "-y",
            "-filter_complex_script",
            str(script),
            "-map",
            "[out]",
            "-frames:v",
            str(total_frames),
            "-r",
            str(FPS),
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            "23",
            "-bf",
            "3",
            "-g",
            "250",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-an",
            str(out),
        ]
        subprocess.run(command, check=True)


def concat_copies(base: Path, copies: int, out: Path) -> None:
    ffmpeg = _ffmpeg()
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "list.txt"
        escaped = str(base.resolve()).replace("'", "'\\''")
        listing.write_text(f"file '{escaped}'\n" * copies, encoding="utf-8")
        subprocess.run(
            [
                ffmpeg,
                "-nostdin",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                "-movflags",
                "+faststart",
                str(out),
            ],
            check=True,
        )


def count_frames(path: Path) -> int:
    """Video packets in ``path`` (no decoding)."""
    result = subprocess.run(
        [
            shutil.which("ffprobe") or "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(result.stdout.strip())


def verify(path: Path) -> int:
    """Decode ``path`` at 64x36 and check every cut in its JSON against the pixels.

    Streams the frames (a few KB each), so a 60-minute clip needs no more memory
    than a 1-minute one beyond the list of frame differences.
    """
    import numpy as np

    truth = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    w, h = 64, 36
    frame_bytes = w * h * 3
    command = [
        _ffmpeg(), "-nostdin", "-v", "error", "-i", str(path),
        "-vf", f"scale={w}:{h}:flags=area", "-fps_mode", "passthrough",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
    ]  # fmt: skip
    diff_list: list[float] = []  # diff_list[i]: frame i -> frame i + 1
    previous = None
    decoded = 0
    with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read(frame_bytes * 500):
            block = np.frombuffer(chunk, np.uint8).reshape(-1, h, w, 3).astype(np.int16)
            if previous is not None:
                block = np.concatenate([previous, block])
            diff_list.extend(np.abs(np.diff(block, axis=0)).mean(axis=(1, 2, 3)).tolist())
            decoded += len(block) - (previous is not None)
            previous = block[-1:]
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command)
    diffs = np.array(diff_list)
    cuts = truth["cut_frames"]
    problems = []
    if decoded != truth["frame_count"]:
        problems.append(f"{decoded} frames decoded, {truth['frame_count']} expected")
    at_cuts = diffs[[c - 1 for c in cuts]]
    inside = np.delete(diffs, [c - 1 for c in cuts])
    weak = [c for c, d in zip(cuts, at_cuts, strict=True) if d < np.quantile(inside, 0.999)]
    if weak:
        problems.append(f"cuts not clearly visible at frames {weak}")
    print(
        f"{path.name}: {decoded} frames, {len(cuts)} cuts; mean abs diff (64x36 RGB) "
        f"at cuts min {at_cuts.min():.1f} median {np.median(at_cuts):.1f}; inside scenes "
        f"99.9th percentile {np.quantile(inside, 0.999):.1f}, max {inside.max():.1f}"
    )
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


def _ffmpeg() -> str:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("make_clip.py needs the ffmpeg command-line tool (Debian: apt-get install ffmpeg)")
    return ffmpeg


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="clip length (default 10)")
    parser.add_argument("--out", type=Path, help="output .mp4 (the .json goes beside it)")
    parser.add_argument("--height", type=int, default=1080, help="output height, 16:9 (1080)")
    parser.add_argument(
        "--work-height",
        type=int,
        default=540,
        help="height the sources are drawn at before the final upscale (540)",
    )
    parser.add_argument("--seed", type=int, default=20261123, help="segment plan seed")
    parser.add_argument("--noise", type=int, default=2, help="temporal noise strength (2)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (veryfast)")
    parser.add_argument("--no-clips", action="store_true", help="lavfi generators only")
    parser.add_argument(
        "--concat-from",
        type=Path,
        metavar="CLIP",
        help="instead of encoding, join copies of CLIP (made by this script) with -c copy",
    )
    parser.add_argument("--verify", type=Path, metavar="CLIP", help="check CLIP against its JSON")
    args = parser.parse_args(argv)

    if args.verify:
        return verify(args.verify)
    if args.out is None:
        parser.error("--out is required")
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()

    if args.concat_from:
        base: Path = args.concat_from
        base_truth = json.loads(base.with_suffix(".json").read_text(encoding="utf-8"))
        copies = args.minutes * 60 / base_truth["duration_s"]
        if abs(copies - round(copies)) > 1e-9 or round(copies) < 1:
            parser.error(
                f"--minutes {args.minutes} is not a whole number of copies of "
                f"{base} ({base_truth['duration_s'] / 60:g} min)"
            )
        copies = round(copies)
        concat_copies(base, copies, out)
        n = base_truth["frame_count"]
        cut_frames = [
            k * n + c for k in range(copies) for c in [0, *base_truth["cut_frames"]] if k or c
        ]
        truth = {
            **base_truth,
            "clip": out.name,
            "made_by": f"concat demuxer, -c copy: {copies} copies of {base.name}",
            "duration_s": copies * base_truth["duration_s"],
            "frame_count": copies * n,
            "cut_frames": cut_frames,
            "cut_times_s": [f / FPS for f in cut_frames],
            "segments": [
                {
                    **s,
                    "start_frame": k * n + s["start_frame"],
                    "start_s": k * n / FPS + s["start_s"],
                }
                for k in range(copies)
                for s in base_truth["segments"]
            ],
        }
    else:
        if not args.no_clips and not any((CLIPS_DIR / n).is_file() for n in CLIP_SHOTS):
            print(f"note: no clips in {CLIPS_DIR} (run data/fetch.sh); using generators only")
        width = round(args.height * 16 / 9 / 2) * 2
        total_frames = round(args.minutes * 60 * FPS)
        plan = plan_segments(total_frames, args.seed, not args.no_clips)
        graph = build_filtergraph(plan, width, args.height, args.work_height, args.noise)
        encode(graph, out, total_frames, args.preset)
        segments = [seg for seg, _ in plan]
        cut_frames = [seg.start_frame for seg in segments[1:]]
        truth = {
            "clip": out.name,
            "made_by": "benchmarks/make_clip.py",
            "fps": FPS,
            "width": width,
            "height": args.height,
            "duration_s": total_frames / FPS,
            "frame_count": total_frames,
            "cut_frames": cut_frames,
            "cut_times_s": [f / FPS for f in cut_frames],
            "segments": [
                {**asdict(seg), "start_s": seg.start_s, "duration_s": seg.duration_s}
                for seg in segments
            ],
            "encoder": {
                "codec": "libx264",
                "preset": args.preset,
                "crf": 23,
                "bframes": 3,
                "keyint": 250,
                "pix_fmt": "yuv420p",
                "noise": args.noise,
                "work_height": args.work_height,
                "seed": args.seed,
            },
        }

    found = count_frames(out)
    if found != truth["frame_count"]:
        print(f"PROBLEM: {out} has {found} video packets, {truth['frame_count']} expected")
        return 1
    out.with_suffix(".json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    took = time.monotonic() - began
    print(
        f"{out}: {truth['duration_s'] / 60:g} min, {len(truth['cut_frames'])} cuts, "
        f"{out.stat().st_size / 1e6:.0f} MB, made in {took:.0f} s "
        f"({truth['duration_s'] / took:.2f}x real time)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
