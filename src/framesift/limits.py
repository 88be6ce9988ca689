"""Limits on untrusted media, checked where a pass meets them (the settings are
:class:`framesift.spec.LimitsSpec`): the picture size from the stream's header and from the
first decoded picture, the wall time of a decoding pass (and of a video's whole ingest:
sampling, then text extraction), and how many decoded pictures may
be in flight for a memory budget. A file over a limit is a
:class:`~framesift.errors.MediaLimitError` naming the limit and the setting that raises it.
"""

from __future__ import annotations

import time
from typing import Any

from framesift.errors import MediaLimitError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "Deadline",
    "capped_pictures",
    "check_picture_size",
    "picture_bytes",
    "pictures_within",
]

DEFAULT_MAX_PIXELS = 40_000_000
"""``LimitsSpec().max_pixels``, here for ``probe``'s default (start-up: probe does not
load the settings module)."""


def capped_pictures(max_pixels: int | None) -> dict[str, Any]:
    """``av.open`` options that make FFmpeg's decoders refuse pictures over ``max_pixels``
    (libavcodec's own ``max_pixels``). Opening a file decodes its first pictures to learn
    the stream's parameters: a 16000x16000 H.264 picture took 630 MB there before framesift
    could look at its size; with the cap, 130 MB, and the size is still read from the
    stream's header."""
    return {} if max_pixels is None else {"options": {"max_pixels": str(max_pixels)}}


def check_picture_size(shown: str, width: int, height: int, max_pixels: int | None) -> None:
    """MediaLimitError when a ``width`` x ``height`` picture is over ``max_pixels``."""
    if max_pixels is not None and width * height > max_pixels:
        raise MediaLimitError(
            shown,
            f"pictures of {width}x{height} ({width * height:,} pixels) are over the limit of "
            f"{max_pixels:,} pixels (LimitsSpec.max_pixels; --max-pixels)",
        )


def picture_bytes(width: int, height: int, bit_depth: int) -> int:
    """Bytes of one decoded picture, counted as planar 4:4:4 (an upper bound for 4:2:0 and
    4:2:2), two bytes a sample above 8 bits."""
    return width * height * 3 * (2 if bit_depth > 8 else 1)


def pictures_within(budget_mb: int, one_picture_bytes: int, wanted: int) -> int:
    """``wanted`` pictures in flight, fewer when two pictures each (the one being decoded
    and one it refers to) would not fit ``budget_mb``; at least one."""
    return max(1, min(wanted, (budget_mb << 20) // (2 * max(1, one_picture_bytes))))


class Deadline:
    """The wall-time limit of one pass over ``shown`` (or of one video's whole ingest):
    :meth:`check` raises once ``limit_s`` seconds have passed since it was made (None:
    never). ``what`` names what took too long in the message."""

    def __init__(self, shown: str, limit_s: float | None, what: str = "decoding") -> None:
        self.shown = shown
        self.limit_s = limit_s
        self.what = what
        self.at = None if limit_s is None else time.monotonic() + limit_s

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise MediaLimitError(
                self.shown,
                f"{self.what} took longer than {self.limit_s:g} s "
                "(LimitsSpec.max_video_s; --max-video-seconds)",
            )
