"""Speech that was said: word error rate on speech, invented segments on footage without.

    python benchmarks/bench_speech.py [--clips data/clips] [--json OUT]

1. An espeak-ng recording (tests/media.py ``make_spoken_video``): :data:`SENTENCES` said
   four times over, in turn, in one mp4. Word error rate = word edit distance between the
   words said and the words of every speech segment, in time order, over the words said
   (lower case, punctuation ignored).
2. Real footage holding music and sound effects but no speech (:data:`NO_SPEECH`, from
   data/fetch.sh): every segment there is invented; the bar is none.

Times are wall seconds of ``transcribe`` once the model is loaded (a first, untimed call
loads it). Needs ffmpeg and espeak-ng (Debian) and ``framesift[speech]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import media  # noqa: E402  (tests/media.py: the espeak-ng fixture)
from framesift.text.speech import transcribe  # noqa: E402

SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Researchers search their video collections for scenes, faces and words.",
    "Every frame on the timeline keeps its own presentation time.",
    "A small model listens to the voice on each track.",
)
REPEATS = 4
NO_SPEECH = ("bbb-trailer-music.mp4", "bigbuckbunny.mp4", "cockatoo.mp4")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def word_error_rate(said: str, heard: str) -> tuple[float, int, int]:
    """(rate, edits, words said): word-level Levenshtein distance over the words said."""
    ref, hyp = words(said), words(heard)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1] / max(1, len(ref)), row[-1], len(ref)


def timed(path: Path) -> tuple[list[dict[str, object]], float]:
    started = time.perf_counter()
    segments = transcribe(str(path))
    seconds = time.perf_counter() - started
    rows = [
        {"start_s": s.start_s, "end_s": s.end_s, "text": s.text, "confidence": s.confidence}
        for s in segments
    ]
    return rows, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=ROOT / "data" / "clips")
    parser.add_argument("--json", type=Path, help="write the results here too")
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        said = " ".join(SENTENCES * REPEATS)
        spoken = media.make_spoken_video(Path(folder), words=said, name="sentences.mp4")
        transcribe(str(spoken.path))  # loads the model, untimed
        rows, seconds = timed(spoken.path)
        rate, edits, count = word_error_rate(said, " ".join(str(r["text"]) for r in rows))
        results["espeak"] = {"wer": rate, "edits": edits, "words": count,
                             "segments": len(rows), "seconds": seconds}  # fmt: skip
        print(f"espeak-ng, {count} words said: WER {rate:.1%} ({edits} edits), "
              f"{len(rows)} segments, {seconds:.2f} s")  # fmt: skip
    for name in NO_SPEECH:
        path = args.clips / name
        if not path.exists():
            print(f"{name}: not in {args.clips} (bash data/fetch.sh)")
            continue
        rows, seconds = timed(path)
        results[name] = {"invented": len(rows), "segments": rows, "seconds": seconds}
        print(f"{name}: {len(rows)} invented segments, {seconds:.2f} s")
        for row in rows:
            print(f"    {row['start_s']:7.2f}-{row['end_s']:7.2f} s  "
                  f"{row['confidence']:.2f}  {row['text']}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
