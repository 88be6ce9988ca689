"""Progressive full frames: a kept frame's full-resolution picture, decoded from its source
on demand and cached in the catalog.

A catalog sampled without full frames (thumbnails only, the default) keeps what finding
needs; the full picture of the few frames that turned out interesting is fetched later:
the source is fingerprinted again (a source that now holds other content is refused with
:class:`~framesift.errors.SourceChangedError`, a missing one with
:class:`~framesift.errors.MediaNotFoundError`), decoded from the keyframe before the frame
to the frame with exactly its pts, rendered as the pass would have rendered it (display
size, rotation, the sampling settings' full-frame format) and stored under the
generation's pictures prefix (``<prefix>/full/<frame_index:08d>.<ext>``), where the next
request, and a sync to another catalog, find it.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from framesift.catalog.commits import Commit
from framesift.catalog.sources import fingerprint
from framesift.decode import VideoDecoder
from framesift.errors import CatalogError, SettingsError, SourceChangedError
from framesift.images import EXTENSIONS, encode_image, make_renderers
from framesift.probe import probe
from framesift.source import Source
from framesift.spec import DecodeSpec, SamplingSpec
from framesift.storage import Storage

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["cached_full_frame", "decode_full_frame", "full_frame_image"]

logger = logging.getLogger(__name__)


def full_frame_image(
    storage: Storage,
    commit: Commit | None,
    frames: pl.DataFrame,
    videos: pl.DataFrame,
    frame_index: int,
    source_options: Mapping[str, Any] | None = None,
) -> Image:
    """The full frame of kept frame ``frame_index`` of ``commit``'s video as a picture,
    given that video's rows of the frames table (``frame_index``, ``time_s``, ``pts``)
    and the videos table (``video_id``, ``sampling_spec``)."""
    from PIL import Image as PILImage

    rows = frames.filter(pl.col("frame_index") == frame_index)
    if commit is None or commit.deleted or rows.is_empty():
        raise CatalogError(f"{storage.url} has no kept frame {frame_index} of that video")
    spec = videos.filter(pl.col("video_id") == commit.video_id)["sampling_spec"]
    data = cached_full_frame(
        storage, commit, rows.row(0, named=True), spec[0] if len(spec) else None, source_options
    )
    image = PILImage.open(io.BytesIO(data))
    image.load()
    return image


def cached_full_frame(
    storage: Storage,
    commit: Commit,
    frame: Mapping[str, Any],
    sampling_spec: str | None,
    source_options: Mapping[str, Any] | None = None,
) -> bytes:
    """The encoded full frame of kept ``frame`` (its row: ``frame_index``, ``pts``,
    ``time_s``) of the video ``commit`` holds, from the catalog's cache or decoded from
    its source and cached. ``sampling_spec``: the video's settings as the videos table
    stores them (JSON)."""
    try:
        spec = SamplingSpec.from_dict(json.loads(sampling_spec or "{}"))
    except (SettingsError, ValueError) as exc:
        raise CatalogError(
            f"video {commit.video_id}: its sampling settings are unreadable ({exc})"
        ) from None
    prefix = commit.pictures_prefix
    if prefix is None or commit.source_url is None:
        raise CatalogError(
            f"video {commit.video_id} in {storage.url} has no frames or no source to decode"
        )
    key = f"{prefix}/full/{int(frame['frame_index']):08d}.{EXTENSIONS[spec.image.full_format]}"
    try:
        return storage.read_bytes(key)
    except FileNotFoundError:
        pass
    data = decode_full_frame(
        Source(commit.source_url, source_options), commit.video_id, frame, spec
    )
    storage.write_bytes(key, data)
    logger.info("cached the full frame %s of %s", key, storage.url)
    return data


def decode_full_frame(
    source: Source, video_id: str, frame: Mapping[str, Any], spec: SamplingSpec
) -> bytes:
    """Decode the frame with exactly ``frame['pts']`` from ``source`` (checked to still be
    video ``video_id``) and encode it as ``spec`` encodes full frames."""
    found, _ = fingerprint(source.url, source.storage_options)
    if found != video_id:
        raise SourceChangedError(
            source.shown,
            f"holds other content than when it was cataloged (video {found}, not {video_id}); "
            "ingest it again to fetch its full frames",
        )
    media = probe(source, max_pixels=spec.decode.limits.max_pixels)
    pts, time_s = int(frame["pts"]), float(frame["time_s"])
    video = media.video
    renderer = make_renderers(video.width, video.height, video.rotation_deg, spec).full
    with VideoDecoder(source, media, DecodeSpec(limits=spec.decode.limits)) as decoder:
        for decoded in decoder.frames_spanning(pts, pts, seek_times_s=[time_s]):
            if decoded.pts == pts:
                return encode_image(
                    renderer.render(decoded.frame), spec.image.full_format, spec.image.quality
                )
    raise SourceChangedError(
        source.shown, f"has no frame at pts {pts} ({time_s:.3f} s) any more; ingest it again"
    )
