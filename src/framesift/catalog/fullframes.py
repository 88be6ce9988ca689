"""Progressive full frames: a kept frame's full-resolution picture, decoded from its source
on demand and cached in the catalog.

A catalog sampled without full frames (thumbnails only, the default) keeps what finding
needs; the full picture of the few frames that turned out interesting is fetched later:
the source is fingerprinted again (a source that now holds other content is refused with
:class:`~framesift.errors.SourceChangedError`, a missing one with
:class:`~framesift.errors.MediaNotFoundError`), decoded from the keyframe before the frame
(or, where that keyframe cannot start a decode, from the start of the file) to the frame
with exactly its pts, rendered as the pass would have rendered it (display
size, rotation, the sampling settings' full-frame format) and stored under the
generation's pictures prefix (``<prefix>/full/<frame_index:08d>.<ext>``), where the next
request, and a sync to another catalog, find it.

Every front end fetches through :func:`full_frame` (``Catalog.full_frame``): the catalog
browser's "full frame" button, search hits shown or written at full size
(``Catalog.show_thumbnails(hits, full=True)``, :func:`write_full_frames`, ``framesift
search --full-frames DIR``) and the catalog report's ``full_frames`` parameter. A
:class:`FullFrame` says whether it was decoded from the source by that call or read from
the catalog (stored at ingest, or cached by an earlier call).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from framesift.catalog.commits import Commit
from framesift.catalog.image_uris import image_key
from framesift.catalog.sources import fingerprint
from framesift.decode import VideoDecoder
from framesift.errors import (
    CatalogError,
    MediaError,
    SettingsError,
    SourceChangedError,
    StorageError,
)
from framesift.images import EXTENSIONS, encode_image, make_renderers
from framesift.probe import probe
from framesift.source import Source
from framesift.spec import DecodeSpec, SamplingSpec
from framesift.storage import Storage

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = [
    "FULL_FRAME_ERRORS",
    "FullFrame",
    "FullFrameFiles",
    "FullFrameSource",
    "cached_full_frame",
    "decode_full_frame",
    "full_frame",
    "full_frames",
    "image_mime",
    "write_full_frames",
]

logger = logging.getLogger(__name__)

_MIME_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def image_mime(data: bytes) -> str:
    """The MIME type of an encoded picture, from its first bytes."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


@dataclass(frozen=True)
class FullFrame:
    """A kept frame's full-resolution picture, encoded as the video's sampling settings
    encode full frames, and where it came from. Shows itself in a notebook cell."""

    video_id: str
    frame_index: int
    time_s: float
    data: bytes = field(repr=False)
    decoded: bool
    """True when this call decoded it from the source (and cached it in the catalog);
    False when it was read from the catalog (stored at ingest, or cached before)."""
    fetch_s: float = 0.0
    """Wall seconds this call took to decode or read it."""

    @property
    def extension(self) -> str:
        """``jpg``, ``png`` or ``webp``: the file name extension of :attr:`data`."""
        return _MIME_EXTENSIONS.get(image_mime(self.data), "bin")

    def image(self) -> Image:
        """The picture, decoded by Pillow."""
        from PIL import Image as PILImage

        image = PILImage.open(io.BytesIO(self.data))
        image.load()
        return image

    def describe(self) -> str:
        """One line for people: which frame, its size, and where it came from."""
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(self.data)) as image:  # the header only
            width, height = image.size
        where = (
            f"decoded from the source in {self.fetch_s:.2f} s and cached in the catalog"
            if self.decoded
            else "read from the catalog"
        )
        return (
            f"frame {self.frame_index} of {self.video_id[:8]} at {self.time_s:.2f} s, "
            f"{width}x{height}: {where}"
        )

    def data_uri(self) -> str:
        """The picture as a ``data:`` URI (inline in HTML, no server needed)."""
        return f"data:{image_mime(self.data)};base64,{base64.b64encode(self.data).decode()}"

    def _repr_html_(self) -> str:
        alt = f"frame {self.frame_index} of {self.video_id[:8]} at {self.time_s:.2f} s"
        return f'<img src="{self.data_uri()}" style="max-width:100%;height:auto" alt="{alt}"/>'


class FullFrameSource(Protocol):
    """What :func:`full_frame` reads from a catalog (a :class:`~framesift.catalog.Catalog`)."""

    @property
    def storage(self) -> Storage: ...

    def frames(self, video_id: Any = None, *, columns: Any = None) -> pl.DataFrame: ...

    def videos(self, *, columns: Any = None) -> pl.DataFrame: ...

    def commit_of(self, video_id: str) -> Commit | None: ...


def full_frame(
    catalog: FullFrameSource,
    video_id: str,
    frame_index: int,
    source_options: Mapping[str, Any] | None = None,
) -> FullFrame:
    """The full frame of kept frame ``frame_index`` of ``video_id``: the one stored at
    ingest (``full_frames=True``), else the one cached by an earlier request, else decoded
    from the source (opened with ``source_options``) and cached. CatalogError when the
    video has no such kept frame; SourceChangedError or MediaNotFoundError when the
    source must be decoded and holds other content now or is gone."""
    began = time.perf_counter()
    frames = catalog.frames(video_id, columns=["frame_index", "time_s", "pts", "frame_uri"])
    rows = frames.filter(pl.col("frame_index") == frame_index)
    storage = catalog.storage
    if rows.is_empty():
        raise CatalogError(f"{storage.url} has no kept frame {frame_index} of video {video_id}")
    row = rows.row(0, named=True)
    decoded = False
    if row["frame_uri"] is not None:
        data = storage.read_bytes(image_key(storage, row["frame_uri"]))
    else:
        commit = catalog.commit_of(video_id)
        if commit is None or commit.deleted:
            raise CatalogError(f"{storage.url} holds no video {video_id}")
        videos = catalog.videos(columns=["video_id", "sampling_spec"])
        spec = videos.filter(pl.col("video_id") == video_id)["sampling_spec"]
        data, decoded = cached_full_frame(
            storage, commit, row, spec[0] if len(spec) else None, source_options
        )
    return FullFrame(
        video_id, frame_index, float(row["time_s"]), data, decoded, time.perf_counter() - began
    )


FULL_FRAME_ERRORS = (MediaError, StorageError, CatalogError)
"""What fetching one full frame can meet (a source moved, changed or unreachable, a
catalog without that frame): the front ends show it as one line and carry on."""


def full_frames(
    catalog: FullFrameSource,
    frames: pl.DataFrame,
    *,
    limit: int | None = None,
    source_options: Mapping[str, Any] | None = None,
) -> tuple[list[tuple[Mapping[str, Any], FullFrame]], list[tuple[Mapping[str, Any], str]]]:
    """The full frames of ``frames`` (rows with ``video_id`` and ``frame_index``: rows of
    the frames table or search hits; rows without a frame are passed over), in order, up
    to ``limit``: ``(row, full frame)`` pairs, and ``(row, message)`` for each frame that
    could not be fetched (one line: the error's type and message)."""
    rows = frames.filter(pl.col("frame_index").is_not_null())
    if limit is not None:
        rows = rows.head(limit)
    found: list[tuple[Mapping[str, Any], FullFrame]] = []
    failed: list[tuple[Mapping[str, Any], str]] = []
    for row in rows.iter_rows(named=True):
        try:
            found.append(
                (row, full_frame(catalog, row["video_id"], row["frame_index"], source_options))
            )
        except FULL_FRAME_ERRORS as exc:
            failed.append((row, f"{type(exc).__name__}: {exc}"))
    return found, failed


@dataclass(frozen=True)
class FullFrameFiles:
    """What :func:`write_full_frames` wrote: one URL per row that has a frame (None where
    it could not be fetched), and a one-line message per frame that could not be."""

    urls: tuple[str | None, ...]
    failures: tuple[str, ...]

    @property
    def written(self) -> int:
        """Files written (a frame shown by several rows counts once)."""
        return len({u for u in self.urls if u is not None})


def write_full_frames(
    catalog: FullFrameSource,
    frames: pl.DataFrame,
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    *,
    source_options: Mapping[str, Any] | None = None,
) -> FullFrameFiles:
    """Write the full frame of each row of ``frames`` (rows of the frames table or search
    hits) as a file under ``url`` (a folder or any fsspec URL), named
    ``<video_id>_<frame_index:08d>.<ext>``: the same frame gets the same name, so a second
    run writes the same files again."""
    target = Storage(str(url), storage_options)
    found, failed = full_frames(catalog, frames, source_options=source_options)
    written: dict[tuple[str, int], str] = {}
    for _, frame in found:
        key = f"{frame.video_id}_{frame.frame_index:08d}.{frame.extension}"
        if (frame.video_id, frame.frame_index) not in written:
            target.write_bytes(key, frame.data)
            written[frame.video_id, frame.frame_index] = target.uri(key)
    urls = tuple(
        None
        if row["frame_index"] is None
        else written.get((row["video_id"], int(row["frame_index"])))
        for row in frames.iter_rows(named=True)
    )
    messages = tuple(
        f"{row['video_id']} frame {row['frame_index']}: {message}" for row, message in failed
    )
    return FullFrameFiles(urls, messages)


def cached_full_frame(
    storage: Storage,
    commit: Commit,
    frame: Mapping[str, Any],
    sampling_spec: str | None,
    source_options: Mapping[str, Any] | None = None,
) -> tuple[bytes, bool]:
    """The encoded full frame of kept ``frame`` (its row: ``frame_index``, ``pts``,
    ``time_s``) of the video ``commit`` holds, from the catalog's cache or decoded from
    its source and cached, and whether it was decoded now. ``sampling_spec``: the
    video's settings as the videos table stores them (JSON)."""
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
        return storage.read_bytes(key), False
    except FileNotFoundError:
        pass
    data = decode_full_frame(
        Source(commit.source_url, source_options), commit.video_id, frame, spec
    )
    storage.write_bytes(key, data)
    logger.info("cached the full frame %s of %s", key, storage.url)
    return data, True


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
        # From the keyframe before the frame; from the start of the file when that keyframe
        # cannot start a decode (FFmpeg conceals the gap and flags the picture corrupt: a
        # camera clip's frames came out green after a seek, see VideoDecoder.seeks_cleanly).
        for seek in (True, False):
            for decoded in decoder.frames_spanning(pts, pts, seek_times_s=[time_s], seek=seek):
                if decoded.pts == pts and not (seek and decoded.frame.is_corrupt):
                    return encode_image(
                        renderer.render(decoded.frame), spec.image.full_format, spec.image.quality
                    )
    raise SourceChangedError(
        source.shown, f"has no frame at pts {pts} ({time_s:.3f} s) any more; ingest it again"
    )
