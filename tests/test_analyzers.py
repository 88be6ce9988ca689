"""Frame analyzers inside the one pass: faces (YuNet) found at the right times, a model of
one's own under its declared contract (built here with onnx.helper, never downloaded),
the detections table in the catalog's commit, failures that leave no rows, a bounded
queue with backpressure, and the ONNX Runtime session factory."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import polars as pl
import pytest
from av.video.stream import VideoStream

import media
from faces import (
    DURATION_S,
    FACE_BOX,
    FPS,
    ONE_FACE_S,
    SIZE,
    TWO_FACES_S,
    FaceVideo,
    make_face_video,
)
from framesift.analyzers import (
    Analyzer,
    AnalyzerFrame,
    AnalyzerRunner,
    Detection,
    PictureRequest,
    analyze_kept_frames,
    check_analyzers,
    open_session,
)
from framesift.batch import ingest
from framesift.catalog import Catalog
from framesift.cli import main
from framesift.errors import AnalyzerError, ModelContractError, SettingsError
from framesift.probe import probe
from framesift.sample import sample_video
from framesift.sink import MemoryImageSink
from framesift.source import Source
from framesift.spec import (
    AnalyzerSpec,
    DecodeSpec,
    OnnxModelSpec,
    SamplingSpec,
    TextSpec,
    settings_fingerprint,
)

yuface = pytest.importorskip("yuface", reason="the faces analyzer needs framesift[analyze]")
onnx = pytest.importorskip("onnx", reason="test models are built with onnx.helper")
from onnx import TensorProto, helper  # noqa: E402  (after the skip above)

SPEC = SamplingSpec(interval_s=0.5, detector=None)


@pytest.fixture(scope="session")
def face_video(tmp_path_factory: pytest.TempPathFactory) -> FaceVideo:
    return make_face_video(tmp_path_factory.mktemp("faces"))


def _expected_faces(t: float) -> int:
    if ONE_FACE_S[0] <= t < ONE_FACE_S[1]:
        return 1
    if TWO_FACES_S[0] <= t < TWO_FACES_S[1]:
        return 2
    return 0


def _faces_per_frame(frames: pl.DataFrame, detections: pl.DataFrame) -> dict[float, int]:
    counts = detections.group_by("frame_index").len()
    joined = frames.join(counts, on="frame_index", how="left").fill_null(0)
    return {round(t, 3): n for t, n in zip(joined["time_s"], joined["len"], strict=True)}


# -- models built here ---------------------------------------------------------------------


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def channel_means_model(path: Path, size: int = 16) -> Path:
    """Input (1, 3, size, size) -> the mean of each channel, (1, 3): class scores of
    'red', 'green', 'blue' (or a 3-value embedding)."""
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["scores"], axis=1),
        ],
        "channel_means",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3])],
    )
    return _save(graph, path)


def linear_embedding_model(path: Path, size: int = 16, dim: int = 32) -> Path:
    """Input (1, 3, size, size) -> flatten -> MatMul by fixed random weights -> (1, dim):
    a model with weights for INT8 quantisation to act on."""
    rng = np.random.default_rng(3)
    weights = rng.normal(0, 0.05, (3 * size * size, dim)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "weights"], ["vector"]),
        ],
        "linear_embedding",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [1, dim])],
        initializer=[helper.make_tensor("weights", TensorProto.FLOAT, weights.shape, weights)],
    )
    return _save(graph, path)


def fixed_box_model(path: Path, size: int = 16) -> Path:
    """Input (1, 3, size, size) -> one box (1, 1, 6) scaled by the picture's mean: corners
    (0.25, 0.5)-(0.75, 1.0) of the picture, score = mean brightness, class 0."""
    corners = np.array([[[0.25, 0.5, 0.75, 1.0, 0.0, 0.0]]], dtype=np.float32)
    score_mask = np.array([[[0, 0, 0, 0, 1, 0]]], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image"], ["mean"], keepdims=0),
            helper.make_node("Mul", ["mask", "mean"], ["score"]),
            helper.make_node("Add", ["corners", "score"], ["boxes"]),
        ],
        "fixed_box",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 1, 6])],
        initializer=[
            helper.make_tensor("corners", TensorProto.FLOAT, corners.shape, corners),
            helper.make_tensor("mask", TensorProto.FLOAT, score_mask.shape, score_mask),
        ],
    )
    return _save(graph, path)


def _colour_video(path: Path, colours: Sequence[tuple[int, int, int]], seconds: float) -> Path:
    """Solid colours, each for ``seconds``, 128x96 at 10 fps."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"x264-params": "asm=0"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv444p"
        i = 0
        for colour in colours:
            for _ in range(round(seconds * FPS)):
                rgb = np.zeros((96, 128, 3), np.uint8)
                rgb[:] = colour
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = i
                container.mux(stream.encode(frame))
                i += 1
        container.mux(stream.encode(None))
    return path


# -- settings ------------------------------------------------------------------------------


def test_analyzer_spec_says_what_is_allowed() -> None:
    with pytest.raises(SettingsError, match="allowed faces, onnx"):
        AnalyzerSpec(("faces", "cats"))
    with pytest.raises(SettingsError, match="needs model"):
        AnalyzerSpec(("onnx",))
    with pytest.raises(SettingsError, match="queue_frames"):
        AnalyzerSpec(("faces",), queue_frames=0)
    with pytest.raises(SettingsError, match="input_width_px"):
        OnnxModelSpec("m.onnx", input_width_px=2)
    assert AnalyzerSpec.parse(" faces, ").names == ("faces",)


def test_settings_hash_without_analyzers_is_unchanged() -> None:
    """Catalogs made before analyzers existed are not re-ingested; adding one changes the
    hash, and the queue size or thread count (no output change) do not."""
    spec, text = SamplingSpec(), TextSpec()
    assert settings_fingerprint(spec, text) == settings_fingerprint(spec, text, AnalyzerSpec())
    faces = settings_fingerprint(spec, text, AnalyzerSpec(("faces",)))
    assert faces != settings_fingerprint(spec, text)
    assert faces == settings_fingerprint(spec, text, AnalyzerSpec(("faces",), queue_frames=9))
    assert faces != settings_fingerprint(
        spec, text, AnalyzerSpec(("faces",), face_min_confidence=0.9)
    )


# -- faces ---------------------------------------------------------------------------------


def test_faces_are_found_at_the_right_times(face_video: FaceVideo) -> None:
    with AnalyzerRunner.of(AnalyzerSpec(("faces",))) as runner:
        result = sample_video(face_video.path, SPEC, consumers=(runner,))
        output = runner.finish()
    counts = _faces_per_frame(result.frames, output.detections)
    assert len(counts) == DURATION_S / SPEC.interval_s  # type: ignore[operator]
    for t, found in counts.items():
        assert found == _expected_faces(t), f"{found} faces at {t} s"
    faces = output.detections
    assert set(faces["label"]) == {"face"}
    assert faces["score"].min() >= 0.6
    x, y, w, h = FACE_BOX
    first = faces.filter(pl.col("x_px") < SIZE[0] / 2)
    # The detector's box lies on the pasted portrait (display pixels of a 640x360 frame).
    assert first["x_px"].min() >= x - 10
    assert (first["x_px"] + first["w_px"]).max() <= x + w + 10
    assert first["y_px"].min() >= y - 10
    assert (first["y_px"] + first["h_px"]).max() <= y + h + 10
    landmarks = json.loads(first["extra"][0])["landmarks"]
    assert len(landmarks) == 5
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in landmarks)
    (run,) = output.runs
    assert run.analyzer == "faces"
    assert run.frames == counts.__len__()
    assert run.detections == faces.height


CLIPS = Path(__file__).parents[1] / "data" / "clips"


def _clip(name: str) -> Path:
    clip = CLIPS / name
    if not clip.exists():
        pytest.skip("run bash data/fetch.sh for the sample clips")
    return clip


def _portrait_faces(t: float) -> int:
    """Faces in data/clips/portraits.mp4 at ``t`` (data/LICENSES.md; checked by looking at
    the frames): Eileen Collins until 3 s, the cat until 5 s, Grace Hopper until 8 s, then
    both side by side until the end at 11 s."""
    return 1 if t < 3.0 else 0 if t < 5.0 else 1 if t < 8.0 else 2


@pytest.mark.slow
def test_real_faces_are_found_at_the_right_times_with_the_defaults() -> None:
    """Real photographs with motion (zoom, pan): each face at its times, none on the cat."""
    with AnalyzerRunner.of(AnalyzerSpec(("faces",))) as runner:
        result = sample_video(_clip("portraits.mp4"), SPEC, consumers=(runner,))
        output = runner.finish()
    counts = _faces_per_frame(result.frames, output.detections)
    assert len(counts) == 22  # every 0.5 s of 11 s
    assert {t: n for t, n in counts.items() if n != _portrait_faces(t)} == {}
    faces = output.detections
    assert faces["score"].min() >= AnalyzerSpec().face_min_confidence
    # Side by side: one face in each half of the 640-pixel-wide frame.
    both = faces.filter(pl.col("time_s") >= 8.0)
    centres = both["x_px"] + both["w_px"] / 2
    assert (centres < 320).sum() == (centres >= 320).sum() == both.height // 2


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cityCC0.mpg", "cockatoo.mp4"])
def test_no_face_on_footage_without_people(name: str) -> None:
    """Real footage: night-time city towers, a cockatoo in its cage: no false face."""
    with AnalyzerRunner.of(AnalyzerSpec(("faces",))) as runner:
        result = sample_video(_clip(name), SPEC, consumers=(runner,))
        output = runner.finish()
    assert result.frames.height >= 10
    assert output.detections.is_empty()


@pytest.mark.slow
def test_the_replay_finds_what_the_pass_found(face_video: FaceVideo) -> None:
    """Kept frames decoded again (the fast scan's path, and a later analyzer) give the
    very detections the pass's hand-off gave."""
    spec = AnalyzerSpec(("faces",))
    with AnalyzerRunner.of(spec) as runner:
        result = sample_video(face_video.path, SPEC, consumers=(runner,))
        streamed = runner.finish().detections
    with AnalyzerRunner.of(spec) as runner:
        media = probe(face_video.path)
        again = analyze_kept_frames(Source(str(face_video.path)), media, result.frames, runner)
    assert again.detections.equals(streamed)


@pytest.mark.slow
def test_representatives_are_analysed_from_their_thumbnails(face_video: FaceVideo) -> None:
    """Scene representatives are held as thumbnails only (the pass lets their decoded
    pictures go): the analyzers see the thumbnail, and boxes still come in display pixels."""
    spec = SamplingSpec(
        interval_s=None,
        detector="content",
        threshold=5.0,
        min_scene_len_frames=5,
        representatives_per_scene=2,
    )
    with AnalyzerRunner.of(AnalyzerSpec(("faces",))) as runner:
        result = sample_video(face_video.path, spec, sink=MemoryImageSink(), consumers=(runner,))
        output = runner.finish()
    frames = result.frames
    only = frames.filter(pl.col("reasons") == pl.lit(["representative"]))
    assert only.height >= 4  # kept as representatives only: held as thumbnails
    counts = _faces_per_frame(frames, output.detections)
    for t, found in counts.items():
        assert found == _expected_faces(t), f"{found} faces at {t} s"
    assert output.detections["x_px"].min() >= FACE_BOX[0] - 10  # type: ignore[operator]


@pytest.mark.slow
def test_ingest_of_a_fast_pass_decodes_the_kept_frames_for_the_analyzers(
    face_video: FaceVideo, tmp_path: Path
) -> None:
    fast = SamplingSpec(interval_s=0.5, detector="content", decode=DecodeSpec(fast=True))
    catalog = str(tmp_path / "cat")
    summary = ingest([str(face_video.path)], catalog, fast, analyzers=AnalyzerSpec(("faces",)))
    assert summary.counts["ingested"] == 1
    cat = Catalog(catalog)
    (video_id,) = cat.video_ids()
    counts = _faces_per_frame(cat.frames(video_id), cat.detections(video_id))
    assert counts
    assert all(n == _expected_faces(t) for t, n in counts.items())


def test_fast_pass_refuses_consumers_with_a_clear_error(face_video: FaceVideo) -> None:
    fast = SamplingSpec(interval_s=0.5, decode=DecodeSpec(fast=True))
    with (
        AnalyzerRunner.of(AnalyzerSpec(("faces",))) as runner,
        pytest.raises(SettingsError, match="analyze_kept_frames"),
    ):
        sample_video(face_video.path, fast, consumers=(runner,))


# -- the queue -----------------------------------------------------------------------------


class SlowAnalyzer(Analyzer):
    """Sleeps ``delay_s`` per frame; records how many pictures were ever waiting."""

    name = "faces"
    request = PictureRequest(max_side_px=64)

    def __init__(self, delay_s: float, fail_at: int | None = None) -> None:
        self.delay_s = delay_s
        self.fail_at = fail_at
        self.seen: list[int] = []
        self.sizes: list[tuple[int, int]] = []

    @property
    def engine(self) -> str:
        return "sleep"

    def analyze(self, frames: Sequence[AnalyzerFrame]) -> list[tuple[Detection, ...]]:
        out: list[tuple[Detection, ...]] = []
        for frame in frames:
            if frame.frame_index == self.fail_at:
                raise ValueError("model exploded")
            time.sleep(self.delay_s)
            self.seen.append(frame.frame_index)
            self.sizes.append((frame.picture.shape[1], frame.picture.shape[0]))
            out.append((Detection("tick", 1.0, *frame.to_display(0, 0, 32, 18)),))
        return out


def test_a_slow_analyzer_fills_a_bounded_queue_and_the_pass_waits(face_video: FaceVideo) -> None:
    slow = SlowAnalyzer(0.05)
    runner = AnalyzerRunner([slow], queue_frames=2)
    depth: list[int] = []
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            depth.append(runner._queue.qsize())  # the test looks inside
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    try:
        result = sample_video(face_video.path, SPEC, consumers=(runner,))
        output = runner.finish()
    finally:
        watching.set()
        watcher.join()
        runner.close()
    elapsed = time.perf_counter() - started
    kept = result.frames.height
    assert slow.seen == result.frames["frame_index"].to_list()  # every kept frame, in order
    assert max(depth) <= 2  # never more pictures waiting than the queue holds
    assert output.waited_s > 0.3  # the pass waited for the analyzer: backpressure
    assert elapsed >= kept * 0.05  # the analyzer's own time bounds the run
    assert set(slow.sizes) == {(64, 36)}  # the size it asked for, aspect kept
    boxes = output.detections
    assert boxes["w_px"].unique().to_list() == [320.0]  # 32 of 64 pixels -> 320 of 640


def test_an_analyzer_that_raises_stops_the_pass_with_a_typed_error(face_video: FaceVideo) -> None:
    probe_frames = sample_video(face_video.path, SPEC).frames["frame_index"].to_list()
    failing = SlowAnalyzer(0.0, fail_at=probe_frames[3])

    def run(runner: AnalyzerRunner) -> None:  # the error comes at a hand-off or at the end
        sample_video(face_video.path, SPEC, consumers=(runner,))
        runner.finish()

    with AnalyzerRunner([failing]) as runner, pytest.raises(AnalyzerError) as raised:
        run(runner)
    error = raised.value
    assert error.frame_index == probe_frames[3]
    assert error.analyzer == "faces"
    assert "model exploded" in str(error)
    assert str(face_video.path) in str(error)


# -- the catalog ---------------------------------------------------------------------------


def test_detections_join_the_commit_and_answer_queries(
    face_video: FaceVideo, tmp_path: Path
) -> None:
    catalog = str(tmp_path / "cat")
    summary = ingest([str(face_video.path)], catalog, SPEC, analyzers=AnalyzerSpec(("faces",)))
    assert summary.counts["ingested"] == 1
    cat = Catalog(catalog)
    (video_id,) = cat.video_ids()
    faces = cat.detections(video_id, analyzer="faces")
    assert faces.height == 4 + 2 * 2  # 4 frames with one face, 2 frames with two
    two_or_more = cat.sql(
        "SELECT video_id, frame_index, time_s, count(*) AS faces FROM detections "
        "WHERE analyzer = 'faces' GROUP BY ALL HAVING count(*) >= 2 ORDER BY time_s"
    )
    assert two_or_more["time_s"].to_list() == [6.0, 6.5]
    on_screen = cat.sql(
        "SELECT min(time_s) AS from_s, max(time_s) AS to_s FROM detections "
        "WHERE analyzer = 'faces' AND time_s < 5"
    )
    assert on_screen.row(0) == (2.0, 3.5)
    videos = cat.videos()
    runs = json.loads(videos["analyzer_runs"][0])
    assert runs["faces"]["detections"] == faces.height
    assert "libfacedetection" in runs["faces"]["engine"]
    assert json.loads(videos["analyzer_spec"][0])["names"] == ["faces"]
    # Same settings again: skipped, nothing re-run.
    assert (
        ingest([str(face_video.path)], catalog, SPEC, analyzers=AnalyzerSpec(("faces",))).counts[
            "skipped"
        ]
        == 1
    )


@pytest.mark.slow
def test_adding_an_analyzer_later_reruns_only_the_analyzers(
    face_video: FaceVideo, tmp_path: Path
) -> None:
    catalog = str(tmp_path / "cat")
    ingest([str(face_video.path)], catalog, SPEC)
    cat = Catalog(catalog)
    (video_id,) = cat.video_ids()
    frames_part = cat.commit_of(video_id).parts["frames"]  # type: ignore[union-attr]
    assert cat.detections(video_id).is_empty()
    summary = ingest([str(face_video.path)], catalog, SPEC, analyzers=AnalyzerSpec(("faces",)))
    assert summary.counts["updated"] == 1
    commit = cat.commit_of(video_id)
    assert commit is not None
    assert commit.parts["frames"] == frames_part
    assert cat.detections(video_id).height == 8
    # And dropping it again removes its rows, still without sampling again.
    assert ingest([str(face_video.path)], catalog, SPEC).counts["updated"] == 1
    assert cat.detections(video_id).is_empty()


@pytest.mark.slow
def test_an_analyzer_failure_fails_that_video_and_leaves_no_rows(
    face_video: FaceVideo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from framesift.analyzers import faces

    clip = Path(__file__).parents[1] / "data" / "clips" / "bigbuckbunny.mp4"  # 1280x720
    real = faces.FaceAnalyzer.analyze

    def flaky(
        self: faces.FaceAnalyzer, frames: Sequence[AnalyzerFrame]
    ) -> list[tuple[Detection, ...]]:
        # Fails on the face video (640 wide) from 3 s on, after rows were found.
        if any(f.time_s >= 3.0 and f.display_width_px == SIZE[0] for f in frames):
            raise RuntimeError("inference failed")
        return real(self, frames)

    monkeypatch.setattr(faces.FaceAnalyzer, "analyze", flaky)
    catalog = str(tmp_path / "cat")
    sources = [str(face_video.path)] + ([str(clip)] if clip.exists() else [])
    summary = ingest(sources, catalog, SPEC, analyzers=AnalyzerSpec(("faces",)))
    failed = [o for o in summary.outcomes if o.status == "failed"]
    assert [o.error_type for o in failed] == ["AnalyzerError"]
    assert "inference failed" in (failed[0].error_message or "")
    cat = Catalog(catalog)
    assert len(cat.video_ids()) == len(sources) - 1  # the other video went in
    jobs = cat.jobs().filter(pl.col("state") == "failed")
    assert jobs["error_type"].to_list() == ["AnalyzerError"]
    assert failed[0].video_id is not None
    assert cat.frames(failed[0].video_id).is_empty()
    assert cat.detections(failed[0].video_id).is_empty()
    thumbs = tmp_path / "cat" / "thumbs" / failed[0].video_id
    assert not thumbs.exists() or not any(p.is_file() for p in thumbs.rglob("*"))


# -- models of one's own -------------------------------------------------------------------


def test_a_labels_model_names_the_colour_on_screen(tmp_path: Path) -> None:
    model = channel_means_model(tmp_path / "means.onnx")
    video = _colour_video(tmp_path / "rgb.mp4", [(250, 0, 0), (0, 250, 0), (0, 0, 250)], 1.0)
    spec = AnalyzerSpec(
        ("onnx",),
        model=OnnxModelSpec(
            str(model), input_width_px=16, input_height_px=16, labels=("red", "green", "blue")
        ),
    )
    with AnalyzerRunner.of(spec) as runner:
        sample_video(video, SamplingSpec(interval_s=0.5, detector=None), consumers=(runner,))
        output = runner.finish()
    rows = output.detections
    assert rows["label"].to_list() == ["red", "red", "green", "green", "blue", "blue"]
    assert rows["score"].min() > 0.9  # type: ignore[operator]
    assert rows["x_px"].is_null().all()
    assert "CPUExecutionProvider" in output.runs[0].engine


def test_embeddings_and_boxes_from_a_model(tmp_path: Path) -> None:
    video = _colour_video(tmp_path / "grey.mp4", [(200, 200, 200)], 1.0)
    embed = AnalyzerSpec(
        ("onnx",),
        model=OnnxModelSpec(
            str(channel_means_model(tmp_path / "e.onnx")),
            input_width_px=16,
            input_height_px=16,
            output="embedding",
        ),
    )
    boxes = AnalyzerSpec(
        ("onnx",),
        model=OnnxModelSpec(
            str(fixed_box_model(tmp_path / "b.onnx")),
            input_width_px=16,
            input_height_px=16,
            output="boxes",
            labels=("thing",),
        ),
    )
    sampling = SamplingSpec(interval_s=0.5, detector=None)
    with AnalyzerRunner.of(embed) as runner:
        sample_video(video, sampling, consumers=(runner,))
        vectors = runner.finish().detections
    assert vectors.height == 2
    assert vectors["embedding"].list.len().to_list() == [3, 3]
    assert vectors["embedding"][0].to_list() == pytest.approx([200 / 255] * 3, abs=0.02)
    with AnalyzerRunner.of(boxes) as runner:
        sample_video(video, sampling, consumers=(runner,))
        found = runner.finish().detections
    assert found["label"].to_list() == ["thing", "thing"]
    # Corners (0.25, 0.5)-(0.75, 1.0) of a 128x96 frame, in display pixels.
    assert found.select("x_px", "y_px", "w_px", "h_px").row(0) == pytest.approx((32, 48, 64, 48))


def test_a_file_that_is_not_onnx_fails_before_any_video(
    face_video: FaceVideo, tmp_path: Path
) -> None:
    bogus = tmp_path / "model.onnx"
    bogus.write_text("definitely not a protobuf")
    spec = AnalyzerSpec(("onnx",), model=OnnxModelSpec(str(bogus)))
    with pytest.raises(ModelContractError, match="not an ONNX model"):
        ingest([str(face_video.path)], str(tmp_path / "cat"), SPEC, analyzers=spec)
    assert not (tmp_path / "cat" / "jobs").exists()  # no video was even queued
    with pytest.raises(ModelContractError, match=r"(?i)no such file|not found"):
        check_analyzers(AnalyzerSpec(("onnx",), model=OnnxModelSpec(str(tmp_path / "gone.onnx"))))


@pytest.mark.parametrize(
    ("contract", "says"),
    [
        pytest.param(
            {"input_width_px": 224, "input_height_px": 224}, "shaped [1, 3, 224, 224]", id="size"
        ),
        pytest.param({"layout": "nhwc"}, "nhwc", id="layout"),
        pytest.param({"output": "boxes"}, "boxes shaped (1, n, 6)", id="output"),
        pytest.param({"labels": ("a", "b")}, "class scores shaped (1, 2)", id="labels"),
    ],
)
def test_a_model_that_breaks_its_contract_says_what_was_expected(
    tmp_path: Path, contract: dict[str, object], says: str
) -> None:
    model = channel_means_model(tmp_path / "means.onnx")
    settings: dict[str, object] = {"input_width_px": 16, "input_height_px": 16, **contract}
    spec = AnalyzerSpec(("onnx",), model=OnnxModelSpec(str(model), **settings))  # type: ignore[arg-type]
    with pytest.raises(ModelContractError) as raised:
        check_analyzers(spec)
    assert says in str(raised.value)
    assert "means.onnx" in str(raised.value)


def test_int8_copy_stays_close_to_fp32(tmp_path: Path) -> None:
    model = linear_embedding_model(tmp_path / "linear.onnx")
    video = _colour_video(tmp_path / "mix.mp4", [(250, 10, 10), (20, 180, 90)], 1.0)
    vectors = {}
    for int8 in (False, True):
        spec = AnalyzerSpec(
            ("onnx",),
            model=OnnxModelSpec(
                str(model), input_width_px=16, input_height_px=16, output="embedding", int8=int8
            ),
        )
        with AnalyzerRunner.of(spec) as runner:
            sample_video(video, SamplingSpec(interval_s=1.0, detector=None), consumers=(runner,))
            output = runner.finish()
        assert output.runs[0].engine.endswith("int8" if int8 else "fp32")
        vectors[int8] = np.array(output.detections["embedding"].to_list())
    fp32, int8 = vectors[False], vectors[True]
    cosine = (fp32 * int8).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(int8, axis=1)
    assert cosine.min() > 0.99
    assert not np.array_equal(fp32, int8)  # it really ran another model


def test_the_session_factory_falls_back_to_cpu(tmp_path: Path) -> None:
    data = channel_means_model(tmp_path / "m.onnx").read_bytes()
    opened = open_session(data, threads=1, shown="m.onnx")
    assert opened.provider == "CPUExecutionProvider"
    asked = open_session(data, threads=1, shown="m.onnx", providers=("CUDAExecutionProvider",))
    assert asked.provider in ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert opened.session.get_session_options().intra_op_num_threads == 1


# -- the command line ----------------------------------------------------------------------


def test_the_cli_writes_detections_beside_the_frames(face_video: FaceVideo, tmp_path: Path) -> None:
    out = tmp_path / "out"
    status = main(
        ["sample", str(face_video.path), "--out", str(out), "--every", "0.5", "--detector",
         "none", "--analyze", "faces"]
    )  # fmt: skip
    assert status == 0
    detections = pl.read_parquet(out / "detections.parquet")
    frames = pl.read_parquet(out / "frames.parquet")
    counts = _faces_per_frame(frames, detections)
    assert all(n == _expected_faces(t) for t, n in counts.items())
    assert main(["sample", str(face_video.path), "--out", str(out), "--analyze", "cats"]) == 2


@pytest.mark.slow
def test_ingest_and_estimate_take_the_same_option(face_video: FaceVideo, tmp_path: Path) -> None:
    catalog = str(tmp_path / "cat")
    selection = ["--every", "0.5", "--detector", "none", "--analyze", "faces"]
    assert main(["ingest", str(face_video.path), "--catalog", catalog, *selection]) == 0
    assert Catalog(catalog).detections(analyzer="faces").height == 8
    assert main(["estimate", str(face_video.path), *selection, "--json"]) == 0


def test_a_model_is_read_from_an_fsspec_url(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    data = channel_means_model(tmp_path / "m.onnx").read_bytes()
    with fsspec.open("memory://framesift-test/m.onnx", "wb") as handle:
        handle.write(data)
    model = OnnxModelSpec("memory://framesift-test/m.onnx", input_width_px=16, input_height_px=16)
    check_analyzers(AnalyzerSpec(("onnx",), model=model))
    with pytest.raises(ModelContractError, match=r"memory://framesift-test/gone\.onnx"):
        check_analyzers(
            AnalyzerSpec(("onnx",), model=OnnxModelSpec("memory://framesift-test/gone.onnx"))
        )


def test_workers_share_the_cores_for_inference() -> None:
    """A process pool's workers each get their share of the cores for the model runtimes;
    the share changes no output, so not the settings hash either."""
    import os

    from framesift.batch import ExecutorSpec
    from framesift.catalog.job import IngestJob

    cores = os.cpu_count() or 2
    assert ExecutorSpec("process", workers=2).inference_threads() == max(1, cores // 2)
    assert ExecutorSpec("serial").inference_threads() == 0  # the analyzers' own: every core
    faces = AnalyzerSpec(("faces",))
    job = IngestJob(Source("clip.mp4"), "catalog", analyzers=faces, inference_threads=3)
    assert job.analyzer_spec.threads == 3
    alone = IngestJob(Source("clip.mp4"), "catalog", analyzers=faces, inference_threads=1)
    assert job.settings_hash == alone.settings_hash


# -- ocr: PP-OCR through rapidocr ------------------------------------------------------


def test_text_cards_are_read_with_their_boxes(titled_video: media.TitledVideo) -> None:
    pytest.importorskip("rapidocr", reason="the ocr analyzer needs framesift[analyze]")
    spec = SamplingSpec(interval_s=1.0, detector=None)
    with AnalyzerRunner.of(AnalyzerSpec(("ocr",))) as runner:
        result = sample_video(titled_video.path, spec, consumers=(runner,))
        output = runner.finish()
    lines = output.detections.sort("time_s")
    expected = [
        (t, card.text)
        for t in result.frames["time_s"].to_list()
        for card in titled_video.cards
        if card.start_s <= t < card.end_s
    ]
    assert [
        (round(t, 3), label) for t, label in zip(lines["time_s"], lines["label"], strict=True)
    ] == [(round(t, 3), text) for t, text in expected]
    assert lines["score"].min() >= 0.8
    # The cards' text is drawn from x = width / 10 around the middle line of a 640x360 frame.
    assert lines["x_px"].min() >= 64 - 16
    assert ((lines["y_px"] <= 180) & (lines["y_px"] + lines["h_px"] >= 180)).all()
    assert (lines["x_px"] + lines["w_px"]).max() <= 640
    assert len(json.loads(lines["extra"][0])["corners"]) == 4
    (run,) = output.runs
    assert run.analyzer == "ocr"
    assert "rapidocr" in run.engine


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cityCC0.mpg", "cockatoo.mp4", "portraits.mp4"])
def test_no_text_is_read_on_footage_without_text(name: str) -> None:
    """Real footage without legible text: city towers at night, a cockatoo (its feathers
    and the cage read as "10", "J", "0" below the confidence floor), the portraits (a
    flag's stars read as "K" at 0.87: single signs are dropped; the name badges are a few
    pixels tall)."""
    pytest.importorskip("rapidocr", reason="the ocr analyzer needs framesift[analyze]")
    with AnalyzerRunner.of(AnalyzerSpec(("ocr",))) as runner:
        result = sample_video(
            _clip(name), SamplingSpec(interval_s=1.0, detector=None), consumers=(runner,)
        )
        output = runner.finish()
    assert result.frames.height >= 5
    assert output.detections.is_empty()


@pytest.mark.slow
def test_a_real_caption_is_read_while_it_is_on_screen() -> None:
    """The *Big Buck Bunny* trailer's caption "A (slightly overweight) bunny" is on screen
    from about 1.5 s to 7.5 s (fading in and out; checked by looking at the frames), and
    "And three rodent pests" from about 17 s to 21 s. Nothing is read elsewhere."""
    pytest.importorskip("rapidocr", reason="the ocr analyzer needs framesift[analyze]")
    with AnalyzerRunner.of(AnalyzerSpec(("ocr",))) as runner:
        sample_video(
            _clip("bbb-trailer-music.mp4"),
            SamplingSpec(interval_s=1.0, detector=None),
            consumers=(runner,),
        )
        lines = runner.finish().detections.sort("time_s")
    bunny = lines.filter(pl.col("label") == "A (slightly overweight) bunny")
    assert bunny["time_s"].to_list() == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert all(1.5 <= t <= 8.0 or 17.0 <= t <= 21.0 for t in lines["time_s"])


def test_ocr_settings_are_validated_and_hashed() -> None:
    with pytest.raises(SettingsError, match="ocr_min_confidence"):
        AnalyzerSpec(("ocr",), ocr_min_confidence=1.5)
    with pytest.raises(SettingsError, match="ocr_max_side_px"):
        AnalyzerSpec(("ocr",), ocr_max_side_px=10)
    text = TextSpec()
    assert settings_fingerprint(SPEC, text, AnalyzerSpec(("ocr",))) != settings_fingerprint(
        SPEC, text, AnalyzerSpec(("ocr",), ocr_min_confidence=0.9)
    )


# -- the queries of docs/analyzers.md on a real catalog -------------------------------------

DOCS = Path(__file__).parents[1] / "docs" / "analyzers.md"


def documented_queries() -> dict[str, str]:
    """The SQL under "Queries people write" in docs/analyzers.md, by its ``--`` title."""
    text = DOCS.read_text().split("## Queries people write", 1)[1].split("\n## ", 1)[0]
    queries = {}
    for block in text.split("```sql\n")[1:]:
        for statement in block.split("```", 1)[0].split(";\n"):
            lines = statement.strip().splitlines()
            if lines:
                assert lines[0].startswith("-- "), lines[0]
                title = lines[0].removeprefix("-- ").split(":")[0].split(" (")[0]
                queries[title.split(";")[0].strip()] = "\n".join(lines[1:])
    return queries


@pytest.fixture(scope="module")
def real_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The portraits (faces) and the Big Buck Bunny trailer (captions) ingested with every
    analyzer: faces, ocr and a small embedding model."""
    pytest.importorskip("rapidocr", reason="the ocr analyzer needs framesift[analyze]")
    folder = tmp_path_factory.mktemp("real")
    model = OnnxModelSpec(
        str(linear_embedding_model(folder / "embed.onnx")),
        input_width_px=16,
        input_height_px=16,
        output="embedding",
    )
    analyzers = AnalyzerSpec(("faces", "ocr", "onnx"), model=model)
    clips = [str(_clip("portraits.mp4")), str(_clip("bbb-trailer-music.mp4"))]
    spec = SamplingSpec(interval_s=1.0, detector="content")
    summary = ingest(clips, str(folder / "cat"), spec, analyzers=analyzers)
    assert summary.counts["ingested"] == 2
    return Catalog(str(folder / "cat"))


@pytest.mark.slow
def test_the_documented_queries_answer_on_a_real_catalog(real_catalog: Catalog) -> None:
    cat = real_catalog
    queries = documented_queries()
    assert set(queries) == {
        "Frames with two or more faces",
        "Shots with text on screen, and what it says",
        "When a word was on screen",
        "The face count of every kept frame, zero included",
        "When is someone on screen",
        "Large faces",
        "Nearest frames to a frame by embedding",
    }
    names = {
        vid: Path(url).name
        for vid, url in cat.videos(columns=["video_id", "source_url"]).iter_rows()
    }
    portraits = next(v for v, n in names.items() if n == "portraits.mp4")
    trailer = next(v for v, n in names.items() if n == "bbb-trailer-music.mp4")

    crowds = cat.sql(queries["Frames with two or more faces"])
    assert set(crowds["video_id"]) == {portraits}
    assert crowds["time_s"].min() >= 8.0
    assert crowds.height >= 3
    assert set(crowds["faces"]) == {2}

    shots = cat.sql(queries["Shots with text on screen, and what it says"])
    assert set(shots["video_id"]) == {trailer}  # no text read on the portraits
    bunny = shots.filter(pl.col("text").str.contains("A (slightly overweight) bunny", literal=True))
    assert bunny.height == 1
    assert bunny["start_s"][0] <= 2.0
    assert bunny["end_s"][0] >= 7.0

    said = cat.sql(queries["When a word was on screen"])
    assert set(said["video_id"]) == {trailer}
    assert said["time_s"].min() >= 1.5
    assert said["time_s"].max() <= 8.0

    counts = cat.sql(queries["The face count of every kept frame, zero included"])
    assert counts.height == cat.frames().height  # both videos ran the faces analyzer
    on_portraits = counts.filter(pl.col("video_id") == portraits)
    assert [n for t, n in on_portraits.select("time_s", "faces").iter_rows()] == [
        _portrait_faces(t) for t in on_portraits["time_s"]
    ]

    runs = cat.sql(queries["When is someone on screen"]).filter(pl.col("video_id") == portraits)
    # Eileen Collins from the start until the cat, then Grace Hopper until the end.
    assert runs["from_s"].to_list() == [0.0, 5.0]
    assert 2.9 <= runs["to_s"][0] <= 3.1
    assert runs["to_s"][1] >= 10.0

    close = cat.sql(queries["Large faces"])
    assert close.height > 0
    assert set(close["video_id"]) == {portraits}

    (frame,) = cat.frames(portraits).filter(pl.col("time_s") == 1.0)["frame_index"]
    nearest = cat.sql(queries["Nearest frames to a frame by embedding"], [portraits, frame])
    assert nearest.height == 10
    best = nearest.filter(pl.col("similarity") > 1 - 1e-6)  # the frame itself (and twins)
    assert (portraits, 1.0) in best.select("video_id", "time_s").rows()
    assert nearest["similarity"].is_sorted(descending=True)
