"""Many videos at once: the same ingest on a process pool and on a real Dask LocalCluster
gives the catalog the serial run gives, keeps going past a bad file, and resumes."""

from __future__ import annotations

import dataclasses
import os
import pickle
from pathlib import Path

import polars as pl
import pytest

import framesift as fs
from catalog_support import CatalogTarget
from framesift.batch import ExecutorSpec, open_executor
from framesift.catalog import IngestJob
from framesift.catalog.faults import FAULT_ENV
from framesift.cli import main
from framesift.errors import SettingsError
from framesift.source import Source
from framesift.spec import settings_fingerprint

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


def test_unreachable_scheduler_is_a_clear_error(tmp_path: Path) -> None:
    spec = ExecutorSpec("dask", address="tcp://127.0.0.1:9", connect_timeout_s=2)  # no one there
    with pytest.raises(SettingsError, match="cannot reach the Dask scheduler"):
        fs.ingest([], str(tmp_path / "catalog"), SPEC, executor=spec)


@pytest.mark.timeout(240)
def test_a_worker_killed_mid_video_is_a_failed_entry_then_resumed(
    cuts_video, vfr_video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [str(cuts_video.path), str(vfr_video.path)]
    url = str(tmp_path / "catalog")
    executor = ExecutorSpec("process", workers=2)
    # Every worker SIGKILLs itself after writing its parts, before the commit marker.
    monkeypatch.setenv(FAULT_ENV, "after_parts")
    killed = fs.ingest(sources, url, SPEC, executor=executor)
    assert killed.counts["failed"] == 2
    assert all(o.error_type == "BrokenProcessPool" for o in killed.outcomes)
    cat = fs.Catalog(url)
    assert cat.frames().height == 0  # nothing half-written is visible
    jobs = cat.jobs()
    assert set(jobs["state"].to_list()) == {"failed"}
    # Each try counted once: the first worker to die breaks the pool, which kills the other
    # worker, maybe before its job started (then it has no attempt).
    assert sorted(jobs["attempts"].to_list()) in ([0, 1], [1, 1])
    assert set(jobs["error_message"].str.contains("worker failed")) == {True}
    monkeypatch.delenv(FAULT_ENV)
    resumed = fs.ingest(sources, url, SPEC, executor=executor)
    assert resumed.counts["ingested"] == 2
    assert fs.Catalog(url).videos().height == 2


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
