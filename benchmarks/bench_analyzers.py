"""Frame analyzers benchmark: what they cost inside the one pass, on 720p footage.

Measures, on the 720p sample clips (data/clips/cockatoo.mp4, bigbuckbunny.mp4; ``--clip``
for others), with one frame kept per second (``--every 1``, no scene detector):

* the pass alone, and the same pass with ``--analyze faces`` (the analyzers' worker thread
  fed by the pass's hand-off): frames decoded must be equal (no second decode) and the
  pass with the analyzer must take at most the pass alone plus the analyzer's own
  inference time (``AnalyzerRun.seconds``) plus 10% slack;
* milliseconds per kept frame of each analyzer: ``faces`` (YuNet, 640 px longest side)
  and ``onnx`` (a small convolutional embedding model built here with onnx.helper, random
  fixed weights, 224x224 input), FP32 and its INT8 copy (ONNX Runtime dynamic
  quantisation);
* INT8 against FP32 on the same kept frames: speed, and accuracy as the cosine similarity
  of the embeddings and the agreement of the arg-max class of a 10-class head.

    python benchmarks/bench_analyzers.py                     # the two 720p clips
    python benchmarks/bench_analyzers.py --clip a.mp4 --repeat 3

Prints one line per measurement; exits non-zero when the pass with an analyzer exceeds
the pass alone plus its inference time (plus slack) or decodes a different frame count.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from framesift.analyzers import AnalyzerRunner
from framesift.sample import sample_video
from framesift.spec import AnalyzerSpec, OnnxModelSpec, SamplingSpec

CLIPS = [
    Path(__file__).parents[1] / "data" / "clips" / "cockatoo.mp4",
    Path(__file__).parents[1] / "data" / "clips" / "bigbuckbunny.mp4",
]
SPEC = SamplingSpec(interval_s=1.0, detector=None)
SLACK = 1.10


def conv_embedding_model(path: Path) -> Path:
    """A small CNN, 224x224x3 -> conv 3x3/2 (16) -> relu -> conv 3x3/2 (32) -> relu ->
    global pool -> dense 64 (the embedding) and dense 10 (a class head, second output)."""
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(11)

    def tensor(name: str, *shape: int) -> onnx.TensorProto:
        values = rng.normal(0, 0.2, shape).astype(np.float32)
        return helper.make_tensor(name, TensorProto.FLOAT, shape, values)

    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "w3", "b3"], ["embedding"]),
        helper.make_node("Gemm", ["embedding", "w4", "b4"], ["classes"]),
    ]
    graph = helper.make_graph(
        nodes,
        "conv_embedding",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
        [
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 64]),
            helper.make_tensor_value_info("classes", TensorProto.FLOAT, [1, 10]),
        ],
        initializer=[
            tensor("w1", 16, 3, 3, 3),
            tensor("b1", 16),
            tensor("w2", 32, 16, 3, 3),
            tensor("b2", 32),
            tensor("w3", 32, 64),
            tensor("b3", 64),
            tensor("w4", 64, 10),
            tensor("b4", 10),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def run_pass(clip: Path, analyzers: AnalyzerSpec | None) -> dict[str, float]:
    started = time.perf_counter()
    if analyzers is None:
        result = sample_video(clip, SPEC)
        return {
            "wall_s": time.perf_counter() - started,
            "decoded": result.stats.frames_decoded,
            "kept": result.frames.height,
        }
    with AnalyzerRunner.of(analyzers) as runner:
        result = sample_video(clip, SPEC, consumers=(runner,))
        output = runner.finish()
    wall = time.perf_counter() - started
    return {
        "wall_s": wall,
        "decoded": result.stats.frames_decoded,
        "kept": result.frames.height,
        "inference_s": sum(r.seconds for r in output.runs),
        "waited_s": output.waited_s,
        "detections": output.detections.height,
        "embeddings": output.detections,  # type: ignore[dict-item]
    }


def pass_overhead(clips: list[Path], repeat: int) -> bool:
    ok = True
    for clip in clips:
        alone = [run_pass(clip, None) for _ in range(repeat)]
        faces = [run_pass(clip, AnalyzerSpec(("faces",))) for _ in range(repeat)]
        base = min(a["wall_s"] for a in alone)
        best = min(faces, key=lambda f: f["wall_s"])
        inference = best["inference_s"]
        same_decode = alone[0]["decoded"] == best["decoded"]
        within = best["wall_s"] <= (base + inference) * SLACK
        ok &= same_decode and within
        print(
            f"{clip.name}: pass alone {base:.2f} s; with --analyze faces {best['wall_s']:.2f} s "
            f"(faces inference {inference:.2f} s on {best['kept']:.0f} kept frames, "
            f"{1000 * inference / max(1, best['kept']):.0f} ms/frame; pass waited "
            f"{best['waited_s']:.2f} s); added {best['wall_s'] - base:+.2f} s "
            f"<= inference {inference:.2f} s x{SLACK}: {'yes' if within else 'NO'}; "
            f"frames decoded {alone[0]['decoded']:.0f} vs {best['decoded']:.0f}: "
            f"{'same' if same_decode else 'DIFFERENT'}"
        )
    return ok


def onnx_precision(clips: list[Path], model: Path, repeat: int) -> None:
    outputs = {}
    for int8 in (False, True):
        spec = AnalyzerSpec(
            ("onnx",),
            model=OnnxModelSpec(str(model), output="embedding", int8=int8, min_score=0.0),
        )
        per_frame: list[float] = []
        vectors = []
        for clip in clips:
            runs = [run_pass(clip, spec) for _ in range(repeat)]
            best = min(runs, key=lambda r: r["inference_s"])
            per_frame.append(1000 * best["inference_s"] / max(1, best["kept"]))
            vectors.extend(best["embeddings"]["embedding"].to_list())  # type: ignore[index]
        outputs[int8] = np.array(vectors, dtype=np.float64)
        label = "int8" if int8 else "fp32"
        print(f"onnx ({label}, 224x224 conv embedding): {statistics.mean(per_frame):.1f} ms/frame")
    fp32, int8 = outputs[False], outputs[True]
    cosine = (fp32 * int8).sum(1) / (np.linalg.norm(fp32, axis=1) * np.linalg.norm(int8, axis=1))
    rng = np.random.default_rng(11)
    head = rng.normal(0, 0.2, (64, 10))  # a fixed 10-class head on the embeddings
    agree = float(np.mean((fp32 @ head).argmax(1) == (int8 @ head).argmax(1)))
    print(
        f"int8 vs fp32 on {len(fp32)} kept frames: cosine similarity min {cosine.min():.4f}, "
        f"mean {cosine.mean():.4f}; arg-max class of a 10-class head agrees on "
        f"{100 * agree:.0f}% of frames"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", action="append", type=Path, help="720p clips (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best kept")
    args = parser.parse_args()
    clips = args.clip or [c for c in CLIPS if c.exists()]
    if not clips:
        print("no clips: run bash data/fetch.sh", file=sys.stderr)
        return 2
    ok = pass_overhead(clips, args.repeat)
    with tempfile.TemporaryDirectory() as folder:
        onnx_precision(clips, conv_embedding_model(Path(folder, "conv.onnx")), args.repeat)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
