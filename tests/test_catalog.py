"""Catalog conformance: the same tests on a local folder and on the S3 test server."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from PIL import Image

import framesift.catalog.version as version_module
from catalog_support import (
    FAST_RETRY,
    FRAMES_PER_VIDEO,
    SECRET,
    SPEC,
    CatalogTarget,
    Videos,
    all_files,
)
from framesift.batch import ingest
from framesift.catalog import SCHEMAS, Catalog, CatalogTotals, FailedSource, layout
from framesift.catalog.jobs import JobLedger, job_id_for
from framesift.catalog.tables import conform
from framesift.errors import CatalogError, CatalogVersionError, QueryNotAllowedError
from framesift.spec import SamplingSpec, TextSpec, settings_fingerprint

pytest_plugins = ["fixtures_catalog"]


def open_catalog(target: CatalogTarget) -> Catalog:
    """A reader that sees other writers' commits at once (re-lists on every read)."""
    return Catalog(target.url, target.storage_options, retry=FAST_RETRY, max_staleness_s=0)


def run(target: CatalogTarget, sources: list[str], **kwargs: object) -> object:
    return ingest(
        sources, open_catalog(target), kwargs.pop("spec", SPEC), retry=FAST_RETRY, **kwargs
    )


def assert_one_copy(cat: Catalog, video_ids: set[str]) -> None:
    """Every video's rows exactly once, and nothing else visible."""
    videos = cat.videos()
    assert sorted(videos["video_id"]) == sorted(video_ids)
    frames = cat.frames()
    assert set(frames["video_id"]) == video_ids
    assert frames.select("video_id", "frame_index").is_duplicated().sum() == 0
    per_video = frames.group_by("video_id").len()
    assert per_video["len"].to_list() == [FRAMES_PER_VIDEO] * len(video_ids)
    for table in ("scenes", "analysis"):
        df = getattr(cat, table)()
        key = "scene_index" if table == "scenes" else "frame_index"
        assert df.select("video_id", key).is_duplicated().sum() == 0
        assert set(df["video_id"]) == video_ids


def test_ingest_then_query(catalog_url: CatalogTarget, videos: Videos) -> None:
    summary = run(catalog_url, [str(p) for p in videos.good[:2]])
    assert summary.counts == {"ingested": 2, "replaced": 0, "updated": 0, "skipped": 0, "failed": 0}
    cat = open_catalog(catalog_url)
    ids = {o.video_id for o in summary.outcomes}
    assert_one_copy(cat, ids)

    v = cat.videos()
    assert v.schema == pl.Schema(SCHEMAS["videos"])
    assert set(v["settings_hash"]) == {settings_fingerprint(SPEC, TextSpec())}
    assert set(v["codec"]) == {"mpeg4"}
    assert set(v["width"]) == {64}
    assert v["source_url"].to_list() == sorted(str(p) for p in videos.good[:2]) or set(
        v["source_url"]
    ) == {str(p) for p in videos.good[:2]}

    vid = sorted(ids)[0]
    one = cat.frames(vid)
    assert one.schema == pl.Schema(SCHEMAS["frames"])
    assert one["time_s"].to_list() == [0.0, 1.0, 2.0]
    # the direct part read and the SQL path agree
    via_sql = cat.sql("SELECT * FROM frames WHERE video_id = ? ORDER BY frame_index", [vid])
    assert via_sql.equals(one)
    assert cat.frames([vid]).equals(one)
    counts = cat.sql(
        "SELECT v.video_id, count(*) AS n FROM videos v JOIN frames f USING (video_id) "
        "GROUP BY 1 ORDER BY 1"
    )
    assert counts["n"].to_list() == [FRAMES_PER_VIDEO, FRAMES_PER_VIDEO]

    jobs = cat.jobs()
    assert jobs.schema == pl.Schema(SCHEMAS["jobs"])
    assert jobs["state"].to_list() == ["done", "done"]
    assert jobs["outcome"].to_list() == ["ingested", "ingested"]
    assert set(cat.sql("SELECT state FROM jobs")["state"]) == {"done"}
    assert cat.segments().is_empty()
    assert cat.segments().schema == pl.Schema(SCHEMAS["segments"])


def test_totals_count_videos_and_failed_sources(catalog_url: CatalogTarget, videos: Videos) -> None:
    sources = [str(videos.not_a_video), *(str(p) for p in videos.good[:2])]
    summary = run(catalog_url, sources)
    assert summary.counts["ingested"] == 2
    assert summary.counts["failed"] == 1
    cat = open_catalog(catalog_url)
    totals = cat.totals()
    assert isinstance(totals, CatalogTotals)
    scenes = cat.scenes().height
    assert scenes > 0
    assert (totals.videos, totals.kept_frames, totals.scenes) == (2, 2 * FRAMES_PER_VIDEO, scenes)
    assert totals.duration_s == pytest.approx(2 * 3.0, abs=0.25)  # two 3 s clips
    assert totals.text_segments == 0
    (failed,) = totals.failed
    assert failed.source_url == str(videos.not_a_video)
    assert failed.error_type == "NotAVideoError"
    assert failed.error_message
    assert str(totals) == (
        f"2 videos, 0.1 min of footage, 6 kept frames, {scenes} scenes, 0 text segments, "
        "1 failed source"
    )
    with pytest.raises(AttributeError):
        failed.error_type = "other"  # type: ignore[misc]
    cat.compact()  # the compacted tables add up to the same totals
    assert cat.totals() == totals
    assert FailedSource(str(videos.not_a_video), "NotAVideoError", failed.error_message) in (
        cat.totals().failed
    )


def test_rerun_skips_and_force_replaces(catalog_url: CatalogTarget, videos: Videos) -> None:
    sources = [str(p) for p in videos.good[:2]]
    first = run(catalog_url, sources)
    ids = {o.video_id for o in first.outcomes}
    again = run(catalog_url, sources)
    assert again.counts["skipped"] == 2
    cat = open_catalog(catalog_url)
    assert_one_copy(cat, ids)
    assert set(cat.jobs()["attempts"]) == {2}

    forced = run(catalog_url, sources, force=True)
    assert forced.counts["replaced"] == 2
    assert {o.generation for o in forced.outcomes} == {2}
    assert_one_copy(cat, ids)
    assert set(cat.videos()["generation"]) == {2}
    # the old generation is gone: only generation 2 parts, markers and thumbnails remain
    keys = set(all_files(catalog_url))
    assert not [k for k in keys if "g0000000001" in k or k.endswith("0000000001.json")]
    for uri in cat.frames()["thumbnail_uri"]:
        assert "/g0000000002-" in uri

    # new settings re-ingest without --force
    other = SamplingSpec(interval_s=0.5, detector="content")
    changed = run(catalog_url, sources, spec=other)
    assert changed.counts["replaced"] == 2
    assert cat.frames().group_by("video_id").len()["len"].to_list() == [6, 6]


def test_same_content_under_another_name_is_skipped(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    copy = tmp_path / "renamed copy.mov"
    shutil.copyfile(videos.good[0], copy)
    summary = run(catalog_url, [str(videos.good[0]), str(copy)])
    assert [o.status for o in summary.outcomes] == ["ingested", "skipped"]
    assert open_catalog(catalog_url).videos().height == 1


def test_failed_video_leaves_only_its_ledger_entry(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.mp4"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    sources = [str(videos.not_a_video), str(videos.good[0]), str(missing), str(empty)]
    summary = run(catalog_url, sources)
    assert summary.counts == {"ingested": 1, "replaced": 0, "updated": 0, "skipped": 0, "failed": 3}
    cat = open_catalog(catalog_url)
    good_id = next(o.video_id for o in summary.outcomes if o.status == "ingested")
    assert_one_copy(cat, {good_id})
    jobs = {r["source_url"]: r for r in cat.jobs().iter_rows(named=True)}
    assert jobs[str(videos.not_a_video)]["error_type"] == "NotAVideoError"
    assert jobs[str(missing)]["error_type"] == "MediaNotFoundError"
    assert jobs[str(empty)]["error_type"] == "TruncatedMediaError"
    for src in (videos.not_a_video, missing, empty):
        row = jobs[str(src)]
        assert row["state"] == "failed"
        assert row["error_message"]
        assert row["finished_at"]
    # no part, marker or thumbnail of the failed video exists, not even invisibly
    bad_id = jobs[str(videos.not_a_video)]["video_id"]
    assert bad_id is not None
    assert not [k for k in all_files(catalog_url) if bad_id in k]


def test_user_names_never_escape_the_root(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    shutil.copyfile(videos.good[1], tmp_path / "x.mp4")
    odd = tmp_path / 'we\'ird "name"; DROP TABLE frames;--  é ✓ $(rm -rf).mp4'
    shutil.copyfile(videos.good[2], odd)
    traversal = str(deep / ".." / ".." / "x.mp4")  # a source named ../../x.mp4
    summary = run(catalog_url, [traversal, str(odd)])
    assert summary.counts["ingested"] == 2
    for key in all_files(catalog_url):
        parts = key.split("/")
        assert ".." not in parts
        assert all(p and not p.startswith("..") for p in parts)
        assert "x.mp4" not in key
        assert "DROP" not in key
        assert key == layout.CATALOG_FILE or key.split("/")[0] in {
            "commits",
            "tables",
            "thumbs",
            "jobs",
            "snapshots",
            "compact",
        }
    if catalog_url.kind == "local":
        escaped = [p for p in tmp_path.rglob("*") if p.is_file() and "catalog" not in p.parts]
        assert sorted(p.name for p in escaped if p.suffix != ".mp4") == []
    cat = open_catalog(catalog_url)
    assert sorted(cat.videos()["source_url"]) == sorted([os.path.abspath(traversal), str(odd)])


def test_readers_see_other_writers_within_the_staleness_bound(
    catalog_url: CatalogTarget, videos: Videos
) -> None:
    reader = Catalog(catalog_url.url, catalog_url.storage_options, max_staleness_s=3600)
    assert reader.videos().is_empty()
    summary = run(catalog_url, [str(videos.good[0])])  # another Catalog object writes
    vid = summary.outcomes[0].video_id
    assert vid is not None
    assert reader.videos().is_empty()  # still the listing it took
    reader.refresh()
    assert reader.videos().height == 1
    assert reader.frames(vid).height == FRAMES_PER_VIDEO
    # what a Catalog object writes itself, it sees at once
    run_same = ingest([str(videos.good[1])], reader, SPEC, retry=FAST_RETRY)
    assert run_same.counts["ingested"] == 1
    assert reader.videos().height == 2


def test_sql_values_are_parameters(catalog_url: CatalogTarget, videos: Videos) -> None:
    run(catalog_url, [str(videos.good[0])])
    cat = open_catalog(catalog_url)
    hostile = "x' OR '1'='1"
    assert cat.sql("SELECT * FROM frames WHERE video_id = ?", [hostile]).is_empty()
    assert cat.sql("SELECT * FROM frames WHERE video_id = $v", {"v": hostile}).is_empty()
    with pytest.raises(CatalogError, match="not a video id"):
        cat.frames(hostile)
    with pytest.raises(CatalogError, match="not a video id"):
        cat.frames([hostile])
    with pytest.raises(CatalogError, match="no columns"):
        cat.frames(columns=['frame_index" FROM frames; --'])


def test_thumbnails_load_and_display(catalog_url: CatalogTarget, videos: Videos) -> None:
    summary = run(catalog_url, [str(videos.good[0])])
    vid = summary.outcomes[0].video_id
    cat = open_catalog(catalog_url)
    frames = cat.frames(vid)
    image = cat.thumbnail(vid, int(frames["frame_index"][1]))
    assert image.size == (64, 48)
    r, _g, b = image.convert("RGB").getpixel((10, 10))
    assert b > 200
    assert r < 60
    grid = cat.show_thumbnails(vid)
    assert len(grid) == FRAMES_PER_VIDEO
    html = grid._repr_html_()
    assert html.count("data:image/jpeg;base64,") == FRAMES_PER_VIDEO
    assert len(cat.show_thumbnails(limit=2)) == 2
    assert "1 video" in cat._repr_html_()
    with pytest.raises(CatalogError, match="no kept frame"):
        cat.thumbnail(vid, 999)
    with pytest.raises(CatalogError, match="outside"):
        cat.image_key("/etc/passwd")
    Image.open(io.BytesIO(all_files(catalog_url)[cat.image_key(frames["thumbnail_uri"][0])]))


def test_compaction_keeps_one_copy(catalog_url: CatalogTarget, videos: Videos) -> None:
    sources = [str(p) for p in videos.good]
    summary = run(catalog_url, sources, compact_after=2)
    assert summary.compacted
    ids = {o.video_id for o in summary.outcomes}
    cat = open_catalog(catalog_url)
    state = cat.refresh()
    assert state.snapshot is not None
    assert state.sources("frames").part_keys == ()
    assert_one_copy(cat, ids)
    # replace one video after the snapshot: its compacted rows are stale and hidden
    run(catalog_url, sources[:1], force=True, compact_after=None)
    assert cat.refresh().stale_in_snapshot() == 1
    assert_one_copy(cat, ids)
    assert cat.sql("SELECT max(generation) AS g FROM videos")["g"][0] == 2
    # delete one: gone from every view at once
    victim = sorted(ids)[1]
    assert cat.delete_video(victim)
    assert_one_copy(cat, ids - {victim})
    assert cat.frames(victim).is_empty()
    # compact again, vacuum: old snapshot files go, answers stay
    assert cat.compact() == 2
    counts = cat.vacuum(grace_s=0)
    assert counts["snapshots"] == 1
    assert counts["compacted"] >= 3
    assert_one_copy(cat, ids - {victim})
    left = [k for k in all_files(catalog_url) if victim in k]
    assert left == [layout.commit_key(victim, 2)]  # only its tombstone


def test_vacuum_removes_only_leftovers(catalog_url: CatalogTarget, videos: Videos) -> None:
    summary = run(catalog_url, [str(videos.good[0])])
    vid = summary.outcomes[0].video_id
    cat = open_catalog(catalog_url)
    first = cat.commit_of(vid)
    assert first is not None
    before = set(all_files(catalog_url))
    # leftovers of a run that died before its commit: generation 2 parts and thumbnails
    writer = cat.begin_video(vid)
    assert writer.generation == 2
    sink = writer.image_sink()
    sink.put("00000000.jpg", b"\xff\xd8\xffjunk")
    sink.close()
    from framesift.catalog.commits import write_parts

    write_parts(cat.storage, vid, 2, {"frames": cat.frames(vid)}, writer.token)
    # and an uncommitted video
    write_parts(cat.storage, "ab" * 12, 1, {"frames": conform(cat.frames(vid), "frames")})
    assert_one_copy(cat, {vid})  # invisible to readers
    assert cat.vacuum(grace_s=3600) == {"multipart_uploads": 0}  # too young: kept
    counts = cat.vacuum(grace_s=0, dry_run=True)
    assert counts["parts"] == 2
    assert counts["thumbnails"] == 1
    assert len(set(all_files(catalog_url)) - before) == 3
    cat.vacuum(grace_s=0)
    # the uncommitted generations were fenced first: their markers, a copy of generation 1
    # and a tombstone, are all that is new; generation 1's marker is superseded
    fences = {layout.commit_key(vid, 2), layout.commit_key("ab" * 12, 1)}
    assert set(all_files(catalog_url)) - before == fences
    assert before - set(all_files(catalog_url)) == {layout.commit_key(vid, 1)}
    assert_one_copy(cat, {vid})
    fence = cat.commit_of(vid)
    assert fence is not None
    assert fence.generation == 2
    assert fence.parts == first.parts


def test_vacuum_removes_local_temp_files(tmp_path: Path, videos: Videos) -> None:
    target = CatalogTarget("local", str(tmp_path / "cat"))
    run(target, [str(videos.good[0])])
    stray = tmp_path / "cat" / "tables" / "frames" / ".g0000000009.parquet.tmp-deadbeef"
    stray.write_bytes(b"half")
    assert open_catalog(target).vacuum(grace_s=0)["temp_files"] == 1
    assert not stray.exists()


@pytest.mark.s3
def test_vacuum_aborts_incomplete_multipart_uploads(s3_server: object, videos: Videos) -> None:
    import boto3

    from catalog_support import S3Server

    assert isinstance(s3_server, S3Server)
    bucket = s3_server.create_bucket()
    target = CatalogTarget("s3", f"s3://{bucket}/cat", s3_server.options(), s3_server)
    run(target, [str(videos.good[0])])
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    # what a killed multipart upload leaves: initiated, one part, never completed
    upload = client.create_multipart_upload(
        Bucket=bucket, Key="cat/compact/frames/0000000001.parquet"
    )
    client.upload_part(
        Bucket=bucket,
        Key="cat/compact/frames/0000000001.parquet",
        UploadId=upload["UploadId"],
        PartNumber=1,
        Body=b"x" * 1024,
    )
    outside = client.create_multipart_upload(Bucket=bucket, Key="elsewhere/file")
    cat = open_catalog(target)
    assert cat.vacuum(grace_s=0)["multipart_uploads"] == 1
    left = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in left] == [outside["UploadId"]]


def test_credentials_never_stored_or_logged(
    s3_server: object, videos: Videos, caplog: pytest.LogCaptureFixture
) -> None:
    from catalog_support import S3Server

    assert isinstance(s3_server, S3Server)
    bucket = s3_server.create_bucket()
    target = CatalogTarget("s3", f"s3://{bucket}/cat", s3_server.options(), s3_server)
    leaky_source = "https://user:hunter2pass@127.0.0.1:9/clip.mp4?X-Amz-Signature=sig" + SECRET
    with caplog.at_level(logging.DEBUG, logger="framesift"):
        summary = run(target, [str(videos.good[0]), leaky_source])
        cat = open_catalog(target)
        with pytest.raises(CatalogError) as info:
            cat.thumbnail("ab" * 12, 0)
    assert summary.counts["failed"] == 1
    failure = summary.failed[0]
    shown = " ".join(str(x) for x in (failure.source_url, failure.error_message, info.value))
    texts = [caplog.text, repr(summary), shown, repr(cat), cat._repr_html_()]
    texts += [data.decode("utf-8", "replace") for data in all_files(target).values()]
    texts += [json.dumps(cat.jobs().to_dicts(), default=str)]
    for text in texts:
        assert SECRET not in text
        assert "hunter2pass" not in text
    assert "***@127.0.0.1" in failure.source_url


def test_catalog_version_is_stored_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "cat")
    cat = Catalog(url)
    info = json.loads((tmp_path / "cat" / "_catalog.json").read_text())
    assert info["version"] == version_module.CATALOG_VERSION == cat.info.version
    # a newer framesift wrote it: refused, with what to do
    (tmp_path / "cat" / "_catalog.json").write_text(json.dumps({**info, "version": 99}))
    with pytest.raises(CatalogVersionError, match="upgrade framesift"):
        Catalog(url)
    # an older catalog is migrated step by step through the hook
    (tmp_path / "cat" / "_catalog.json").write_text(json.dumps({**info, "version": 1}))
    steps: list[int] = []
    monkeypatch.setattr(version_module, "CATALOG_VERSION", 3)
    monkeypatch.setitem(version_module.MIGRATIONS, 1, lambda storage: steps.append(1))
    monkeypatch.setitem(version_module.MIGRATIONS, 2, lambda storage: steps.append(2))
    migrated = Catalog(url)
    assert steps == [1, 2]
    assert migrated.info.version == 3
    assert migrated.info.migrated_from == 1
    assert json.loads((tmp_path / "cat" / "_catalog.json").read_text())["version"] == 3
    # a version with no migration path is refused clearly
    (tmp_path / "cat" / "_catalog.json").write_text(json.dumps({**info, "version": 0}))
    with pytest.raises(CatalogError, match="no migration from catalog schema version 0"):
        Catalog(url)


def test_refuses_to_adopt_a_folder_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(CatalogError, match="holds 1 files"):
        Catalog(str(tmp_path))
    with pytest.raises(CatalogError, match="no catalog"):
        Catalog(str(tmp_path / "nothing"), create=False)


def test_docs_describe_every_column() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "catalog.md").read_text()
    for table, schema in SCHEMAS.items():
        assert f"### {table}" in doc
        section = doc.split(f"### {table}", 1)[1].split("###", 1)[0]
        for column in schema:
            assert f"| `{column}` |" in section, f"{table}.{column} undocumented"


@pytest.mark.s3
def test_remote_reads_with_and_without_the_local_cache(
    s3_server: object, videos: Videos, tmp_path: Path
) -> None:
    from catalog_support import S3Server

    assert isinstance(s3_server, S3Server)
    target = CatalogTarget(
        "s3", f"s3://{s3_server.create_bucket()}/cat", s3_server.options(), s3_server
    )
    summary = run(target, [str(p) for p in videos.good[:2]], compact_after=1)
    assert summary.compacted
    cached = Catalog(target.url, target.storage_options, cache_dir=str(tmp_path / "cache"))
    direct = Catalog(target.url, target.storage_options, cache_dir=False)
    query = "SELECT video_id, count(*) AS n FROM frames GROUP BY 1 ORDER BY 1"
    assert cached.sql(query).equals(direct.sql(query))
    vid = summary.outcomes[0].video_id
    assert vid is not None
    assert cached.frames(vid).equals(direct.frames(vid))
    files = sorted(p.name for p in (tmp_path / "cache").rglob("*.parquet"))
    assert len(files) == 2  # compacted frames file + the one part read directly
    # a forced re-ingest through another object: the cache never serves the old rows
    run(target, [str(videos.good[0])], force=True, compact_after=None)
    cached.refresh()
    assert cached.frames(vid)["thumbnail_uri"].str.contains("/g0000000002-").all()
    assert cached.sql(query)["n"].to_list() == [FRAMES_PER_VIDEO, FRAMES_PER_VIDEO]


def test_two_writers_of_one_video_one_wins(catalog_url: CatalogTarget, videos: Videos) -> None:
    from framesift.errors import CatalogConflictError

    summary = run(catalog_url, [str(videos.good[0])])
    vid = summary.outcomes[0].video_id
    assert vid is not None
    cat = open_catalog(catalog_url)
    frames = cat.frames(vid)
    first = cat.begin_video(vid, settings_hash="aaaa")
    second = cat.begin_video(vid, settings_hash="bbbb")
    assert first.generation == second.generation == 2
    first.commit({"frames": frames}, settings_hash="aaaa", source_url="x", has_thumbnails=False)
    with pytest.raises(CatalogConflictError, match="another writer committed generation 2"):
        second.commit(
            {"frames": frames.head(1)}, settings_hash="bbbb", source_url="y", has_thumbnails=False
        )
    commit = cat.commit_of(vid)
    assert commit is not None
    assert commit.settings_hash == "aaaa"
    assert cat.frames(vid).equals(frames)  # the loser's parts never touched the winner's
    assert cat.vacuum(grace_s=0)["parts"] == 1  # the loser's part


def test_carry_over_adds_a_table_without_copying(
    catalog_url: CatalogTarget, videos: Videos
) -> None:
    summary = run(catalog_url, [str(videos.good[0])])
    vid = summary.outcomes[0].video_id
    assert vid is not None
    cat = open_catalog(catalog_url)
    before = cat.commit_of(vid)
    assert before is not None
    segments = pl.DataFrame(
        {
            "source": ["subtitles"],
            "start_s": [0.5],
            "end_s": [1.5],
            "text": ["hello"],
            "confidence": [None],
            "language": ["en"],
        }
    )
    writer = cat.begin_video(vid, settings_hash=before.settings_hash)
    after = writer.commit(
        {"segments": segments},
        settings_hash=before.settings_hash,
        source_url=before.source_url,
        has_thumbnails=False,
        carry_over=True,
    )
    assert after.parts["frames"] == before.parts["frames"]
    assert after.thumbs_prefix == before.thumbs_prefix
    assert cat.segments(vid)["text"].to_list() == ["hello"]
    assert_one_copy(cat, {vid})
    assert cat.thumbnail(vid, 0).size == (64, 48)
    cat.vacuum(grace_s=0)
    assert_one_copy(cat, {vid})
    assert cat.thumbnail(vid, 0).size == (64, 48)


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("SELECT 1; SELECT 2", id="two-statements"),
        pytest.param("COPY (SELECT * FROM frames) TO '{out}/stolen.csv'", id="copy-to"),
        pytest.param("SELECT * FROM read_text('/etc/hostname')", id="read-text"),
        pytest.param("SELECT * FROM '{out}/x.csv'", id="file-as-table"),
        pytest.param("SELECT * FROM read_parquet('{out}/*.parquet')", id="read-parquet"),
        pytest.param("ATTACH '{out}/other.duckdb' AS other", id="attach"),
        pytest.param("SELECT getenv('HOME')", id="getenv"),
        pytest.param("DROP VIEW frames", id="drop-view"),
        pytest.param("CREATE OR REPLACE VIEW videos AS SELECT 1 AS video_id", id="replace-view"),
        pytest.param("SET enable_external_access = true", id="set"),
        pytest.param("INSTALL httpfs", id="install"),
        pytest.param("SELECT * FROM _jobs_rows", id="internal-table"),
        pytest.param("DESCRIBE SELECT * FROM read_text('/etc/hostname')", id="describe-query"),
        pytest.param("WITH t AS (SELECT * FROM read_blob('/etc/hostname')) SELECT * FROM t"),
    ],
)
def test_sql_is_read_only_by_default(
    query: str, catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    run(catalog_url, [str(videos.good[0])])
    cat = open_catalog(catalog_url)
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.csv").write_text("a\n1\n")
    frames = cat.frames()
    with pytest.raises(QueryNotAllowedError, match="unsafe=True"):
        cat.sql(query.format(out=out))
    assert sorted(p.name for p in out.iterdir()) == ["x.csv"]  # nothing written
    assert cat.frames().equals(frames)  # the views stand
    assert cat.sql("SELECT count(*) AS n FROM videos")["n"][0] == 1


def test_sql_reads_the_views_and_unsafe_cannot_replace_them(
    catalog_url: CatalogTarget, videos: Videos, tmp_path: Path
) -> None:
    run(catalog_url, [str(videos.good[0])])
    cat = open_catalog(catalog_url)
    frames = cat.frames()
    n = frames.height
    counted = cat.sql(
        "WITH f AS (SELECT video_id FROM frames) SELECT count(*) AS n FROM f "
        "JOIN videos USING (video_id) WHERE video_id IN (SELECT unnest($ids))",
        {"ids": frames["video_id"].unique().to_list()},
    )
    assert counted["n"][0] == n
    assert "frame_index" in cat.sql("DESCRIBE frames")["column_name"].to_list()
    assert cat.sql("SELECT range AS i FROM range(3)")["i"].to_list() == [0, 1, 2]
    # The opt-in runs anything, and the catalog's views come back for the next query.
    cat.sql("DROP VIEW frames", unsafe=True)
    assert cat.frames().equals(frames)
    cat.sql("CREATE OR REPLACE VIEW frames AS SELECT 1 AS poisoned", unsafe=True)
    assert cat.sql("SELECT count(*) AS n FROM frames")["n"][0] == n
    out = tmp_path / "frames.parquet"
    cat.sql(f"COPY (SELECT * FROM frames) TO '{out}'", unsafe=True)
    assert pl.read_parquet(out).height == n
    # The shared connection too: a view replaced there is bound again before it is read.
    cat.connect().execute("CREATE OR REPLACE VIEW videos AS SELECT 'x' AS video_id")
    assert cat.videos().height == 1
    assert cat.videos()["video_id"][0] != "x"
    with pytest.raises(CatalogError, match="not a valid query"):
        cat.sql("SELEC nothing")


def test_the_ledger_is_reconciled_with_the_commits(
    catalog_url: CatalogTarget, videos: Videos
) -> None:
    first, second, third = (str(p) for p in videos.good)
    run(catalog_url, [first, second])
    cat = open_catalog(catalog_url)
    ledger = JobLedger(cat.storage)
    # A concurrent run that lost the commit race wrote "failed" over the winner's "done".
    entry = ledger.read(job_id_for(first))
    assert entry is not None
    assert entry["state"] == "done"
    ledger.failed(
        job_id_for(first),
        error_type="CatalogConflictError",
        message="another writer committed first",
        video_id=entry["video_id"],
    )
    # A batch that was killed: it queued the third source and started the bad one.
    script = (
        "import json, sys\n"
        "from framesift.catalog import Catalog\n"
        "from framesift.catalog.jobs import JobLedger\n"
        "cat = Catalog(sys.argv[1], json.loads(sys.argv[2]))\n"
        "ledger = JobLedger(cat.storage)\n"
        "ledger.queue(sys.argv[3], 'feed')\n"
        "ledger.queue(sys.argv[4], 'feed')\n"
        "ledger.start(sys.argv[4], 'feed')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = [
        catalog_url.url,
        json.dumps(catalog_url.storage_options),
        third,
        str(videos.not_a_video),
    ]
    subprocess.run([sys.executable, "-c", script, *args], check=True, env=env, timeout=120)
    states = dict(cat.jobs().select("source_url", "state").iter_rows())
    assert states == {
        first: "done",
        second: "done",
        third: "interrupted",
        str(videos.not_a_video): "interrupted",
    }
    viewed = cat.sql("SELECT source_url, state FROM jobs ORDER BY source_url")
    assert dict(viewed.iter_rows()) == states  # the jobs view says the same
    totals = cat.totals()
    assert totals.failed == ()
    assert sorted(s.source_url for s in totals.interrupted) == sorted(
        [third, str(videos.not_a_video)]
    )
    assert str(totals).endswith("0 failed sources, 2 interrupted (a re-run takes them up)")
    # The next batch writes the corrections back, then runs its own sources.
    run(catalog_url, [second])
    assert (ledger.read(job_id_for(first)) or {})["state"] == "done"
    assert (ledger.read(job_id_for(third)) or {})["state"] == "interrupted"
    assert (ledger.read(job_id_for(second)) or {})["state"] == "done"
