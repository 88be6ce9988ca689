"""Fixtures for the catalog tests (a pytest plugin: ``pytest_plugins = ["fixtures_catalog"]``).

* ``s3_server``: a real S3-compatible server (moto's ThreadedMotoServer) on 127.0.0.1 over
  HTTP, one per session.
* ``catalog_url``: the one parametrized backend fixture: a local folder and an s3:// bucket
  URL; conformance tests take it and run on both.
* ``videos``: small synthetic videos made once per session with PyAV (distinct content, so
  distinct fingerprints), and a file that is not a video.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_support import CatalogTarget, S3Server, Videos, make_video, start_s3_server

__all__ = ["catalog_cache_dir", "catalog_url", "s3_server", "videos"]


@pytest.fixture(scope="session", autouse=True)
def catalog_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Remote catalogs cache their files here, not in the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("framesift-cache")
    old = os.environ.get("FRAMESIFT_CACHE_DIR")
    os.environ["FRAMESIFT_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("FRAMESIFT_CACHE_DIR", None)
    else:
        os.environ["FRAMESIFT_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    s3 = start_s3_server()
    yield s3
    s3.server.stop()


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> CatalogTarget:
    if request.param == "local":
        return CatalogTarget("local", str(tmp_path / "catalog"))
    s3: S3Server = request.getfixturevalue("s3_server")
    bucket = s3.create_bucket()
    return CatalogTarget("s3", f"s3://{bucket}/catalog", s3.options(), s3)


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Videos:
    folder = tmp_path_factory.mktemp("videos")
    palettes = [
        [(255, 0, 0), (0, 0, 255), (0, 255, 0)],
        [(200, 200, 0), (0, 200, 200), (40, 40, 40)],
        [(10, 10, 10), (250, 250, 250), (120, 0, 120)],
    ]
    good = [make_video(folder / f"clip{i}.mp4", p) for i, p in enumerate(palettes)]
    bad = folder / "notes.mp4"
    bad.write_bytes(b"this is not a video, just text that ends in .mp4\n" * 20)
    return Videos(folder, good, bad)
