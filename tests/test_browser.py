"""The catalog browser widget shows what the catalog holds and searches its text; the
frame analyzers' boxes are drawn on the thumbnails and each analyzer has a timeline lane."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import polars as pl
import pytest
from PIL import Image

import framesift as fs
from faces import SIZE, FaceVideo, make_face_video
from framesift.catalog.boxes import ANALYZER_COLOURS, draw_detections
from framesift.catalog.tables import SCHEMAS
from framesift.notebook import CatalogBrowser, timeline_png

SPEC = fs.SamplingSpec(interval_s=1.0, detector="content", min_scene_len_frames=5)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def catalog(cuts_video, subtitled_video, tmp_path_factory) -> fs.Catalog:
    cat = fs.Catalog(str(tmp_path_factory.mktemp("browse") / "catalog"))
    summary = fs.ingest([str(cuts_video.path), str(subtitled_video.path)], cat, SPEC)
    assert summary.counts["ingested"] == 2
    return cat


def test_browsing_videos_and_searching(catalog, cuts_video, subtitled_video) -> None:
    browser = CatalogBrowser(catalog)
    assert f"<b>{catalog.totals()}</b>" in browser.totals.value
    assert f"{len(subtitled_video.cues)} text segments, 0 failed sources" in browser.totals.value
    labels = {label.split(" (")[0]: vid for label, vid in browser.video.options}
    assert set(labels) == {cuts_video.path.name, subtitled_video.path.name}

    browser.video.value = labels[cuts_video.path.name]
    scenes = len(cuts_video.cut_frames) + 1
    assert f"<b>{scenes}</b> scenes" in browser.facts.value
    assert "<b>0</b> text segments" in browser.facts.value
    assert bytes(browser.timeline.value).startswith(PNG)
    assert browser.gallery.value.count("<img ") == scenes  # one per scene start

    browser.video.value = labels[subtitled_video.path.name]
    assert f"<b>{len(subtitled_video.cues)}</b> text segments" in browser.facts.value
    assert f"({len(subtitled_video.cues)} subtitles)" in browser.facts.value

    browser.query.value = "hello"
    assert "<b>1 hit</b>" in browser.hits.value
    assert "Hello, world!" in browser.hits.value
    assert browser.hits.value.count("<img ") == 1  # the frame on screen

    browser.this_video_only.value = True
    browser.video.value = labels[cuts_video.path.name]
    assert "no text matches" in browser.hits.value
    browser.query.value = "!!"
    assert "no words" in browser.hits.value
    browser.query.value = ""
    assert browser.hits.value == ""


# -- what the frame analyzers found: boxes on the thumbnails, a lane per analyzer ----------

FACES = ANALYZER_COLOURS["faces"]
OCR = ANALYZER_COLOURS["ocr"]


def _picture(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def _near(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return bool(np.abs(pixel - np.array(colour)).max() <= tolerance)


def _edge(picture: np.ndarray, y: int, x: int, colour: tuple[int, int, int]) -> bool:
    """A box's line passes through (x, y): within a pixel, as a JPEG blurs a thin line."""
    return any(_near(picture[y + dy, x + dx], colour, 50) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def _boxes(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={**SCHEMAS["detections"]}, strict=False)


def _row(analyzer: str, label: str, box: tuple[float, float, float, float] | None) -> dict:
    x, y, w, h = box if box is not None else (None, None, None, None)
    return {"video_id": "v", "frame_index": 0, "time_s": 0.0, "analyzer": analyzer,
            "label": label, "score": 0.9, "x_px": x, "y_px": y, "w_px": w, "h_px": h}  # fmt: skip


@pytest.mark.parametrize("kind", ["PNG", "JPEG"])
def test_boxes_are_scaled_from_display_pixels_to_the_thumbnail(kind: str) -> None:
    """A 640x360 frame's boxes on its 320x180 thumbnail: each edge lands at half its
    display-pixel position, in its analyzer's colour; the inside of a box is untouched."""
    grey = (128, 128, 128)
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), grey).save(buffer, format=kind)
    rows = [
        _row("faces", "face", (100, 120, 80, 100)),  # -> x 50..90, y 60..110
        _row("ocr", "HELLO", (300, 240, 240, 60)),  # -> x 150..270, y 120..150
        _row("onnx", "cat", None),  # a label without a box draws nothing
    ]
    drawn = draw_detections(
        buffer.getvalue(), _boxes(rows), frame_width_px=640, frame_height_px=360
    )
    assert Image.open(io.BytesIO(drawn)).format == kind
    picture = _picture(drawn)
    assert picture.shape == (180, 320, 3)
    assert _edge(picture, 85, 50, FACES)  # the face box's left edge, half-way down
    assert _edge(picture, 85, 90, FACES)  # its right edge
    assert _edge(picture, 110, 70, FACES)  # its bottom edge
    assert _near(picture[85, 70], grey)  # inside: the picture as it was
    assert _edge(picture, 135, 150, OCR)  # the text line's left edge
    assert _edge(picture, 150, 210, OCR)  # its bottom edge
    assert _near(picture[135, 210], grey)
    # The label (what it is and its score) sits on a band in the colour above each box.
    assert sum(_near(p, FACES) for p in picture[50:59, 52:88].reshape(-1, 3)) > 100
    # Nothing with a box: the bytes come back as they were.
    only_labels = _boxes([_row("onnx", "cat", None)])
    assert draw_detections(buffer.getvalue(), only_labels, frame_width_px=640,
                           frame_height_px=360) == buffer.getvalue()  # fmt: skip


def test_the_timeline_has_a_lane_per_analyzer_that_ran() -> None:
    empty = {name: pl.DataFrame(schema=SCHEMAS[name]) for name in ("scenes", "frames")}
    segments = pl.DataFrame(schema=SCHEMAS["segments"])
    found = _boxes([_row("faces", "face", (0, 0, 10, 10)) | {"time_s": 3.0}])

    def colour_pixels(analyzers: tuple[str, ...], detections: pl.DataFrame | None) -> int:
        png = timeline_png(10.0, empty["scenes"], empty["frames"], segments,
                           detections=detections, analyzers=analyzers)  # fmt: skip
        picture = _picture(png)
        return int((np.abs(picture - np.array(FACES)).max(axis=2) <= 10).sum())

    assert colour_pixels(("faces",), found) > 20  # a mark where faces were found
    assert colour_pixels(("faces",), found.clear()) == 0  # ran, found nothing: an empty lane
    assert colour_pixels((), None) == 0
    lane = timeline_png(10.0, empty["scenes"], empty["frames"], segments, analyzers=("faces",))
    plain = timeline_png(10.0, empty["scenes"], empty["frames"], segments)
    assert _picture(lane).shape[0] > _picture(plain).shape[0]  # one more row


@pytest.fixture(scope="module")
def analyzed_catalog(tmp_path_factory) -> tuple[fs.Catalog, FaceVideo]:
    pytest.importorskip("yuface", reason="the faces analyzer needs framesift[analyze]")
    made = make_face_video(tmp_path_factory.mktemp("faces"))
    cat = fs.Catalog(str(tmp_path_factory.mktemp("analyzed") / "catalog"))
    spec = fs.SamplingSpec(interval_s=0.5, detector=None)
    summary = fs.ingest([str(made.path)], cat, spec, analyzers=fs.AnalyzerSpec(("faces",)))
    assert summary.counts["ingested"] == 1
    return cat, made


def test_the_browser_draws_each_face_on_its_thumbnail(analyzed_catalog) -> None:
    cat, made = analyzed_catalog
    browser = CatalogBrowser(cat)
    faces = cat.detections(analyzer="faces")
    frames_with_faces = faces["frame_index"].n_unique()
    assert (frames_with_faces, faces.height) == (6, 8)  # 2.0-3.5 s one face, 6.0-6.5 s two
    assert f"faces</span>: 8 on {frames_with_faces} kept frames" in browser.facts.value
    # The sheet of frames where faces were found: one thumbnail each, a box on each face.
    gallery = browser.gallery.value
    found = gallery.split("where the analyzers found something:")[1]
    pictures = [_picture(base64.b64decode(b64)) for b64 in re.findall(r'base64,([^"]+)"', found)]
    assert len(pictures) == frames_with_faces
    ordered = faces.sort("time_s", "x_px")
    by_frame = ordered.partition_by("frame_index", maintain_order=True)
    for picture, rows in zip(pictures, by_frame, strict=True):
        scale = picture.shape[1] / SIZE[0]
        for row in rows.iter_rows(named=True):
            left = round(row["x_px"] * scale)
            middle = round((row["y_px"] + row["h_px"] / 2) * scale)
            assert _edge(picture, middle, left, FACES)
    # The exported picture of the widget carries the same images and the timeline.
    snapshot = browser.snapshot()
    assert snapshot.count("data:image/png;base64,") >= 1
    assert all(b64 in snapshot for b64 in re.findall(r'base64,([^"]+)"', found))
    assert made.path.name in snapshot
