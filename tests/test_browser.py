"""The catalog browser widget shows what the catalog holds and searches its text."""

from __future__ import annotations

import pytest

import framesift as fs
from framesift.notebook import CatalogBrowser

SPEC = fs.SamplingSpec(interval_s=1.0, detector="content", min_scene_len_frames=5)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def catalog(cuts_video, subtitled_video, tmp_path_factory) -> fs.Catalog:
    cat = fs.Catalog(str(tmp_path_factory.mktemp("browse") / "catalog"))
    summary = fs.ingest([str(cuts_video.path), str(subtitled_video.path)], cat, SPEC)
    assert summary.counts["ingested"] == 2
    return cat


def test_browsing_videos_and_searching(catalog, cuts_video, subtitled_video) -> None:
    browser = CatalogBrowser(catalog)
    assert f"<b>{catalog.totals()}</b>" in browser.totals.value
    assert f"{len(subtitled_video.cues)} text segments, 0 failed sources" in browser.totals.value
    labels = {label.split(" (")[0]: vid for label, vid in browser.video.options}
    assert set(labels) == {cuts_video.path.name, subtitled_video.path.name}

    browser.video.value = labels[cuts_video.path.name]
    scenes = len(cuts_video.cut_frames) + 1
    assert f"<b>{scenes}</b> scenes" in browser.facts.value
    assert "<b>0</b> text segments" in browser.facts.value
    assert bytes(browser.timeline.value).startswith(PNG)
    assert browser.gallery.value.count("<img ") == scenes  # one per scene start

    browser.video.value = labels[subtitled_video.path.name]
    assert f"<b>{len(subtitled_video.cues)}</b> text segments" in browser.facts.value
    assert f"({len(subtitled_video.cues)} subtitles)" in browser.facts.value

    browser.query.value = "hello"
    assert "<b>1 hit</b>" in browser.hits.value
    assert "Hello, world!" in browser.hits.value
    assert browser.hits.value.count("<img ") == 1  # the frame on screen

    browser.this_video_only.value = True
    browser.video.value = labels[cuts_video.path.name]
    assert "no text matches" in browser.hits.value
    browser.query.value = "!!"
    assert "no words" in browser.hits.value
    browser.query.value = ""
    assert browser.hits.value == ""
