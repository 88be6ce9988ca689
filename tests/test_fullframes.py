"""Progressive full frames in every front end: ``Catalog.full_frame`` and
``show_thumbnails(full=True)``, ``framesift search --full-frames DIR``, the catalog
browser's "full frame" button (driven in a real kernel) and the catalog report with
``full_frames=True`` (read in headless Chromium).

The clip is real footage (data/clips/cockatoo.mp4, 1280x720 H.264, with its subtitle file
beside it), cataloged with thumbnails only: each full frame is decoded from the source on
first use, must equal a direct PyAV decode of the frame with that pts, and the next
request must read the catalog's cache (decodes counted).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
from pathlib import Path

import av
import fsspec
import numpy as np
import pytest
from PIL import Image

import framesift as fs
from browser import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM
from catalog_support import SECRET, S3Server
from framesift.catalog import fullframes
from framesift.cli import main
from framesift.notebook import CatalogBrowser

pytest_plugins = ["fixtures_catalog"]

CLIP = Path(__file__).parents[1] / "data" / "clips" / "cockatoo.mp4"
SIZE = (1280, 720)
SPEC = fs.SamplingSpec(interval_s=4.0)


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("footage")
    for path in (CLIP, CLIP.with_suffix(".en.srt")):
        shutil.copy(path, folder / path.name)
    return folder / CLIP.name


@pytest.fixture(scope="module")
def catalog(footage: Path, tmp_path_factory: pytest.TempPathFactory) -> fs.Catalog:
    cat = fs.Catalog(str(tmp_path_factory.mktemp("full") / "catalog"))
    assert fs.ingest([str(footage)], cat, SPEC).counts["ingested"] == 1
    assert cat.frames()["frame_uri"].null_count() == cat.frames().height  # thumbnails only
    return cat


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pts of every frame decoded from a source from now on."""
    seen: list[int] = []
    decode = fullframes.decode_full_frame

    def counted(source, video_id, frame, spec):  # type: ignore[no-untyped-def]
        seen.append(int(frame["pts"]))
        return decode(source, video_id, frame, spec)

    monkeypatch.setattr(fullframes, "decode_full_frame", counted)
    return seen


def _direct(path: Path, pts: int) -> np.ndarray:
    """The frame with ``pts`` as PyAV decodes it, straight through (no seeking)."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.pts == pts:
                return np.asarray(frame.to_ndarray(format="rgb24"), dtype=float)
    raise AssertionError(f"no frame at pts {pts}")


def _psnr(picture: np.ndarray, reference: np.ndarray) -> float:
    mse = float(np.mean((picture.astype(float) - reference) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == SIZE
        return np.asarray(image.convert("RGB"), dtype=float)


def _check_against_direct_decode(cat: fs.Catalog, full: fullframes.FullFrame, path: Path) -> None:
    pts = int(cat.frames(full.video_id).filter(frame_index=full.frame_index)["pts"][0])
    assert _psnr(_pixels(full.data), _direct(path, pts)) > 30  # JPEG at the pass's quality


def test_full_frame_is_the_sources_frame_decoded_once_then_cached(
    catalog: fs.Catalog, footage: Path, decodes: list[int]
) -> None:
    video_id = catalog.video_ids()[0]
    frames = catalog.frames(video_id)
    index = int(frames["frame_index"][1])
    first = catalog.full_frame(video_id, index)
    assert first.decoded
    assert decodes == [int(frames["pts"][1])]
    _check_against_direct_decode(catalog, first, footage)
    again = catalog.full_frame(video_id, index)
    assert not again.decoded
    assert again.data == first.data
    assert len(decodes) == 1  # the second request read the cache
    assert "1280x720: read from the catalog" in again.describe()
    assert catalog.thumbnail(video_id, index, full=True).size == SIZE
    assert len(decodes) == 1


def test_search_hits_at_full_size(catalog: fs.Catalog, footage: Path, decodes: list[int]) -> None:
    hits = catalog.search("cockatoo")
    assert hits.height == 2
    grid = catalog.show_thumbnails(hits, full=True)
    assert len(grid) == 2
    assert not grid.notes
    for (caption, data), row in zip(grid.items, hits.iter_rows(named=True), strict=True):
        assert caption.startswith(f"{row['start_s']:.1f}s: ")
        full = catalog.full_frame(row["video_id"], row["frame_index"])
        assert data == full.data
        _check_against_direct_decode(catalog, full, footage)
    fetched = len(decodes)
    assert fetched <= 2
    html = catalog.show_thumbnails(hits, full=True)._repr_html_()
    assert len(decodes) == fetched  # shown again: from the cache
    assert html.count("data:image/jpeg;base64,") == 2


def test_cli_search_writes_the_hits_full_frames(
    catalog: fs.Catalog, footage: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frames"
    argv = ["search", "cockatoo", "--catalog", catalog.url, "--full-frames", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    files = sorted(out.iterdir())
    assert len(files) == 2
    hits = catalog.search("cockatoo")
    for path, row in zip(files, hits.sort("frame_index").iter_rows(named=True), strict=True):
        assert path.name == f"{row['video_id']}_{row['frame_index']:08d}.jpg"
        assert f"-> {path}" in printed
        full = catalog.full_frame(row["video_id"], row["frame_index"])
        assert path.read_bytes() == full.data
        _check_against_direct_decode(catalog, full, footage)
    assert main([*argv, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["full_frame"] for r in rows) == [str(p) for p in files]


@pytest.fixture
def moved(footage: Path, tmp_path: Path) -> fs.Catalog:
    """A catalog of a copy of the clip (thumbnails only), whose source then moved."""
    folder = tmp_path / "moving"
    folder.mkdir()
    for path in (footage, footage.with_suffix(".en.srt")):
        shutil.copy(path, folder / path.name)
    cat = fs.Catalog(str(tmp_path / "catalog"))
    fs.ingest([str(folder / footage.name)], cat, fs.SamplingSpec(interval_s=7.0))
    shutil.move(folder, tmp_path / "elsewhere")
    return cat


def test_a_moved_source_is_one_line_in_every_front_end(
    moved: fs.Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video_id = moved.video_ids()[0]
    browser = CatalogBrowser(moved)
    browser.frame.value = browser.frame.options[-1][1]
    browser.full_frame_button.click()
    status = browser.full_frame_status.value
    assert status.startswith("<i>no full frame: MediaNotFoundError: ")
    assert "\n" not in status
    assert "Traceback" not in status
    assert browser.full is None
    assert browser.full_frame_image.value == b""
    assert "no full frame: MediaNotFoundError" in browser.snapshot()

    grid = moved.show_thumbnails(moved.search("cockatoo"), full=True)
    assert len(grid) == 0
    assert len(grid.notes) == 2
    assert all("MediaNotFoundError" in note for note in grid.notes)
    out = tmp_path / "frames"
    argv = ["search", "cockatoo", "--catalog", moved.url, "--full-frames", str(out)]
    assert main(argv) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert all(line.startswith("framesift search: no full frame for ") for line in err)
    assert all("MediaNotFoundError" in line for line in err)

    # Back in place but holding other footage: SourceChangedError, in one line.
    source = Path(moved.commit_of(video_id).source_url)  # type: ignore[union-attr]
    source.parent.mkdir()
    shutil.copy(Path(__file__).parents[1] / "data" / "clips" / "bigbuckbunny.mp4", source)
    browser.full_frame_button.click()
    assert browser.full_frame_status.value.startswith("<i>no full frame: SourceChangedError: ")
    assert "ingest it again" in browser.full_frame_status.value


def test_a_source_on_s3_without_credentials_is_one_line(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_server.create_bucket()
    fsspec.filesystem("s3", **s3_server.options()).put(str(CLIP), f"{bucket}/{CLIP.name}")
    cat = fs.Catalog(str(tmp_path / "catalog"))
    url = f"s3://{bucket}/{CLIP.name}"
    options = s3_server.options()
    fs.ingest([url], cat, fs.SamplingSpec(interval_s=7.0), source_options=options)
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    without = CatalogBrowser(cat, source_options={"endpoint_url": s3_server.endpoint_url})
    without.frame.value = without.frame.options[-1][1]
    without.full_frame_button.click()
    status = without.full_frame_status.value
    assert status.startswith("<i>no full frame: StorageError: "), status
    assert "NoCredentialsError" in status
    assert url in status
    assert SECRET not in status
    assert "\n" not in status
    browser = CatalogBrowser(cat, source_options=options)
    browser.frame.value = browser.frame.options[-1][1]
    full = browser.show_full_frame()
    assert full is not None
    assert full.decoded
    assert full.image().size == SIZE
    assert "decoded from the source" in browser.full_frame_status.value


_KERNEL_CODE = """
import json
import framesift as fs
from framesift.catalog import fullframes
from framesift.notebook import CatalogBrowser

decoded = []
_decode = fullframes.decode_full_frame
def _counted(source, video_id, frame, spec):
    decoded.append(int(frame["pts"]))
    return _decode(source, video_id, frame, spec)
fullframes.decode_full_frame = _counted

browser = CatalogBrowser(fs.Catalog(CATALOG))
display(browser)
browser.frame.value = FRAME
browser.full_frame_button.click()
first = (browser.full_frame_status.value, bytes(browser.full_frame_image.value).hex())
browser.full_frame_button.click()
second = (browser.full_frame_status.value, bytes(browser.full_frame_image.value).hex())
print(json.dumps({"first": first, "second": second, "decoded": decoded,
                  "format": browser.full_frame_image.format}))
"""


@pytest.mark.timeout(240)
def test_the_browser_shows_a_full_frame_in_a_kernel(
    footage: Path, tmp_path: Path, decodes: list[int]
) -> None:
    """The widget in a real Jupyter kernel: the button decodes the frame once; pressed
    again, it reads the catalog's cache."""
    from jupyter_client.manager import start_new_kernel

    cat = fs.Catalog(str(tmp_path / "catalog"))
    fs.ingest([str(footage)], cat, SPEC)
    video_id = cat.video_ids()[0]
    index = int(cat.frames(video_id)["frame_index"][-1])
    code = f"CATALOG = {cat.url!r}\nFRAME = {index}\n" + _KERNEL_CODE
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute_interactive(code, timeout=180, output_hook=(printed := []).append)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    stdout = "".join(m["content"]["text"] for m in printed if m["msg_type"] == "stream")
    shown = {m["msg_type"] for m in printed}
    assert "display_data" in shown  # the widget was displayed
    result = json.loads(stdout.strip().splitlines()[-1])
    pts = int(cat.frames(video_id).filter(frame_index=index)["pts"][0])
    assert result["decoded"] == [pts]  # once, by the first press
    assert "decoded from the source" in result["first"][0]
    assert "1280x720: read from the catalog" in result["second"][0]
    assert result["first"][1] == result["second"][1]
    assert result["format"] == "jpeg"
    data = bytes.fromhex(result["first"][1])
    assert data == cat.full_frame(video_id, index).data  # what the kernel cached
    assert decodes == []  # ... read here from the cache the kernel wrote
    assert _psnr(_pixels(data), _direct(footage, pts)) > 30


@pytest.mark.timeout(600)
def test_the_report_shows_full_frames_on_request(
    catalog: fs.Catalog, footage: Path, tmp_path: Path
) -> None:
    from framesift.report import write_report

    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    pages = {}
    for full in (False, True):
        path = tmp_path / f"report-{full}.html"
        parameters = {"catalog": catalog.url, "query": "cockatoo", "full_frames": full}
        write_report("catalog_report", str(path), parameters)
        pages[full] = path
    hits = catalog.search("cockatoo", limit=8)
    expected = [catalog.full_frame(r["video_id"], r["frame_index"]) for r in hits.to_dicts()]
    text = pages[True].read_text()
    for full in expected:  # the same bytes as the cache holds, embedded
        assert base64.b64encode(full.data).decode() in text
        _check_against_direct_decode(catalog, full, footage)
    widths = """() => [...document.images].filter(i => i.naturalWidth > 0)
        .map(i => [i.naturalWidth, i.naturalHeight])"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            shown = {}
            for full, path in pages.items():
                page.goto(path.as_uri())
                shown[full] = [tuple(size) for size in page.evaluate(widths)]
        finally:
            browser.close()
    assert shown[False].count(SIZE) == 0  # off by default: thumbnails only
    assert shown[True].count(SIZE) == len(expected) == 2
    assert len(shown[True]) == len(shown[False])  # the same pictures, the hits at full size
    assert re.search(r'"full_frames": true', text)
