"""Perceptual hashes and near-duplicate tests.

The hash is PySceneDetect's DCT perceptual hash (the algorithm of imagehash's ``phash``):
grayscale, area-resized to 32x32, 2-D DCT, the 8x8 lowest frequencies thresholded at their
median, packed into one unsigned 64-bit integer. Two frames are near-duplicates when the
Hamming distance between their hashes is at most the threshold (``dedup_bits``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scenedetect.detectors import HashDetector

__all__ = ["hamming", "perceptual_hash"]

_HASH_SIZE = 8
_LOWPASS = 4  # 32x32 image for an 8x8 hash, as imagehash.phash does


def perceptual_hash(bgr: NDArray[np.uint8]) -> int:
    """64-bit perceptual hash of a BGR image (any size)."""
    bits = HashDetector.hash_frame(frame_img=bgr, hash_size=_HASH_SIZE, factor=_LOWPASS)
    packed = np.packbits(np.asarray(bits, dtype=bool).reshape(-1))
    return int.from_bytes(packed.tobytes(), "big")


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return (a ^ b).bit_count()
