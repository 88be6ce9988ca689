"""The fast scan's pictures: rendered while a frame is decoded, decoded again when missed,
and put in the sink once the kept frames are known."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import polars as pl

from framesift.decode import DecodedFrame
from framesift.errors import TruncatedMediaError
from framesift.fastscan.parallel import chunks, run_parallel
from framesift.fastscan.setup import ScanSetup
from framesift.images import EXTENSIONS, FrameRenderer, encode_image
from framesift.select import FrameRow
from framesift.sink import ImageSink
from framesift.spec import ImageSpec

__all__ = ["Pictures", "decode_pictures", "render_pictures", "write_pictures"]


@dataclass
class Pictures:
    """The encoded images of one frame."""

    thumbnail: bytes
    full: bytes | None


def render_pictures(
    decoded: DecodedFrame, thumbs: FrameRenderer, full: FrameRenderer, image: ImageSpec
) -> Pictures:
    """Encode a decoded frame's thumbnail (and full frame when asked)."""
    thumbnail = encode_image(thumbs.render(decoded.frame), image.format, image.quality)
    full_bytes = (
        encode_image(full.render(decoded.frame), image.full_format, image.quality)
        if image.full_frames
        else None
    )
    return Pictures(thumbnail, full_bytes)


def decode_pictures(
    setup: ScanSetup, wanted: list[int], analysis: pl.DataFrame, workers: int, threads: int
) -> dict[int, Pictures]:
    """Pictures of the frames at ``wanted`` pts (I or P pictures), decoded again: one
    decode per GOP holding any, from its keyframe, the pictures nothing predicts from skipped."""
    if not wanted:
        return {}
    keys = analysis.filter(pl.col("keyframe"))["pts"].to_list()
    groups: dict[int, list[int]] = {}
    for p in wanted:
        g = max(0, bisect.bisect_right(keys, p) - 1)
        groups.setdefault(g, []).append(p)
    out: dict[int, Pictures] = {}

    def run(chunk: list[tuple[int, list[int]]]) -> None:
        _, thumbs, full = setup.renderers()
        with setup.decoder(threads) as decoder:
            for g, targets in chunk:
                # Just before the next keyframe: a seek lands on this GOP's keyframe
                # however the demuxer shifts its index (see frames_spanning).
                hints = []
                if g + 1 < len(keys):
                    hints.append(float((keys[g + 1] - 1) * decoder.time_base))
                want = set(targets)
                for decoded in decoder.frames_spanning(
                    targets[0], targets[-1], seek_times_s=hints, seek=setup.seekable
                ):
                    if decoded.pts in want:
                        out[decoded.pts] = render_pictures(decoded, thumbs, full, setup.spec.image)
        missing = [p for _, targets in chunk for p in targets if p not in out]
        if missing:
            raise TruncatedMediaError(
                setup.source.shown, f"frames at pts {missing[:5]} could not be decoded again"
            )

    run_parallel(run, chunks(sorted(groups.items()), workers))
    return out


def write_pictures(
    rows: list[FrameRow], pictures: dict[int, Pictures], sink: ImageSink, image: ImageSpec
) -> list[bytes | None]:
    """Put every kept frame's pictures in the sink (filling the rows' image columns);
    the thumbnails' bytes, per row."""
    ext, full_ext = EXTENSIONS[image.format], EXTENSIONS[image.full_format]
    thumbnails: list[bytes | None] = []
    for row in rows:
        images = pictures[row["pts"]]
        thumbnails.append(images.thumbnail)
        row["thumbnail_uri"] = sink.put(f"{row['frame_index']:08d}.{ext}", images.thumbnail)
        row["thumbnail_bytes"] = len(images.thumbnail)
        if images.full is not None:
            row["frame_uri"] = sink.put(f"full/{row['frame_index']:08d}.{full_ext}", images.full)
    return thumbnails
