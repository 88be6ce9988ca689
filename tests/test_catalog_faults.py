"""Faults: SIGKILL of the ingest process at every step, and the S3 server going away.

After any of them, readers see exactly one copy of every committed video and nothing of
the interrupted one; a re-run completes the catalog; vacuum leaves only referenced files.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from catalog_support import (
    FAST_RETRY,
    FRAMES_PER_VIDEO,
    SECRET,
    SPEC,
    CatalogTarget,
    S3Server,
    Videos,
    all_files,
    start_s3_server,
)
from framesift.batch import ingest
from framesift.catalog import Catalog, layout
from framesift.catalog.faults import FAULT_ENV, set_fault_hook
from framesift.errors import StorageError

pytest_plugins = ["fixtures_catalog"]

SRC = str(Path(__file__).parents[1] / "src")
CLI = """
import argparse, logging, sys
logging.basicConfig(level=logging.WARNING)
from framesift.cli.ingest import add_ingest_arguments, run_ingest
parser = argparse.ArgumentParser()
add_ingest_arguments(parser)
sys.exit(run_ingest(parser.parse_args(sys.argv[1:])))
"""


def cli_args(target: CatalogTarget, sources: list[str], *extra: str) -> list[str]:
    args = [*sources, "--catalog", target.url, "--detector", "content", "--every", "1", *extra]
    for name, value in target.storage_options.items():
        args += ["--storage-option", f"{name}={json.dumps(value)}"]
    return args


def run_cli(
    target: CatalogTarget, sources: list[str], *extra: str, fault: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-c", CLI, *cli_args(target, sources, *extra)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_consistent(target: CatalogTarget, expected: set[str]) -> Catalog:
    """Exactly one copy of each committed video's rows, nothing else visible, and every
    visible row points at parts and thumbnails that exist."""
    cat = Catalog(target.url, target.storage_options, retry=FAST_RETRY)
    videos = cat.videos()
    assert sorted(videos["video_id"]) == sorted(expected)
    frames = cat.frames()
    assert frames.select("video_id", "frame_index").is_duplicated().sum() == 0
    assert sorted(frames.group_by("video_id").len()["len"]) == [FRAMES_PER_VIDEO] * len(expected)
    assert set(cat.scenes()["video_id"]) == expected
    files = set(all_files(target))
    for uri in frames["thumbnail_uri"]:
        assert cat.image_key(uri) in files
    return cat


# Kill points, with the hit that falls inside the second of three videos
# (each video puts 3 thumbnails and passes every other point once).
KILL_POINTS = [
    pytest.param("after_fingerprint@2", id="after-fingerprint"),
    pytest.param("mid_thumbnails@5", id="mid-thumbnails"),
    pytest.param("after_parts@2", id="after-parts-before-commit"),
    pytest.param("after_commit@2", id="after-commit-before-retire"),
    pytest.param("after_retire@2", id="after-retire-before-ledger"),
]


def backends(faults: list[object], fast_on_s3: str) -> list[object]:
    """(backend, fault) pairs; on S3 only ``fast_on_s3`` runs by default, the rest are slow
    (each S3 case spends ~5 s in subprocess start-up and HTTP round trips)."""
    combos = []
    for f in faults:
        fault_id = f.id  # type: ignore[attr-defined]
        value = f.values[0]  # type: ignore[attr-defined]
        combos.append(pytest.param("local", value, id=f"local-{fault_id}"))
        marks = [pytest.mark.s3] + ([] if fault_id == fast_on_s3 else [pytest.mark.slow])
        combos.append(pytest.param("s3", value, id=f"s3-{fault_id}", marks=marks))
    return combos


@pytest.mark.parametrize(
    ("catalog_url", "fault"),
    backends(KILL_POINTS, fast_on_s3="after-parts-before-commit"),
    indirect=["catalog_url"],
)
def test_sigkill_during_first_ingest_then_rerun(
    catalog_url: CatalogTarget, videos: Videos, fault: str
) -> None:
    sources = [str(p) for p in videos.good]
    killed = run_cli(catalog_url, sources, fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # what readers see right after the crash: whole videos only
    cat = Catalog(catalog_url.url, catalog_url.storage_options)
    committed = set(cat.video_ids())
    jobs = {r["source_url"]: r["state"] for r in cat.jobs().iter_rows(named=True)}
    if fault.startswith(("after_fingerprint", "mid_thumbnails")):
        # Killed early in the second video, while the first one's commit may still have
        # been running behind it (a batch in one process overlaps a video's commit with
        # the next video's decoding): the first video is whole or absent, and its ledger
        # entry says which.
        assert len(committed) <= 1
        assert jobs[sources[0]] == ("done" if committed else "interrupted")
    else:  # a video's commit waits for the one before it
        expected_after_kill = 2 if fault.startswith(("after_commit", "after_retire")) else 1
        assert len(committed) == expected_after_kill
        assert jobs[sources[0]] == "done"
    check_consistent(catalog_url, committed)
    # The ledger shows the killed run: its video done if its commit made it, else
    # interrupted (a batch that ended cannot still be running it).
    done = fault.startswith(("after_commit", "after_retire"))
    assert jobs[sources[1]] == ("done" if done else "interrupted")
    assert jobs[sources[2]] == "interrupted"  # queued when the batch was killed

    rerun = ingest(
        sources, Catalog(catalog_url.url, catalog_url.storage_options), SPEC, retry=FAST_RETRY
    )
    assert rerun.counts["failed"] == 0
    final = check_consistent(
        catalog_url, set(Catalog(catalog_url.url, catalog_url.storage_options).video_ids())
    )
    assert final.videos().height == 3
    assert set(final.jobs()["state"]) == {"done"}
    # the first two ran in both processes; source 3 was queued when the kill came, or
    # had started behind the second video's commit (killed in that commit's thread)
    attempts = final.jobs()["attempts"].to_list()
    assert attempts[:2] == [2, 2]
    in_commit = fault.startswith(("after_parts", "after_commit", "after_retire"))
    assert attempts[2] in ((1, 2) if in_commit else (1,))
    # the leftovers of the killed run are invisible; vacuum removes them
    final.vacuum(grace_s=0)
    assert_only_referenced(catalog_url, final)


FORCE_KILL_POINTS = [
    pytest.param("mid_thumbnails@2", id="mid-thumbnails"),
    pytest.param("after_parts@1", id="after-parts-before-commit"),
    pytest.param("after_commit@1", id="after-commit-before-retire"),
]


@pytest.mark.parametrize(
    ("catalog_url", "fault"),
    backends(FORCE_KILL_POINTS, fast_on_s3="after-commit-before-retire"),
    indirect=["catalog_url"],
)
def test_sigkill_during_force_reingest_keeps_old_rows(
    catalog_url: CatalogTarget, videos: Videos, fault: str
) -> None:
    source = [str(videos.good[0])]
    first = ingest(
        source, Catalog(catalog_url.url, catalog_url.storage_options), SPEC, retry=FAST_RETRY
    )
    vid = first.outcomes[0].video_id
    assert vid is not None
    killed = run_cli(catalog_url, source, "--force", fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    cat = check_consistent(catalog_url, {vid})
    generation = cat.videos()["generation"][0]
    assert generation == (2 if fault.startswith("after_commit") else 1)
    rerun = ingest(
        source,
        Catalog(catalog_url.url, catalog_url.storage_options),
        SPEC,
        force=True,
        retry=FAST_RETRY,
    )
    assert rerun.counts["replaced"] == 1
    cat = check_consistent(catalog_url, {vid})
    assert cat.videos()["generation"][0] == generation + 1
    cat.vacuum(grace_s=0)
    assert_only_referenced(catalog_url, cat)


def assert_only_referenced(target: CatalogTarget, cat: Catalog) -> None:
    state = cat.refresh()
    referenced = {k for c in state.live.values() for k in c.parts.values()}
    referenced |= {layout.commit_key(v, c.generation) for v, c in state.commits.items()}
    prefixes = tuple(c.thumbs_prefix + "/" for c in state.live.values() if c.thumbs_prefix)
    for key in all_files(target):
        assert ".tmp-" not in key, f"leftover {key}"
        if key.startswith(("tables/", "commits/")):
            assert key in referenced, f"leftover {key}"
        elif key.startswith("thumbs/"):
            assert key.startswith(prefixes), f"leftover {key}"


@pytest.mark.s3
# A thumbnail upload in flight on the commit thread when the server stops leaves aiohttp's
# body-writer task with a connection-reset exception nobody awaits; asyncio logs it when the
# task is collected (gc.collect() below keeps that inside this test). Only that is expected.
@pytest.mark.expected_errors(r"(?s)^Task exception was never retrieved.*ClientConnection")
def test_s3_server_down_mid_run(videos: Videos, caplog: pytest.LogCaptureFixture) -> None:
    """The server stops between a video's parts and its commit: retries with backoff, then
    one clear StorageError; the catalog stays consistent and a re-run completes it."""
    s3: S3Server = start_s3_server()
    bucket = s3.create_bucket()
    target = CatalogTarget("s3", f"s3://{bucket}/cat", s3.options(), s3)
    sources = [str(p) for p in videos.good]
    commits = []

    def stop_before_second_commit(point: str) -> None:
        if point == "after_parts":
            commits.append(point)
            if len(commits) == 2:
                s3.server.stop()

    set_fault_hook(stop_before_second_commit)
    try:
        with pytest.raises(StorageError) as info:
            ingest(
                sources,
                Catalog(target.url, target.storage_options, retry=FAST_RETRY),
                SPEC,
                retry=FAST_RETRY,
            )
    finally:
        set_fault_hook(None)
        gc.collect()
    message = str(info.value)
    assert "failed after 3 attempts" in message
    assert "re-run" in message
    assert SECRET not in message
    assert caplog.text.count("retrying in") >= 2
    assert SECRET not in caplog.text

    # the same data, served again (moto keeps state in-process), on a new port
    s3_again = start_s3_server()
    try:
        target = CatalogTarget("s3", target.url, s3_again.options(), s3_again)
        first = check_consistent(
            target, set(Catalog(target.url, target.storage_options).video_ids())
        )
        assert first.videos().height == 1
        summary = ingest(
            sources, Catalog(target.url, target.storage_options), SPEC, retry=FAST_RETRY
        )
        assert summary.counts == {
            "ingested": 2,
            "replaced": 0,
            "updated": 0,
            "skipped": 1,
            "failed": 0,
        }
        check_consistent(
            target, set(summary_ids := {o.video_id for o in summary.outcomes if o.video_id})
        )
        assert len(summary_ids) == 3
    finally:
        s3_again.server.stop()
        gc.collect()
