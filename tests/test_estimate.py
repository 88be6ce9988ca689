"""The estimator predicts what an ingest will keep and store, from a sampled start."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

import fsspec
import pytest

import framesift as fs
import media
from framesift.cli import main
from framesift.estimate import estimate_collection
from framesift.sink import MemoryImageSink
from framesift.source import Source

pytest_plugins = ["fixtures_catalog"]

SPEC = fs.SamplingSpec(interval_s=0.5, detector="content", min_scene_len_frames=5)


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_estimate_is_close_to_the_ingest(
    cuts_video, vfr_video, rotated_video, not_a_video, tmp_path: Path
) -> None:
    sources = [str(p) for p in (cuts_video.path, vfr_video.path, rotated_video.path, not_a_video)]
    estimate = estimate_collection(sources, SPEC, calibrate_videos=2, calibrate_s=20.0)
    assert [u for u, _ in estimate.failed] == [str(not_a_video)]
    assert "NotAVideoError" in estimate.failed[0][1]
    assert estimate.videos.height == 3
    assert len(estimate.calibration) == 2  # the first two readable videos
    catalog = tmp_path / "catalog"
    fs.ingest(sources, str(catalog), SPEC)
    kept = fs.Catalog(str(catalog)).frames().height
    totals = estimate.totals
    assert abs(totals["kept_frames"] - kept) <= 0.3 * kept
    stored = _bytes_under(catalog / "thumbs") + _bytes_under(catalog / "tables")
    assert stored / 2 <= totals["bytes"] <= stored * 2
    assert totals["seconds"] > 0
    assert "3 videos" in str(estimate)


def test_calibration_samples_only_the_start(cuts_video) -> None:
    info = fs.probe(str(cuts_video.path))
    fps = info.video.avg_fps or 25.0
    short = fs.SamplingPass(str(cuts_video.path), SPEC, until_s=1.0).result()
    assert short.stats.frames_decoded <= fps + 10  # one second plus the read-ahead queue
    assert short.analysis.height == round(fps)
    assert float(short.analysis["time_s"].max()) < info.start_time_s + 1.0


def test_cli_estimate_json(cuts_video, not_a_video, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["estimate", str(cuts_video.path), str(not_a_video), "--every", "1", "--json"])
    assert code == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["totals"]["videos"] == 1
    assert payload["videos"][0]["kept_frames"] > 0
    assert payload["failed"][0]["source_url"] == str(not_a_video)


def test_reestimate_equals_a_new_estimate(cuts_video, vfr_video) -> None:
    """Other selection settings re-selected from the calibrated analysis give the kept
    frames a fresh estimate (a new calibration pass) gives."""
    from framesift.estimate import reestimate

    sources = [str(cuts_video.path), str(vfr_video.path)]
    base = estimate_collection(sources, SPEC)
    for other in (
        dataclasses.replace(SPEC, interval_s=2.0),
        dataclasses.replace(SPEC, interval_s=None, threshold=40.0),
        dataclasses.replace(SPEC, dedup_bits=10),
        dataclasses.replace(SPEC, representatives_per_scene=2),
    ):
        again = reestimate(base, other)
        fresh = estimate_collection(sources, other)
        assert again.videos["kept_frames"].to_list() == fresh.videos["kept_frames"].to_list()
        assert again.videos["table_bytes"].to_list() == base.videos["table_bytes"].to_list()


def test_estimator_widget_follows_its_sliders(cuts_video, vfr_video) -> None:
    from framesift.estimate import reestimate
    from framesift.notebook import CollectionEstimator

    sources = [str(cuts_video.path), str(vfr_video.path)]
    widget = CollectionEstimator(sources, SPEC)
    start = int(widget.estimate.totals["kept_frames"])
    assert f"~<b>{start:,}</b> kept frames" in widget.totals.value
    assert widget.table.value.count("<tr>") == 3  # a header and two videos

    widget.interval.value = 0.0  # scene starts only
    assert widget.spec.interval_s is None
    fewer = int(widget.estimate.totals["kept_frames"])
    assert fewer < start
    assert fewer == int(reestimate(widget.base, widget.spec).totals["kept_frames"])
    assert f"~<b>{fewer:,}</b> kept frames" in widget.totals.value
    widget.dedup.value = 6
    assert widget.spec.dedup_bits == 6


def test_estimator_widget_refuses_a_fast_calibration(cuts_video) -> None:
    from framesift.errors import SettingsError
    from framesift.notebook import CollectionEstimator

    fast = dataclasses.replace(SPEC, decode=fs.DecodeSpec(fast=True))
    with pytest.raises(SettingsError, match="every frame"):
        CollectionEstimator([str(cuts_video.path)], fast)


@pytest.mark.s3
def test_estimate_reads_videos_on_s3_with_their_storage_options(cuts_video, s3_server) -> None:
    """The calibration decodes the video with the same storage options as the probe."""
    bucket = s3_server.create_bucket()
    options = s3_server.options()
    url = f"s3://{bucket}/footage/cuts.mp4"
    with fsspec.open(url, "wb", **options) as handle:
        handle.write(cuts_video.path.read_bytes())
    estimate = estimate_collection([url], SPEC, storage_options=options, calibrate_s=5.0)
    assert estimate.failed == ()
    assert [c.source_url for c in estimate.calibration] == [url]
    assert estimate.calibration[0].kept > 0
    assert estimate.videos["source_url"].to_list() == [url]


def test_an_ingest_calibrated_estimate_counts_every_byte(
    cuts_video, vfr_video, tmp_path: Path
) -> None:
    """Calibrated on whole videos by ingesting them, the estimate is what the catalog holds:
    thumbnails, every table, commit markers, the ledger and the catalog's own file."""
    from framesift.batch import estimate_ingest

    sources = [str(cuts_video.path), str(vfr_video.path)]
    estimate = estimate_ingest(sources, SPEC, calibrate_videos=2, calibrate_s=60.0)
    assert [c.source_url for c in estimate.calibration] == sources
    catalog = tmp_path / "catalog"
    fs.ingest(sources, str(catalog), SPEC)
    stored = _bytes_under(catalog)
    assert abs(estimate.totals["bytes"] - stored) <= 0.05 * stored
    assert estimate.totals["kept_frames"] == fs.Catalog(str(catalog)).frames().height
    for name in ("kept_frames", "bytes", "cpu_seconds", "seconds"):  # each video alone
        low, high = estimate.ranges[name]
        assert low <= estimate.totals[name] <= high, name
    assert estimate.ranges["kept_frames"][0] < estimate.ranges["kept_frames"][1]
    assert all(c.overhead_bytes > 0 and c.catalog_bytes > 0 for c in estimate.calibration)
    assert " MB in the catalog (" in str(estimate)  # the range, in words


@pytest.mark.parametrize("compact_after", [64, 2], ids=["no compaction", "compacted"])
def test_an_ingest_calibrated_estimate_counts_the_compaction(
    cuts_video, vfr_video, tmp_path: Path, compact_after: int
) -> None:
    """An ingest of ``compact_after`` videos or more ends with a compaction: its copies and
    snapshot are in the estimate then, and only then."""
    from framesift.batch import estimate_ingest

    sources = [str(cuts_video.path), str(vfr_video.path)]
    estimate = estimate_ingest(
        sources, SPEC, calibrate_videos=2, calibrate_s=60.0, compact_after=compact_after
    )
    catalog = tmp_path / "catalog"
    summary = fs.ingest(sources, str(catalog), SPEC, compact_after=compact_after)
    assert summary.compacted == (compact_after == 2)
    stored = _bytes_under(catalog)
    assert abs(estimate.totals["bytes"] - stored) <= 0.05 * stored
    compacted = _bytes_under(catalog / "compact") + _bytes_under(catalog / "snapshots")
    assert (compacted > 0.1 * stored) == (compact_after == 2)  # not lost in the 5%


def test_cli_estimate_shows_its_range_and_cpu_time(
    cuts_video, vfr_video, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["estimate", str(cuts_video.path), str(vfr_video.path), "--every", "1"])
    assert code == 0
    out = capsys.readouterr().out
    totals = out.strip().splitlines()[-2]  # the totals, then what it was measured on
    assert re.search(r"kept frames \(\d+-\d+\)", totals), totals
    assert re.search(r"MB in the catalog \([\d.]+-[\d.]+\)", totals), totals
    # Seconds of a few short clips, in seconds (minutes past two, hours past two hours).
    assert re.search(r"~[\d.]+ s \([\d.]+-[\d.]+\) of ingest", totals), totals
    assert re.search(r"~[\d.]+ CPU s \([\d.]+-[\d.]+\)", totals), totals
    assert out.count("CPU s)") == 2  # each video's CPU seconds beside its wall seconds
    assert re.search(r"the estimate itself: [\d.]+ CPU seconds", out), out


@pytest.mark.parametrize("full_frames", [False, True], ids=["thumbnails", "full frames"])
def test_pictures_spread_over_a_video_weigh_what_its_kept_frames_weigh(
    tmp_path: Path, full_frames: bool
) -> None:
    """A video whose start is light (a solid colour) and whose rest is heavy (patterns):
    frames spread over all of it weigh what the ingest's kept frames weigh, where its
    first seconds alone would be far off."""
    from framesift.estimate_pictures import measure_picture_bytes

    video = media.make_cuts_video(
        tmp_path,
        colours_or_patterns=[(30, 30, 30), "checkerboard", "noise", "rings", "stripes"],
        frames_per_scene=[50, 50, 50, 50, 50],
        name="light_start.mp4",
    )
    spec = dataclasses.replace(SPEC, image=fs.ImageSpec(full_frames=full_frames))
    measured = measure_picture_bytes(Source(str(video.path)), fs.probe(str(video.path)), spec)
    assert measured is not None
    assert measured.frames >= 12
    assert 0 < measured.error_bytes < 0.2 * measured.bytes_per_frame  # 16 of its 20 ticks
    catalog = tmp_path / "catalog"
    fs.ingest([str(video.path)], str(catalog), spec)
    kept = fs.Catalog(str(catalog)).frames().height
    per_frame = _bytes_under(catalog / "thumbs") / kept
    assert abs(measured.bytes_per_frame / per_frame - 1) <= 0.10
    start = fs.SamplingPass(str(video.path), spec, until_s=2.0, sink=MemoryImageSink()).result()
    assert start.frames["thumbnail_bytes"].mean() < 0.5 * per_frame  # the start alone misleads


def test_a_stall_during_calibration_costs_no_cpu_seconds(cuts_video, monkeypatch) -> None:
    """A stall lengthens a calibration run's wall clock, not its CPU seconds: the
    estimate's cost per pixel is counted in CPU seconds (a busy machine's wait for a core
    is taken out of the cores: tests/test_estimate_cuts.py)."""
    import framesift.batch.calibrate as calibrate

    runs: list[calibrate._Stretch] = []
    ingest_stretch = calibrate._ingest_stretch

    class StalledOnce(fs.SamplingPass):
        def result(self) -> fs.SampleResult:
            result = super().result()
            if not runs:
                time.sleep(3.0)  # the machine stalled during the first run's loop
            return result

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(ingest_stretch(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(calibrate, "SamplingPass", StalledOnce)
    monkeypatch.setattr(calibrate, "_ingest_stretch", recorded)
    info = fs.probe(str(cuts_video.path))
    measured = calibrate.calibrate_ingest(Source(str(cuts_video.path)), info, SPEC, 20.0)
    assert len(runs) == 2  # the stretch, then a few frames for bytes
    assert runs[0].seconds == 20.0
    stalled, tiny = runs
    assert tiny.seconds < 1.0
    assert stalled.call.wall > 3.0
    assert measured.cpu_s < 1.5  # sleeping is no work; the loop itself is well under that
    assert measured.cpu_s == pytest.approx(stalled.loop_cpu_s)


def test_cli_estimate_names_an_unreadable_file_once_with_its_own_error(
    cuts_video, truncated_video, not_a_video, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file the probe refuses and one that opens but fails in the calibration ingest
    (its index promises frames whose bytes are gone) are each listed on one line with
    the error they are, the file named once."""
    sources = [str(truncated_video.path), str(not_a_video), str(cuts_video.path)]
    assert main(["estimate", *sources]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "UNREADABLE" in line]
    assert len(lines) == 2, lines
    line_of = {Path(path).name: line for path in sources[:2] for line in lines if path in line}
    for name, line in line_of.items():
        assert line.count(name) == 1, line
    cut, refused = line_of[truncated_video.path.name], line_of[not_a_video.name]
    assert "TruncatedMediaError: " in cut
    assert "MediaError: Truncated" not in cut
    assert "NotAVideoError: " in refused
