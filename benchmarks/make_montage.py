"""Make the transition benchmark's montages: real footage joined by known transitions.

Shots of the real clips in data/clips/ (fetch them with data/fetch.sh; the single shots
are ``make_clip.CLIP_SHOTS``, clear of the clips' own cuts) are cut together with a known
transition between each pair, in a fixed cycle of kinds:

- ``cut``: the next shot starts at once;
- ``dissolve-8``, ``dissolve-15``, ``dissolve-30``: both shots play while one is mixed
  linearly into the other over that many frames;
- ``fade-black``, ``fade-white``: the shot fades to black (white), holds it for a few
  frames or none, and the next one fades in from it;
- ``flash``: a few frames blended towards white inside a shot, which then goes on (no
  boundary: a detector that cuts here is wrong);
- ``motion``: a shot made from one still of real footage (a 1280x720 frame) by a fast pan
  and zoom, entered and left by hard cuts (those are ``cut`` events; a boundary inside
  the moving shot is wrong).

Every frame is made with numpy from the decoded shots (a shot too short for its use plays
on mirrored in time: a reversal, never a cut), so the montage is deterministic for a seed.
It is encoded with PyAV (libx264, CRF 20, preset superfast, 3 B-frames, keyint 250,
yuv420p, 25 fps). Beside ``<name>.mp4``, ``<name>.json`` records every event: its kind,
its type, its first frame and its end (exclusive: the first frame of the next shot's
clean picture; a cut's span is empty, start == end) and whether it is a boundary.

    python benchmarks/make_montage.py --out-dir /tmp/montages            # montages 1 and 2
    python benchmarks/make_montage.py --out-dir /tmp/montages --seeds 3  # just one

A montage takes a few seconds to make (about 2,000 frames at 480x270) and is never
committed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_clip import CLIP_SHOTS, CLIPS_DIR  # a sibling script

FPS = 25
WIDTH, HEIGHT = 480, 270
CYCLE = (
    "cut",
    "dissolve-8",
    "fade-black",
    "flash",
    "dissolve-15",
    "cut",
    "fade-white",
    "motion",
    "dissolve-30",
    "cut",
)
"""The order events come in (repeated); a cut is twice as common as each other kind."""
CYCLES = 3
SEGMENT_FRAMES = (44, 64)
"""A shot lasts this many frames (at least), more than PySceneDetect's minimum scene length."""
FADE_SHAPES = ((8, 2, 8), (12, 0, 12), (15, 4, 15))
"""Fade-out frames, frames held at black/white, fade-in frames."""
MOTION_STILLS = (("cockatoo.mp4", 3.0), ("bigbuckbunny.mp4", 2.0), ("cockatoo.mp4", 10.0))

Frame = NDArray[np.uint8]


@dataclass(frozen=True)
class Event:
    kind: str  # cut, dissolve, fade, flash, motion
    type: str  # one of CYCLE's names
    start_frame: int
    end_frame: int  # exclusive; == start_frame for a cut
    boundary: bool  # a scene starts at start_frame


@dataclass(frozen=True)
class Shot:
    clip: str
    frames: list[Frame]


def load_shots() -> list[Shot]:
    """Every single shot of the real clips, decoded at the montage's size."""
    shots = []
    for clip, stretches in CLIP_SHOTS.items():
        path = CLIPS_DIR / clip
        if not path.exists():
            raise SystemExit(f"{path} is missing: run bash data/fetch.sh first")
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            decoded = [
                (float(f.time or 0.0), f.to_ndarray(width=WIDTH, height=HEIGHT, format="rgb24"))
                for f in container.decode(stream)
            ]
        origin = decoded[0][0]
        for start_s, end_s in stretches:
            frames = [img for t, img in decoded if start_s <= t - origin < end_s]
            shots.append(Shot(clip, frames))
    return shots


def load_still(clip: str, at_s: float) -> Frame:
    """One full-size frame of a clip (the picture a moving shot is cut from)."""
    with av.open(str(CLIPS_DIR / clip)) as container:
        for frame in container.decode(video=0):
            if float(frame.time or 0.0) >= at_s:
                return frame.to_ndarray(format="rgb24")
    raise SystemExit(f"{clip} has no frame at {at_s} s")


class Player:
    """Frames of one shot from an offset on, mirrored in time past its ends."""

    def __init__(self, shot: Shot, offset: int, flip: bool) -> None:
        self.shot, self.position, self.flip = shot, offset, flip

    def next(self) -> Frame:
        n = len(self.shot.frames)
        period = 2 * n - 2
        i = self.position % period
        self.position += 1
        frame = self.shot.frames[i if i < n else period - i]
        return frame[:, ::-1] if self.flip else frame


def moving_shot(still: Frame, frames: int, rng: random.Random) -> Iterator[Frame]:
    """A fast pan with a zoom over ``still``: a crop window sweeping across it."""
    h, w = still.shape[:2]
    zoom_from, zoom_to = rng.choice(((1.0, 0.55), (0.6, 0.95), (0.9, 0.5)))
    for i in range(frames):
        a = i / max(frames - 1, 1)
        zoom = zoom_from + (zoom_to - zoom_from) * a
        cw, ch = int(w * zoom), int(h * zoom)
        x = int((w - cw) * (a if zoom_from > zoom_to else 1 - a))
        y = int((h - ch) * (0.5 + 0.4 * np.sin(3 * a)) / 1.0)
        y = min(max(y, 0), h - ch)
        crop = still[y : y + ch, x : x + cw]
        yield cv2.resize(crop, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)


def mix(a: Frame, b: Frame, alpha: float) -> Frame:
    out = a.astype(np.float32) * (1.0 - alpha) + b.astype(np.float32) * alpha
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


class Montage:
    """The frames and events of one montage, made by a seeded plan."""

    def __init__(self, seed: int, shots: list[Shot], stills: list[Frame]) -> None:
        self.rng = random.Random(seed)
        self.shots, self.stills = shots, stills
        self.frames: list[Frame] = []
        self.events: list[Event] = []
        self._last_clip = ""

    def _new_player(self) -> Player:
        choices = [s for s in self.shots if s.clip != self._last_clip]
        shot = self.rng.choice(choices)
        self._last_clip = shot.clip
        offset = self.rng.randrange(len(shot.frames))
        return Player(shot, offset, flip=self.rng.random() < 0.5)

    def _segment(self) -> int:
        return self.rng.randint(*SEGMENT_FRAMES)

    def build(self) -> None:
        player = self._new_player()
        self._play(player, self._segment())
        for _ in range(CYCLES):
            for kind in CYCLE:
                player = self._event(kind, player)
                self._play(player, self._segment())

    def _play(self, player: Player, n: int) -> None:
        self.frames.extend(player.next() for _ in range(n))

    def _event(self, kind: str, player: Player) -> Player:
        start = len(self.frames)
        if kind == "flash":
            n = self.rng.choice((2, 3, 4))
            strength = self.rng.choice((0.6, 0.75, 0.9))
            for i in range(n):
                peak = strength * (1.0 if 0 < i < n - 1 or n == 2 else 0.7)
                self.frames.append(mix(player.next(), np.full_like(self.frames[-1], 255), peak))
            self.events.append(Event("flash", kind, start, start + n, False))
            return player
        if kind == "motion":
            self.events.append(Event("cut", "cut", start, start, True))
            n = self._segment() + 12
            still = self.stills[self.rng.randrange(len(self.stills))]
            self.frames.extend(moving_shot(still, n, self.rng))
            self.events.append(Event("motion", kind, start + 1, start + n - 1, False))
            self._last_clip = ""
            nxt = self._new_player()
            self.events.append(Event("cut", "cut", start + n, start + n, True))
            return nxt
        nxt = self._new_player()
        if kind == "cut":
            self.events.append(Event("cut", kind, start, start, True))
        elif kind.startswith("dissolve"):
            n = int(kind.split("-")[1])
            for i in range(n):
                self.frames.append(mix(player.next(), nxt.next(), (i + 1) / (n + 1)))
            self.events.append(Event("dissolve", kind, start, start + n, True))
        else:
            out_n, hold, in_n = self.rng.choice(FADE_SHAPES)
            through = np.full_like(self.frames[-1], 0 if kind == "fade-black" else 255)
            for i in range(out_n):
                self.frames.append(mix(player.next(), through, (i + 1) / (out_n + 1)))
            self.frames.extend(through for _ in range(hold))
            for i in range(in_n):
                self.frames.append(mix(through, nxt.next(), (i + 1) / (in_n + 1)))
            end = start + out_n + hold + in_n
            self.events.append(Event("fade", kind, start, end, True))
        return nxt


def encode(frames: list[Frame], out: Path) -> dict[str, object]:
    settings = {"codec": "libx264", "crf": "20", "preset": "superfast", "bf": 3, "g": 250}
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.codec_context.options = {"crf": "20", "preset": "superfast", "threads": "2"}
        stream.codec_context.max_b_frames = 3
        stream.codec_context.gop_size = 250
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return settings


def make(seed: int, out_dir: Path, shots: list[Shot], stills: list[Frame]) -> Path:
    started = time.perf_counter()
    montage = Montage(seed, shots, stills)
    montage.build()
    out = out_dir / f"montage{seed}.mp4"
    encoder = encode(montage.frames, out)
    truth = {
        "fps": FPS,
        "size": [WIDTH, HEIGHT],
        "frames": len(montage.frames),
        "seed": seed,
        "events": [asdict(e) for e in montage.events],
        "encoder": encoder,
    }
    out.with_suffix(".json").write_text(json.dumps(truth, indent=1))
    print(
        f"{out}: {len(montage.frames)} frames, {len(montage.events)} events, "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    shots = load_shots()
    stills = [load_still(clip, at) for clip, at in MOTION_STILLS]
    for seed in args.seeds:
        make(seed, args.out_dir, shots, stills)


if __name__ == "__main__":
    main()
