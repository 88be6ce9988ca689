"""Ground-truth transition benchmark: cuts, dissolves, fades, flashes and fast motion.

Runs every scene detector on the montages of ``make_montage.py`` (real footage joined by
known transitions, the truth in ``<montage>.json``) and prints precision, recall and F1 per
transition type:

- framesift's four detectors (content, adaptive, threshold, hash; default thresholds,
  minimum scene length 15), each also with ``transitions=True``;
- PySceneDetect's CLI (detect-content, detect-adaptive, detect-threshold, detect-hash,
  defaults);
- ffmpeg's ``scdet`` filter (default threshold 10).

How a detection is matched (one to one, nearest first): a cut at frame f is found by a
scene start within the tolerance of f; a dissolve or fade from s to e (exclusive) by a
scene start within the tolerance of s. Tolerances: ``exact`` (0 frames), ``±1``, and
``±1 start+end`` (the recorded end, the first frame of the new shot's clean picture, also
within one frame of e; a detector that records no end ends at its start); for gradual
transitions also ``span``: a scene start anywhere from s - 1 to e (what a cut
detector can do: it cuts somewhere inside). A scene start that matches nothing is a false
positive of the event nearest to it (a flash or a moving shot are events without a
boundary, so every scene start inside them is false). Each framesift transitions run also
reports how often the kind (cut, dissolve, fade) of a matched event was right.

    python benchmarks/make_montage.py --out-dir /tmp/montages
    python benchmarks/bench_transitions.py /tmp/montages/montage1.mp4 /tmp/montages/montage2.mp4

Needs the ffmpeg command-line tool and PySceneDetect's CLI (``scenedetect``) beside the
Python that runs it.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from framesift import SamplingSpec, sample_video

VENV_BIN = Path(sys.executable).parent
TYPES = (
    "cut",
    "dissolve-8",
    "dissolve-15",
    "dissolve-30",
    "fade-black",
    "fade-white",
    "flash",
    "motion",
)
GRADUAL = ("dissolve-8", "dissolve-15", "dissolve-30", "fade-black", "fade-white")
LEVELS = ("exact", "±1", "±1 start+end", "span")
_SCENEDETECT = (str(VENV_BIN / "scenedetect"), "-q", "-i")
_FFMPEG = ("ffmpeg", "-hide_banner", "-nostats", "-i")


@dataclass(frozen=True)
class Found:
    start: int
    kind: str | None = None  # cut, dissolve, fade (framesift's transitions mode only)
    end: int | None = None  # the recorded clean end (transitions mode only)


@dataclass(frozen=True)
class Event:
    kind: str
    type: str
    start: int
    end: int
    boundary: bool


def load_truth(montage: Path) -> list[Event]:
    truth = json.loads(montage.with_suffix(".json").read_text())
    return [
        Event(e["kind"], e["type"], e["start_frame"], e["end_frame"], e["boundary"])
        for e in truth["events"]
    ]


# -- detectors ------------------------------------------------------------------------------


def framesift_run(detector: str, transitions: bool) -> Callable[[Path], list[Found]]:
    def run(montage: Path) -> list[Found]:
        spec = SamplingSpec(interval_s=None, detector=detector, transitions=transitions)
        scenes = sample_video(str(montage), spec).scenes
        return [
            Found(row["start_frame"], row["transition"], row["transition_end_frame"])
            for row in scenes.iter_rows(named=True)
        ][1:]

    return run


def pyscenedetect_run(command: str) -> Callable[[Path], list[Found]]:
    def run(montage: Path) -> list[Found]:
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(
                [*_SCENEDETECT, str(montage), "-o", out, command, "list-scenes"],
                check=True,
                capture_output=True,
            )
            (table,) = Path(out).glob("*-Scenes.csv")
            lines = table.read_text().splitlines()[1:]  # the first line lists timecodes
        return [Found(int(r["Start Frame"]) - 1) for r in csv.DictReader(lines)][1:]

    return run


def scdet_run(montage: Path) -> list[Found]:
    fps = json.loads(montage.with_suffix(".json").read_text())["fps"]
    log = subprocess.run(
        [*_FFMPEG, str(montage), "-vf", "scdet=threshold=10", "-an", "-f", "null", "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    times = [float(t) for t in re.findall(r"lavfi\.scd\.time: ([0-9.]+)", log)]
    return [Found(round(t * fps)) for t in times]


def detectors() -> dict[str, Callable[[Path], list[Found]]]:
    runs: dict[str, Callable[[Path], list[Found]]] = {}
    for name in ("content", "adaptive", "threshold", "hash"):
        runs[f"framesift {name}"] = framesift_run(name, False)
        runs[f"framesift {name} --transitions"] = framesift_run(name, True)
    for command in ("detect-content", "detect-adaptive", "detect-threshold", "detect-hash"):
        runs[f"PySceneDetect CLI {command}"] = pyscenedetect_run(command)
    runs["ffmpeg scdet (threshold 10)"] = scdet_run
    return runs


# -- scoring --------------------------------------------------------------------------------


def _window(event: Event, level: str) -> tuple[int, int]:
    """The scene starts that find ``event`` at this level (inclusive)."""
    if level == "exact":
        return event.start, event.start
    if level == "span" and event.kind != "cut":
        return event.start - 1, event.end
    return event.start - 1, event.start + 1


def _end_matches(found: Found, event: Event, level: str) -> bool:
    """At the start+end level, the recorded end too lies within one frame of the event's
    (a detector that records no end has its end at its start: right for cuts only)."""
    if level != "±1 start+end":
        return True
    end = found.start if found.end is None else found.end
    return abs(end - event.end) <= 1


def _distance(frame: int, event: Event) -> int:
    last = max(event.end - 1, event.start)
    return 0 if event.start <= frame <= last else min(abs(frame - event.start), abs(frame - last))


@dataclass
class Tally:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    kind_right: int = 0

    def add(self, other: Tally) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.kind_right += other.kind_right

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def score(found: Sequence[Found], events: Sequence[Event], level: str) -> dict[str, Tally]:
    """Per event type: true positives, misses, false positives (and right kinds)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    boundaries = [e for e in events if e.boundary]
    pairs = []
    for i, f in enumerate(found):
        for j, e in enumerate(boundaries):
            lo, hi = _window(e, level)
            if lo <= f.start <= hi and _end_matches(f, e, level):
                pairs.append((abs(f.start - e.start), i, j))
    used_found: set[int] = set()
    used_event: set[int] = set()
    for _, i, j in sorted(pairs):
        if i in used_found or j in used_event:
            continue
        used_found.add(i)
        used_event.add(j)
        e = boundaries[j]
        tallies[e.type].tp += 1
        if found[i].kind == e.kind:
            tallies[e.type].kind_right += 1
    for j, e in enumerate(boundaries):
        if j not in used_event:
            tallies[e.type].fn += 1
    for i, f in enumerate(found):
        if i not in used_found:
            nearest = min(events, key=lambda e: _distance(f.start, e))
            tallies[nearest.type].fp += 1
    return tallies


def grouped(tallies: dict[str, Tally]) -> dict[str, Tally]:
    out = {t: tallies.get(t, Tally()) for t in TYPES}
    gradual = Tally()
    for t in GRADUAL:
        gradual.add(out[t])
    return {**out, "gradual (all)": gradual}


def report(name: str, totals: dict[str, dict[str, Tally]], seconds: float) -> None:
    print(f"\n#### {name} ({seconds:.1f} s)\n")
    print("| type | " + " | ".join(f"P / R / F1 {level}" for level in LEVELS) + " | kind right |")
    print("|---|" + "---|" * (len(LEVELS) + 1))
    for t in (*TYPES, "gradual (all)"):
        cells = []
        for level in LEVELS:
            tally = totals[level][t]
            if t in ("flash", "motion"):
                cells.append(f"{tally.fp} false")
                continue
            p, r, f = tally.prf()
            cells.append(f"{p:.2f} / {r:.2f} / **{f:.2f}**")
        tally = totals["±1"][t]
        kind = f"{tally.kind_right}/{tally.tp}" if "transitions" in name and tally.tp else ""
        print(f"| {t} | " + " | ".join(cells) + f" | {kind} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("montages", type=Path, nargs="+")
    parser.add_argument("--only", help="run the detectors whose name contains this")
    args = parser.parse_args()
    truths = {m: load_truth(m) for m in args.montages}
    for name, run in detectors().items():
        if args.only and args.only not in name:
            continue
        totals: dict[str, dict[str, Tally]] = {level: defaultdict(Tally) for level in LEVELS}
        started = time.perf_counter()
        for montage, events in truths.items():
            found = run(montage)
            for level in LEVELS:
                for t, tally in score(found, events, level).items():
                    totals[level][t].add(tally)
        seconds = time.perf_counter() - started
        report(name, {level: grouped(totals[level]) for level in LEVELS}, seconds)


if __name__ == "__main__":
    main()
