"""Sync throughput: a local catalog pushed to the S3 test server by ``sync_catalog`` (the
commit protocol: files, then each video's marker), against plain copying of the same
folder with fsspec's own ``put`` (recursive, s3fs's concurrent uploads: what ``aws s3
sync`` does to an empty prefix, without any protocol).

The catalog is built through the catalog's own write path (``Catalog.begin_video`` ->
the image sink -> ``VideoWriter.commit``): per video four Parquet parts, ``--frames``
thumbnails of ``--thumb-kb`` KB (random bytes: incompressible, like JPEG) and a marker.
The S3 server (moto) runs in its own process over HTTP on 127.0.0.1. Runs interleave
(sync then put, put then sync, ...), each to a fresh prefix; the median of each is
reported, with MB/s, objects/s and the ratio. A second sync onto a finished copy measures
the cost of a re-run that has nothing to do (listing and comparing only).

    python benchmarks/bench_sync.py                        # 50 videos x 60 thumbnails
    python benchmarks/bench_sync.py --videos 5 --runs 1    # a quick look
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import numpy as np
import polars as pl
import s3fs

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from bench_catalog import moto_process, synthetic_video
from framesift.catalog import Catalog, sync_catalog
from framesift.storage import Storage

KEY, SECRET = "bench", "bench-secret"


def build(root: str, videos: int, frames: int, thumb_kb: int) -> tuple[int, int]:
    """A catalog of ``videos`` videos at ``root``; (files, bytes) under it."""
    cat = Catalog(root)
    for i in range(videos):
        rng = np.random.default_rng(i)
        tables = synthetic_video(i, frames, rng)
        writer = cat.begin_video(f"{i:024x}", settings_hash="be9c4")
        sink = writer.image_sink()
        keys = [
            sink.put(f"{k:08d}.jpg", rng.bytes(thumb_kb * 1024))
            for k in tables["frames"]["frame_index"]
        ]
        sink.close()
        tables["frames"] = tables["frames"].with_columns(pl.Series("thumbnail_uri", keys))
        writer.commit(tables, settings_hash="be9c4", source_url=f"/footage/{i}.mp4")
    files = [p for p in Path(root).rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--frames", type=int, default=60, help="thumbnails per video")
    parser.add_argument("--thumb-kb", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16, help="sync's files in flight")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    with tempfile.TemporaryDirectory() as tmp, moto_process() as endpoint:
        root = f"{tmp}/catalog"
        files, size = build(root, args.videos, args.frames, args.thumb_kb)
        print(f"catalog: {args.videos} videos, {files} files, {size / 1e6:.1f} MB")
        options = {"endpoint_url": endpoint, "key": KEY, "secret": SECRET}
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        ).create_bucket(Bucket=bucket)
        fs = s3fs.S3FileSystem(**options)
        source = Storage(root)
        synced: list[float] = []
        put: list[float] = []
        objects = 0
        for run in range(args.runs):  # alternating which goes first
            for which in ("sync", "put") if run % 2 == 0 else ("put", "sync"):
                started = time.perf_counter()
                if which == "sync":
                    target = Storage(f"s3://{bucket}/sync-{run}", options)
                    report = sync_catalog(source, target, max_workers=args.workers)
                    synced.append(time.perf_counter() - started)
                    if not report.ok or len(report.copied) != args.videos:
                        raise SystemExit(f"the sync did not copy every video: {report}")
                    objects = report.objects_copied + report.ledger_entries + 1  # _catalog.json
                else:
                    fs.put(root + "/", f"{bucket}/put-{run}/", recursive=True)
                    put.append(time.perf_counter() - started)
            print(f"run {run + 1}: sync {synced[-1]:.2f} s, put {put[-1]:.2f} s")
        started = time.perf_counter()
        again = sync_catalog(source, Storage(f"s3://{bucket}/sync-0", options))
        rerun = time.perf_counter() - started
        if again.copied or again.present != args.videos:
            raise SystemExit(f"a re-run copied again: {again}")
        sync_s, put_s = statistics.median(synced), statistics.median(put)
        for name, seconds, count in (("sync", sync_s, objects), ("put", put_s, files)):
            print(
                f"{name:5} {seconds:6.2f} s  {size / 1e6 / seconds:6.1f} MB/s  "
                f"{count / seconds:7.0f} objects/s  ({count} objects)"
            )
        print(f"sync / put time: {sync_s / put_s:.2f}x; re-run with nothing to copy {rerun:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
