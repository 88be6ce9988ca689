"""Project-level promises: the public API, environment.yml in sync, the CLI's manners."""

from __future__ import annotations

import argparse
import io
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import framesift
from framesift.cli import ProgressLine, build_parser, main, spec_from_args
from framesift.output import write_sample
from framesift.progress import OCR, SAMPLE, SPEECH, ProgressEvent
from processes import python as _python

ROOT = Path(__file__).resolve().parents[1]


PUBLIC_API = {
    "AnalyzerError",
    "AnalyzerSpec",
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
    "LimitsSpec",
    "MediaError",
    "MediaInfo",
    "MediaLimitError",
    "MediaNotFoundError",
    "MemoryImageSink",
    "ModelContractError",
    "NoVideoStreamError",
    "NotAVideoError",
    "OnnxModelSpec",
    "PassStateError",
    "PassStats",
    "QueryNotAllowedError",
    "ReportError",
    "SampleResult",
    "SamplingPass",
    "SamplingSpec",
    "SettingsError",
    "SourceChangedError",
    "StorageError",
    "SubtitleError",
    "SubtitleStreamInfo",
    "SyncError",
    "TextSpec",
    "TruncatedMediaError",
    "UnsupportedCodecError",
    "VideoStreamInfo",
    "WorkerLostError",
    "__version__",
    "probe",
    "reselect",
    "sample_video",
    "write_report",
    "write_sample",
    "Catalog",
    "estimate_collection",
    "explain_cuts",
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
    assert scenes[0]["scene_index"] == 0  # from 0, as in the library and the catalog


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
    assert "1 video," in summary
    assert "7 scenes" in summary
    assert "FAILED" in summary
    assert str(not_a_video) in summary


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_every_cli_option_and_command_has_help():
    missing = []
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [
                    f"{parser.prog} {name}" for name in action.choices if name not in helped
                ]
            elif not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_the_sampling_options_are_the_same_wherever_sampling_is_configured():
    parser = build_parser()
    by_command = {
        name: {s for a in sub._actions for s in a.option_strings}
        for name, sub in next(
            a for a in parser._actions if isinstance(a, argparse._SubParsersAction)
        ).choices.items()
    }
    detection = {"--detector", "--threshold", "--min-scene-len", "--analysis-width", "--fast"}
    assert detection <= by_command["scenes"]
    for name in ("sample", "ingest", "estimate"):
        assert detection | {"--every", "--dedup", "--thumb-size"} <= by_command[name], name
    assert "--catalog" in by_command["ingest"] & by_command["search"]
    assert parser.parse_args(["scenes", "v.mp4", "--detector", "hash"]).detector == "hash"
    with pytest.raises(SystemExit):  # scenes without a detector would find nothing
        parser.parse_args(["scenes", "v.mp4", "--detector", "none"])


@pytest.mark.parametrize("subcommand", ["summary", "vacuum", "compact"])
def test_catalog_commands_take_the_catalog_as_option_or_first_argument(
    subcommand, tmp_path, capsys
):
    url = str(tmp_path / "none")
    for argv in (
        ["catalog", subcommand, url],
        ["catalog", subcommand, "--catalog", url],
        ["catalog", subcommand, url, "--catalog", url],
    ):
        assert main(argv) == 2  # no catalog there: the error names it
        err = capsys.readouterr().err
        assert err.startswith("framesift catalog: CatalogError: ")
        assert url in err
        assert err.count("\n") == 1
    assert main(["catalog", subcommand, url, "--catalog", str(tmp_path / "other")]) == 2
    assert "SettingsError: two catalogs given" in capsys.readouterr().err


def test_cli_errors_name_the_command_and_the_error_type(not_a_video, capsys):
    assert main(["probe", str(not_a_video)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("framesift probe: NotAVideoError: ")
    assert err.count("\n") == 1
    # Option values are refused by the option's name, in one line, before anything runs.
    assert main(["sample", str(not_a_video), "--out", "x", "--every", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("framesift sample: argument --every: -1 is out of range: ")
    assert "or 0 to turn it off" in err
    assert err.count("\n") == 1
    assert "interval_s" not in err
    assert main(["ingest", "x.mp4", "--representatives", "2", "--detector", "none"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("framesift ingest: SettingsError: --representatives needs scenes")
    assert main(["estimate", "x.mp4", "--dedup", "99"]) == 2
    assert "argument --dedup: 99 is out of range: from 0 to 63, or -1" in capsys.readouterr().err
    # Every numeric option goes through the same check, limits and analyzers included.
    for argv, refused in [
        (["sample", "x.mp4", "--out", "x", "--face-confidence", "2"], "--face-confidence: 2"),
        (["ingest", "x.mp4", "--max-sidecar-bytes", "10"], "--max-sidecar-bytes: 10"),
        (["sample", "x.mp4", "--out", "x", "--max-pixels", "-5"], "--max-pixels: -5"),
        (["catalog", "vacuum", "--grace", "-1"], "--grace: -1"),
    ]:
        assert main(argv) == 2
        assert f"argument {refused} is out of range" in capsys.readouterr().err


def test_progress_line_shows_progress_events_with_their_stage() -> None:
    stream = io.StringIO()
    line = ProgressLine(True, stream)
    line.report(ProgressEvent("clip.mp4", SAMPLE, 30.0, 120.0))
    line.report(ProgressEvent("clip.mp4", SPEECH, 60.0, 120.0))
    line.report(ProgressEvent("clip.mp4", OCR, 12.0, 120.0))
    parts = stream.getvalue().split("\r")
    assert parts[1].startswith("clip.mp4  25.0% 30/120 s of video, ")
    assert parts[2].startswith("clip.mp4 (speech)  50.0% 60/120 s of video, ")
    assert parts[3].startswith("clip.mp4 (ocr)  10.0% 12/120 s of video, ")


def test_version_comes_from_the_package_metadata():
    from importlib import metadata

    from framesift.catalog.version import framesift_version

    assert framesift.__version__ == metadata.version("framesift") == framesift_version()
    run = subprocess.run(
        [sys.executable, "-m", "framesift.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.strip() == f"framesift {framesift.__version__}"


def test_cli_stops_quietly_when_the_reader_goes_away(vfr_video):
    """``framesift probe ... | head -0``: exit status 141 and nothing on stderr."""
    code = (
        "import os, sys\n"
        "reader, writer = os.pipe(); os.close(reader); os.dup2(writer, 1)\n"
        "from framesift.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    run = _python(code, "probe", str(vfr_video.path))
    assert run.returncode == 141
    assert run.stderr == ""


# What a command that needs none of them must not load: PySceneDetect and OpenCV, the table
# and catalog libraries, the model runtimes, numpy, the fsspec and S3 stack, the cluster.
HEAVY_FOR_STARTUP = frozenset(
    {
        "cv2",
        "dask",
        "distributed",
        "duckdb",
        "fsspec",
        "numpy",
        "onnxruntime",
        "PIL",
        "polars",
        "pyarrow",
        "s3fs",
        "scenedetect",
        "tqdm",
    }
)


def _imported_modules(*argv: str) -> set[str]:
    """Modules ``python -X importtime -m framesift.cli ARGV`` imports."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "framesift.cli", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
    assert len(lines) > 50, "-X importtime printed nothing: the check would see nothing"
    return {line.rsplit("|", 1)[1].strip() for line in lines}


def _imported_packages(*argv: str) -> set[str]:
    """Top-level packages ``python -X importtime -m framesift.cli ARGV`` imports."""
    return {name.split(".")[0] for name in _imported_modules(*argv)}


@pytest.mark.parametrize("argv", [("--help",), ("search", "--help"), ("ingest", "--help")])
def test_cli_help_loads_no_heavy_package(argv):
    """``framesift --help`` starts fast: no media, table or catalog library is imported."""
    loaded = _imported_packages(*argv)
    assert "framesift" in loaded
    assert loaded & (HEAVY_FOR_STARTUP | {"av"}) == set()


def test_cli_probe_loads_pyav_and_nothing_heavier(vfr_video):
    loaded = _imported_packages("probe", str(vfr_video.path))
    assert "av" in loaded
    assert loaded & HEAVY_FOR_STARTUP == set()
    # Start-up: probe's parser is its group's alone, without the sampling options (and so
    # without framesift.spec's dataclasses) or the other commands' modules. (sys.modules:
    # -X importtime does not list what importlib.import_module loads.)
    code = (
        "import sys\n"
        "from framesift.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "print(status, sorted(m for m in sys.modules if m.startswith('framesift.')))\n"
    )
    run = _python(code, "probe", str(vfr_video.path))
    assert run.returncode == 0, run.stderr[-2000:]
    status, modules = run.stdout.splitlines()[-1].split(" ", 1)
    framesift_modules = set(json.loads(modules.replace("'", '"')))
    assert status == "0"
    assert {"framesift.cli.probe", "framesift.probe"} <= framesift_modules
    not_for_probe = {"framesift.spec", "framesift.cli.arguments", "framesift.cli.media"}
    assert framesift_modules & not_for_probe == set()


# What sampling one local video into a local folder needs: PyAV, numpy, OpenCV,
# PySceneDetect's detectors. Not the rest of PySceneDetect (its __init__ runs an ffmpeg
# child process), not fsspec (a local folder is written with the OS's calls), not a
# dataframe library (framesift.parquet writes the tables), not Pillow (OpenCV encodes JPEG
# thumbnails), not the catalog, the models or the cluster.
NOT_FOR_SAMPLING = frozenset(
    {"PIL", "dask", "distributed", "duckdb", "fsspec", "onnxruntime", "polars", "pyarrow", "s3fs"}
)
PYSCENEDETECT_BEYOND_DETECTORS = (
    "scenedetect.backends",
    "scenedetect.output",
    "scenedetect.scene_manager",
    "scenedetect.video_splitter",
    "scenedetect._cli",
)


def test_cli_sample_loads_the_sampling_stack_only(cuts_video, tmp_path):
    modules = _imported_modules(
        "sample", str(cuts_video.path), "--out", str(tmp_path / "out"), "--every", "1"
    )
    packages = {name.split(".")[0] for name in modules}
    assert {"av", "cv2", "numpy", "scenedetect"} <= packages
    assert packages & NOT_FOR_SAMPLING == set()
    assert "scenedetect.detectors.content_detector" in modules
    beyond = {m for m in modules if m.startswith(PYSCENEDETECT_BEYOND_DETECTORS)}
    assert beyond == set()
    # PySceneDetect's platform module (tqdm and its asyncio contrib) waits for first use.
    assert packages & {"asyncio", "ssl", "tqdm"} == set()
    assert (tmp_path / "out" / "frames.parquet").is_file()


_NO_CHILD_PROCESS = """
import sys
started = []
def hook(event, args):
    if event in ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.exec", "os.system"):
        started.append(event)
sys.addaudithook(hook)
from framesift.cli import main
status = main(sys.argv[1:])
print("started:", started, "status:", status)
"""


def test_cli_sample_starts_no_child_process(cuts_video, tmp_path):
    """Importing PySceneDetect's package runs ``ffmpeg -v quiet``; the sample command
    imports its detectors only, and nothing else it does starts a process either."""
    sample = ["sample", str(cuts_video.path), "--out", str(tmp_path / "out"), "--every", "1"]
    run = _python(_NO_CHILD_PROCESS, *sample)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1] == "started: [] status: 0"
    # The hook sees child processes: the same check around PySceneDetect's whole package.
    whole_package = _NO_CHILD_PROCESS.replace(
        "from framesift.cli", "import scenedetect\nfrom framesift.cli"
    )
    whole = _python(whole_package, "--version")
    assert "started: ['subprocess.Popen'] status: 0" in whole.stdout


def test_pyscenedetect_package_is_whole_on_first_use_of_another_name():
    """framesift imports PySceneDetect's detector modules without the package's __init__;
    the first name asked of the package beyond them runs it: the package is as usual."""
    code = (
        "import sys\n"
        "from framesift.scenes import pyscenedetect\n"
        "print('scenedetect.output' in sys.modules)\n"
        "import scenedetect\n"
        "from scenedetect import SceneManager, detect\n"
        "print('scenedetect.output' in sys.modules, callable(detect), SceneManager.__name__,\n"
        "      scenedetect.FrameTimecode is pyscenedetect.FrameTimecode,\n"
        "      scenedetect.detectors.ContentDetector is pyscenedetect.ContentDetector,\n"
        "      scenedetect.__version__ == __import__('importlib.metadata').metadata.version(\n"
        "          'scenedetect'))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.splitlines() == ["False", "True True SceneManager True True True"]


def test_pyscenedetect_platform_runs_on_first_use_of_another_name():
    """The detectors' base module takes one alias from PySceneDetect's platform module; the
    module itself (tqdm, asyncio, importlib.metadata) runs when another name is asked."""
    code = (
        "import os, sys\n"
        "from framesift.scenes import pyscenedetect\n"
        "import scenedetect.platform as platform\n"
        "print('tqdm' in sys.modules, platform.StrPath == (str | os.PathLike[str]))\n"
        "from scenedetect.platform import get_ffmpeg_path\n"
        "import scenedetect\n"
        "print('tqdm' in sys.modules, callable(get_ffmpeg_path), platform.tqdm.__name__,\n"
        "      scenedetect.platform is platform, callable(scenedetect.detect))\n"
    )
    run = _python(code)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["False True", "True True tqdm True True"]


def test_scene_modules_import_pyscenedetect_through_one_module():
    """The package's __init__ is skipped only if every framesift import of PySceneDetect
    goes through framesift.scenes.pyscenedetect, which sets that up first."""
    src = Path(framesift.__file__).parent
    offenders = [
        str(path.relative_to(src))
        for path in sorted(src.rglob("*.py"))
        if path.name != "pyscenedetect.py"
        and re.search(r"^\s*(from|import) scenedetect\b", path.read_text(), re.MULTILINE)
    ]
    assert offenders == []


def test_importing_framesift_loads_nothing_heavy_and_keeps_the_api():
    code = (
        "import sys, framesift\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}))\n"
        "from framesift import probe, Catalog, sample_video, SamplingSpec\n"
        "import framesift.probe\n"  # the submodule does not hide the function of its name
        "print(callable(framesift.probe), framesift.probe is probe, Catalog.__name__)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    first, second = run.stdout.splitlines()
    assert set(json.loads(first.replace("'", '"'))) & (HEAVY_FOR_STARTUP | {"av"}) == set()
    assert second == "True True Catalog"


_POLARS_AFTER_THE_FIRST_FRAME = """
import sys
import framesift.output  # all that write_sample needs for its pass
from framesift.sample import SamplingPass
sampling = SamplingPass(sys.argv[1])
frames = iter(sampling)
next(frames)
print("polars at the first frame:", "polars" in sys.modules)
for _ in frames:
    pass
print("polars after the last frame:", "polars" in sys.modules)
print("frames table:", type(sampling.result().frames).__module__.split(".")[0])
"""

_WHO_IMPORTS_POLARS = """
import sys, threading
importers = []
def hook(event, args):
    if event == "import" and args[0].split(".")[0] == "polars":
        importers.append((args[0], threading.current_thread().name))
sys.addaudithook(hook)
import framesift.sample
probe = framesift.sample.probe
def probed(*args, **kwargs):
    media = probe(*args, **kwargs)
    importers.append(("(probed)", threading.current_thread().name))
    return media
framesift.sample.probe = probed
from framesift.cli import main
status = main(sys.argv[1:])
if len(importers) > 1:
    print("first polars import after the probe:", importers[0][0] == "(probed)")
importers = importers[1:]
main_thread = [name for name, thread in importers if thread == "MainThread"]
print("polars's core by:", dict(importers).get("polars._plr"), "status:", status)
print("polars modules, in the main thread:", len(main_thread), "in all:", len(importers))
"""


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}  # fmt: skip


def test_sampling_pass_imports_polars_at_its_end_and_the_command_not_at_all(cuts_video, tmp_path):
    """Start-up: the pass (and all write_sample imports for it) runs without polars until
    its tables are read; the sample command writes them without polars
    (framesift.pass_tables), and writes what write_sample writes. The scenes command,
    which prints its table with polars, imports it in a background thread from when the
    video is probed (framesift.later)."""
    video = str(cuts_video.path)
    run = _python(_POLARS_AFTER_THE_FIRST_FRAME, video)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == [
        "polars at the first frame: False",
        "polars after the last frame: False",
        "frames table: polars",
    ]

    out = tmp_path / "out"
    command = ["sample", video, "--out", str(out), "--every", "1"]
    run = _python(_WHO_IMPORTS_POLARS, *command)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1] == "polars modules, in the main thread: 0 in all: 0"
    by_command = _files(out)
    shutil.rmtree(out)
    write_sample(video, str(out), spec_from_args(build_parser().parse_args(command)))
    assert len(by_command) > 3
    assert _files(out) == by_command

    run = _python(_WHO_IMPORTS_POLARS, "scenes", video)
    assert run.returncode == 0, run.stderr[-2000:]
    after_probe, core, modules = run.stdout.splitlines()[-3:]
    # Not beside the probe, which would wait on the import for the interpreter lock.
    assert after_probe == "first polars import after the probe: True"
    assert core == "polars's core by: framesift-imports status: 0"
    in_main, in_all = (int(n) for n in re.findall(r"\d+", modules))
    assert in_all > 50
    assert in_main <= 3
