"""OCR benchmark: character error rate of rapidocr (PP-OCR) against the tesseract command
on the same frames.

The frames are 1280x720 text cards drawn here with known text: plain titles, small
lower-third captions, light text on a busy gradient, italic and serif faces, and
two-line cards. Each card is encoded as a video frame would be (H.264 through PyAV,
CRF 28) and decoded again; both engines then read the same decoded picture through
framesift's own OCR path (:func:`framesift.text.ocr._ocr`, with each engine's
confidence floor). The character error rate is the edit distance between what was read
and the card's text (lines joined by a space, whitespace collapsed, case kept) over the
card's length; a card read as nothing counts its whole length.

    python benchmarks/bench_ocr.py

Prints one line per card and engine, then the mean CER and milliseconds per frame of each.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from framesift.language import tesseract_names
from framesift.text import ocr

FONTS = Path("/usr/share/fonts/truetype")
SIZE = (1280, 720)

# (text, font file, size px, ink, background, where: "middle" or "lower third")
CARDS: list[tuple[str, str, int, tuple[int, int, int], str, str]] = [
    ("FRAMESIFT DEMO", "dejavu/DejaVuSans-Bold.ttf", 90, (255, 255, 255), "navy", "middle"),
    ("Chapter 2: The Harbour", "dejavu/DejaVuSerif.ttf", 64, (0, 0, 0), "ivory", "middle"),
    (
        "Interview with Dr. Ada Lovelace, 1843",
        "liberation/LiberationSans-Regular.ttf",
        34,
        (255, 255, 255),
        "gradient",
        "lower third",
    ),
    (
        "Recorded in Lyon, 12 March 2024",
        "liberation/LiberationSans-Italic.ttf",
        30,
        (255, 230, 0),
        "gradient",
        "lower third",
    ),
    (
        "BREAKING NEWS\nFloods close the river road",
        "dejavu/DejaVuSansCondensed-Bold.ttf",
        56,
        (255, 255, 255),
        "red",
        "middle",
    ),
    (
        "www.example.org/framesift",
        "dejavu/DejaVuSansMono.ttf",
        40,
        (40, 40, 40),
        "gradient",
        "lower third",
    ),
    (
        "The End",
        "liberation/LiberationSerif-BoldItalic.ttf",
        120,
        (230, 200, 120),
        "black",
        "middle",
    ),
    (
        "Scene 14 - take 3",
        "dejavu/DejaVuSans.ttf",
        24,
        (255, 255, 255),
        "gradient",
        "lower third",
    ),
]


def _background(kind: str) -> Image.Image:
    width, height = SIZE
    if kind == "gradient":  # a busy picture: colour ramps and stripes
        x = np.linspace(0, 1, width)[None, :, None]
        y = np.linspace(0, 1, height)[:, None, None]
        rgb = np.concatenate(
            [90 + 80 * x + 0 * y, 60 + 120 * y + 0 * x, 140 + 60 * np.sin(12 * x + 5 * y)],
            axis=2,
        )
        return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    return Image.new("RGB", SIZE, kind)


def card_picture(text: str, font: str, size: int, ink: tuple[int, int, int], bg: str, where: str):
    image = _background(bg)
    face = ImageFont.truetype(str(FONTS / font), size)
    draw = ImageDraw.Draw(image)
    top = SIZE[1] // 2 - size if where == "middle" else int(SIZE[1] * 0.8)
    if where == "lower third":  # a dark band under the caption, as broadcasters draw
        draw.rectangle((0, top - 10, SIZE[0], top + size + 20), fill=(20, 20, 30))
    draw.multiline_text((SIZE[0] // 12, top), text, font=face, fill=ink, spacing=size // 3)
    return np.asarray(image)


def through_h264(pictures: list[np.ndarray], folder: Path) -> list[dict[str, np.ndarray]]:
    """The pictures as a decoder gives them back from an H.264 file (CRF 28), in BGR (what
    rapidocr reads) and gray (what tesseract reads), as framesift's OCR path decodes."""
    path = folder / "cards.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(1))
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "28"}
        for picture in pictures:
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(path)) as source:
        return [
            {"rapidocr": f.to_ndarray(format="bgr24"), "tesseract": f.to_ndarray(format="gray")}
            for f in source.decode(video=0)
        ]


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def normalised(text: str) -> str:
    return " ".join(text.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="framesift-bench-ocr-") as folder:
        frames = through_h264([card_picture(*card) for card in CARDS], Path(folder))
    engines = {name: ocr._open(name, tesseract_names("en")) for name in ("rapidocr", "tesseract")}
    totals: dict[str, list[float]] = {name: [] for name in engines}
    seconds: dict[str, float] = dict.fromkeys(engines, 0.0)
    for (text, *_), pictures in zip(CARDS, frames, strict=True):
        truth = normalised(text)
        for name, engine in engines.items():
            picture = pictures[name]
            started = time.perf_counter()
            found = ocr._ocr(np.ascontiguousarray(picture), engine)
            seconds[name] += time.perf_counter() - started
            read = normalised(found[0]) if found else ""
            cer = edit_distance(truth, read) / len(truth)
            totals[name].append(cer)
            print(f"{name:9s} CER {cer:5.1%}  {truth!r} -> {read!r}")
    for name in engines:
        mean = sum(totals[name]) / len(totals[name])
        ms = 1000 * seconds[name] / len(frames)
        exact = sum(c == 0 for c in totals[name])
        print(f"{name}: mean CER {mean:.1%}, {exact}/{len(frames)} cards exact, {ms:.0f} ms/frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
