"""The one pass's own work per frame, this tree against another, in the same process.

    .venv/bin/python benchmarks/bench_perframe.py CLIP [CLIP ...] --baseline-src OLD/src

Decodes each clip as the pass does (frame threads) and gives every frame, in turn, to the
analysis image of this tree and of the baseline tree (``OLD/src/framesift/images.py``,
loaded beside this one), alternating which goes first, and to the content detector through
framesift's adapter and through PySceneDetect's ``process_frame``. Prints the CPU time of
the calling thread per frame for each (what the pass's main thread spends, the decoding
threads not counted) and checks that images, scores and cuts are identical. Interleaving
in one process keeps the comparison fair on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path
from types import ModuleType

import av
import numpy as np

from framesift.images import AnalysisRenderer
from framesift.scenes import FastContentDetector, SceneCutDetector
from framesift.scenes.pyscenedetect import FrameTimecode


def baseline_images(src: Path) -> ModuleType:
    """The baseline tree's ``framesift.images``, loaded under another name."""
    spec = importlib.util.spec_from_file_location("baseline_images", src / "framesift/images.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(clip: Path, baseline: ModuleType) -> None:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or 25)
        ours, theirs = (
            AnalysisRenderer(256, 0, exact=False),
            baseline.AnalysisRenderer(256, 0, exact=False),
        )
        adapter = SceneCutDetector("content", 27.0, 15, fps)
        plain = FastContentDetector(threshold=27.0, min_scene_len=15)
        cpu = {
            "image": 0.0,
            "image (baseline)": 0.0,
            "detector": 0.0,
            "detector (process_frame)": 0.0,
        }
        frames = 0
        for number, frame in enumerate(container.decode(stream)):
            renderers = [("image", ours), ("image (baseline)", theirs)]
            images = {}
            for label, renderer in renderers if number % 2 else renderers[::-1]:
                started = time.thread_time()
                images[label] = renderer.render(frame)[0]
                cpu[label] += time.thread_time() - started
            if not np.array_equal(images["image"], images["image (baseline)"]):
                raise SystemExit(f"{clip}: frame {number}: the analysis images differ")
            bgr = images["image"]
            started = time.thread_time()
            score, cuts = adapter.push(number, bgr)
            middle = time.thread_time()
            timecode = FrameTimecode(number, fps=fps)
            expected = [int(c.frame_num) for c in plain.process_frame(timecode, bgr)]
            cpu["detector (process_frame)"] += time.thread_time() - middle
            cpu["detector"] += middle - started
            if (score, cuts) != (plain._frame_score, expected):
                raise SystemExit(f"{clip}: frame {number}: the detector's score or cuts differ")
            frames += 1
    print(f"{clip.name}: {frames} frames, {frame.width}x{frame.height}; CPU ms per frame:")
    for label, seconds in cpu.items():
        print(f"  {label:26s} {seconds / frames * 1e3:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, nargs="+")
    parser.add_argument("--baseline-src", type=Path, required=True, help="the other tree's src")
    args = parser.parse_args()
    baseline = baseline_images(args.baseline_src)
    for clip in args.clips:
        measure(clip, baseline)


if __name__ == "__main__":
    main()
