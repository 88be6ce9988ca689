"""The batch progress bar: counts from real batches, quiet where nobody watches, and a
``--dask`` ingest that does not print its cluster's INFO log."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

import framesift as fs
from framesift.batch import ExecutorSpec
from framesift.cli.progress_bar import BatchProgressBar, progress_wanted
from framesift.progress import SAMPLE, SPEECH, ProgressEvent


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _last_drawing(stream: io.StringIO) -> str:
    return [part for part in stream.getvalue().replace("\n", "\r").split("\r") if part][-1]


@pytest.mark.parametrize(
    "executor",
    [
        pytest.param(ExecutorSpec(), id="serial"),
        pytest.param(ExecutorSpec("dask", workers=2), id="dask-local-cluster"),
    ],
)
def test_the_bar_counts_a_real_batch(cuts_video, not_a_video, tmp_path: Path, executor):
    """Two videos, one of them broken: the bar ends at 2 of 2 with 1 failed, in this
    process and on a Dask cluster alike."""
    stream = io.StringIO()
    with BatchProgressBar(True, stream) as bar:
        summary = fs.ingest(
            [str(cuts_video.path), str(not_a_video)],
            str(tmp_path / "catalog"),
            fs.SamplingSpec(interval_s=1.0),
            progress=bar.video_done,
            video_progress=bar.video_progress,
            executor=executor,
        )
    assert (bar.done, bar.total, bar.failed) == (2, 2, 1)
    assert summary.counts["failed"] == 1
    assert bar.kept_frames == sum(o.frames for o in summary.outcomes) > 0
    final = _last_drawing(stream)
    assert final.startswith("ingest: 100%|")
    assert "2/2 videos, 1 failed, " in final
    assert " kept frames/s]" in final


def test_the_bar_moves_within_the_video_at_hand() -> None:
    stream = io.StringIO()
    bar = BatchProgressBar(True, stream, min_interval_s=0)
    bar.video_progress(ProgressEvent("s3://bucket/films/a.mp4", SAMPLE, 30.0, 60.0))
    assert bar.position == pytest.approx(0.5)
    assert "ingest a.mp4 (sample): [" in _last_drawing(stream)
    assert "0/? videos" in _last_drawing(stream)
    bar.video_progress(ProgressEvent("s3://bucket/films/a.mp4", SPEECH, 10.0, 60.0))
    assert bar.position == pytest.approx(0.5)  # the later stages do not move it back
    bar.close()


def test_quiet_when_the_output_is_not_a_terminal(cuts_video, tmp_path: Path) -> None:
    stream = io.StringIO()
    with BatchProgressBar(None, stream) as bar:
        fs.ingest(
            [str(cuts_video.path)],
            str(tmp_path / "catalog"),
            progress=bar.video_done,
            video_progress=bar.video_progress,
        )
    assert bar.enabled is False
    assert bar.done == 1
    assert stream.getvalue() == ""
    assert progress_wanted(_Terminal()) is True


def _framesift_ingest(*argv: str) -> subprocess.CompletedProcess[str]:
    """``framesift ingest ARGV`` with stdout and stderr into pipes."""
    command = [sys.executable, "-m", "framesift.cli", "ingest", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


def test_cli_ingest_into_a_pipe_prints_lines_and_no_bar(cuts_video, tmp_path: Path) -> None:
    run = _framesift_ingest(str(cuts_video.path), "--catalog", str(tmp_path / "catalog"))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert run.stdout.startswith("[1/1] ingested ")


def test_cli_dask_ingest_prints_no_cluster_info_log(cuts_video, not_a_video, tmp_path: Path):
    """``--dask`` starts a local cluster whose scheduler and nannies log every step at
    INFO; the command's output holds its own lines only."""
    videos = [str(cuts_video.path), str(not_a_video)]
    run = _framesift_ingest(*videos, "--catalog", str(tmp_path / "c"), "--dask", "--workers", "2")
    assert run.returncode == 1, run.stderr  # one video failed, the other went in
    assert "[2/2]" in run.stdout
    info = [line for line in run.stderr.splitlines() if line.startswith("INFO")]
    assert info == []
    assert "distributed.scheduler" not in run.stderr
    assert (run.stdout + run.stderr).count(not_a_video.name) == 1  # not again by its worker


def test_cli_pool_ingest_prints_a_failed_video_once(cuts_video, not_a_video, tmp_path: Path):
    """A worker process logs as the command does: the failed video is the command's one
    line, not also a warning its worker printed through Python's last-resort handler."""
    videos = [str(cuts_video.path), str(not_a_video)]
    run = _framesift_ingest(*videos, "--catalog", str(tmp_path / "c"), "--workers", "2")
    assert run.returncode == 1, run.stderr
    assert "[2/2]" in run.stdout
    assert (run.stdout + run.stderr).count(not_a_video.name) == 1, run.stdout + run.stderr


_NOTEBOOK_CELL = """\
import json
from framesift.cli.progress_bar import BatchProgressBar
from framesift.progress import ProgressEvent

bar = BatchProgressBar()
bar.video_progress(ProgressEvent("a.mp4", "sample", 1.0, 2.0))
bar.close()
print(json.dumps({"enabled": bar.enabled}))
"""


def _run_in_kernel(tmp_path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(_NOTEBOOK_CELL)]
    nbformat.write(notebook, tmp_path / "bar.ipynb")
    papermill.execute_notebook(
        str(tmp_path / "bar.ipynb"),
        str(tmp_path / "ran.ipynb"),
        kernel_name="python3",
        progress_bar=False,
    )
    return nbformat.read(tmp_path / "ran.ipynb", as_version=4)


def _outputs(notebook: nbformat.NotebookNode) -> tuple[dict[str, object], set[str]]:
    outputs = notebook.cells[-1].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    kinds = {kind for o in outputs for kind in o.get("data", {})}
    kinds |= {f"stream:{o['name']}" for o in outputs if o.get("output_type") == "stream"}
    return json.loads(printed), kinds


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_quiet_under_papermill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    printed, kinds = _outputs(_run_in_kernel(tmp_path))
    assert printed == {"enabled": False}
    assert kinds == {"stream:stdout"}  # no widget, nothing on stderr


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_widget_in_a_notebook_open_in_jupyter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kernel that a Jupyter server started for a notebook (it names the session) shows
    tqdm's notebook widget."""
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "bar.ipynb"))
    printed, kinds = _outputs(_run_in_kernel(tmp_path))
    assert printed == {"enabled": True}
    assert "application/vnd.jupyter.widget-view+json" in kinds
