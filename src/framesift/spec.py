"""Settings for one sampling pass, as frozen dataclasses validated on construction.

The text and analyzer settings live in :mod:`framesift.spec_text` and
:mod:`framesift.spec_analyzers` (re-exported here); :func:`settings_fingerprint` hashes
all three.

The same option names are used by the library, the CLI (``--every``, ``--keyframes``,
``--detector``, ``--threshold``, ``--dedup``, ``--thumb-size``) and the notebook tools.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final, Literal

from framesift.errors import SettingsError
from framesift.limits import DEFAULT_MAX_PIXELS
from framesift.spec_analyzers import ANALYZER_NAMES, AnalyzerSpec, OnnxModelSpec
from framesift.spec_text import OCR_ENGINES, TextSpec

__all__ = [
    "ANALYZER_NAMES",
    "DETECTOR_NAMES",
    "OCR_ENGINES",
    "OFF_DEDUP_BITS",
    "OFF_DETECTOR",
    "OFF_INTERVAL_S",
    "AnalyzerSpec",
    "DecodeSpec",
    "ImageSpec",
    "LimitsSpec",
    "OnnxModelSpec",
    "SamplingSpec",
    "SelectionOptions",
    "TextSpec",
    "settings_fingerprint",
]

DETECTOR_NAMES: tuple[str, ...] = ("content", "adaptive", "threshold", "hash")
"""PySceneDetect detectors framesift can feed from its decode pass."""

DEFAULT_THRESHOLDS: dict[str, float] = {
    # The defaults of PySceneDetect's CLI for each detector.
    "content": 27.0,
    "adaptive": 3.0,
    "threshold": 12.0,
    "hash": 0.395,
}

OFF_INTERVAL_S: Final = 0.0
"""The interval as people switch it off: ``--every 0``, an interval slider at 0."""
OFF_DETECTOR: Final = "none"
"""The detector as people switch it off: ``--detector none``."""
OFF_DEDUP_BITS: Final = -1
"""Near-duplicate dropping as people switch it off: a dedup slider at -1 (``--dedup -1``,
or the option left out)."""

ImageFormat = Literal["jpeg", "webp", "png"]
HwAccel = Literal["auto", "none", "cuda", "vaapi", "videotoolbox", "qsv", "d3d11va"]


@dataclass(frozen=True)
class ImageSpec:
    """How kept frames are written: a thumbnail always, the full frame optionally."""

    max_side_px: int = 320
    format: ImageFormat = "jpeg"
    quality: int = 85
    full_frames: bool = False
    full_format: ImageFormat = "jpeg"

    def __post_init__(self) -> None:
        if not 16 <= self.max_side_px <= 8192:
            raise SettingsError(f"max_side_px={self.max_side_px}: allowed 16 to 8192 pixels")
        for name in ("format", "full_format"):
            value = getattr(self, name)
            if value not in ("jpeg", "webp", "png"):
                raise SettingsError(f"{name}={value!r}: allowed 'jpeg', 'webp' or 'png'")
        if not 1 <= self.quality <= 100:
            raise SettingsError(f"quality={self.quality}: allowed 1 to 100")


@dataclass(frozen=True)
class LimitsSpec:
    """Limits on untrusted media, on by default: a file over one fails with
    :class:`~framesift.errors.MediaLimitError` naming the limit, and the batch goes on.
    None switches a limit off. None of them changes what a pass keeps."""

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    """Largest picture (width x height) decoded, checked from the probe before decoding and
    again on the first decoded picture (headers lie). The default admits 8K (8192x4320);
    a decoded 16000x16000 picture alone would hold 384 MB."""
    max_video_s: float | None = 4 * 3600.0
    """Wall-time limit of one video, in seconds: its decoding pass, and in ingest its whole
    run (sampling, then speech and OCR); a video over it fails with MediaLimitError."""
    decode_memory_mb: int = 512
    """Budget for decoded pictures in flight: for large pictures, fewer frame threads (when
    automatic) and fewer frames read ahead, two pictures each within it. An 8K UHD clip
    peaked at ~520 MB with the default, ~880 MB with 1024 (benchmarks/bench_limits.py)."""

    def __post_init__(self) -> None:
        if self.max_pixels is not None and self.max_pixels < 64 * 64:
            raise SettingsError(f"max_pixels={self.max_pixels}: allowed 4096 or more, or None")
        if self.max_video_s is not None and not self.max_video_s > 0:
            raise SettingsError(f"max_video_s={self.max_video_s}: must be > 0 seconds, or None")
        if not 64 <= self.decode_memory_mb <= 1 << 20:
            raise SettingsError(f"decode_memory_mb={self.decode_memory_mb}: allowed 64 or more")


@dataclass(frozen=True)
class DecodeSpec:
    """How the one decode pass runs; none of these change which frames are kept,
    except ``fast``, which trades exactness of the analysis for speed (see below)."""

    threads: int = 0
    """Decoder frame threads; 0: automatic (cores + 4, at most 16), and a thread decodes
    ahead while the pass analyses. 1: the whole pass on one thread, decoding and analysis
    taking turns (for one worker per core: a process pool or Dask cluster of many)."""
    hwaccel: HwAccel = "auto"
    fast: bool = False
    """Scene analysis through a decoder shortcut: the pictures nothing predicts from are skipped,
    those left (I, P and reference B pictures) decode exactly, in GOP-aligned segments
    decoded side by side (see ``segments`` and :mod:`framesift.fastscan`); a cut found after
    skipped pictures is placed at its exact frame by decoding that stretch in full, unless
    it falls on an I picture. Kept frames are the decoded pictures the selection picks."""
    segments: int = 0
    """Fast mode only: at most this many GOP-aligned segments decoded side by side (0: one
    per core); each is at least 20 s and four keyframe intervals long. The result does not
    depend on it."""
    allow_partial: bool = False
    """Sample what a truncated file holds instead of raising TruncatedMediaError."""
    limits: LimitsSpec = field(default_factory=LimitsSpec)
    """Limits on untrusted media (picture size, decoding time, decoder memory)."""

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise SettingsError(f"threads={self.threads}: allowed 0 (automatic) or more")
        if self.segments < 0:
            raise SettingsError(f"segments={self.segments}: allowed 0 (automatic) or more")
        allowed = ("auto", "none", "cuda", "vaapi", "videotoolbox", "qsv", "d3d11va")
        if self.hwaccel not in allowed:
            raise SettingsError(f"hwaccel={self.hwaccel!r}: allowed one of {allowed}")


@dataclass(frozen=True)
class SamplingSpec:
    """Which frames one pass keeps, and why.

    Selections compose: a frame is kept when any of interval, keyframe, scene start or
    representative asks for it, then near-duplicates of the last kept frame are dropped.
    With ``keyframes``, the interval thins the keyframes instead (at most one per
    ``interval_s``): only keyframes are decoded, so the two cannot add up.
    """

    interval_s: float | None = 1.0
    """Keep one frame every ``interval_s`` seconds of presentation time (None: off)."""
    keyframes: bool = False
    """Keep keyframes only, and let the decoder skip the rest (the fast preview mode): at
    most one per ``interval_s`` when an interval is set (None keeps every keyframe). Scene
    detection then runs on keyframes only, so its cuts are approximate (placed at the
    first keyframe after each; ``PassStats.scenes_approximate``)."""
    detector: str | None = "content"
    """PySceneDetect detector fed by this pass: content, adaptive, threshold, hash, or None."""
    threshold: float | None = None
    """Detector threshold; None takes PySceneDetect's default for the detector."""
    min_scene_len_frames: int = 15
    representatives_per_scene: int = 0
    """k frames spread evenly over each scene, kept as 'representative'."""
    dedup_bits: int | None = None
    """Drop a frame whose perceptual hash is within this Hamming distance of the last kept
    frame (None: keep near-duplicates). 0 drops exact hash matches only; 64 would drop all."""
    analysis_width_px: int = 256
    """Longer side of the image the detectors see, by PySceneDetect's downscale rule (the
    picture divided by ``max(width, height) / 256``; not scaled when smaller)."""
    analysis_scaling: Literal["fast", "exact"] = "fast"
    """How the analysis image is made; both give PySceneDetect's CLI's image (its reader
    converts to BGR at full size, then OpenCV's linear resize). exact: exactly that, a
    full-size conversion per frame (about as long as decoding the frame at 1080p).
    fast: where the scale factor is a whole number (1280x720, 3840x2160, no scaling) only
    the samples the resize reads are gathered and converted, the same pixels for less;
    elsewhere (1920x1080, odd heights, other pixel formats) the same full-size path.
    docs/scenes.md and benchmarks/RESULTS.md give the cost and the parity."""
    image: ImageSpec = field(default_factory=ImageSpec)
    decode: DecodeSpec = field(default_factory=DecodeSpec)
    transitions: bool = False
    """Find gradual transitions too: a dissolve or a fade (through black or white) opens
    one scene at its first frame, instead of being missed or split into several cuts;
    each scene records how it starts (cut, dissolve, fade) and where its transition ends.
    Runs in the same pass beside the detector (see :mod:`framesift.scenes.transitions`);
    needs a detector and the streaming pass (not ``keyframes`` or ``decode.fast``)."""

    def __post_init__(self) -> None:
        if self.transitions and (self.detector is None or self.keyframes or self.decode.fast):
            raise SettingsError(
                "transitions=True needs a detector and every frame decoded in one stream: "
                "set a detector, and switch off keyframes and decode.fast"
            )
        if self.interval_s is not None and not self.interval_s > 0:
            raise SettingsError(f"interval_s={self.interval_s}: must be > 0 seconds, or None")
        if self.detector is not None and self.detector not in DETECTOR_NAMES:
            raise SettingsError(
                f"detector={self.detector!r}: allowed {', '.join(DETECTOR_NAMES)} or None"
            )
        if self.threshold is not None and self.threshold < 0:
            raise SettingsError(f"threshold={self.threshold}: must be >= 0")
        if self.min_scene_len_frames < 0:
            raise SettingsError(f"min_scene_len_frames={self.min_scene_len_frames}: must be >= 0")
        if not 0 <= self.representatives_per_scene <= 100:
            raise SettingsError(
                f"representatives_per_scene={self.representatives_per_scene}: allowed 0 to 100"
            )
        if self.dedup_bits is not None and not 0 <= self.dedup_bits <= 63:
            raise SettingsError(f"dedup_bits={self.dedup_bits}: allowed 0 to 63, or None")
        if self.analysis_scaling not in ("fast", "exact"):
            raise SettingsError(
                f"analysis_scaling={self.analysis_scaling!r}: allowed 'fast' or 'exact'"
            )
        if not 32 <= self.analysis_width_px <= 1024:
            raise SettingsError(f"analysis_width_px={self.analysis_width_px}: allowed 32 to 1024")
        if self.representatives_per_scene and self.detector is None:
            raise SettingsError("representatives_per_scene needs a detector to find scenes")

    @property
    def effective_threshold(self) -> float | None:
        """The threshold the detector runs with (the detector's default when unset)."""
        if self.detector is None:
            return None
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLDS[self.detector]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplingSpec:
        """The spec ``to_dict`` gave (as the catalog stores it); SettingsError when it
        names settings this version does not know."""
        fields = dict(data)
        try:
            decode_fields = dict(fields.pop("decode", {}))
            limits = LimitsSpec(**decode_fields.pop("limits", {}))
            decode = DecodeSpec(**decode_fields, limits=limits)
            image = ImageSpec(**fields.pop("image", {}))
            return cls(**fields, decode=decode, image=image)
        except TypeError as exc:
            raise SettingsError(f"not a sampling spec of this framesift version: {exc}") from None

    def fingerprint(self) -> str:
        """A stable hash of the settings that change what a pass produces.

        Decoding choices that do not change the output (threads, hwaccel) are left out.
        """
        data = self.to_dict()
        data["threshold"] = self.effective_threshold
        data["decode"] = {"fast": self.decode.fast}
        if not self.transitions:
            del data["transitions"]  # settings hashed before the mode existed stay equal
        blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class SelectionOptions:
    """The selection settings as people set them, in the CLI's options and the notebook
    sliders, where "off" is a value of the control (a slider cannot hold None): interval
    :data:`OFF_INTERVAL_S`, detector :data:`OFF_DETECTOR`, dedup :data:`OFF_DEDUP_BITS` (or
    any negative number); None also means off for the interval and dedup. The one place
    those values become a :class:`SamplingSpec`'s None fields, and back.
    """

    every_s: float | None = 1.0
    detector: str = "content"
    threshold: float | None = None
    """None: the detector's default. Not used without a detector (the base's is kept)."""
    min_scene_len_frames: int = 15
    representatives_per_scene: int = 0
    dedup_bits: int | None = OFF_DEDUP_BITS

    @classmethod
    def of(cls, spec: SamplingSpec) -> SelectionOptions:
        """The values that show ``spec``'s selection, as controls start from: the threshold
        the detector runs with (0.0 without a detector)."""
        return cls(
            every_s=OFF_INTERVAL_S if spec.interval_s is None else spec.interval_s,
            detector=OFF_DETECTOR if spec.detector is None else spec.detector,
            threshold=spec.effective_threshold or 0.0,
            min_scene_len_frames=spec.min_scene_len_frames,
            representatives_per_scene=spec.representatives_per_scene,
            dedup_bits=OFF_DEDUP_BITS if spec.dedup_bits is None else spec.dedup_bits,
        )

    def apply_to(self, base: SamplingSpec) -> SamplingSpec:
        """``base`` with this selection (its decoding, image and other settings kept);
        SettingsError when the result is not a valid spec."""
        detector = None if self.detector == OFF_DETECTOR else self.detector
        off_interval = self.every_s is None or self.every_s == OFF_INTERVAL_S
        off_dedup = self.dedup_bits is None or self.dedup_bits < 0
        return replace(
            base,
            interval_s=None if off_interval else self.every_s,
            detector=detector,
            threshold=base.threshold if detector is None else self.threshold,
            min_scene_len_frames=self.min_scene_len_frames,
            representatives_per_scene=self.representatives_per_scene,
            dedup_bits=None if off_dedup else self.dedup_bits,
        )


def settings_fingerprint(
    spec: SamplingSpec, text: TextSpec, analyzers: AnalyzerSpec | None = None
) -> str:
    """The catalog's settings hash of one ingest: the sampling settings that change its
    output, the text settings and the analyzers (when any run: without analyzers the hash
    is what it was before analyzers existed). A video ingested with other settings is
    re-ingested; when only text or analyzers differ, only they run again. Limits (the
    sidecar size limit) are left out: the text found within them is the same."""
    text_settings = text.to_dict()
    text_settings.pop("max_sidecar_bytes")
    data: dict[str, Any] = {"sampling": spec.fingerprint(), "text": text_settings}
    if analyzers is not None and analyzers.names:
        data["analyzers"] = analyzers.to_dict()
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
