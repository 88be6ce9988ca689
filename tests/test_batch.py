"""Many videos at once: the same ingest on a process pool and on a real Dask LocalCluster
gives the catalog the serial run gives, keeps going past a bad file, and resumes."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import framesift as fs
import media
from catalog_support import CatalogTarget
from framesift.batch import ExecutorSpec, open_executor
from framesift.catalog import STAGES, IngestJob
from framesift.catalog.faults import FAULT_ENV, HANG_ENV, set_fault_hook
from framesift.catalog.stages import stage_field
from framesift.cli import main
from framesift.errors import SettingsError, StorageError
from framesift.source import Source
from framesift.spec import settings_fingerprint
from processes import alive as _alive
from processes import descendants as _descendants

pytest_plugins = ["fixtures_catalog"]

SPEC = fs.SamplingSpec(interval_s=1.0, detector="content", min_scene_len_frames=5)
COMPARED = ["video_id", "frame_index", "time_s", "pts", "keyframe", "scene_index", "reasons"]


@pytest.fixture(scope="module")
def sources(cuts_video, vfr_video, rotated_video, not_a_video) -> list[str]:
    return [str(p) for p in (cuts_video.path, vfr_video.path, rotated_video.path, not_a_video)]


@pytest.fixture(scope="module")
def serial_catalog(sources: list[str], tmp_path_factory: pytest.TempPathFactory) -> fs.Catalog:
    url = str(tmp_path_factory.mktemp("serial") / "catalog")
    summary = fs.ingest(sources, url, SPEC)
    assert summary.counts == {"ingested": 3, "replaced": 0, "updated": 0, "skipped": 0, "failed": 1}
    return fs.Catalog(url)


@pytest.mark.parametrize(
    "executor",
    [
        pytest.param(ExecutorSpec("process", workers=2), id="process-pool"),
        pytest.param(ExecutorSpec("dask", workers=2), id="dask-local-cluster"),
    ],
)
@pytest.mark.timeout(240)
def test_parallel_ingest_equals_serial_and_resumes(
    executor: ExecutorSpec,
    sources: list[str],
    serial_catalog: fs.Catalog,
    catalog_url: CatalogTarget,
) -> None:
    # Workers open the catalog themselves, from its URL and options: a folder or the S3
    # server (moto, over HTTP on 127.0.0.1, reached from the worker processes too).
    url, options = catalog_url.url, catalog_url.storage_options
    finished: list[tuple[str, int, int]] = []
    summary = fs.ingest(
        sources,
        url,
        SPEC,
        executor=executor,
        storage_options=options,
        source_options={},
        progress=lambda outcome, done, total: finished.append((outcome.status, done, total)),
    )
    # One bad file is a failed outcome, the others go in; progress hears of every video.
    assert summary.counts == {"ingested": 3, "replaced": 0, "updated": 0, "skipped": 0, "failed": 1}
    assert [o.source_url for o in summary.outcomes] == sources
    assert sorted(done for _, done, _ in finished) == [1, 2, 3, 4]
    cat = fs.Catalog(url, options)
    expected = serial_catalog.frames().select(COMPARED)
    assert cat.frames().select(COMPARED).equals(expected)
    assert cat.scenes().drop("score").equals(serial_catalog.scenes().drop("score"))
    jobs = cat.jobs()
    failed = jobs.filter(pl.col("state") == "failed")
    assert failed["source_url"].to_list() == [sources[-1]]
    assert "not a media file" in failed["error_message"][0]
    assert jobs.filter(pl.col("state") == "done").height == 3
    # The videos ran in worker processes, not in this one.
    pids = {w.rsplit(":", 1)[1] for w in jobs["worker"].to_list()}
    assert str(os.getpid()) not in pids
    # Resumable: a re-run finds every good video committed and skips it.
    again = fs.ingest(
        sources, url, SPEC, executor=executor, storage_options=options, source_options={}
    )
    assert again.counts == {"ingested": 0, "replaced": 0, "updated": 0, "skipped": 3, "failed": 1}
    assert fs.Catalog(url, options).frames().height == expected.height


def test_cli_ingest_with_workers(cuts_video, vfr_video, tmp_path: Path, capsys) -> None:
    catalog = tmp_path / "catalog"
    args = ["ingest", str(cuts_video.path), str(vfr_video.path), "--catalog", str(catalog)]
    assert main([*args, "--workers", "2", "--min-scene-len", "5"]) == 0
    out = capsys.readouterr().out
    assert "2 ingested" in out
    assert main([*args, "--workers", "0"]) == 2
    assert "argument --workers: 0 is out of range: 1 or more" in capsys.readouterr().err


def test_executor_settings_are_checked() -> None:
    with pytest.raises(SettingsError, match="allowed serial, process, dask"):
        ExecutorSpec("threads")  # type: ignore[arg-type]
    with pytest.raises(SettingsError, match="dask executor only"):
        ExecutorSpec("process", workers=2, address="tcp://127.0.0.1:8786")
    assert ExecutorSpec("process", workers=2).decode_threads() >= 2
    assert ExecutorSpec("dask", address="tcp://127.0.0.1:8786").decode_threads() == 0
    with open_executor(ExecutorSpec()) as pool:
        assert pool is None  # serial: in this process


def test_unreachable_scheduler_is_a_clear_error(cuts_video, tmp_path: Path) -> None:
    spec = ExecutorSpec("dask", address="tcp://127.0.0.1:9", connect_timeout_s=2)  # no one there
    url = str(tmp_path / "catalog")
    with pytest.raises(SettingsError, match="cannot reach the Dask scheduler"):
        fs.ingest([str(cuts_video.path)], url, SPEC, executor=spec)
    assert fs.Catalog(url).jobs().height == 0  # nothing was queued, so nothing is left queued


@pytest.mark.timeout(240)
def test_a_worker_killed_mid_video_is_retried_alone_then_failed_then_resumed(
    cuts_video, vfr_video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [str(cuts_video.path), str(vfr_video.path)]
    url = str(tmp_path / "catalog")
    executor = ExecutorSpec("process", workers=2)
    # Every worker SIGKILLs itself after writing its parts, before the commit marker.
    monkeypatch.setenv(FAULT_ENV, "after_parts")
    killed = fs.ingest(sources, url, SPEC, executor=executor)
    assert killed.counts["failed"] == 2
    assert {o.error_type for o in killed.outcomes} == {"WorkerLostError"}
    cat = fs.Catalog(url)
    assert cat.frames().height == 0  # nothing half-written is visible
    jobs = cat.jobs()
    assert set(jobs["state"].to_list()) == {"failed"}
    # Each video lost its worker twice: once beside the other, once alone (a job that
    # never started when the pool broke is run again without counting as a try).
    assert jobs["attempts"].to_list() == [2, 2]
    assert set(jobs["error_message"].str.contains("also when retried alone")) == {True}
    # A lost worker is transient: the ledger says so (and a re-run tries again).
    assert jobs["failure_kind"].to_list() == ["transient", "transient"]
    assert {o.failure_kind for o in killed.outcomes} == {"transient"}
    monkeypatch.delenv(FAULT_ENV)
    resumed = fs.ingest(sources, url, SPEC, executor=executor)
    assert resumed.counts["ingested"] == 2
    assert fs.Catalog(url).videos().height == 2


def _running_workers(url: str, want: int, timeout_s: float = 120.0) -> dict[str, int]:
    """Source URL -> pid of the worker running it, once ``want`` sources are running."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (Path(url) / "jobs").is_dir():
            jobs = fs.Catalog(url, create=False).jobs().filter(pl.col("state") == "running")
            if jobs.height >= want:
                return {
                    row["source_url"]: int(row["worker"].rsplit(":", 1)[1])
                    for row in jobs.iter_rows(named=True)
                }
        time.sleep(0.2)
    raise AssertionError(f"fewer than {want} sources running after {timeout_s} s")


@pytest.mark.timeout(300)
def test_a_lost_worker_costs_only_its_video_and_the_others_go_on(
    cuts_video, vfr_video, rotated_video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [str(cuts_video.path), str(vfr_video.path), str(rotated_video.path)]
    url = str(tmp_path / "catalog")
    # The first two videos hold their workers until the test kills one of them by PID.
    monkeypatch.setenv(HANG_ENV, "after_fingerprint")
    result: dict[str, fs.batch.IngestSummary] = {}

    def batch() -> None:
        result["summary"] = fs.ingest(sources, url, SPEC, executor=ExecutorSpec("process", 2))

    thread = threading.Thread(target=batch)
    thread.start()
    running = _running_workers(url, 2)
    victim = sorted(running)[0]
    monkeypatch.delenv(HANG_ENV)  # the workers of the next pool run freely
    os.kill(running[victim], signal.SIGKILL)
    thread.join(timeout=240)
    assert not thread.is_alive()
    summary = result["summary"]
    # The killed video was retried once, alone; the one beside it too (its worker went
    # with the broken pool); the third had not started and ran once.
    assert summary.counts["ingested"] == 3
    attempts = dict(fs.Catalog(url).jobs().select("source_url", "attempts").iter_rows())
    assert attempts[victim] == 2
    assert sorted(attempts.values()) == [1, 2, 2]
    assert fs.Catalog(url).videos().height == 3


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("kind", ["process", pytest.param("dask", marks=pytest.mark.slow)])
@pytest.mark.timeout(300)
def test_workers_never_outlive_the_batch(kind: str, cuts_video, vfr_video, tmp_path: Path) -> None:
    url = str(tmp_path / "catalog")
    sources = [str(cuts_video.path), str(vfr_video.path)]
    script = tmp_path / "batch.py"
    script.write_text(
        "import sys\n"
        "import framesift as fs\n"
        "from framesift.batch import ExecutorSpec\n"
        "if __name__ == '__main__':\n"
        "    fs.ingest(sys.argv[3:], sys.argv[1], executor=ExecutorSpec(sys.argv[2], workers=2))\n"
    )
    env = {**os.environ, HANG_ENV: "after_fingerprint", "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen([sys.executable, str(script), url, kind, *sources], env=env)
    try:
        running = _running_workers(url, 2)
        below = _descendants(parent.pid)
        assert set(running.values()) <= below  # the workers are this batch's
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in below):
            time.sleep(0.2)
        assert [p for p in below if _alive(p)] == []
    finally:
        parent.kill()
    # What the killed batch left shows as interrupted, not as running or queued.
    cat = fs.Catalog(url, create=False)
    assert set(cat.jobs()["state"].to_list()) == {"interrupted"}
    assert len(cat.totals().interrupted) == 2


def test_a_video_over_a_limit_fails_alone(cuts_video, tmp_path: Path, capsys) -> None:
    import av
    import numpy as np

    large = tmp_path / "large.mp4"
    with av.open(str(large), "w") as container:
        stream = container.add_stream("mpeg4", rate=1)
        stream.width, stream.height = 1200, 1200
        picture = av.VideoFrame.from_ndarray(np.zeros((1200, 1200, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(picture), *stream.encode()]:
            container.mux(packet)
    limits = fs.LimitsSpec(max_pixels=1_000_000)
    spec = dataclasses.replace(SPEC, decode=fs.DecodeSpec(limits=limits))
    summary = fs.ingest([str(large), str(cuts_video.path)], str(tmp_path / "catalog"), spec)
    assert summary.counts["ingested"] == 1
    (failed,) = summary.failed
    assert failed.error_type == "MediaLimitError"
    assert "1200x1200" in (failed.error_message or "")
    # The same from the command line; 0 switches the limit off.
    args = ["ingest", str(large), "--catalog", str(tmp_path / "cli")]
    assert main([*args, "--max-pixels", "1000000"]) == 1
    assert "MediaLimitError" in capsys.readouterr().out
    assert main([*args, "--max-pixels", "0"]) == 0


def test_a_job_is_one_picklable_value(tmp_path: Path) -> None:
    """What a worker receives: one frozen value that survives pickling, whose settings hash
    is the catalog's and whose decoding choices change neither the hash nor the output."""
    spec = fs.SamplingSpec(interval_s=2.0, decode=fs.DecodeSpec(threads=3))
    text = fs.TextSpec(sidecars=False)
    job = IngestJob(
        Source("s3://bucket/a.mp4", {"anon": True}),
        str(tmp_path / "catalog"),
        spec,
        text,
        decode_threads=6,
        fast_segments=2,
    )
    assert pickle.loads(pickle.dumps(job)) == job
    assert job.settings_hash == settings_fingerprint(spec, text)
    assert job.sampling_spec.decode.threads == 3  # the spec's own choice stays
    assert job.sampling_spec.decode.segments == 2  # an automatic one is filled
    assert job.sampling_spec.fingerprint() == spec.fingerprint()
    assert dataclasses.replace(job, text=fs.TextSpec()).settings_hash != job.settings_hash
    with pytest.raises(SettingsError, match="decode_threads"):
        IngestJob(Source("a.mp4"), str(tmp_path), decode_threads=-1)


@pytest.fixture(scope="module")
def timed_pair(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two videos long enough (200 frames of 640x360) that a commit is short beside a
    decoding pass, as in real footage."""
    folder = tmp_path_factory.mktemp("timed-pair")
    scenes = (((200, 30, 30), "checkerboard"), ("gradient", (30, 30, 200)))
    return [
        str(
            media.make_cuts_video(
                folder,
                colours_or_patterns=(*first, "rings", "checkerboard"),
                frames_per_scene=(50, 50, 50, 50),
                size=(640, 360),
                name=f"timed{i}.mp4",
            ).path
        )
        for i, first in enumerate(scenes)
    ]


def _entries(catalog: Path) -> dict[str, dict[str, Any]]:
    entries = [json.loads(p.read_text()) for p in (catalog / "jobs").glob("*.json")]
    return {e["source_url"]: e for e in entries}


@pytest.mark.timeout(180)
def test_a_serial_batch_commits_each_video_behind_the_next_ones_decoding(
    timed_pair: list[str], tmp_path: Path
) -> None:
    """In one process, a video's write and commit run in a background thread while the
    next video decodes; outcomes reach progress on the batch's thread, in order of
    completion, and each video's stage seconds still add up to its own wall time."""
    threads: dict[str, list[str]] = {}
    heard: list[tuple[str, int, bool]] = []

    def hook(point: str) -> None:
        threads.setdefault(point, []).append(threading.current_thread().name)

    set_fault_hook(hook)
    try:
        summary = fs.ingest(
            timed_pair,
            tmp_path / "catalog",
            SPEC,
            progress=lambda outcome, done, total: heard.append(
                (outcome.source_url, done, threading.current_thread() is threading.main_thread())
            ),
        )
    finally:
        set_fault_hook(None)
    assert summary.counts["ingested"] == 2
    # The commits ran behind the batch's thread; progress heard of them on it.
    assert [name.startswith("framesift-commit") for name in threads["after_commit"]] == [True] * 2
    assert threads["after_fingerprint"] == ["MainThread"] * 2
    assert heard == [(timed_pair[0], 1, True), (timed_pair[1], 2, True)]
    # They overlapped: the second video started before the first one's ledger entry ended.
    entries = _entries(tmp_path / "catalog")
    first, second = (entries[url] for url in timed_pair)
    assert datetime.fromisoformat(second["started_at"]) < datetime.fromisoformat(
        first["finished_at"]
    )
    for entry in entries.values():
        staged = sum(entry.get(stage_field(stage)) or 0.0 for stage in STAGES)
        assert abs(staged - entry["wall_s"]) <= 0.10 * entry["wall_s"], entry
        assert entry["write_s"] > 0
        assert entry["commit_s"] > 0
    assert fs.Catalog(str(tmp_path / "catalog")).frames().height > 0


def test_the_same_content_twice_in_a_batch_is_skipped_after_its_commit(
    cuts_video, tmp_path: Path
) -> None:
    """Two names for one file: the second waits for the first one's background commit and
    is skipped, as one after the other; no conflict, no second generation."""
    copy = tmp_path / "copy.mp4"
    shutil.copyfile(cuts_video.path, copy)
    summary = fs.ingest([str(cuts_video.path), str(copy)], tmp_path / "catalog", SPEC)
    assert summary.counts == {"ingested": 1, "replaced": 0, "updated": 0, "skipped": 1, "failed": 0}
    assert [o.generation for o in summary.outcomes] == [1, 1]


@pytest.mark.timeout(120)
def test_a_catalog_failing_behind_the_next_video_stops_the_batch(
    cuts_video, vfr_video, rotated_video, tmp_path: Path
) -> None:
    """The catalog fails in the background commit of the first video: the batch raises that
    StorageError once the next video is handed over, nothing half-written is visible, the
    unfinished sources are interrupted, and a re-run completes the catalog."""
    sources = [str(v.path) for v in (cuts_video, vfr_video, rotated_video)]
    url = tmp_path / "catalog"

    def fail_first(point: str) -> None:
        if point == "after_parts" and not failed:
            failed.append(threading.current_thread().name)
            raise StorageError("the catalog's storage went away (test)")

    failed: list[str] = []
    set_fault_hook(fail_first)
    try:
        with pytest.raises(StorageError, match="went away"):
            fs.ingest(sources, url, SPEC)
    finally:
        set_fault_hook(None)
    assert failed[0].startswith("framesift-commit")
    assert fs.Catalog(str(url)).video_ids() == []
    states = {source: entry["state"] for source, entry in _entries(url).items()}
    assert states[sources[0]] == "failed"
    assert set(states.values()) <= {"failed", "interrupted"}
    again = fs.ingest(sources, url, SPEC)
    assert again.counts["ingested"] == 3
