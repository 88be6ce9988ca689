"""The analyzers inside the pass: kept pictures go through a small queue to one worker
thread that runs every analyzer on them.

:class:`AnalyzerRunner` is a :class:`~framesift.handoff.PictureConsumer`: the pass hands it
each kept frame's picture (the decoded frame it already holds: no second decode) right
after the image writer. The picture waits in a queue of at most ``queue_frames`` frames;
the worker thread scales it to what each analyzer asks for and runs them. When the
analyzers fall behind, the queue fills and the pass waits at the hand-off (backpressure:
memory stays at ``queue_frames`` pictures, never a list of frames); the time it waited is
counted (:attr:`AnalyzerOutput.waited_s`). Decoding, thumbnails and analyzers overlap
otherwise.

An analyzer that raises stops the work: the pass's next hand-off (or :meth:`finish`)
raises :class:`~framesift.errors.AnalyzerError` naming the video, the analyzer and the
frame, and no detections of that video are returned.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from numpy.typing import NDArray

from framesift.analyzers.model import Analyzer, AnalyzerFrame, Detection, PictureRequest
from framesift.analyzers.registry import make_analyzers
from framesift.errors import AnalyzerError
from framesift.handoff import NO_FRAME, HeldPicture
from framesift.images import FrameRenderer
from framesift.probe import MediaInfo
from framesift.select import FrameRow
from framesift.spec import AnalyzerSpec

if TYPE_CHECKING:
    import polars as pl

__all__ = ["AnalyzerOutput", "AnalyzerRun", "AnalyzerRunner", "detections_frame"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnalyzerRun:
    """What one analyzer did on one video (the ``videos`` row records it)."""

    analyzer: str
    engine: str
    frames: int
    detections: int
    seconds: float


@dataclass(frozen=True)
class AnalyzerOutput:
    """The detections of one video and how the analyzers ran."""

    detections: pl.DataFrame
    runs: tuple[AnalyzerRun, ...]
    waited_s: float
    """Seconds the pass waited at the hand-off for room in the queue."""

    def runs_json(self) -> str:
        return json.dumps(
            {
                r.analyzer: {
                    "engine": r.engine,
                    "frames": r.frames,
                    "detections": r.detections,
                    "seconds": round(r.seconds, 3),
                }
                for r in self.runs
            },
            sort_keys=True,
        )


@dataclass(frozen=True, slots=True)
class _Item:
    frame_index: int
    time_s: float
    width: int
    height: int
    picture: HeldPicture


_END = object()


class _Columns:
    """The detections table as it grows (plain lists, one per column, in the schema's
    order: :meth:`add` fills every column; start-up: polars loads for the table only)."""

    def __init__(self) -> None:
        self.data: dict[str, list[Any]] = defaultdict(list)

    def add(self, analyzer: str, frame: AnalyzerFrame, found: Detection) -> None:
        d = self.data
        d["frame_index"].append(frame.frame_index)
        d["time_s"].append(frame.time_s)
        d["analyzer"].append(analyzer)
        d["label"].append(found.label)
        d["score"].append(float(found.score))
        d["x_px"].append(found.x_px)
        d["y_px"].append(found.y_px)
        d["w_px"].append(found.w_px)
        d["h_px"].append(found.h_px)
        d["extra"].append(json.dumps(dict(found.extra), sort_keys=True) if found.extra else None)
        d["embedding"].append(list(found.embedding) if found.embedding is not None else None)


def detections_frame(data: dict[str, list[Any]] | None = None) -> pl.DataFrame:
    """The detections table of :data:`~framesift.schema.DETECTIONS_SCHEMA` (empty when no
    data), sorted by frame and analyzer."""
    import polars as pl

    from framesift.schema import DETECTIONS_SCHEMA

    df = pl.DataFrame(data or {}, schema=DETECTIONS_SCHEMA)
    return df.sort(["frame_index", "analyzer"], maintain_order=True)


class AnalyzerRunner:
    """Runs ``analyzers`` on every kept picture of one pass, on a worker thread.

    >>> runner = AnalyzerRunner.of(AnalyzerSpec(("faces",)))               # doctest: +SKIP
    >>> result = sample_video(url, consumers=[runner])                      # doctest: +SKIP
    >>> runner.finish().detections                                          # doctest: +SKIP

    The runner owns the analyzers: :meth:`close` (or leaving a ``with`` block) closes them.
    """

    @classmethod
    def of(cls, spec: AnalyzerSpec) -> AnalyzerRunner:
        """A runner with the analyzers ``spec`` names (models loaded now)."""
        return cls(make_analyzers(spec), queue_frames=spec.queue_frames)

    def __init__(self, analyzers: Sequence[Analyzer], *, queue_frames: int = 4) -> None:
        self.analyzers = tuple(analyzers)
        self._queue: queue.Queue[object] = queue.Queue(max(1, queue_frames))
        self._failure: AnalyzerError | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._columns = _Columns()
        self._seconds = [0.0] * len(self.analyzers)
        self._frames = 0
        self._counts = [0] * len(self.analyzers)
        self._renderers: dict[int, FrameRenderer] = {}
        self._rotation = 0
        self._shown = ""
        self.waited_s = 0.0

    # -- the PictureConsumer side (the pass's thread) -----------------------------------

    def begin(self, media: MediaInfo) -> None:
        """A pass over ``media`` starts: the worker thread starts too."""
        self._rotation = media.video.rotation_deg
        self._shown = media.url
        self._thread = threading.Thread(target=self._work, name="framesift-analyzers", daemon=True)
        self._thread.start()

    def take(self, row: FrameRow, picture: HeldPicture) -> None:
        """One kept picture; waits while the queue is full. Raises the analyzers' failure."""
        if picture.frame is NO_FRAME and picture.thumb_rgb is None:
            logger.warning("frame %d kept without its picture: not analysed", row["frame_index"])
            return
        item = _Item(row["frame_index"], row["time_s"], row["width"], row["height"], picture)
        started = time.perf_counter()
        while True:
            self._raise_failure()
            try:
                self._queue.put(item, timeout=0.05)
                break
            except queue.Full:
                continue
        self.waited_s += time.perf_counter() - started

    def finish(self) -> AnalyzerOutput:
        """Wait for the queued pictures; the detections (or the AnalyzerError)."""
        if self._thread is not None:
            while self._thread.is_alive() and self._failure is None:
                try:
                    self._queue.put(_END, timeout=0.05)
                    break
                except queue.Full:
                    continue
            self._thread.join()
            self._thread = None
        self._raise_failure()
        runs = tuple(
            AnalyzerRun(a.name, a.engine, self._frames, count, seconds)
            for a, count, seconds in zip(self.analyzers, self._counts, self._seconds, strict=True)
        )
        return AnalyzerOutput(detections_frame(self._columns.data), runs, self.waited_s)

    def close(self) -> None:
        """Stop the worker (if running) and release the analyzers."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        for analyzer in self.analyzers:
            analyzer.close()

    def __enter__(self) -> AnalyzerRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    # -- the worker thread --------------------------------------------------------------

    def _work(self) -> None:
        batch_frames = max((a.batch_frames for a in self.analyzers), default=1)
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.05)
            except queue.Empty:
                continue
            if first is _END:
                return
            batch = [first]
            ended = False
            while len(batch) < batch_frames:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _END:
                    ended = True
                    break
                batch.append(more)
            items = [i for i in batch if isinstance(i, _Item)]
            if not self._run_batch(items) or ended:
                return

    def _run_batch(self, items: list[_Item]) -> bool:
        """Every analyzer on ``items``; False once one failed (the failure is kept)."""
        self._frames += len(items)
        for position, analyzer in enumerate(self.analyzers):
            size = max(1, analyzer.batch_frames)
            for start in range(0, len(items), size):
                chunk = items[start : start + size]
                frames = [self._frame(analyzer.request, item) for item in chunk]
                began = time.perf_counter()
                try:
                    found = analyzer.analyze(frames)
                    if len(found) != len(frames):
                        raise ValueError(f"{len(found)} results for {len(frames)} frames")
                except Exception as exc:
                    # Whatever an analyzer's code raises (a user's model included) becomes
                    # this video's typed error, raised in the pass's thread.
                    problem = f"{type(exc).__name__}: {exc}"
                    self._failure = AnalyzerError(
                        self._shown, analyzer.name, chunk[0].frame_index, problem
                    )
                    return False
                self._seconds[position] += time.perf_counter() - began
                for frame, detections in zip(frames, found, strict=True):
                    self._counts[position] += len(detections)
                    for detection in detections:
                        self._columns.add(analyzer.name, frame, detection)
        return True

    def _frame(self, request: PictureRequest, item: _Item) -> AnalyzerFrame:
        width, height = request.fit(item.width, item.height)
        return AnalyzerFrame(
            item.frame_index,
            item.time_s,
            self._picture(request, item.picture, width, height),
            item.width,
            item.height,
        )

    def _picture(
        self, request: PictureRequest, held: HeldPicture, width: int, height: int
    ) -> NDArray[np.uint8]:
        if held.frame is NO_FRAME and held.thumb_rgb is not None:
            # Held as its thumbnail only (a scene representative): scaled from that.
            small = held.thumb_rgb
            grow = width > small.shape[1]
            picture: NDArray[np.uint8] = cv2.resize(
                small, (width, height), interpolation=cv2.INTER_LINEAR if grow else cv2.INTER_AREA
            ).astype(np.uint8, copy=False)
            return np.ascontiguousarray(picture[:, :, ::-1]) if request.colour == "bgr" else picture
        return self._renderer(request, width, height).render(held.frame)

    def _renderer(self, request: PictureRequest, width: int, height: int) -> FrameRenderer:
        key = id(request)
        renderer = self._renderers.get(key)
        coded = (height, width) if self._rotation in (90, 270) else (width, height)
        if renderer is None or renderer.coded_size != coded:
            fmt = "bgr24" if request.colour == "bgr" else "rgb24"
            renderer = FrameRenderer(coded, self._rotation, fmt=fmt)
            self._renderers[key] = renderer
        return renderer
