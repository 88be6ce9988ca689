"""Project-level promises: the public API, environment.yml in sync, the CLI's manners."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import framesift
from framesift.cli import ProgressLine, main

ROOT = Path(__file__).resolve().parents[1]


PUBLIC_API = {
    "AudioStreamInfo",
    "CatalogConflictError",
    "CatalogError",
    "CatalogVersionError",
    "DecodeSpec",
    "ExecutorSpec",
    "FramesiftError",
    "FsspecImageSink",
    "ImageSink",
    "ImageSpec",
    "KeptFrame",
    "MediaError",
    "MediaInfo",
    "MediaNotFoundError",
    "MemoryImageSink",
    "NoVideoStreamError",
    "NotAVideoError",
    "PassStats",
    "SampleResult",
    "SamplingPass",
    "SamplingSpec",
    "SettingsError",
    "StorageError",
    "SubtitleError",
    "SubtitleStreamInfo",
    "TextSpec",
    "TruncatedMediaError",
    "UnsupportedCodecError",
    "VideoStreamInfo",
    "__version__",
    "probe",
    "reselect",
    "sample_video",
    "write_sample",
    "Catalog",
    "estimate_collection",
    "ingest",
}


def test_public_api_is_pinned():
    """Adding or removing a public name is a decision: update this list with it."""
    assert set(framesift.__all__) == PUBLIC_API
    for name in framesift.__all__:
        member = getattr(framesift, name)
        if hasattr(member, "__module__"):
            assert member.__module__.startswith("framesift"), name


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", req, maxsplit=1)[0].lower() for req in requirements}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"])
    wanted |= _names(project["optional-dependencies"]["notebook"])
    wanted |= _names(project["optional-dependencies"]["dask"])
    text = (ROOT / "environment.yml").read_text()
    deps = text.split("dependencies:", 1)[1]
    conda = {
        re.split(r"[<>=!~ ]", line.strip()[2:], maxsplit=1)[0].lower()
        for line in deps.splitlines()
        if line.startswith("  - ") and not line.strip().startswith("- pip")
    }
    assert wanted == conda - {"python"}, "environment.yml and pyproject.toml differ"
    assert "- -e ." in text


def test_cli_scenes_prints_the_cut_list_as_json(cuts_video, capsys):
    assert main(["scenes", str(cuts_video.path), "--min-scene-len", "5", "--json"]) == 0
    scenes = json.loads(capsys.readouterr().out)
    assert [s["start_frame"] for s in scenes][1:] == cuts_video.cut_frames
    assert scenes[0]["scene_index"] == 1


def test_cli_probe_json(vfr_video, capsys):
    assert main(["probe", str(vfr_video.path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["video"]["vfr"] is True
    assert "vfr" in info["measured"]


@pytest.mark.parametrize("command", ["probe", "scenes"])
def test_cli_bad_file_is_one_line_and_non_zero(not_a_video, command):
    run = subprocess.run(
        [sys.executable, "-m", "framesift.cli", command, str(not_a_video)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0
    assert str(not_a_video) in run.stderr


def test_cli_sample_writes_parquet_and_thumbnails(cuts_video, tmp_path, capsys):
    out = tmp_path / "sampled"
    code = main(
        [
            "sample",
            str(cuts_video.path),
            "--out",
            str(out),
            "--every",
            "1",
            "--dedup",
            "4",
            "--thumb-size",
            "160",
            "--min-scene-len",
            "5",
        ]
    )
    assert code == 0
    assert (out / "frames.parquet").exists()
    assert (out / "analysis.parquet").exists()
    assert any((out / "thumbs").iterdir())
    captured = capsys.readouterr()
    assert "kept" in captured.out
    assert captured.err == ""  # no progress line when stderr is not a terminal


def test_cli_progress_line_is_shown_on_request_and_cleared(cuts_video, tmp_path, capsys):
    args = ["sample", str(cuts_video.path), "--out", str(tmp_path / "o"), "--progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.split("\r") if line.strip()]
    assert lines[0].startswith(f"{cuts_video.path}   0.0% 0/")
    assert "100.0%" in lines[-1]
    assert "x realtime" in lines[-1]
    assert err.endswith("\r")  # the line is blanked before the summary is printed
    assert main([*args[:-1], "--no-progress"]) == 0
    assert capsys.readouterr().err == ""


def test_progress_line_overwrites_itself() -> None:
    stream = io.StringIO()
    line = ProgressLine(True, stream)
    line.start("clip.mp4")
    line(30.0, 120.0)
    line(120.0, 120.0)
    line.clear()
    parts = stream.getvalue().split("\r")
    assert parts[1].startswith("clip.mp4  25.0% 30/120 s of video, ")
    assert parts[2].startswith("clip.mp4 100.0% 120/120 s of video, ")
    assert parts[3].strip() == ""
    assert parts[4] == ""
    assert ProgressLine(None, io.StringIO()).enabled is False  # not a terminal


def test_cli_ingest_then_summary(cuts_video, not_a_video, tmp_path, capsys):
    catalog = tmp_path / "catalog"
    code = main(
        [
            "ingest",
            str(cuts_video.path),
            str(not_a_video),
            "--catalog",
            str(catalog),
            "--min-scene-len",
            "5",
        ]
    )
    assert code == 1  # one source failed, the other went in
    out = capsys.readouterr().out
    assert "1 ingested" in out
    assert "1 failed" in out
    assert main(["catalog", "summary", str(catalog)]) == 0
    summary = capsys.readouterr().out
    assert "1 videos" in summary
    assert "7 scenes" in summary
    assert "FAILED" in summary
    assert str(not_a_video) in summary
