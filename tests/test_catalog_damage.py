"""A damaged catalog degrades one video at a time: a lost part or an unreadable commit
marker hides only its video (with a warning), ``catalog check`` names it, ``catalog
repair`` hides it behind a tombstone and a re-ingest brings it back; no DuckDB or fsspec
exception reaches the user."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from catalog_support import (
    FAST_RETRY,
    FRAMES_PER_VIDEO,
    SPEC,
    CatalogTarget,
    Videos,
    framesift_process,
    storage_option_args,
)
from framesift.batch import ingest
from framesift.catalog import Catalog, layout
from framesift.errors import CatalogError

pytest_plugins = ["fixtures_catalog"]


def open_catalog(target: CatalogTarget) -> Catalog:
    return Catalog(target.url, target.storage_options, retry=FAST_RETRY, max_staleness_s=0)


def three_videos(target: CatalogTarget, videos: Videos) -> dict[str, str]:
    """Ingest the three good videos; source -> video id."""
    summary = ingest([str(p) for p in videos.good], open_catalog(target), SPEC, retry=FAST_RETRY)
    return {o.source_url: o.video_id for o in summary.outcomes if o.video_id}


def framesift(target: CatalogTarget, tmp_path: Path, *args: str) -> tuple[int, str]:
    log = tmp_path / f"run-{len(list(tmp_path.glob('run-*')))}.log"
    proc = framesift_process(
        [*args, "--catalog", target.url, *storage_option_args(target)], log_to=log
    )
    code = proc.wait(timeout=120)
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "Exception" not in text, text
    return code, text


def assert_visible(cat: Catalog, expected: set[str]) -> None:
    """Full-table reads show ``expected``; video_ids() agrees once a read found the damage
    (a listing of markers alone cannot see a lost part: ``check`` looks for them)."""
    assert set(cat.videos()["video_id"]) == expected
    assert set(cat.video_ids()) == expected
    frames = cat.frames()
    assert dict(frames.group_by("video_id").len().iter_rows()) == dict.fromkeys(
        expected, FRAMES_PER_VIDEO
    )
    assert cat.sql("SELECT count(*) AS n FROM videos")["n"][0] == len(expected)
    assert cat.totals().videos == len(expected)


@pytest.mark.parametrize("compacted", [False, True], ids=["parts", "compacted"])
def test_a_lost_part_hides_only_its_video_until_repair_and_reingest(
    catalog_url: CatalogTarget,
    videos: Videos,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    compacted: bool,
) -> None:
    ids = three_videos(catalog_url, videos)
    lost_source = str(videos.good[1])
    lost = ids[lost_source]
    cat = open_catalog(catalog_url)
    if compacted:  # compact, then commit the video again so its rows come from its part
        assert cat.compact() is not None
        ingest([lost_source], cat, SPEC, force=True, retry=FAST_RETRY)
    commit = cat.commit_of(lost)
    assert commit is not None
    cat.storage.delete([commit.parts["frames"]])

    reader = open_catalog(catalog_url)
    with caplog.at_level(logging.WARNING):
        # the read that meets the lost part hides its video, from then on everywhere
        assert set(reader.frames()["video_id"]) == set(ids.values()) - {lost}
        assert_visible(reader, set(ids.values()) - {lost})
    assert f"video {lost} is hidden" in caplog.text
    assert reader.search("anything").height == 0
    with pytest.raises(CatalogError, match=f"video {lost} .* damaged"):
        reader.frames(lost)
    assert reader.frames(ids[str(videos.good[0])]).height == FRAMES_PER_VIDEO

    code, out = framesift(catalog_url, tmp_path, "search", "anything")
    assert code == 1, out  # no hits, no traceback
    code, out = framesift(catalog_url, tmp_path, "catalog", "summary")
    assert code == 0, out
    code, out = framesift(catalog_url, tmp_path, "catalog", "check")
    assert code == 1, out
    assert f"video {lost}" in out
    assert "missing" in out
    assert lost_source in out
    for text in (out,):
        assert "Traceback" not in text
        assert "IOException" not in text

    # re-ingest alone says skipped: repair first, then the same ingest restores it
    code, out = framesift(catalog_url, tmp_path, "catalog", "repair")
    assert code == 0, out
    assert "1 damaged videos hidden" in out
    assert lost_source in out
    assert open_catalog(catalog_url).check().ok
    again = ingest([str(p) for p in videos.good], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
    assert again.counts["ingested"] == 1
    assert again.counts["skipped"] == 2
    assert_visible(open_catalog(catalog_url), set(ids.values()))


def test_an_unreadable_marker_hides_only_its_video_and_reingest_writes_over_it(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    ids = three_videos(catalog_url, videos)
    bad_source = str(videos.good[2])
    bad = ids[bad_source]
    cat = open_catalog(catalog_url)
    cat.storage.write_bytes(layout.commit_key(bad, 2), b"{not json")
    assert_visible(open_catalog(catalog_url), set(ids.values()) - {bad})
    health = open_catalog(catalog_url).check()
    assert [(d.video_id, d.problem) for d in health.damaged] == [(bad, "unreadable marker")]
    code, out = framesift(catalog_url, tmp_path, "catalog", "vacuum", "--grace", "0")
    assert code == 0, out
    # ingest notices the unreadable marker and writes a new generation over it
    again = ingest([str(p) for p in videos.good], open_catalog(catalog_url), SPEC, retry=FAST_RETRY)
    assert again.counts["ingested"] == 1
    assert again.counts["skipped"] == 2
    fresh = open_catalog(catalog_url)
    assert_visible(fresh, set(ids.values()))
    assert fresh.commit_of(bad).generation == 3  # type: ignore[union-attr]
    fresh.vacuum(grace_s=0)
    assert fresh.check().ok
    assert layout.commit_key(bad, 2) not in fresh.storage.list_files("commits", stat=False)


def test_repair_of_an_unreadable_marker_and_a_lost_compacted_file(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    ids = three_videos(catalog_url, videos)
    cat = open_catalog(catalog_url)
    assert cat.compact() is not None
    snapshot = cat.refresh().snapshot
    assert snapshot is not None
    cat.storage.delete([snapshot.tables["scenes"]])
    bad = ids[str(videos.good[0])]
    cat.storage.write_bytes(layout.commit_key(bad, 2), b'{"video_id": "nope"}')
    reader = open_catalog(catalog_url)
    assert_visible(reader, set(ids.values()) - {bad})
    assert set(reader.scenes()["video_id"]) == set(ids.values()) - {bad}
    health = reader.check()
    assert health.snapshot_problem is not None
    assert "missing" in health.snapshot_problem
    outcome = reader.repair(health)
    assert [d.video_id for d in outcome.tombstoned] == [bad]
    assert outcome.snapshot_reset
    after = open_catalog(catalog_url)
    assert after.check().ok
    assert_visible(after, set(ids.values()) - {bad})
    again = ingest([str(p) for p in videos.good], after, SPEC, retry=FAST_RETRY)
    assert again.counts["ingested"] == 1
    assert_visible(open_catalog(catalog_url), set(ids.values()))
