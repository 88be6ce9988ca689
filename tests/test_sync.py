"""Sync between catalogs (local folder <-> the S3 test server), the background mirror of an
ingest, pictures that stay found when a catalog moves, and full frames decoded on demand."""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from catalog_support import (
    FAST_RETRY,
    FRAMES_PER_VIDEO,
    SECRET,
    SPEC,
    CatalogTarget,
    S3Server,
    Videos,
    all_files,
    framesift_process,
    make_video,
    storage_option_args,
)
from framesift.batch import ingest
from framesift.catalog import Catalog, sync_catalog
from framesift.catalog.commits import latest_commit
from framesift.cli import main
from framesift.errors import MediaNotFoundError, SourceChangedError, SyncError
from framesift.spec import ImageSpec, SamplingSpec
from framesift.storage import Storage

pytest_plugins = ["fixtures_catalog"]

DIRECTIONS = [
    pytest.param(("local", "s3"), id="local-to-s3", marks=pytest.mark.s3),
    pytest.param(("s3", "local"), id="s3-to-local", marks=pytest.mark.s3),
]


def target_of(kind: str, tmp_path: Path, s3: S3Server, name: str) -> CatalogTarget:
    if kind == "local":
        return CatalogTarget("local", str(tmp_path / name))
    return CatalogTarget("s3", f"s3://{s3.create_bucket()}/{name}", s3.options(), s3)


def open_catalog(target: CatalogTarget) -> Catalog:
    return Catalog(target.url, target.storage_options, retry=FAST_RETRY, max_staleness_s=0)


def storage(target: CatalogTarget) -> Storage:
    return Storage(target.url, target.storage_options, retry=FAST_RETRY)


KILL_DIRECTIONS = [
    DIRECTIONS[0],
    # ~1 min on 2 shared cores (a process start-up per kill): with -m "slow or not slow"
    pytest.param(("s3", "local"), id="s3-to-local", marks=[pytest.mark.s3, pytest.mark.slow]),
]


@pytest.fixture(params=DIRECTIONS)
def pair(
    request: pytest.FixtureRequest, tmp_path: Path, s3_server: S3Server
) -> tuple[CatalogTarget, CatalogTarget]:
    src_kind, dst_kind = request.param
    return (
        target_of(src_kind, tmp_path, s3_server, "src"),
        target_of(dst_kind, tmp_path, s3_server, "dst"),
    )


def pictures_of(cat: Catalog) -> pl.DataFrame:
    """The frames table with each picture named by its key (roots differ between copies)."""
    frames = cat.frames()
    return frames.with_columns(
        pl.col("thumbnail_uri").map_elements(cat.image_key, return_dtype=pl.String())
    )


def assert_same_catalog(src: CatalogTarget, dst: CatalogTarget) -> set[str]:
    """``dst`` shows exactly ``src``'s videos, rows and pictures, each video once."""
    a, b = open_catalog(src), open_catalog(dst)
    ids = set(a.video_ids())
    assert set(b.video_ids()) == ids
    for table in ("videos", "scenes", "analysis"):
        assert_frame_equal(getattr(a, table)(), getattr(b, table)())
    assert_frame_equal(pictures_of(a), pictures_of(b))
    assert b.frames().select("video_id", "frame_index").is_duplicated().sum() == 0
    theirs = all_files(dst)
    for key in pictures_of(b)["thumbnail_uri"]:
        Image.open(io.BytesIO(theirs[key])).load()
    assert set(b.jobs()["job_id"]) == set(a.jobs()["job_id"])
    return ids


def assert_frame_equal(left: pl.DataFrame, right: pl.DataFrame) -> None:
    assert left.equals(right), (left, right)


def test_sync_copies_every_video_both_ways_and_again_copies_nothing(
    pair: tuple[CatalogTarget, CatalogTarget], videos: Videos
) -> None:
    src, dst = pair
    summary = ingest([str(p) for p in videos.good[:2]], open_catalog(src), SPEC, retry=FAST_RETRY)
    assert summary.counts["ingested"] == 2
    report = open_catalog(src).sync_to(dst.url, dst.storage_options, retry=FAST_RETRY)
    assert report.ok
    assert len(report.copied) == 2
    assert report.ledger_entries == 2
    commits = open_catalog(src).state().live.values()
    parts = sum(len(c.parts) for c in commits)  # + 3 thumbnails and a marker each
    assert report.objects_copied == parts + 2 * (FRAMES_PER_VIDEO + 1)
    assert report.bytes_copied > 0
    assert len(assert_same_catalog(src, dst)) == 2
    again = open_catalog(src).sync_to(dst.url, dst.storage_options, retry=FAST_RETRY)
    assert (again.copied, again.objects_copied, again.ledger_entries) == ((), 0, 0)
    assert again.present == 2
    assert again.objects_present == 2 * FRAMES_PER_VIDEO
    assert SECRET not in str(report) + str(again)


def test_newer_generations_and_deletions_follow_and_newer_target_commits_stay(
    tmp_path: Path, s3_server: S3Server, videos: Videos
) -> None:
    src = target_of("local", tmp_path, s3_server, "src")
    dst = target_of("s3", tmp_path, s3_server, "dst")
    a, b, c = (str(p) for p in videos.good)
    ingest([a, b, c], open_catalog(src), SPEC, retry=FAST_RETRY)
    assert open_catalog(src).sync_to(dst.url, dst.storage_options).ok
    cat = open_catalog(src)
    id_a, id_b, id_c = (
        cat.videos().filter(pl.col("source_url") == p)["video_id"][0] for p in (a, b, c)
    )
    ingest([a], cat, SPEC, force=True, retry=FAST_RETRY)  # generation 2 of a
    assert cat.delete_video(id_b)  # a tombstone for b
    there = open_catalog(dst)  # the target's own newer commits of c: generations 2 and 3
    ingest([c], there, SPEC, force=True, retry=FAST_RETRY)
    ingest([c], there, SPEC, force=True, retry=FAST_RETRY)
    ingest([c], cat, SPEC, force=True, retry=FAST_RETRY)  # generation 2 of c at the source
    report = cat.sync_to(dst.url, dst.storage_options)
    assert report.copied == (id_a,)
    assert report.tombstones == (id_b,)
    assert report.newer_at_target == (id_c,)
    there = open_catalog(dst)
    assert set(there.video_ids()) == {id_a, id_c}
    assert there.commit_of(id_a).generation == 2  # type: ignore[union-attr]
    assert there.commit_of(id_c).generation == 3  # type: ignore[union-attr]
    assert there.commit_of(id_b).deleted  # type: ignore[union-attr]
    keys = set(there.storage.list_files("tables")) | set(there.storage.list_files("thumbs"))
    assert not [k for k in keys if f"/{id_a}/g0000000001-" in k]  # generation 1 retired
    assert not [k for k in keys if f"/{id_b}/" in k]
    assert len(there.frames(id_a)) == FRAMES_PER_VIDEO
    assert there.check().ok


def catalog_sync_args(src: CatalogTarget, dst: CatalogTarget) -> list[str]:
    args = ["catalog", "sync", src.url, dst.url, "--workers", "2", *storage_option_args(src)]
    for name, value in dst.storage_options.items():
        args += ["--dst-option", f"{name}={json.dumps(value)}"]
    return args


def assert_whole_or_absent(dst: CatalogTarget, expected: set[str]) -> set[str]:
    """Each video the target shows is one of ``expected``, once, whole, its pictures there."""
    if not storage(dst).exists("_catalog.json"):
        return set()
    cat = open_catalog(dst)
    ids = set(cat.video_ids())
    assert ids <= expected
    frames = cat.frames()
    assert frames.select("video_id", "frame_index").is_duplicated().sum() == 0
    assert dict(frames.group_by("video_id").len().iter_rows()) == dict.fromkeys(
        ids, FRAMES_PER_VIDEO
    )
    assert sorted(cat.videos()["video_id"]) == sorted(ids)
    files = set(all_files(dst))
    assert {cat.image_key(u) for u in frames["thumbnail_uri"]} <= files
    return ids


SYNC_POINTS = ("sync_mid_files", "sync_files_copied", "sync_committed")


@pytest.mark.parametrize("direction", KILL_DIRECTIONS)
def test_sigkill_at_random_points_then_rerun_loses_and_duplicates_nothing(
    direction: tuple[str, str], s3_server: S3Server, videos: Videos, tmp_path: Path
) -> None:
    src = target_of(direction[0], tmp_path, s3_server, "src")
    dst = target_of(direction[1], tmp_path, s3_server, "dst")
    ingest([str(p) for p in videos.good], open_catalog(src), SPEC, retry=FAST_RETRY)
    expected = set(open_catalog(src).video_ids())
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    seen: set[str] = set()
    for round_ in range(3):
        point = rng.choice(SYNC_POINTS)
        nth = rng.randint(1, 8 if point == "sync_mid_files" else 2)
        log = tmp_path / f"sync-{round_}.log"
        proc = framesift_process(catalog_sync_args(src, dst), fault=f"{point}@{nth}", log_to=log)
        code = proc.wait(timeout=120)
        text = log.read_text()
        assert code in (0, -signal.SIGKILL), f"seed {seed}: {text}"
        assert "Traceback" not in text, f"seed {seed}: {text}"
        assert SECRET not in text
        shown = assert_whole_or_absent(dst, expected)
        assert seen <= shown, f"seed {seed}: a video vanished from the target"
        seen = shown
    report = sync_catalog(storage(src), storage(dst))
    assert report.ok, f"seed {seed}: {report}"
    assert assert_same_catalog(src, dst) == expected
    assert open_catalog(dst).check().ok


@pytest.mark.s3
def test_ingest_mirror_copies_each_video_in_the_background(
    tmp_path: Path, s3_server: S3Server, videos: Videos
) -> None:
    src = target_of("local", tmp_path, s3_server, "local")
    dst = target_of("s3", tmp_path, s3_server, "mirror")
    summary = ingest(
        [str(p) for p in videos.good[:2]],
        src.url,
        SPEC,
        mirror=dst.url,
        mirror_options=dst.storage_options,
        retry=FAST_RETRY,
    )
    assert summary.mirror is not None
    assert not summary.mirror.failed
    assert set(summary.mirror.copied) == {o.video_id for o in summary.outcomes}
    assert "2 videos copied" in str(summary)
    assert len(assert_same_catalog(src, dst)) == 2


def test_mirror_failures_are_typed_and_leave_local_commits(
    tmp_path: Path, videos: Videos, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = {"endpoint_url": "http://127.0.0.1:9", "key": "k", "secret": SECRET}
    summary = ingest(
        [str(videos.good[0])],
        str(tmp_path / "local"),
        SPEC,
        mirror="s3://nowhere/catalog",
        mirror_options=dead,
        retry=FAST_RETRY,
    )
    assert summary.counts["ingested"] == 1  # the local commit stands
    assert len(Catalog(str(tmp_path / "local")).video_ids()) == 1
    assert summary.mirror is not None
    assert summary.mirror.failed
    assert not summary.mirror.copied
    assert all(isinstance(e, SyncError) for e in summary.mirror.errors)
    assert SECRET not in str(summary.mirror.errors)
    args = ["ingest", str(videos.good[1]), "--catalog", str(tmp_path / "local")]
    args += ["--mirror", "s3://nowhere/catalog"]
    for name, value in dead.items():
        args += ["--mirror-option", f"{name}={value}"]
    assert main(args) == 1
    out = capsys.readouterr()
    assert "1 ingested" in out.out
    assert "SyncError" in out.out
    assert SECRET not in out.out + out.err
    assert "Traceback" not in out.err


def test_a_moved_catalog_finds_its_pictures(tmp_path: Path, videos: Videos) -> None:
    first = tmp_path / "first"
    ingest([str(videos.good[0])], str(first), SPEC)
    raw = next(iter(Catalog(str(first)).storage.list_files("tables/frames")))
    stored = pl.read_parquet(first / raw)["thumbnail_uri"]
    assert all(u.startswith("thumbs/") for u in stored)  # keys, not absolute paths
    moved = tmp_path / "moved"
    shutil.move(first, moved)
    cat = Catalog(str(moved))
    video_id = cat.video_ids()[0]
    for uris in (cat.frames()["thumbnail_uri"], cat.frames(video_id)["thumbnail_uri"]):
        assert all(u.startswith(f"{moved}/thumbs/") for u in uris)
        assert all(Path(u).is_file() for u in uris)
    assert cat.compact() is not None
    assert all(u.startswith(f"{moved}/thumbs/") for u in cat.frames()["thumbnail_uri"])
    compacted = next(iter(cat.storage.list_files("compact/frames")))
    assert all(u.startswith("thumbs/") for u in pl.read_parquet(moved / compacted)["thumbnail_uri"])
    assert cat.show_thumbnails(video_id).items


def test_a_catalog_written_with_absolute_uris_still_reads(tmp_path: Path, videos: Videos) -> None:
    root = tmp_path / "catalog"
    ingest([str(videos.good[0])], str(root), SPEC)
    cat = Catalog(str(root))
    video_id = cat.video_ids()[0]
    part = latest_commit(cat.storage, video_id).parts["frames"]  # type: ignore[union-attr]
    old = pl.read_parquet(root / part)
    old = old.with_columns(
        ("/elsewhere/old-catalog/" + pl.col("thumbnail_uri")).alias("thumbnail_uri")
    )
    old.write_parquet(root / part)  # as framesift wrote it before: absolute, at another root
    cat = Catalog(str(root))
    for frames in (cat.frames(), cat.frames(video_id)):
        assert all(u.startswith(f"{root}/thumbs/") for u in frames["thumbnail_uri"])
    index = int(cat.frames(video_id)["frame_index"][0])
    assert cat.thumbnail(video_id, index).size == (64, 48)


def test_full_frames_decoded_on_demand_equal_stored_ones_and_are_cached(
    catalog_url: CatalogTarget, tmp_path: Path
) -> None:
    source = make_video(
        tmp_path / "clip.mp4", [(255, 0, 0), (0, 0, 255), (0, 255, 0)], size=(96, 64)
    )
    full_spec = SamplingSpec(
        interval_s=1.0, detector="content", image=ImageSpec(full_frames=True, max_side_px=32)
    )
    reference = Catalog(str(tmp_path / "reference"))
    ingest([str(source)], reference, full_spec)
    thumbs_only = SamplingSpec(interval_s=1.0, detector="content", image=ImageSpec(max_side_px=32))
    cat = open_catalog(catalog_url)
    ingest([str(source)], cat, thumbs_only, retry=FAST_RETRY)
    video_id = cat.video_ids()[0]
    frames = cat.frames(video_id)
    assert frames["frame_uri"].null_count() == len(frames)
    for index in frames["frame_index"]:
        decoded = cat.thumbnail(video_id, int(index), full=True)
        stored = reference.thumbnail(video_id, int(index), full=True)
        assert decoded.size == stored.size == (96, 64)
        assert np.array_equal(np.asarray(decoded), np.asarray(stored))
    cached = [k for k in cat.storage.list_files("thumbs") if "/full/" in k]
    assert len(cached) == len(frames)
    cat.vacuum(grace_s=0)  # cached frames belong to the live generation: kept
    assert sorted(k for k in cat.storage.list_files("thumbs") if "/full/" in k) == sorted(cached)
    os.rename(source, tmp_path / "gone.mp4")  # cached frames need no source
    first = int(frames["frame_index"][0])
    assert cat.thumbnail(video_id, first, full=True).size == (96, 64)
    cat.storage.delete(cached)
    with pytest.raises(MediaNotFoundError):
        cat.thumbnail(video_id, first, full=True)
    make_video(source, [(9, 9, 9), (0, 0, 255), (0, 255, 0)], size=(96, 64))  # other content
    with pytest.raises(SourceChangedError, match="ingest it again"):
        cat.thumbnail(video_id, first, full=True)


def test_catalog_sync_command_copies_and_reports(
    tmp_path: Path, videos: Videos, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    ingest([str(videos.good[0])], str(src), SPEC)
    assert main(["catalog", "sync", str(src), str(dst)]) == 0
    assert "1 video copied" in capsys.readouterr().out
    assert main(["catalog", "sync", str(src), str(dst)]) == 0
    assert "1 already there" in capsys.readouterr().out
    assert Catalog(str(dst)).video_ids() == Catalog(str(src)).video_ids()
    assert main(["catalog", "sync", str(tmp_path / "none"), str(dst)]) == 2
    assert "no catalog at" in capsys.readouterr().err


def test_damaged_source_videos_are_named_and_the_others_copied(
    tmp_path: Path, videos: Videos
) -> None:
    src, dst = str(tmp_path / "src"), str(tmp_path / "dst")
    ingest([str(p) for p in videos.good], src, SPEC)
    cat = Catalog(src)
    lost, unreadable, fine = cat.video_ids()
    cat.storage.delete([cat.commit_of(lost).parts["frames"]])  # type: ignore[union-attr]
    marker = cat.storage.list_files(f"commits/{unreadable}")
    cat.storage.write_bytes(next(iter(marker)), b"not json")
    log = tmp_path / "sync.log"  # a process of its own: nothing of the source read before
    proc = framesift_process(["catalog", "sync", src, dst], log_to=log)
    assert proc.wait(timeout=120) == 1, log.read_text()
    text = log.read_text()
    assert "1 video copied" in text
    assert f"FAILED  {lost}: FileNotFoundError" in text
    assert f"FAILED  {unreadable}: CatalogError" in text
    assert "Traceback" not in text
    assert Catalog(dst).video_ids() == [fine]
    assert Catalog(dst).check().ok
