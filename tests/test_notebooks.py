"""The notebooks in notebooks/ run headless with papermill in a real Jupyter kernel."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import nbformat
import papermill
import pytest
from nbconvert import HTMLExporter

import framesift as fs
from browser import CHROMIUM, CHROMIUM_ARGS, NO_CHROMIUM

NOTEBOOKS = Path(__file__).parents[1] / "notebooks"


def _printed_json(notebook: nbformat.NotebookNode) -> dict[str, object]:
    outputs = notebook.cells[-1].outputs
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return dict(json.loads(text))


def test_a_relative_catalog_path_means_what_it_says_from_here(
    cuts_video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``framesift report --catalog data/catalog`` from the project's root reports on that
    catalog, although the notebook runs in its own folder."""
    from framesift.cli import main

    catalog = tmp_path / "data" / "catalog"
    fs.ingest([str(cuts_video.path)], str(catalog), fs.SamplingSpec(interval_s=1.0))
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--catalog", "data/catalog", "-o", "report.html"]) == 0
    assert "data:image/jpeg;base64," in (tmp_path / "report.html").read_text()


@pytest.mark.timeout(240)
def test_sample_video_notebook_runs_with_parameters(cuts_video, tmp_path: Path) -> None:
    out = tmp_path / "run.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "sample_video.ipynb"),
        str(out),
        parameters={
            "video": str(cuts_video.path),
            "every_s": 1.0,
            "dedup_bits": None,
            "thumb_size": 96,
            "min_scene_len_frames": 5,
        },
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = nbformat.read(out, as_version=4)
    summary = _printed_json(executed)
    # The cuts the notebook found are the fixture's, frame for frame.
    assert summary["cut_frames"] == cuts_video.cut_frames
    assert summary["scenes"] == len(cuts_video.cut_frames) + 1
    assert summary["tuner_scenes_retuned"] == summary["scenes_retuned"]  # the widget, in a kernel
    kinds = {
        kind
        for cell in executed.cells
        for o in cell.get("outputs", [])
        for kind in o.get("data", {})
    }
    assert "image/png" in kinds  # the score plot
    assert "text/html" in kinds  # tables and the thumbnail grid
    assert "application/vnd.jupyter.widget-view+json" in kinds  # the tuner, a live widget
    html, _ = HTMLExporter().from_notebook_node(executed)
    assert "data:image/jpeg;base64," in html  # thumbnails travel inside the report


def test_notebooks_are_stored_without_outputs() -> None:
    # Outputs belong in the reports papermill makes, not in the repository.
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), path
        assert any("parameters" in c.metadata.get("tags", []) for c in notebook.cells), path


@pytest.mark.timeout(240)
def test_catalog_report_notebook(cuts_video, subtitled_video, not_a_video, tmp_path: Path) -> None:
    import framesift as fs

    catalog = tmp_path / "catalog"
    spec = fs.SamplingSpec(interval_s=1.0, min_scene_len_frames=5)
    sources = [str(cuts_video.path), str(subtitled_video.path), str(not_a_video)]
    fs.ingest(sources, str(catalog), spec)
    faces = _face_video(tmp_path)
    if faces is not None:  # one face from 2 s to 4 s, two from 6 s to 7 s; no scenes
        face_spec = fs.SamplingSpec(interval_s=1.0, detector=None)
        fs.ingest([str(faces)], str(catalog), face_spec, analyzers=fs.AnalyzerSpec(("faces",)))
    out = tmp_path / "report.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "catalog_report.ipynb"),
        str(out),
        parameters={"catalog": str(catalog), "query": "hello world"},
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    executed = nbformat.read(out, as_version=4)
    report = _printed_json(executed)
    assert report["videos"] == 2 + (faces is not None)
    assert report["failed_sources"] == 1
    assert report["text_segments"] == len(subtitled_video.cues)
    assert report["search_hits"] == 1
    html, _ = HTMLExporter().from_notebook_node(executed)
    assert "Hello, world!" in html
    assert "NotAVideoError" in html
    # Every scene start (thumbs_per_video is 8, the videos have 7 and 1 scenes; the face
    # clip, sampled without scenes, shows its 8 kept frames) and the frame on screen for
    # the one search hit, shown inline; then, for the face clip, its frames with faces
    # twice: in the collection overview and in the analyzers' section.
    scenes = len(cuts_video.cut_frames) + 1 + 1
    if faces is None:
        assert report["scenes"] == scenes
        assert html.count("data:image/jpeg;base64,") == scenes + 1
        return
    assert report["scenes"] == scenes + 1  # the face clip is one scene
    assert report["detections"] == 2 + 2 * 1  # 2 s, 3 s: one face; 6 s: two
    assert report["frames_with_boxes"] == 3
    assert report["frames_with_two_or_more_faces"] == 1
    assert report["shots_with_text"] == 0
    assert html.count("data:image/jpeg;base64,") == scenes + 8 + 1 + 2 * 3
    assert "where the analyzers found something" in html


def _face_video(tmp_path: Path) -> Path | None:
    """The clip with Grace Hopper's portrait (tests/faces.py), or None without the faces
    analyzer's package."""
    try:
        import yuface  # noqa: F401  (only whether it is installed)
    except ImportError:
        return None
    from faces import make_face_video

    return make_face_video(tmp_path).path


@pytest.mark.timeout(240)
def test_report_script_writes_html(cuts_video, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    script = NOTEBOOKS.parent / "scripts" / "report.sh"
    args = ["-p", "video", str(cuts_video.path), "-p", "min_scene_len_frames", "5"]
    try:
        subprocess.run(
            ["bash", str(script), str(NOTEBOOKS / "sample_video.ipynb"), str(html), *args],
            check=True,
            capture_output=True,
            cwd=tmp_path,
            timeout=180,
        )
    except subprocess.TimeoutExpired as exc:  # say where it stood, not just "timeout"
        pytest.fail(f"report.sh timed out:\n{exc.stdout!r}\n{exc.stderr!r}")
    text = html.read_text()
    assert '"cut_frames": [' in text
    assert text.count("data:image/jpeg;base64,") > len(cuts_video.cut_frames)


@pytest.mark.timeout(240)
def test_explore_collection_notebook(cuts_video, subtitled_video, tmp_path: Path) -> None:
    footage = tmp_path / "footage"
    footage.mkdir()
    for made in (cuts_video, subtitled_video):
        (footage / made.path.name).write_bytes(made.path.read_bytes())
    faces = _face_video(footage)
    out = tmp_path / "explore.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "explore_collection.ipynb"),
        str(out),
        parameters={
            "footage": str(footage),
            "catalog": str(tmp_path / "cat"),
            "query": "hello",
            "analyze": "faces" if faces is not None else "",
        },
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
    report = _printed_json(nbformat.read(out, as_version=4))
    assert report["videos"] == 2 + (faces is not None)
    # The faces analyzer ran as the collection was ingested: faces on the face clip only,
    # while the portrait is on screen.
    found = fs.Catalog(str(tmp_path / "cat")).detections(columns=["video_id", "time_s"])
    assert report["detections"] == found.height
    if faces is not None:
        from faces import ONE_FACE_S, TWO_FACES_S

        assert found.height > 0
        assert all(ONE_FACE_S[0] <= t < ONE_FACE_S[1] or TWO_FACES_S[0] <= t < TWO_FACES_S[1]
                   for t in found["time_s"])  # fmt: skip
    assert report["text_segments"] == len(subtitled_video.cues)
    assert report["search_hits"] == 1
    assert report["kept_frames"] > 0
    assert report["estimated_kept_frames"] > 0


REPRS = ("<framesift", "PassStats(", "decimal[", "ThumbnailGrid(", " object at 0x", "VBox(")
"""What a report must never show: reprs of Python objects and DuckDB's wide integers."""


@pytest.mark.timeout(600)
def test_every_notebook_reads_like_a_report_in_a_browser(
    cuts_video, subtitled_video, tmp_path: Path
) -> None:
    from framesift.report import notebook_names, write_report

    if CHROMIUM is None:
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    footage = tmp_path / "footage"
    footage.mkdir()
    for made in (cuts_video, subtitled_video):
        (footage / made.path.name).write_bytes(made.path.read_bytes())
    faces = _face_video(footage)  # boxes on thumbnails and an analyzer lane in the reports
    analyzers = fs.AnalyzerSpec(("faces",) if faces is not None else ())
    catalog = tmp_path / "catalog"
    fs.ingest(
        [str(footage)], str(catalog), fs.SamplingSpec(min_scene_len_frames=5), analyzers=analyzers
    )
    runs = {
        "catalog_report": {"catalog": str(catalog), "query": "hello world"},
        "explore_collection": {
            "footage": str(footage), "catalog": str(tmp_path / "explore"), "query": "hello",
            "analyze": ",".join(analyzers.names),
        },
        "sample_video": {"video": str(cuts_video.path), "min_scene_len_frames": 5},
    }  # fmt: skip
    assert sorted(runs) == notebook_names()  # every notebook of the project
    pages = {}
    for name, parameters in runs.items():
        report = write_report(name, str(tmp_path / f"{name}.html"), parameters)
        text = (tmp_path / f"{name}.html").read_text()
        assert "application/vnd.jupyter.widget-view+json" not in text, name
        assert report.static_widgets == {"explore_collection": 3, "sample_video": 1}.get(name, 0)
        pages[name] = tmp_path / f"{name}.html"
    empty_outputs = """() => [...document.querySelectorAll('.jp-OutputArea-output')]
        .filter(e => !e.innerText.trim() && !e.querySelector('img, svg, canvas, table'))
        .map(e => e.outerHTML.slice(0, 200))"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            for name, path in pages.items():
                page.goto(path.as_uri())
                assert page.evaluate(empty_outputs) == [], name
                shown = page.inner_text("body")
                for bad in REPRS:
                    assert bad not in shown, (name, bad)
                assert page.locator(".jp-CodeCell .jp-InputArea").count() == 0, name  # no code
                pictures = page.evaluate(
                    "() => [...document.images].filter(i => i.naturalWidth > 0).length"
                )
                assert pictures > 0, name
        finally:
            browser.close()


def test_framesift_report_names_what_stopped_it(tmp_path: Path, capsys) -> None:
    from framesift.cli import main

    missing = tmp_path / "no-catalog"
    out = tmp_path / "r.html"
    assert main(["report", "--catalog", str(missing), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("framesift report: ReportError: catalog_report.ipynb: cell ")
    assert "CatalogError" in err
    assert str(missing) in err
    assert not out.exists()
    assert main(["report", "--notebook", "nope", "-o", str(out)]) == 2
    assert "no notebook named 'nope': known catalog_report" in capsys.readouterr().err


@pytest.mark.skipif(
    (NOTEBOOKS.parent / "data" / "catalog").exists(), reason="a demo catalog exists here"
)
def test_catalog_report_before_any_catalog_says_so(tmp_path: Path, capsys) -> None:
    from framesift.cli import main

    assert main(["report", "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "CatalogError: no catalog at data/catalog yet" in err
    assert "StopIteration" not in err
