"""The transitions mode: dissolves and fades found as one scene boundary each.

Media made here: patterned shots drifting slowly, joined by a hard cut, a
dissolve, a fade through black and one through white, with a flash inside a shot, at known
frames; the tracker alone on the pictures, and the whole pass on the encoded video.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from framesift import SamplingSpec, sample_video
from framesift.batch import ingest
from framesift.catalog import Catalog
from framesift.cli import main
from framesift.errors import SettingsError
from framesift.scenes.mix_fit import place_transition
from framesift.scenes.transitions import Transition, TransitionTracker, small_picture
from framesift.spec import ImageSpec
from media import PATTERNS, _write_video

WIDTH, HEIGHT = 256, 144
SHOT = 40

# (kind, first frame, first clean frame of the next shot); the flash is no boundary.
CUT_AT = SHOT
DISSOLVE = (2 * SHOT, 2 * SHOT + 12)
FADE_BLACK = (DISSOLVE[1] + SHOT, DISSOLVE[1] + SHOT + 18)
FLASH_AT = FADE_BLACK[1] + 20
FADE_WHITE = (FADE_BLACK[1] + SHOT, FADE_BLACK[1] + SHOT + 20)
LAST_CUT = FADE_WHITE[1] + SHOT
TOTAL = LAST_CUT + SHOT
TRUTH = [
    ("cut", CUT_AT, CUT_AT),
    ("dissolve", *DISSOLVE),
    ("fade", *FADE_BLACK),
    ("fade", *FADE_WHITE),
    ("cut", LAST_CUT, LAST_CUT),
]


def _shot(name: str, seed: int) -> Iterator[np.ndarray]:
    base = PATTERNS[name](WIDTH, HEIGHT, np.random.default_rng(seed))
    i = 0
    while True:
        # A slow drift: a pan over coarse, high-contrast texture (blocky noise) can read
        # as a dissolve on the tracker's small picture (docs/catalog.md says so).
        yield np.roll(base, shift=i // 8, axis=1)
        i += 1


def _mix(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    out = a.astype(np.float32) * (1 - alpha) + b.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _fade(
    old: Iterator[np.ndarray],
    new: Iterator[np.ndarray],
    level: int,
    out_n: int,
    hold: int,
    in_n: int | None = None,
) -> Iterator[np.ndarray]:
    plain = np.full((HEIGHT, WIDTH, 3), level, np.uint8)
    for i in range(out_n):
        yield _mix(next(old), plain, (i + 1) / (out_n + 1))
    for _ in range(hold):
        yield plain
    in_n = out_n if in_n is None else in_n
    for i in range(in_n):
        yield _mix(plain, next(new), (i + 1) / (in_n + 1))


def montage_frames() -> list[np.ndarray]:
    """The test montage: every frame as RGB."""
    shots = [
        _shot(n, s)
        for s, n in enumerate(
            ("gradient", "rings", "checkerboard", "rings", "checkerboard", "gradient")
        )
    ]
    frames = [next(shots[0]) for _ in range(CUT_AT)]
    frames += [next(shots[1]) for _ in range(DISSOLVE[0] - CUT_AT)]
    n = DISSOLVE[1] - DISSOLVE[0]
    frames += [_mix(next(shots[1]), next(shots[2]), (i + 1) / (n + 1)) for i in range(n)]
    frames += [next(shots[2]) for _ in range(FADE_BLACK[0] - DISSOLVE[1])]
    frames += _fade(shots[2], shots[3], 0, 8, 2)
    white = np.full((HEIGHT, WIDTH, 3), 255, np.uint8)
    while len(frames) < FADE_WHITE[0]:
        picture = next(shots[3])
        flash = FLASH_AT <= len(frames) < FLASH_AT + 3
        frames.append(_mix(picture, white, 0.7) if flash else picture)
    frames += _fade(shots[3], shots[4], 255, 10, 0)
    frames += [next(shots[4]) for _ in range(LAST_CUT - FADE_WHITE[1])]
    frames += [next(shots[5]) for _ in range(TOTAL - LAST_CUT)]
    assert len(frames) == TOTAL
    return frames


@pytest.fixture(scope="module")
def montage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("transitions") / "montage.mp4"
    _write_video(path, montage_frames(), size=(WIDTH, HEIGHT), options={"crf": "16"})
    return path


def _close(found: list[tuple[str, int, int]], tolerance: int = 1) -> None:
    """The transitions found are the truth's, start and clean end each within
    ``tolerance`` frames (the benchmark measures how often that holds on real footage:
    benchmarks/RESULTS.md)."""
    assert len(found) == len(TRUTH), found
    for (kind, start, end), (want_kind, want_start, want_end) in zip(found, TRUTH, strict=True):
        assert kind == want_kind, found
        assert abs(start - want_start) <= tolerance, found
        assert abs(end - want_end) <= tolerance, found


def test_tracker_finds_each_transition_once_and_no_flash() -> None:
    tracker = TransitionTracker(min_scene_len_frames=15)
    found: list[Transition] = []
    for number, rgb in enumerate(montage_frames()):
        cuts = [number] if number in (CUT_AT, LAST_CUT) else []
        if number == FLASH_AT:  # a cut detector cuts at a flash; the tracker drops it
            cuts.append(number)
        found += tracker.push(number, rgb[..., ::-1], cuts)
    found += tracker.finish([])
    _close([(t.kind, t.start_frame, t.end_frame) for t in found])


def test_tracker_differences_equal_numpys_float_means() -> None:
    # The tracker keeps its pictures as bytes and sums differences with OpenCV; the
    # thresholds were set on numpy's float32 means of the same pictures: equal, bit for bit.
    rng = np.random.default_rng(5)
    frames = [np.full((HEIGHT, WIDTH, 3), 255, np.uint8), np.zeros((HEIGHT, WIDTH, 3), np.uint8)]
    frames += [rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8) for _ in range(6)]
    tracker = TransitionTracker()
    for number, bgr in enumerate(frames):
        tracker.push(number, bgr, [])
    numbers, pictures = tracker._window()
    assert numbers.tolist() == list(range(len(frames)))
    floats = [small_picture(f) for f in frames]
    assert np.array_equal(pictures, np.stack(floats))
    for k in range(1, len(frames)):
        assert tracker._step[k] == np.abs(floats[k] - floats[k - 1]).mean()
    tracker._best_fit()  # the distances of every picture to the newest
    expected = np.abs(np.stack(floats) - floats[-1]).mean(axis=1)
    assert np.array_equal(tracker._distance[: len(frames)], expected)


@pytest.mark.parametrize(
    ("level", "out_n", "hold", "in_n", "off"),
    [
        pytest.param(None, 30, 0, 0, (5, -6), id="dissolve-30"),
        pytest.param(None, 8, 0, 0, (-3, 2), id="dissolve-8"),
        pytest.param(0, 12, 0, 12, (4, -4), id="fade-black"),
        pytest.param(255, 15, 4, 15, (-5, 6), id="fade-white-held"),
    ],
)
def test_ramp_fit_places_both_ends_from_a_rough_guess(
    level: int | None, out_n: int, hold: int, in_n: int, off: tuple[int, int]
) -> None:
    # Two drifting shots joined by a linear ramp (an editor's): the ends are placed
    # exactly from a guess several frames off, as the tracker's first fit often is.
    old, new = _shot("rings", 1), _shot("checkerboard", 2)
    frames = [next(old) for _ in range(30)]
    first = len(frames)
    if level is None:
        frames += [_mix(next(old), next(new), (i + 1) / (out_n + 1)) for i in range(out_n)]
    else:
        frames += _fade(old, new, level, out_n, hold, in_n)
    clean = len(frames)
    frames += [next(new) for _ in range(30)]
    pictures = np.stack([small_picture(f[..., ::-1]) for f in frames])
    numbers = np.arange(len(frames), dtype=np.int64)
    guess = (first + off[0], clean + off[1])
    placed = place_transition(pictures, numbers, *guess, through_plain=level is not None)
    assert placed == (first, clean)


def test_cuts_inside_a_dissolve_are_the_dissolve() -> None:
    tracker = TransitionTracker(min_scene_len_frames=0)
    found: list[Transition] = []
    for number, rgb in enumerate(montage_frames()[: FADE_BLACK[0]]):
        cuts = [number] if number in (DISSOLVE[0] + 4, DISSOLVE[0] + 8) else []
        found += tracker.push(number, rgb[..., ::-1], cuts)
    found += tracker.finish([])
    assert [t.kind for t in found] == ["dissolve"], found


@pytest.mark.parametrize("detector", ["content", "adaptive"])
def test_pass_opens_each_scene_at_its_transition(montage: Path, detector: str) -> None:
    spec = SamplingSpec(interval_s=None, detector=detector, transitions=True)
    result = sample_video(montage, spec)
    scenes = result.scenes.to_dicts()
    assert scenes[0]["transition"] is None
    found = [(s["transition"], s["start_frame"], s["transition_end_frame"]) for s in scenes[1:]]
    _close(found)
    for previous, scene in itertools.pairwise(scenes):
        assert previous["end_frame"] == scene["start_frame"]
        assert previous["end_s"] == scene["start_s"]
        assert scene["transition_end_s"] >= scene["start_s"]
    # Every scene start is kept, with a picture that shows the new shot: its clean frame.
    kept = result.frames.filter(result.frames["reasons"].list.contains("scene_start"))
    assert kept["scene_index"].to_list() == list(range(len(scenes)))


def test_tuner_says_transitions_are_not_previewed(montage: Path) -> None:
    pytest.importorskip("ipywidgets")
    from framesift.notebook import SamplingTuner

    result = sample_video(montage, SamplingSpec(interval_s=None, transitions=True))
    tuner = SamplingTuner(result)
    assert "not previewed" in tuner.summary.value
    assert f"found <b>{result.scenes.height}</b> scenes" in tuner.summary.value
    plain = SamplingTuner(sample_video(montage, SamplingSpec(interval_s=None)))
    assert "not previewed" not in plain.summary.value


def test_gradual_transitions_beside_a_detector_that_misses_the_cuts(montage: Path) -> None:
    # The threshold detector finds fades to black only; the mode adds the dissolve and the
    # fade through white, each once.
    spec = SamplingSpec(interval_s=None, detector="threshold", transitions=True)
    kinds = sample_video(montage, spec).scenes["transition"].to_list()
    assert kinds == [None, "dissolve", "fade", "fade"]


def test_without_the_mode_scenes_carry_no_transition(montage: Path) -> None:
    result = sample_video(montage, SamplingSpec(interval_s=None))
    assert result.scenes["transition"].null_count() == result.scenes.height


def test_cli_lists_transitions_as_json(montage: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenes", str(montage), "--transitions", "--json"]) == 0
    scenes = json.loads(capsys.readouterr().out)
    assert [s["transition"] for s in scenes] == [None, *(kind for kind, _, _ in TRUTH)]
    assert abs(scenes[2]["start_frame"] - DISSOLVE[0]) <= 1
    assert scenes[2]["start_s"] == pytest.approx(scenes[2]["start_frame"] / 25, abs=0.05)


def test_settings_hash_includes_the_mode_only_when_on() -> None:
    assert SamplingSpec().to_dict()["transitions"] is False
    before = SamplingSpec().fingerprint()
    # The hash settings had before the mode existed: catalogs need not re-ingest.
    assert before == "25f640c8be831675"
    assert SamplingSpec(transitions=True).fingerprint() != before
    assert SamplingSpec.from_dict(SamplingSpec(transitions=True).to_dict()).transitions


@pytest.mark.parametrize(
    "kwargs",
    [{"detector": None}, {"keyframes": True}],
)
def test_mode_needs_a_detector_and_every_frame(kwargs: dict[str, object]) -> None:
    with pytest.raises(SettingsError, match="transitions"):
        SamplingSpec(transitions=True, **kwargs)  # type: ignore[arg-type]


def test_catalog_keeps_the_transitions_and_reads_older_parts(montage: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    spec = SamplingSpec(interval_s=None, transitions=True, image=ImageSpec(max_side_px=64))
    summary = ingest([str(montage)], str(catalog), spec)
    assert summary.counts["ingested"] == 1
    cat = Catalog(str(catalog))
    (video_id,) = cat.video_ids()
    everyone = cat.scenes()["transition"].to_list()
    assert everyone == [None, *(kind for kind, _, _ in TRUTH)]
    assert cat.scenes(video_id)["transition"].to_list() == everyone
    # Each scene start is kept with its picture (the pass held the transition's clean end).
    frames = cat.frames(video_id)
    starts = frames.filter(frames["reasons"].list.contains("scene_start"))
    assert starts.height == len(everyone)
    assert starts["thumbnail_uri"].null_count() == 0
    # A scenes part written before the columns existed reads them as nulls.
    (part,) = catalog.glob("tables/scenes/**/*.parquet")
    old = pl.read_parquet(part).drop("transition", "transition_end_frame", "transition_end_s")
    old.write_parquet(part)
    fresh = Catalog(str(catalog))
    assert fresh.scenes(video_id)["transition"].null_count() == len(everyone)
    assert fresh.scenes()["transition_end_s"].null_count() == len(everyone)
