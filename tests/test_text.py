"""Text on the frames' timeline: subtitle streams, sidecar files, the catalog's segments
and ranked search (a local folder and the S3 test server alike)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import fsspec
import polars as pl
import pytest

import framesift as fs
from catalog_support import FAST_RETRY, SPEC, CatalogTarget
from framesift.batch import IngestSummary, ingest
from framesift.catalog import Catalog
from framesift.errors import SettingsError, SubtitleError
from framesift.progress import ProgressEvent
from framesift.spec import TextSpec, settings_fingerprint
from framesift.text import (
    TextSegment,
    clean_text,
    extract_text,
    find_sidecars,
    read_sidecar,
    read_subtitle_streams,
)

pytest_plugins = ["fixtures_catalog"]

SRT = """1
00:00:00,500 --> 00:00:01,200
The <i>quick</i> brown fox

2
00:00:01,400 --> 00:00:02,000
<font color="#ff0000">jumps</font> over
the lazy dog

3
00:00:02,500 --> 00:00:03,000
Café crème, s'il vous plaît
"""

VTT = """WEBVTT

00:00:00.200 --> 00:00:00.900
Fish &amp; chips <00:00:00.500>for <c.yellow>two</c>

NOTE a comment block

00:00:01.000 --> 00:00:01.800 align:start
<v Narrator>A <b>rare</b> zebra appears
"""

ASS = """[Script Info]
ScriptType: v4.00+

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
Style: Default,Arial,20,&H00FFFFFF,&H000000FF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,1,2,2,2,10,10,10,1

[Events]
Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text
Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}Two{\\i0} lines\\Nof text
Comment: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,not shown
"""  # noqa: E501


def texts(segments: list[TextSegment]) -> list[str]:
    return [s.text for s in segments]


# -- reading ---------------------------------------------------------------------------


def test_subtitle_stream_cues_on_the_timeline(subtitled_video):
    segments = read_subtitle_streams(str(subtitled_video.path))
    assert [(s.start_s, s.end_s, s.text) for s in segments] == [
        (c.start_s, c.end_s, c.text) for c in subtitled_video.cues
    ]
    assert {s.language for s in segments} == {"en"}  # the stream's "eng", as a BCP-47 tag
    assert {s.source for s in segments} == {"subtitles"}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "a.srt",
            SRT,
            [
                (0.5, 1.2, "The quick brown fox"),
                (1.4, 2.0, "jumps over\nthe lazy dog"),
                (2.5, 3.0, "Café crème, s'il vous plaît"),
            ],
        ),
        (
            "a.vtt",
            VTT,
            [(0.2, 0.9, "Fish & chips for two"), (1.0, 1.8, "A rare zebra appears")],
        ),
        ("a.ass", ASS, [(1.0, 2.5, "Two lines\nof text")]),
    ],
)
def test_sidecar_formats_give_plain_text(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    segments = read_sidecar(str(path), language="en", offset_s=0.0)
    assert [(round(s.start_s, 3), round(s.end_s, 3), s.text) for s in segments] == expected
    assert {s.language for s in segments} == {"en"}


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-16"])
def test_sidecar_encodings(tmp_path, encoding):
    path = tmp_path / "a.srt"
    path.write_bytes(SRT.encode(encoding))
    assert texts(read_sidecar(str(path)))[2] == "Café crème, s'il vous plaît"


def test_unreadable_sidecars_raise_a_typed_error_naming_the_file(tmp_path):
    garbage = tmp_path / "bad.srt"
    garbage.write_bytes(b"this is not\na subtitle file at all\n")
    with pytest.raises(SubtitleError, match=r"bad\.srt: no subtitle cues"):
        read_sidecar(str(garbage))
    empty = tmp_path / "empty.vtt"
    empty.write_text("")
    assert read_sidecar(str(empty)) == []


def test_clean_text_removes_markup():
    assert clean_text("{\\b1}Bold{\\b0}\\Nnext\\hword") == "Bold\nnext word"
    assert clean_text("<i>a</i>  &lt;b&gt;  <00:00:01.000>c") == "a <b> c"


def test_sidecars_are_found_by_name(tmp_path):
    video = tmp_path / "movie.mp4"
    video.write_bytes(b"")
    for name in [
        "movie.srt",
        "movie.en.vtt",
        "movie.pt-BR.srt",
        "movie.forced.ass",
        "movie.fre.srt",
        "movie.pt_br.ass",
        "movie.sdh.srt",
        "movie.txt",
        "moviefoo.srt",
        "other.srt",
    ]:
        (tmp_path / name).write_text("")
    found = {Path(s.url).name: s.language for s in find_sidecars(str(video))}
    assert found == {
        "movie.srt": None,
        "movie.en.vtt": "en",
        "movie.pt-BR.srt": "pt-BR",
        "movie.forced.ass": None,
        "movie.fre.srt": "fr",  # ISO 639-2/B, as containers write it
        "movie.pt_br.ass": "pt-BR",
        "movie.sdh.srt": None,  # a tag, not a language
    }


def test_sidecar_times_follow_the_video_start(offset_start_video, tmp_path):
    video = tmp_path / "late.mp4"
    video.write_bytes(offset_start_video.path.read_bytes())
    # The video is 1 s long: a cue from 0:00.5 shows at 10.5 s (one from 0:01 would not show).
    (tmp_path / "late.srt").write_text("1\n00:00:00,500 --> 00:00:00,900\nafter half a second\n")
    info = fs.probe(str(video))
    (segment,) = extract_text(str(video), info, TextSpec())
    assert segment.start_s == pytest.approx(info.start_time_s + 0.5)
    assert info.start_time_s == pytest.approx(offset_start_video.first_time_s, abs=0.05)


# -- the catalog and search --------------------------------------------------------------


def place(target: CatalogTarget, files: dict[str, Path | str], folder: Path) -> list[str]:
    """Put files where the catalog's tests read sources: beside it on S3, or a folder."""
    urls = []
    for name, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content.encode()
        if target.kind == "s3":
            url = target.url.rsplit("/", 1)[0] + f"/sources/{name}"
            with fsspec.open(url, "wb", **target.storage_options) as handle:
                handle.write(data)
        else:
            url = str(folder / name)
            Path(url).write_bytes(data)
        urls.append(url)
    return urls


def open_catalog(target: CatalogTarget) -> Catalog:
    return Catalog(target.url, target.storage_options, retry=FAST_RETRY, max_staleness_s=0)


def run(target: CatalogTarget, sources: list[str], **kwargs: object) -> IngestSummary:
    """Ingest into the target; sources on the S3 server open with its options."""
    spec = kwargs.pop("spec", SPEC)
    return ingest(
        sources,
        open_catalog(target),
        spec,  # type: ignore[arg-type]
        retry=FAST_RETRY,
        source_options=target.storage_options or None,
        **kwargs,  # type: ignore[arg-type]
    )


FRENCH = "1\n00:00:00,500 --> 00:00:01,500\nBonjour le monde, café crème\n"
# The clip is 3 s long: every cue shows while it plays (a cue after its end is dropped).
OTHER = "\n".join(
    [
        f"{n}\n00:00:0{n - 1},000 --> 00:00:0{n},000\n{text}\n"
        for n, text in enumerate(
            ["The zebra and the fox", "The dog, the dog, the dog", "A dog barks"], start=1
        )
    ]
    + ["4\n00:00:02,500 --> 00:00:02,900\nEvery dog\n"]
)


@pytest.fixture
def text_catalog(catalog_url, subtitled_video, videos, tmp_path):
    """Two videos: one with an English subtitle stream, the same cues as an untagged .srt
    and French cues in a .fr.srt; one with its own .srt."""
    sources = place(
        catalog_url,
        {
            "talk.mp4": subtitled_video.path,
            "talk.srt": subtitled_video.path.with_suffix(".srt"),
            "talk.fr.srt": FRENCH,
            "clip.mp4": videos.good[0],
            "clip.srt": OTHER,
        },
        tmp_path,
    )
    summary = run(catalog_url, [sources[0], sources[3]])
    assert summary.counts["ingested"] == 2, summary
    return catalog_url, summary


def test_ingest_puts_text_on_the_timeline(text_catalog, subtitled_video):
    target, summary = text_catalog
    cat = open_catalog(target)
    talk_id = summary.outcomes[0].video_id
    segments = cat.segments(talk_id)
    # The English cues once (the stream's, with its language), the French cue beside them.
    english = segments.filter(segments["language"] == "en")
    assert english["text"].to_list() == [c.text for c in subtitled_video.cues]
    assert segments.height == len(subtitled_video.cues) + 1
    french = segments.filter(segments["language"] == "fr")["text"].to_list()
    assert french == ["Bonjour le monde, café crème"]
    assert segments["start_s"].is_sorted()


def test_search_ranks_and_points_at_frames(text_catalog):
    target, summary = text_catalog
    cat = open_catalog(target)
    clip_id = summary.outcomes[1].video_id
    hits = cat.search("zebra dog")
    # "zebra" is rarer than "dog" across the catalog (1 segment against 3): its segment
    # ranks first; of the dog segments, the one saying it three times comes next.
    assert hits["text"].to_list()[:2] == ["The zebra and the fox", "The dog, the dog, the dog"]
    assert hits["score"].is_sorted(descending=True)
    top = hits.row(0, named=True)
    assert top["video_id"] == clip_id
    assert top["source_url"].endswith("clip.mp4")
    assert hits.height == 4
    # The kept frame on screen at the middle of the cue (0.5 s): sampled every second.
    assert top["time_s"] == pytest.approx(0.0)
    assert top["thumbnail_uri"] is not None
    second = hits.row(1, named=True)
    assert second["start_s"] == 1.0
    assert second["time_s"] == pytest.approx(1.0)
    assert cat.thumbnail(clip_id, top["frame_index"]).size[0] > 0

    # Accents and case do not matter; narrowing works; nothing matched is empty.
    assert cat.search("BONJOUR")["language"].to_list() == ["fr"]
    assert cat.search("CAFE creme")["language"].to_list() == ["fr"]
    assert cat.search("quick brown").height == 0
    assert cat.search("world", language="fr").height == 0
    # One code for every source: the stream's "eng" and a filter in any spelling of it.
    for spelling in ("en", "eng", "EN"):
        assert set(cat.search("world", language=spelling)["language"]) == {"en"}
    assert cat.search("bonjour", language="fra")["language"].to_list() == ["fr"]
    with pytest.raises(SettingsError, match="language='klingon'"):
        cat.search("world", language="klingon")
    assert cat.search("world", video_id=clip_id).height == 0
    assert cat.search("world", sources=["speech"]).height == 0
    assert cat.search("the", limit=2).height == 2
    grid = cat.show_thumbnails(cat.search("zebra"))
    assert len(grid) == 1
    assert "The zebra" in grid._repr_html_()
    with pytest.raises(SettingsError, match="no words"):
        cat.search(" ,.! ")
    with pytest.raises(SettingsError, match="sources"):
        cat.search("dog", sources=["tweets"])


def test_an_unreadable_sidecar_fails_its_video_and_leaves_no_rows(catalog_url, videos, tmp_path):
    sources = place(
        catalog_url,
        {"broken.mp4": videos.good[1], "broken.srt": "not a subtitle file\n"},
        tmp_path,
    )
    cat = open_catalog(catalog_url)
    summary = run(catalog_url, [sources[0]])
    (outcome,) = summary.outcomes
    assert outcome.status == "failed"
    assert outcome.error_type == "SubtitleError"
    assert "broken.srt" in outcome.error_message
    assert cat.videos().height == 0
    assert cat.frames().height == 0
    assert cat.jobs()["state"].to_list() == ["failed"]
    # Without sidecars the same video goes in; asking again with them is another setting.
    summary = run(catalog_url, [sources[0]], text=TextSpec(sidecars=False))
    assert summary.counts["ingested"] == 1
    assert cat.segments().height == 0
    again = run(catalog_url, [sources[0]], text=TextSpec(sidecars=False))
    assert again.counts["skipped"] == 1


def test_search_command(tmp_path, subtitled_video):
    catalog = tmp_path / "cat"
    cli = [str(Path(sys.executable).parent / "framesift")]
    done = subprocess.run(
        [*cli, "ingest", str(subtitled_video.path), "--catalog", str(catalog), "--no-progress"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    found = subprocess.run(
        [*cli, "search", "hello", "--catalog", str(catalog), "--json"],
        capture_output=True,
        text=True,
    )
    assert found.returncode == 0, found.stderr
    (hit,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert hit["text"] == "Hello, world!"
    assert hit["start_s"] == 0.5
    missing = subprocess.run(
        [*cli, "search", "nowhere", "--catalog", str(catalog)], capture_output=True, text=True
    )
    assert missing.returncode == 1
    assert "0 hits" in missing.stdout
    bad = subprocess.run(
        [*cli, "search", "!!", "--catalog", str(catalog)], capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "SettingsError" in bad.stderr


# -- speech ---------------------------------------------------------------------------


def spoken_words(text: str) -> set[str]:
    return {w.strip(".,").lower() for w in text.split()}


def test_speech_is_transcribed_on_the_timeline(spoken_video):
    from framesift.text.speech import transcribe

    segments = transcribe(str(spoken_video.path))
    assert segments
    assert {s.source for s in segments} == {"speech"}
    assert {s.language for s in segments} == {"en"}
    heard = set().union(*(spoken_words(s.text) for s in segments))
    said = spoken_words(spoken_video.words)
    assert len(heard & said) >= 0.7 * len(said), heard  # tiny.en on a synthetic voice
    assert abs(segments[0].start_s - spoken_video.speech_start_s) < 0.6
    assert segments[-1].end_s <= fs.probe(str(spoken_video.path)).duration_s + 0.1
    assert all(0 < s.confidence <= 1 for s in segments)


def test_speech_in_the_catalog_is_searchable(spoken_video, cuts_video, tmp_path):
    cat = Catalog(str(tmp_path / "cat"))
    summary = ingest(
        [str(spoken_video.path), str(cuts_video.path)],  # the second has no audio
        cat,
        SPEC,
        text=TextSpec(speech=True),
    )
    assert summary.counts["ingested"] == 2
    segments = cat.segments()
    assert set(segments["source"]) == {"speech"}
    assert set(segments["video_id"]) == {summary.outcomes[0].video_id}
    (hit,) = cat.search("lazy dog river").rows(named=True)
    assert hit["source"] == "speech"
    assert hit["source_url"].endswith("spoken.mp4")
    assert hit["thumbnail_uri"] is not None


def test_speech_settings_are_checked_before_any_video(spoken_video, tmp_path):
    cat = Catalog(str(tmp_path / "cat"))
    with pytest.raises(SettingsError, match="speech_model"):
        ingest(
            [str(spoken_video.path)],
            cat,
            SPEC,
            text=TextSpec(speech=True, speech_model=str(tmp_path / "nowhere")),
        )
    assert cat.videos().height == 0
    assert cat.jobs().height == 0
    with pytest.raises(SettingsError, match="speech_language"):
        TextSpec(speech=True, speech_language="english")


# -- on-screen text -------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["rapidocr", "tesseract"])
def test_on_screen_text_is_read_once_per_picture(titled_video, tmp_path, monkeypatch, engine):
    from framesift.text import ocr

    if engine == "rapidocr":
        pytest.importorskip("rapidocr", reason="PP-OCR needs framesift[analyze]")

    calls: list[int] = []
    original = ocr._ocr

    def counting(gray, language):
        calls.append(gray.shape[1])
        return original(gray, language)

    monkeypatch.setattr(ocr, "_ocr", counting)
    cat = Catalog(str(tmp_path / "cat"))
    text = TextSpec(ocr=True, subtitles=False, ocr_engine=engine)
    summary = ingest([str(titled_video.path)], cat, SPEC, text=text)
    assert summary.counts["ingested"] == 1
    segments = cat.segments().filter(pl.col("source") == "ocr")
    got = [(s["start_s"], s["end_s"], s["text"]) for s in segments.iter_rows(named=True)]
    assert got == [(c.start_s, c.end_s, c.text) for c in titled_video.cards]
    assert segments["confidence"].min() > 0.6
    assert set(segments["language"]) == {"en"}
    # Kept frames at 0, 1, 2, 3, 4 s (interval 1 s): three distinct pictures, read at
    # full width; the text-less one gives no segment.
    assert calls == [640, 640, 640]
    (hit,) = cat.search("second title").rows(named=True)
    assert hit["source"] == "ocr"
    assert hit["time_s"] == pytest.approx(3.0)


def test_the_wall_time_limit_holds_for_text_extraction_too(titled_video, tmp_path, monkeypatch):
    """A video's wall-time limit covers its whole ingest: OCR that runs past it fails the
    video with MediaLimitError and commits nothing (the pass's own limit is lifted here,
    so that only text extraction can meet it)."""
    import dataclasses
    import time

    from framesift.text import ocr

    original = ocr._ocr

    def slow(gray, language):
        time.sleep(0.5)
        return original(gray, language)

    monkeypatch.setattr(ocr, "_ocr", slow)

    def unlimited_pass(url, spec, **kwargs):
        decode = dataclasses.replace(spec.decode, limits=fs.LimitsSpec(max_video_s=None))
        return fs.sample_video(url, dataclasses.replace(spec, decode=decode), **kwargs)

    limited = dataclasses.replace(
        SPEC, decode=dataclasses.replace(SPEC.decode, limits=fs.LimitsSpec(max_video_s=0.5))
    )
    cat = Catalog(str(tmp_path / "cat"))
    summary = ingest(
        [str(titled_video.path)],
        cat,
        limited,
        sampler=unlimited_pass,
        text=TextSpec(ocr=True, subtitles=False),
    )
    (outcome,) = summary.outcomes
    assert outcome.status == "failed"
    assert outcome.error_type == "MediaLimitError"
    assert "sampling and text extraction took longer than 0.5 s" in (outcome.error_message or "")
    assert cat.video_ids() == []


def test_ocr_settings_are_checked_before_any_video(titled_video, tmp_path):
    cat = Catalog(str(tmp_path / "cat"))
    swahili = TextSpec(ocr=True, ocr_language="en+sw", ocr_engine="tesseract")
    with pytest.raises(SettingsError, match=r"tesseract-ocr-swa\)"):  # not installed here
        ingest([str(titled_video.path)], cat, SPEC, text=swahili)
    assert cat.videos().height == 0
    with pytest.raises(SettingsError, match="ocr_language"):
        TextSpec(ocr=True, ocr_language="eng; rm -rf /")
    with pytest.raises(SettingsError, match="ocr_language='en\\+xx'"):
        TextSpec(ocr=True, ocr_language="en+xx")
    with pytest.raises(SettingsError, match="ocr_engine='easyocr': allowed rapidocr, tesseract"):
        TextSpec(ocr=True, ocr_engine="easyocr")  # type: ignore[arg-type]


def test_rapidocr_is_the_default_engine_and_part_of_the_settings_hash():
    pytest.importorskip("rapidocr", reason="PP-OCR needs framesift[analyze]")
    assert TextSpec(ocr=True).ocr_engine == "rapidocr"
    rapid = settings_fingerprint(SPEC, TextSpec(ocr=True))
    assert rapid != settings_fingerprint(SPEC, TextSpec(ocr=True, ocr_engine="tesseract"))
    # Without OCR the engine changes nothing, and hashes stay what they were.
    assert TextSpec().to_dict().keys() == TextSpec(ocr_engine="tesseract").to_dict().keys()
    assert "ocr_engine" not in TextSpec().to_dict()


def test_new_text_settings_update_only_the_text(
    catalog_url, subtitled_video, titled_video, tmp_path
):
    """Asking for more text later (OCR here) re-extracts the text and carries the frames,
    scenes, analysis and thumbnails over: nothing is sampled again."""
    sources = place(
        catalog_url, {"talk.mp4": subtitled_video.path, "titled.mp4": titled_video.path}, tmp_path
    )
    first = run(catalog_url, sources, text=TextSpec(sidecars=False))
    assert first.counts["ingested"] == 2
    cat = open_catalog(catalog_url)
    frames_before = cat.frames().sort("video_id", "frame_index")
    thumbs_before = sorted(frames_before["thumbnail_uri"])
    assert set(cat.segments()["source"]) == {"subtitles"}

    def no_sampling(*args: object, **kwargs: object) -> None:
        raise AssertionError("sampled again")

    second = run(catalog_url, sources, text=TextSpec(sidecars=False, ocr=True), sampler=no_sampling)
    assert second.counts["updated"] == 2, second
    assert [o.generation for o in second.outcomes] == [2, 2]
    cat = open_catalog(catalog_url)
    assert cat.frames().sort("video_id", "frame_index").equals(frames_before)
    assert sorted(cat.frames()["thumbnail_uri"]) == thumbs_before
    titled = cat.segments(second.outcomes[1].video_id)
    assert titled.filter(pl.col("source") == "ocr")["text"].to_list() == [
        c.text for c in titled_video.cards
    ]
    assert cat.thumbnail(second.outcomes[0].video_id, 0).size[0] > 0  # carried over
    again = run(catalog_url, sources, text=TextSpec(sidecars=False, ocr=True), sampler=no_sampling)
    assert again.counts["skipped"] == 2
    # Other sampling settings sample again.
    other = run(catalog_url, sources, text=TextSpec(sidecars=False, ocr=True),
                spec=dataclasses.replace(SPEC, interval_s=2.0))  # fmt: skip
    assert other.counts["replaced"] == 2


def test_no_text_invented_on_footage_without_any(tmp_path):
    """Two real clips in data/clips without speech or printed text (music, bird calls, a
    hand-held camera): Whisper and Tesseract guesses on them are dropped."""
    clips = Path(__file__).parent.parent / "data" / "clips"
    sources = [str(clips / "bigbuckbunny.mp4"), str(clips / "cockatoo.mp4")]
    cat = Catalog(str(tmp_path / "cat"))
    text = TextSpec(subtitles=False, sidecars=False, speech=True, ocr=True)
    summary = ingest(sources, cat, SPEC, text=text)
    assert summary.counts["ingested"] == 2
    assert cat.frames().height > 10  # the OCR had pictures to read
    assert cat.segments().height == 0


def test_speech_and_ocr_report_progress(spoken_video, titled_video, tmp_path):
    seen: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def video_progress(event: ProgressEvent) -> None:
        seen.setdefault((Path(event.url).name, event.stage), []).append((event.done, event.total))

    summary = ingest(
        [str(spoken_video.path), str(titled_video.path)],
        Catalog(str(tmp_path / "cat")),
        SPEC,
        text=TextSpec(speech=True, ocr=True),
        video_progress=video_progress,
    )
    assert summary.counts["ingested"] == 2
    assert {("spoken.mp4", "sample"), ("spoken.mp4", "speech"), ("titled.mp4", "ocr")} <= set(seen)
    speech = [done for done, _ in seen["spoken.mp4", "speech"]]
    assert speech == sorted(speech)
    assert speech[-1] > spoken_video.speech_start_s
    ocr = seen["titled.mp4", "ocr"]
    assert [done for done, _ in ocr] == sorted(done for done, _ in ocr)
    assert ocr[-1][1] == pytest.approx(5.0, abs=0.2)  # the video's length


def test_search_sees_what_was_committed_since_the_last_search(subtitled_video, videos, tmp_path):
    cat = Catalog(str(tmp_path / "cat"), max_staleness_s=0)
    ingest([str(subtitled_video.path)], cat, SPEC, text=TextSpec(sidecars=False))
    assert cat.search("zebra").height == 0
    assert cat.search("hello").height == 1
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(videos.good[0].read_bytes())
    (tmp_path / "clip.srt").write_text(OTHER)
    ingest([str(clip)], cat, SPEC)
    assert cat.search("zebra")["source_url"].to_list() == [str(clip)]
    assert cat.search("hello").height == 1
    cat.delete_video(cat.search("zebra")["video_id"][0])
    assert cat.search("zebra").height == 0


def _cue(n: int, start_s: float) -> str:
    def stamp(t: float) -> str:
        hours, minutes, seconds = int(t // 3600), int(t // 60 % 60), int(t % 60)
        return f"{hours:02d}:{minutes:02d}:{seconds:02d},{int(t * 1000 % 1000):03d}"

    return f"{n}\n{stamp(start_s)} --> {stamp(start_s + 0.5)}\ncue number {n}\n\n"


def test_sidecar_cues_outside_the_video_are_dropped_with_a_count(cuts_video, tmp_path, caplog):
    video = tmp_path / "clip.mp4"
    video.write_bytes(cuts_video.path.read_bytes())
    info = fs.probe(str(video))
    assert info.duration_s is not None
    end_s = info.start_time_s + info.duration_s
    starts = [0.5, end_s - 1.0, end_s - 0.2, end_s + 1.0, end_s + 3600.0]
    (tmp_path / "clip.srt").write_text("".join(_cue(i + 1, t) for i, t in enumerate(starts)))
    with caplog.at_level("WARNING", logger="framesift.text.subtitles"):
        segments = extract_text(str(video), info, TextSpec())
    assert [s.text for s in segments] == ["cue number 1", "cue number 2", "cue number 3"]
    assert segments[-1].end_s == pytest.approx(end_s)  # cut at the video's end
    assert "2 subtitle cue(s) outside the video's" in caplog.text


def test_a_sidecar_over_the_size_limit_fails_its_video_before_it_is_read(cuts_video, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(cuts_video.path.read_bytes())
    cues = "".join(_cue(i + 1, 0.5) for i in range(2000))
    (tmp_path / "clip.srt").write_text(cues)
    info = fs.probe(str(video))
    with pytest.raises(SubtitleError, match=r"clip\.srt: larger than the limit of 4,096 bytes"):
        extract_text(str(video), info, TextSpec(max_sidecar_bytes=4096))
    assert len(extract_text(str(video), info, TextSpec())) == 2000  # the default admits it
    # The limit changes no output: it is not part of the settings hash.
    limited = settings_fingerprint(fs.SamplingSpec(), TextSpec(max_sidecar_bytes=4096))
    assert limited == settings_fingerprint(fs.SamplingSpec(), TextSpec())
    with pytest.raises(SettingsError, match="max_sidecar_bytes"):
        TextSpec(max_sidecar_bytes=10)


# -- one language code ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "tag"),
    [
        pytest.param("en", "en", id="iso-639-1"),
        pytest.param("EN", "en", id="upper-case"),
        pytest.param("eng", "en", id="container-639-2"),
        pytest.param("fre", "fr", id="639-2-bibliographic"),
        pytest.param("fra", "fr", id="639-2-terminological"),
        pytest.param("ger", "de", id="ger"),
        pytest.param("chi", "zh", id="chi"),
        pytest.param("pt-BR", "pt-BR", id="region"),
        pytest.param("pt_br", "pt-BR", id="underscore-lower-region"),
        pytest.param("chi_sim", "zh-Hans", id="tesseract-simplified-chinese"),
        pytest.param("srp_latn", "sr-Latn", id="tesseract-script"),
        pytest.param("haw", "haw", id="no-two-letter-code"),
        pytest.param("jw", "jv", id="whisper-javanese"),
        pytest.param("und", None, id="undetermined"),
        pytest.param("mul", None, id="multiple"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param("english", None, id="a-name"),
        pytest.param("xx", None, id="unassigned"),
        pytest.param("osd", None, id="tesseract-not-a-language"),
    ],
)
def test_every_language_code_becomes_one_tag(code, tag):
    from framesift.language import language_tag

    assert language_tag(code) == tag


def test_languages_for_tesseract_whisper_and_the_segments():
    from framesift.language import spoken_language, tesseract_names, text_language

    assert tesseract_names("en") == "eng"
    assert tesseract_names("en+fr+de") == "eng+fra+deu"  # Tesseract names 639-2/T
    assert tesseract_names("zh-Hans+sr-Latn") == "chi_sim+srp_latn"
    assert tesseract_names("eng+chi_tra+frk") == "eng+chi_tra+frk"  # its own names stay
    assert text_language("eng") == "en"
    assert text_language("chi_sim") == "zh-Hans"
    assert text_language("eng+fra") is None  # Tesseract does not say which one a line is
    assert text_language("eng+osd") == "en"
    assert spoken_language("pt-BR") == "pt"
    assert spoken_language("eng") == "en"
    assert TextSpec(speech_language="fre").speech_language == "fr"
    with pytest.raises(SettingsError, match="speech_language='english'"):
        spoken_language("english")


def test_older_catalogs_with_three_letter_codes_answer_in_tags(
    subtitled_video, tmp_path, monkeypatch
):
    """A catalog written before one language code holds the container's "eng": search
    reads it as "en", so one filter finds old and new text."""
    from framesift.text import subtitles

    monkeypatch.setattr(subtitles, "language_tag", lambda code: code)  # the older reading
    cat = Catalog(str(tmp_path / "cat"))
    ingest([str(subtitled_video.path)], cat, SPEC, text=TextSpec(sidecars=False))
    assert set(cat.segments()["language"]) == {"eng"}  # as it was written
    hits = cat.search("world", language="en")
    assert hits["language"].to_list() == ["en"]
    assert cat.search("world")["language"].to_list() == ["en"]
    assert cat.search("world", language="fr").height == 0


def test_a_language_filter_finds_its_regional_variants(subtitled_video, tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(subtitled_video.path.read_bytes())
    (tmp_path / "talk.en-US.srt").write_text("1\n00:00:02,000 --> 00:00:03,000\nHowdy world\n")
    (tmp_path / "talk.pt-BR.srt").write_text("1\n00:00:02,000 --> 00:00:03,000\nOlá mundo\n")
    cat = Catalog(str(tmp_path / "cat"))
    ingest([str(video)], cat, SPEC)
    assert set(cat.search("world howdy", language="en")["language"]) == {"en", "en-US"}
    assert cat.search("world howdy", language="en-US")["text"].to_list() == ["Howdy world"]
    assert cat.search("world howdy", language="en-GB").height == 0
    assert cat.search("mundo", language="pt")["language"].to_list() == ["pt-BR"]
    assert cat.search("mundo", language="pt-PT").height == 0


# -- speech that was said ---------------------------------------------------------------


def heard(start_s, end_s, text, logprob=-0.3, no_speech=0.1, ratio=1.2, voiced=1.0):
    from framesift.text.screening import HeardSegment

    return HeardSegment(start_s, end_s, text, logprob, no_speech, ratio, "en", voiced)


def said(segments):
    return [(s.start_s, s.end_s, s.text) for s in segments]


def test_whisper_loops_on_music_are_dropped():
    """What tiny.en returned on a game intro's music: one text seven times in a row at
    confidence 0.72, some segments 0.02 s long. None of it was said."""
    from framesift.text.screening import screen_speech

    loop = "I'm gonna go back to the next one."
    times = [(49.0, 49.02), (50.0, 51.5), (51.5, 51.52), (53.0, 55.0), (55.0, 57.0),
             (57.0, 58.5), (58.5, 60.0)]  # fmt: skip
    assert screen_speech([heard(a, b, loop, logprob=-0.33) for a, b in times]) == []
    # The same text three times with nothing else said between, however far apart.
    spread = [heard(t, t + 2.0, "Thank you.") for t in (10.0, 60.0, 110.0)]
    assert screen_speech(spread) == []


def test_real_speech_survives_the_screening():
    from framesift.text.screening import screen_speech

    sentences = ["The quick brown fox.", "A dog barks.", "Rain falls."]
    # Said three times each, in turn: speech repeats itself with other words between.
    repeated = [heard(3.0 * i, 3.0 * i + 2.0, sentences[i % 3]) for i in range(9)]
    assert said(screen_speech(repeated)) == [
        (3.0 * i, 3.0 * i + 2.0, sentences[i % 3]) for i in range(9)
    ]
    # The same text twice in a row, close together: one segment; far apart: two.
    twice = [heard(0.0, 1.0, "Go on."), heard(1.2, 2.0, "go on")]
    assert said(screen_speech(twice)) == [(0.0, 2.0, "Go on.")]
    apart = [heard(0.0, 1.0, "Go on."), heard(9.0, 10.0, "Go on.")]
    assert said(screen_speech(apart)) == [(0.0, 1.0, "Go on."), (9.0, 10.0, "Go on.")]


@pytest.mark.parametrize(
    "segment",
    [
        pytest.param(heard(1.0, 1.02, "I'm gonna go back."), id="shorter-than-a-word"),
        pytest.param(heard(1.0, 1.5, "one two three four five six seven"), id="too-many-words"),
        pytest.param(heard(1.0, 3.0, "Mmm.", logprob=-1.4), id="low-confidence"),
        pytest.param(heard(1.0, 3.0, "the the the the the", ratio=3.1), id="repeats-itself"),
        pytest.param(heard(1.0, 3.0, "Thank you.", logprob=-1.1, no_speech=0.8), id="silent"),
        pytest.param(heard(1.0, 3.0, " ... "), id="no-words"),
        pytest.param(heard(1.0, 3.0, "Thank you.", voiced=0.3), id="outside-voiced-audio"),
    ],
)
def test_segments_that_were_not_said_are_dropped(segment):
    from framesift.text.screening import screen_speech

    assert screen_speech([segment, heard(5.0, 6.0, "A dog barks.")])[0].text == "A dog barks."
    assert len(screen_speech([segment])) == 0


def test_speech_uses_the_voice_detector_faster_whisper_ships(spoken_video):
    """The Silero model is a file inside the faster-whisper package: nothing to download.
    It finds the voice where espeak-ng speaks, and nothing in silence."""
    import numpy as np
    from faster_whisper.utils import get_assets_path

    from framesift.text.speech import WHISPER_GUARDS, audio_windows, speech_regions

    assert (Path(get_assets_path()) / "silero_vad_v6.onnx").stat().st_size > 100_000
    assert WHISPER_GUARDS["condition_on_previous_text"] is False
    ((audio, offset),) = audio_windows(str(spoken_video.path))
    ((start_s, end_s),) = speech_regions(audio)
    assert abs(offset + start_s - spoken_video.speech_start_s) < 0.5
    assert end_s > start_s + 3.0  # the sentence takes about 4 s
    assert speech_regions(np.zeros(16_000 * 5, dtype=np.float32)) == []


MUSIC_AND_EFFECTS = ["bbb-trailer-music.mp4", "bigbuckbunny.mp4", "cockatoo.mp4"]


@pytest.mark.parametrize("clip", MUSIC_AND_EFFECTS)
def test_no_speech_invented_on_music_and_effects(clip):
    """Real footage without speech (data/clips; bash data/fetch.sh): nothing is said, so
    nothing is transcribed. On the trailer's music Whisper alone wrote "I'm gonna go to
    the next one." four times in a row (confidence 0.70, one segment 0.06 s long)."""
    from framesift.text.speech import transcribe

    path = Path(__file__).parent.parent / "data" / "clips" / clip
    assert transcribe(str(path)) == []


def test_ocr_segments_come_from_the_ocr_analyzer_when_it_runs(titled_video, tmp_path, monkeypatch):
    """With ``--analyze ocr`` the text segments are the analyzer's lines of the pass: the
    kept frames are not decoded and read a second time."""
    pytest.importorskip("rapidocr", reason="PP-OCR needs framesift[analyze]")
    from framesift.text import ocr

    def second_reading(picture, engine):
        raise AssertionError("the kept frames were read a second time")

    monkeypatch.setattr(ocr, "_ocr", second_reading)
    cat = Catalog(str(tmp_path / "cat"))
    summary = ingest(
        [str(titled_video.path)],
        cat,
        SPEC,
        text=TextSpec(ocr=True, subtitles=False, ocr_engine="rapidocr"),
        analyzers=fs.AnalyzerSpec(("ocr",)),
    )
    assert summary.counts["ingested"] == 1
    segments = cat.segments().filter(pl.col("source") == "ocr")
    got = [(s["start_s"], s["end_s"], s["text"]) for s in segments.iter_rows(named=True)]
    assert got == [(c.start_s, c.end_s, c.text) for c in titled_video.cards]
    assert segments["confidence"].min() >= 0.8
    assert cat.detections(analyzer="ocr")["label"].to_list() == [
        "FRAMESIFT DEMO",
        "FRAMESIFT DEMO",
        "SECOND TITLE CARD",
        "SECOND TITLE CARD",
    ]
