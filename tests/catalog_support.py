"""Helpers for the catalog tests: the S3 test server, catalog targets, small videos.

Fixtures using them live in fixtures_catalog.py (a pytest plugin); test modules import the
helpers from here (importing a plugin module from a test would defeat assert rewriting).
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import boto3
import numpy as np
from moto.server import ThreadedMotoServer

from framesift.spec import SamplingSpec
from framesift.storage import RetryPolicy, Storage

__all__ = [
    "FAST_RETRY",
    "FRAMES_PER_VIDEO",
    "SECRET",
    "SPEC",
    "CatalogTarget",
    "S3Server",
    "Videos",
    "all_files",
    "make_video",
    "start_s3_server",
]

SECRET = "Sup3rSecretValue-do-not-leak"
"""The secret access key every S3 test uses: tests assert it never shows up anywhere."""
FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05)
SPEC = SamplingSpec(interval_s=1.0, detector="content")
FRAMES_PER_VIDEO = 3  # 3 s at one frame a second

os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@dataclass
class S3Server:
    server: ThreadedMotoServer
    endpoint_url: str

    def options(self) -> dict[str, Any]:
        return {
            "endpoint_url": self.endpoint_url,
            "key": "testing",
            "secret": SECRET,
            "client_kwargs": {"region_name": "us-east-1"},
        }

    def create_bucket(self) -> str:
        name = f"cat-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        ).create_bucket(Bucket=name)
        return name


def start_s3_server() -> S3Server:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return S3Server(server, f"http://{host}:{port}")


@dataclass
class CatalogTarget:
    """Where a test's catalog lives: ``url`` plus the ``storage_options`` to open it."""

    kind: str
    url: str
    storage_options: dict[str, Any] = field(default_factory=dict)
    s3: S3Server | None = None

    def __str__(self) -> str:
        return self.url


def make_video(
    path: Path,
    colors: list[tuple[int, int, int]],
    *,
    fps: int = 10,
    seconds_per_color: float = 1.0,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """A small MPEG-4 video: one solid colour per second with a moving bar."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        n = 0
        for color in colors:
            for _ in range(int(fps * seconds_per_color)):
                img = np.zeros((size[1], size[0], 3), np.uint8)
                img[:] = color
                img[:, (n * 3) % size[0]] = 255
                n += 1
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@dataclass
class Videos:
    folder: Path
    good: list[Path]
    not_a_video: Path


def all_files(target: CatalogTarget) -> dict[str, bytes]:
    """Every file under the catalog root, key -> bytes (for leak and layout checks)."""
    storage = Storage(target.url, target.storage_options)
    return {k: bytes(storage.fs.cat_file(storage._listed_path(k))) for k in storage.list_files("")}
