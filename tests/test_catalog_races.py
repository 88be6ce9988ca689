"""Compaction and vacuum racing commits: real processes, on both backends.

Steps are ordered with the fault points in ``:stop`` mode (the process stops itself with
SIGSTOP there and the test continues it), so an interleaving that once lost or duplicated
a video is forced every time; a stress round runs two compactors and an ingest at once.
After each round every committed video is visible exactly once, whole.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from catalog_support import (
    FAST_RETRY,
    FRAMES_PER_VIDEO,
    SPEC,
    CatalogTarget,
    Videos,
    framesift_process,
    make_video,
    resume,
    storage_option_args,
    wait_stopped,
)
from framesift.batch import ingest
from framesift.catalog import Catalog

pytest_plugins = ["fixtures_catalog"]


def open_catalog(target: CatalogTarget) -> Catalog:
    return Catalog(target.url, target.storage_options, retry=FAST_RETRY, max_staleness_s=0)


def assert_each_video_once(target: CatalogTarget) -> set[str]:
    """Every video that video_ids() lists appears exactly once in every table, whole."""
    cat = open_catalog(target)
    ids = set(cat.video_ids())
    videos = cat.videos()
    assert sorted(videos["video_id"]) == sorted(ids)
    frames = cat.frames()
    assert frames.select("video_id", "frame_index").is_duplicated().sum() == 0
    counts = dict(frames.group_by("video_id").len().iter_rows())
    assert counts == dict.fromkeys(ids, FRAMES_PER_VIDEO)
    analysis = cat.analysis()
    assert analysis.select("video_id", "frame_index").is_duplicated().sum() == 0
    assert set(analysis["video_id"]) == ids
    summed = cat.sql("SELECT count(DISTINCT video_id) AS v, count(*) AS n FROM videos")
    assert summed.row(0) == (len(ids), len(ids))
    assert cat.totals().videos == len(ids)
    return ids


def vacuum_args(target: CatalogTarget) -> list[str]:
    return [
        "catalog",
        "vacuum",
        "--grace",
        "0",
        "--catalog",
        target.url,
        *storage_option_args(target),
    ]


def compact_args(target: CatalogTarget) -> list[str]:
    return ["catalog", "compact", "--catalog", target.url, *storage_option_args(target)]


def ingest_args(target: CatalogTarget, source: Path) -> list[str]:
    return ["ingest", str(source), "--catalog", target.url, *storage_option_args(target)]


def finish(proc: object, log: Path) -> str:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    code = proc.wait(timeout=120)
    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text
    return text


ORDERS = [
    # The loser lists after a commit and overwrites the winner's files (old layout: the
    # winner's snapshot then omitted a video its files held: duplicated rows).
    pytest.param("winner-first", id="loser-saw-more"),
    # The loser listed before a commit and writes last (old layout: the winner's snapshot
    # named a video its files no longer held: the video vanished).
    pytest.param("loser-first", id="loser-saw-less"),
]


@pytest.mark.parametrize("order", ORDERS)
def test_two_compactors_and_a_commit_in_forced_orders(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path, order: str
) -> None:
    ingest([str(videos.good[0])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
    logs = {name: tmp_path / f"{name}.log" for name in ("winner", "loser")}
    if order == "winner-first":
        winner = framesift_process(
            compact_args(catalog_url), fault="compact_files_written:stop", log_to=logs["winner"]
        )
        wait_stopped(winner, logs["winner"])
        ingest([str(videos.good[1])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
        loser = framesift_process(
            compact_args(catalog_url), fault="compact_files_written:stop", log_to=logs["loser"]
        )
        wait_stopped(loser, logs["loser"])
    else:
        loser = framesift_process(
            compact_args(catalog_url),
            fault="compact_listed:stop,compact_files_written:stop",
            log_to=logs["loser"],
        )
        wait_stopped(loser, logs["loser"])
        ingest([str(videos.good[1])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
        winner = framesift_process(
            compact_args(catalog_url), fault="compact_files_written:stop", log_to=logs["winner"]
        )
        wait_stopped(winner, logs["winner"])
        resume(loser)
        wait_stopped(loser, logs["loser"])
    resume(winner)
    assert "snapshot 1" in finish(winner, logs["winner"])
    assert len(assert_each_video_once(catalog_url)) == 2
    resume(loser)
    assert "nothing to compact" in finish(loser, logs["loser"])
    assert len(assert_each_video_once(catalog_url)) == 2
    # the loser cleaned up after itself: only the winner's compacted files are left
    cat = open_catalog(catalog_url)
    state = cat.refresh()
    assert state.snapshot is not None
    compacted = set(cat.storage.list_files("compact", stat=False))
    assert compacted == set(state.snapshot.tables.values())


def stress_rounds(kind: str) -> int:
    return 4 if kind == "local" else 2


@pytest.mark.parametrize(
    "catalog_url",
    ["local", pytest.param("s3", marks=[pytest.mark.s3, pytest.mark.slow])],
    indirect=True,
)
def test_two_compactors_and_an_ingest_at_once(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    ingest([str(videos.good[0])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
    expected = 1
    for round_no in range(stress_rounds(catalog_url.kind)):
        shade = 20 + 40 * round_no
        source = make_video(
            tmp_path / f"round{round_no}.mp4", [(shade, 0, 90), (0, shade, 30), (90, 90, shade)]
        )
        logs = [tmp_path / f"r{round_no}-{i}.log" for i in range(3)]
        procs = [
            framesift_process(compact_args(catalog_url), log_to=logs[0]),
            framesift_process(ingest_args(catalog_url, source), log_to=logs[1]),
            framesift_process(compact_args(catalog_url), log_to=logs[2]),
        ]
        for proc, log in zip(procs, logs, strict=True):
            finish(proc, log)
        expected += 1
        assert len(assert_each_video_once(catalog_url)) == expected, f"round {round_no}"
    # and once more after a last compaction that sees everything; it has nothing to do
    # when the last round's second compactor listed after that round's ingest committed
    cat = open_catalog(catalog_url)
    cat.compact()
    state = cat.refresh()
    assert state.snapshot is not None
    assert len(state.snapshot.videos) == expected
    assert cat.compact() is None  # everything is in the snapshot now
    assert len(assert_each_video_once(catalog_url)) == expected


def test_vacuum_fences_a_commit_in_flight(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    """``vacuum --grace 0`` while an ingest stopped between its parts and its commit: the
    ingest's files go only after vacuum closed their generation, so the ingest cannot
    commit parts that no longer exist; it fails that video, and a re-run ingests it."""
    ingest([str(videos.good[0])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
    log = tmp_path / "ingest.log"
    writer = framesift_process(
        ingest_args(catalog_url, videos.good[1]), fault="after_parts:stop", log_to=log
    )
    wait_stopped(writer, log)
    vacuum_log = tmp_path / "vacuum.log"
    vacuum = framesift_process(
        vacuum_args(catalog_url),
        log_to=vacuum_log,
    )
    finish(vacuum, vacuum_log)
    resume(writer)
    assert writer.wait(timeout=120) == 1, log.read_text()  # that video failed, typed
    assert "CatalogConflictError" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert len(assert_each_video_once(catalog_url)) == 1
    assert open_catalog(catalog_url).check().ok
    again = ingest([str(videos.good[1])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
    assert again.counts["ingested"] == 1
    assert len(assert_each_video_once(catalog_url)) == 2


def test_sigkill_mid_compaction_and_vacuum_keeps_every_video(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    # a published snapshot, then a compaction killed before publishing (its files pending)
    for n, point in enumerate(("compact_published", "compact_files_written")):
        ingest([str(videos.good[n])], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
        log = tmp_path / f"{point}.log"
        proc = framesift_process(compact_args(catalog_url), fault=point, log_to=log)
        assert proc.wait(timeout=120) == -signal.SIGKILL, log.read_text()
        assert len(assert_each_video_once(catalog_url)) == n + 1
    log = tmp_path / "vacuum.log"
    proc = framesift_process(
        vacuum_args(catalog_url),
        fault="vacuum_fenced",
        log_to=log,
    )
    assert proc.wait(timeout=120) == -signal.SIGKILL, log.read_text()
    assert len(assert_each_video_once(catalog_url)) == 2
    cat = open_catalog(catalog_url)
    assert cat.compact() is not None
    cat.vacuum(grace_s=0)
    assert len(assert_each_video_once(catalog_url)) == 2
    assert set(cat.storage.list_files("compact", stat=False)) == set(
        cat.refresh().snapshot.tables.values()  # type: ignore[union-attr]
    )
