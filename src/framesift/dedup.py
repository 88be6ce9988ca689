"""Perceptual hashes and near-duplicate tests.

The hash is PySceneDetect's DCT perceptual hash (the algorithm of imagehash's ``phash``)
of a grayscale image (the sampling pass gives it the luma plane of its analysis image):
area-resized to 32x32, scaled by its maximum, 2-D DCT, the 8x8 lowest frequencies
thresholded at their median, packed into one unsigned 64-bit integer. It is computed here
with the same OpenCV calls as ``HashDetector.hash_frame`` (a test pins the equality) but
without its per-call numpy overhead, since it runs on every decoded frame.
Two frames are near-duplicates when the Hamming distance between their hashes is at most
the threshold (``dedup_bits``).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["hamming", "perceptual_hash"]

_HASH_SIZE = 8
_IMAGE_SIZE = 32  # 8x8 hash from a 32x32 image, as imagehash.phash does


def perceptual_hash(gray: NDArray[np.uint8]) -> int:
    """64-bit perceptual hash of a grayscale image (any size)."""
    small = cv2.resize(gray, (_IMAGE_SIZE, _IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    peak = int(small.max()) or 1
    low = cv2.dct(small.astype(np.float32) / np.float32(peak))[:_HASH_SIZE, :_HASH_SIZE]
    ordered = np.sort(low, axis=None)
    median = (ordered[31] + ordered[32]) / np.float32(2)  # numpy.median of 64 float32 values
    bits = np.packbits(low > median)
    return int.from_bytes(bits.tobytes(), "big")


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return (a ^ b).bit_count()
