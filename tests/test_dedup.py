"""The perceptual hash equals PySceneDetect's (imagehash's algorithm) bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scenedetect.detectors import HashDetector

from framesift.dedup import hamming, perceptual_hash


def reference(gray: np.ndarray) -> int:
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)  # HashDetector converts back to this gray
    bits = HashDetector.hash_frame(frame_img=bgr, hash_size=8, factor=4).reshape(-1)
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


@pytest.mark.parametrize("seed", range(20))
def test_hash_equals_pyscenedetects(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(16, 300, size=2)
    image = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    if seed % 3 == 0:  # smooth images too, where median ties are likelier
        image = np.cumsum(image, axis=1).astype(np.uint8)
    if seed == 1:
        image[:] = 0  # black: the max-scaling guard
    assert perceptual_hash(image) == reference(image)


def test_hamming_counts_bits():
    assert hamming(0, 0) == 0
    assert hamming(0, (1 << 64) - 1) == 64
    assert hamming(0b1011, 0b0001) == 2
