"""The jobs ledger as a record of where the time went and what failed how: seconds per
stage that add up to each run's wall time, ``framesift jobs [--failed] [--json]``,
``ingest --retry-failed``, transient failures retried with backoff and deterministic ones
not, and ledger entries written before these fields existed."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import fsspec
import pytest

import framesift as fs
import media
from catalog_support import FaultProxy, S3Server
from framesift.batch import ExecutorSpec
from framesift.catalog import STAGES, IngestJob, ingest_one
from framesift.catalog.jobs import job_id_for
from framesift.cli import main
from framesift.errors import NotAVideoError, SettingsError, StorageError, WorkerLostError
from framesift.retries import failure_kind
from framesift.source import Source
from framesift.storage import RetryPolicy

pytest_plugins = ["fixtures_catalog"]

SPEC = fs.SamplingSpec(interval_s=1.0, detector="content")
RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)


@pytest.fixture(scope="module")
def timed_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A video long enough (200 frames of 640x360) that its stages, not the fixed costs
    of a run, make up its wall time, as in real footage."""
    return media.make_cuts_video(
        tmp_path_factory.mktemp("timed"),
        colours_or_patterns=((200, 30, 30), "checkerboard", "gradient", "rings"),
        frames_per_scene=(50, 50, 50, 50),
        size=(640, 360),
        name="timed.mp4",
    ).path


def ledger_entries(catalog: str) -> dict[str, dict[str, Any]]:
    """The ledger's JSON documents as written, by source URL."""
    entries = [json.loads(p.read_text()) for p in (Path(catalog) / "jobs").glob("*.json")]
    return {e["source_url"]: e for e in entries}


def stage_sum(entry: dict[str, Any]) -> float:
    return sum(entry.get(f"{stage}_s") or 0.0 for stage in STAGES)


@pytest.mark.parametrize(
    "executor",
    [
        pytest.param(ExecutorSpec("serial"), id="serial"),
        pytest.param(ExecutorSpec("process", workers=1), id="process-pool"),
    ],
)
@pytest.mark.timeout(180)
def test_stage_seconds_add_up_to_the_wall_time(
    timed_video: Path, tmp_path: Path, executor: ExecutorSpec
) -> None:
    url = str(tmp_path / "catalog")
    summary = fs.ingest([str(timed_video)], url, SPEC, executor=executor)
    assert summary.counts["ingested"] == 1
    entry = ledger_entries(url)[str(timed_video)]
    wall = entry["wall_s"]
    # The wall time is the run's own: at least the span of its ledger timestamps, at
    # most the batch's.
    span = (
        datetime.fromisoformat(entry["finished_at"]) - datetime.fromisoformat(entry["started_at"])
    ).total_seconds()
    assert span - 0.01 <= wall <= summary.seconds
    assert summary.outcomes[0].seconds == pytest.approx(wall, abs=1e-3)
    # Every stage that ran was timed, none that did not, and together they are the run.
    ran = ("fingerprint", "probe", "decode", "encode", "text_subtitles", "write", "commit")
    for stage in ran:
        assert entry[f"{stage}_s"] > 0, stage
    assert entry["decode_s"] > entry["encode_s"] > 0
    assert entry.get("text_speech_s") is None
    assert entry.get("text_ocr_s") is None
    assert abs(stage_sum(entry) - wall) <= 0.10 * wall, (stage_sum(entry), wall)
    # Where it ran.
    assert entry["host"] == socket.gethostname()
    assert entry["worker"] == f"{entry['host']}:{entry['pid']}"
    assert (entry["pid"] == os.getpid()) == (executor.kind == "serial")
    # The catalog's totals sum the same seconds.
    stages = fs.Catalog(url).totals().stages
    assert stages.runs == 1
    assert stages.wall_s == pytest.approx(wall)
    assert dict(stages.seconds)["decode"] == pytest.approx(entry["decode_s"])
    assert 0 <= stages.unaccounted_s <= 0.10 * wall


def test_jobs_command_lists_the_ledger_and_its_failures(
    timed_video: Path, not_a_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "catalog")
    fs.ingest([str(timed_video), str(not_a_video)], url, SPEC)
    capsys.readouterr()

    assert main(["jobs", "--catalog", url]) == 0
    out = capsys.readouterr().out
    good, bad = (next(line for line in out.splitlines() if str(p) in line) for p in
                 (timed_video, not_a_video))  # fmt: skip
    assert good.startswith("done")
    assert "ingested" in good
    assert "decode " in good
    assert bad.startswith("failed")
    assert "NotAVideoError (deterministic)" in bad
    assert out.rstrip().endswith("2 sources")

    assert main(["jobs", "--catalog", url, "--failed"]) == 0
    out = capsys.readouterr().out
    assert str(not_a_video) in out
    assert str(timed_video) not in out
    assert out.rstrip().endswith("1 source failed")

    assert main(["jobs", url, "--failed", "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["source_url"] == str(not_a_video)
    assert (entry["state"], entry["error_type"]) == ("failed", "NotAVideoError")
    assert (entry["failure_kind"], entry["attempts"]) == ("deterministic", 1)
    assert entry["fingerprint_s"] > 0
    assert entry["wall_s"] >= entry["fingerprint_s"]

    assert main(["catalog", "summary", url]) == 0
    out = capsys.readouterr().out
    assert "time of the latest runs of 2 sources" in out
    assert "decode " in out


def test_a_stage_that_did_not_run_is_blank(
    not_a_video: Path,
    truncated_video: media.TruncatedVideo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each failed job lists the stages that ran, however short (0.00 s), and no other: a
    job without analyzers has no analyzers stage, whether it stopped at the probe (not a
    video) or in the pass (a truncated file)."""
    url = str(tmp_path / "catalog")
    broken = [str(not_a_video), str(truncated_video.path)]
    assert fs.ingest(broken, url, SPEC).counts["failed"] == 2
    capsys.readouterr()
    assert main(["jobs", url, "--json"]) == 0
    ran = {
        entry["source_url"]: [stage for stage in STAGES if entry[f"{stage}_s"] is not None]
        for entry in json.loads(capsys.readouterr().out)
    }
    assert ran[str(not_a_video)] == ["fingerprint", "probe"]
    assert "analyzers" not in ran[str(truncated_video.path)]
    assert main(["jobs", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    for source, stages in ran.items():
        (line,) = [line for line in lines if source in line and "[" in line]
        listed = re.search(r"\[(.*)\]", line).group(1)  # type: ignore[union-attr]
        assert re.findall(r"(\w+) \d+\.\d\d", listed) == stages, line


def test_a_broken_file_is_not_retried(
    not_a_video: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = str(tmp_path / "catalog")
    with caplog.at_level(logging.WARNING, logger="framesift.catalog.ingest"):
        summary = fs.ingest([str(not_a_video)], url, SPEC, retry=RETRY)
    (outcome,) = summary.outcomes
    assert (outcome.status, outcome.failure_kind) == ("failed", "deterministic")
    entry = ledger_entries(url)[str(not_a_video)]
    assert (entry["failure_kind"], entry["attempts"]) == ("deterministic", 1)
    assert "trying again" not in caplog.text


def test_retry_failed_runs_only_the_failed_sources(
    timed_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "footage"
    folder.mkdir()
    good = folder / "good.mp4"
    good.write_bytes(timed_video.read_bytes())
    broken = folder / "broken.mp4"
    broken.write_bytes(b"not a video, yet")
    url = str(tmp_path / "catalog")
    assert main(["ingest", str(folder), "--catalog", url, "--every", "1"]) == 1
    before = ledger_entries(url)
    assert before[str(broken)]["state"] == "failed"
    capsys.readouterr()

    # Nothing to do while the file is still broken... but it is tried again.
    assert main(["ingest", "--catalog", url, "--every", "1", "--retry-failed"]) == 1
    out = capsys.readouterr().out
    assert str(broken) in out
    assert str(good) not in out
    assert ledger_entries(url)[str(broken)]["attempts"] == 2

    # Mended, it goes in; the good video is not run again (its entry is untouched).
    broken.write_bytes(media.make_cuts_video(
        tmp_path, colours_or_patterns=((0, 0, 255), "stripes"), frames_per_scene=(10, 10),
        name="mended.mp4",
    ).path.read_bytes())  # fmt: skip
    assert main(["ingest", str(folder), "--catalog", url, "--every", "1", "--retry-failed"]) == 0
    out = capsys.readouterr().out
    assert "1 video in" in out
    assert "1 ingested" in out
    assert str(good) not in out
    after = ledger_entries(url)
    assert after[str(good)] == before[str(good)]
    assert (after[str(broken)]["state"], after[str(broken)]["attempts"]) == ("done", 3)

    # No failures left: nothing runs.
    assert main(["ingest", "--catalog", url, "--retry-failed"]) == 0
    assert "0 videos" in capsys.readouterr().out
    # Without sources and without --retry-failed the command says what is missing.
    assert main(["ingest", "--catalog", url]) == 2
    assert "no SOURCE given" in capsys.readouterr().err


def test_old_ledger_entries_without_timings_still_read(
    timed_video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = str(tmp_path / "catalog")
    fs.ingest([str(timed_video)], url, SPEC)
    old_url = "/footage/old.mp4"
    old = {  # an entry as framesift wrote it before the ledger kept stage times
        "job_id": job_id_for(old_url), "source_url": old_url, "video_id": None,
        "state": "failed", "outcome": None, "settings_hash": "0", "attempts": 1,
        "error_type": "NotAVideoError", "error_message": "old.mp4: not a video",
        "started_at": "2026-01-01T00:00:00+00:00", "finished_at": "2026-01-01T00:00:01+00:00",
        "updated_at": "2026-01-01T00:00:01+00:00", "worker": "old-host:1", "run": "old-host:1",
    }  # fmt: skip
    (Path(url) / "jobs" / f"{old['job_id']}.json").write_text(json.dumps(old))
    cat = fs.Catalog(url)
    jobs = cat.jobs().sort("source_url")
    assert jobs["source_url"].to_list() == [old_url, str(timed_video)]
    row = jobs.row(0, named=True)
    assert row["wall_s"] is None
    assert row["failure_kind"] is None
    assert row["decode_s"] is None
    assert cat.totals().stages.runs == 1  # the old entry has no times to count
    assert main(["jobs", "--catalog", url, "--failed"]) == 0
    out = capsys.readouterr().out
    assert old_url in out
    assert "no stage times" in out


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(s3_server.endpoint_url)
    yield fault_proxy
    fault_proxy.stop()


@pytest.mark.s3
@pytest.mark.timeout(120)
def test_a_transient_storage_error_is_retried_and_recorded(
    s3_server: S3Server,
    proxy: FaultProxy,
    timed_video: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The source is read from the S3 test server through a proxy that answers 500 for a
    while: the video is tried again with backoff, and the ledger says the failure was
    transient."""
    bucket = s3_server.create_bucket()
    url = f"s3://{bucket}/clip.mp4"
    fsspec.filesystem("s3", **s3_server.options()).pipe(
        url.removeprefix("s3://"), timed_video.read_bytes()
    )
    options = {
        **s3_server.options(),
        "endpoint_url": proxy.endpoint_url,
        # botocore's own retries off: what is retried is decided by framesift alone
        "config_kwargs": {"retries": {"total_max_attempts": 1, "mode": "standard"}},
    }
    catalog = fs.Catalog(str(tmp_path / "catalog"), retry=RETRY)
    job = IngestJob(Source(url, options), catalog.url, SPEC, retry=RETRY)

    proxy.fail(10_000, 500, "InternalError", "We encountered an internal error.")
    with caplog.at_level(logging.WARNING, logger="framesift.catalog.ingest"):
        outcome = ingest_one(job, catalog=catalog)
    assert (outcome.status, outcome.error_type) == ("failed", "StorageError")
    assert outcome.failure_kind == "transient"
    (entry,) = ledger_entries(catalog.url).values()
    assert (entry["state"], entry["failure_kind"]) == ("failed", "transient")
    assert entry["attempts"] == RETRY.attempts  # tried again until the policy gave up
    assert caplog.text.count("trying again") == RETRY.attempts - 1

    # The server recovers while the job waits: the next try goes in.
    proxy.fail(len(proxy.requests) // RETRY.attempts, 500, "InternalError")
    outcome = ingest_one(job, catalog=catalog)
    assert outcome.status == "ingested", outcome
    (entry,) = ledger_entries(catalog.url).values()
    assert entry["state"] == "done"
    assert entry["failure_kind"] is None
    assert entry["attempts"] >= RETRY.attempts + 2  # a failed try, then the good one


def _gave_up() -> StorageError:
    error = StorageError("writing s3://b/k failed after 5 attempts")
    error.transient = True
    return error


def _read_failed_with(cause: BaseException) -> StorageError:
    try:
        raise StorageError("s3://b/clip.mp4: cannot read") from cause
    except StorageError as error:
        return error


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        pytest.param(WorkerLostError("the worker died"), "transient", id="lost-worker"),
        pytest.param(_gave_up(), "transient", id="storage-gave-up-on-transient"),
        pytest.param(_read_failed_with(TimeoutError("read timed out")), "transient", id="timeout"),
        pytest.param(StorageError("s3://b/k: permission denied"), "deterministic", id="denied"),
        pytest.param(NotAVideoError("x.mp4", "not a video"), "deterministic", id="broken-file"),
        pytest.param(SettingsError("interval_s=-1"), "deterministic", id="bad-setting"),
        pytest.param(
            _read_failed_with(FileNotFoundError("gone")), "deterministic", id="missing-key"
        ),
    ],
)
def test_failure_kinds(error: BaseException, kind: str) -> None:
    assert failure_kind(error) == kind
