"""Catalog read benchmark: 1,000,000 frame rows over 1,000 videos, local folder vs S3.

Builds the catalog through the catalog's own write path (``Catalog.begin_video`` ->
``VideoWriter.commit``: one Parquet part per video and table, then the commit marker),
compacts it, then measures:

* loading one video's frames (``Catalog.frames(video_id)``), target < 50 ms locally;
* a full-table aggregate over all frames (``Catalog.sql``), target < 1 s locally;
* the same on the S3 test server (moto, in its own process, over HTTP on 127.0.0.1),
  target within 5x of local.

    python benchmarks/bench_catalog.py                   # 1000 videos x 1000 frames
    python benchmarks/bench_catalog.py --videos 100      # a quick look

With ``--clip PATH`` it measures instead what the catalog adds to sampling one real video
(targets: < 5% on a local folder; thumbnails to S3 in parallel, < 10%):

    python benchmarks/bench_catalog.py --clip $BENCH_MEDIA/clip10.mp4

Prints one line per measurement and the ratios; exits non-zero when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))

from framesift.catalog import SCHEMAS, Catalog
from framesift.catalog.tables import row_frame

AGGREGATE = """
SELECT v.codec, count(*) AS frames, count(DISTINCT f.video_id) AS videos,
       avg(f.time_s) AS mean_time_s, sum(f.thumbnail_bytes) AS thumb_bytes
FROM frames f JOIN videos v USING (video_id)
WHERE f.keyframe OR list_contains(f.reasons, 'scene_start')
GROUP BY 1 ORDER BY 1
"""
FULL_SCAN = "SELECT count(*) AS n, sum(time_s) AS t, max(phash) AS h FROM frames"


VOCABULARY = [f"w{k}" for k in range(20000)]
SEARCH = "w5 w120 w7000"  # a common, a mid and a rare word (Zipf-distributed text)


def synthetic_text(i: int, count: int, duration_s: float, rng: np.random.Generator) -> pl.DataFrame:
    """``count`` subtitle-like segments of 4-14 words drawn from a Zipf distribution."""
    starts = np.sort(rng.random(count) * max(duration_s - 3.0, 1.0))
    words = np.minimum(rng.zipf(1.3, size=count * 14) - 1, len(VOCABULARY) - 1)
    lengths = rng.integers(4, 15, count)
    texts, at = [], 0
    for n in lengths:
        texts.append(" ".join(VOCABULARY[w] for w in words[at : at + n]))
        at += n
    return pl.DataFrame(
        {
            "video_id": [f"{i:024x}"] * count,
            "source": ["subtitles"] * count,
            "start_s": starts,
            "end_s": starts + 2.5,
            "text": texts,
            "confidence": [None] * count,
            "language": ["en"] * count,
        },
        schema=SCHEMAS["segments"],
    )


def synthetic_video(
    i: int, frames: int, rng: np.random.Generator, segments: int = 0
) -> dict[str, pl.DataFrame]:
    video_id = f"{i:024x}"
    idx = np.arange(frames, dtype=np.int64) * 30
    times = idx / 30.0
    scene = (idx // 900).astype(np.int32)
    df = pl.DataFrame(
        {
            "frame_index": idx,
            "time_s": times,
            "pts": idx * 512,
            "keyframe": idx % 250 == 0,
            "scene_index": scene,
            "reasons": [
                ["interval"] if k % 7 else ["interval", "scene_start"] for k in range(frames)
            ],
            "phash": rng.integers(0, 2**63, frames, dtype=np.uint64),
            "width": np.full(frames, 1920, np.int32),
            "height": np.full(frames, 1080, np.int32),
            "thumbnail_uri": [f"thumbs/{video_id}/g0000000001/{k:08d}.jpg" for k in idx],
            "frame_uri": [None] * frames,
            "thumbnail_bytes": rng.integers(8000, 20000, frames),
        }
    )
    n_scenes = int(scene.max()) + 1
    scenes = pl.DataFrame(
        {
            "scene_index": np.arange(n_scenes, dtype=np.int32),
            "start_s": np.arange(n_scenes) * 30.0,
            "end_s": np.arange(1, n_scenes + 1) * 30.0,
            "start_frame": np.arange(n_scenes, dtype=np.int64) * 900,
            "end_frame": np.arange(1, n_scenes + 1, dtype=np.int64) * 900,
            "score": rng.random(n_scenes, dtype=np.float32) * 50,
        }
    )
    video = row_frame(
        {
            "video_id": video_id,
            "generation": 1,
            "source_url": f"/footage/{i}.mp4",
            "size_bytes": 10**9,
            "settings_hash": "bench",
            "kept_frames": frames,
            "scene_count": n_scenes,
            "codec": ("h264", "hevc", "vp9")[i % 3],
            "duration_s": float(times[-1]) + 1,
            "width": 1920,
            "height": 1080,
        },
        "videos",
    )
    tables = {"videos": video, "frames": df, "scenes": scenes}
    if segments:
        tables["segments"] = synthetic_text(i, segments, float(times[-1]) + 1, rng)
    return tables


def build(cat: Catalog, videos: int, frames: int, workers: int, segments: int = 0) -> float:
    started = time.perf_counter()

    def one(i: int) -> None:
        rng = np.random.default_rng(i)
        writer = cat.begin_video(f"{i:024x}")
        writer.commit(
            synthetic_video(i, frames, rng, segments),
            settings_hash="bench",
            source_url=f"/footage/{i}.mp4",
            has_thumbnails=False,
        )

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(videos)))
    return time.perf_counter() - started


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time in seconds over ``repeat`` runs (after one warm-up run)."""
    result = call()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


@contextlib.contextmanager
def moto_process() -> Iterator[str]:
    """The S3 test server in its own process (so it does not share our GIL)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "import logging, time; logging.getLogger('werkzeug').setLevel(logging.ERROR)\n"
        "from moto.server import ThreadedMotoServer\n"
        f"s = ThreadedMotoServer(ip_address='127.0.0.1', port={port}, verbose=False); s.start()\n"
        "while True: time.sleep(3600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url, timeout=0.2)
                break
            except OSError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def measure(name: str, cat: Catalog, videos: int, repeat: int) -> dict[str, float]:
    rng = random.Random(1)
    ids = [f"{rng.randrange(videos):024x}" for _ in range(repeat + 1)]
    picks = iter(ids * 2)
    one_s, one = timed(lambda: cat.frames(next(picks)), repeat)
    agg_s, agg = timed(lambda: cat.sql(AGGREGATE), max(3, repeat // 4))
    scan_s, scan = timed(lambda: cat.sql(FULL_SCAN), max(3, repeat // 4))
    started = time.perf_counter()
    cat.search(SEARCH, limit=20)  # the first search builds the index of the words
    first_search_s = time.perf_counter() - started
    search_s, hits = timed(lambda: cat.search(SEARCH, limit=20), max(3, repeat // 4))
    texts = int(cat.sql("SELECT count(*) AS n FROM segments")["n"][0])
    total = int(scan["n"][0])
    print(f"{name:6} one video's frames ({one.height} rows): {one_s * 1000:8.1f} ms")
    print(f"{name:6} aggregate, frames JOIN videos ({total:,} rows): {agg_s * 1000:8.1f} ms")
    print(f"{name:6} full scan count/sum/max:            {scan_s * 1000:8.1f} ms")
    print(
        f"{name:6} first text search (indexes {texts:,} segments): {first_search_s * 1000:8.1f} ms"
    )
    print(f"{name:6} text search, BM25, then:               {search_s * 1000:8.1f} ms")
    assert texts == 0 or hits.height > 0
    assert int(agg["frames"].sum()) > 0
    return {
        "one_s": one_s,
        "agg_s": agg_s,
        "scan_s": scan_s,
        "search_s": search_s,
        "first_search_s": first_search_s,
        "rows": total,
        "segments": texts,
    }


def bench_clip(clip: str, runs: int) -> bool:
    """Sampling alone (thumbnails encoded, kept in memory) vs ingest into a local catalog
    vs ingest into the S3 test server; medians over ``runs`` runs each, interleaved."""
    import boto3

    from framesift.batch import ingest
    from framesift.sample import sample_video
    from framesift.sink import MemoryImageSink
    from framesift.spec import SamplingSpec

    spec = SamplingSpec(interval_s=1.0, detector="content")
    times: dict[str, list[float]] = {"sample": [], "local": [], "s3": []}
    with tempfile.TemporaryDirectory() as tmp, moto_process() as endpoint:
        options = {
            "endpoint_url": endpoint,
            "key": "bench",
            "secret": "bench",
            "client_kwargs": {"region_name": "us-east-1"},
        }
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            region_name="us-east-1",
        )
        kept = 0
        for run in range(runs):
            t = time.perf_counter()
            result = sample_video(clip, spec, sink=MemoryImageSink())
            times["sample"].append(time.perf_counter() - t)
            kept = result.frames.height
            t = time.perf_counter()
            summary = ingest([clip], os.path.join(tmp, f"local{run}"), spec, compact_after=None)
            times["local"].append(time.perf_counter() - t)
            assert summary.counts["ingested"] == 1, summary
            client.create_bucket(Bucket=f"bench{run}")
            t = time.perf_counter()
            summary = ingest(
                [clip],
                f"s3://bench{run}/catalog",
                spec,
                storage_options=options,
                compact_after=None,
            )
            times["s3"].append(time.perf_counter() - t)
            assert summary.counts["ingested"] == 1, summary
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"clip {clip}: {kept} kept frames and thumbnails, medians of {runs} runs")
    print(f"sample_video alone (thumbnails in memory): {med['sample']:7.2f} s")
    local_pct = (med["local"] / med["sample"] - 1) * 100
    s3_pct = (med["s3"] / med["sample"] - 1) * 100
    print(
        f"ingest into a local catalog:               {med['local']:7.2f} s  "
        f"({local_pct:+.1f}%, target < 5%)"
    )
    print(
        f"ingest into the S3 test server:            {med['s3']:7.2f} s  "
        f"({s3_pct:+.1f}%, target < 10%)"
    )
    return local_pct < 5 and s3_pct < 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--frames-per-video", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--segments-per-video", type=int, default=100, help="timed text rows per video"
    )
    parser.add_argument("--no-s3", action="store_true", help="local folder only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--clip", help="measure ingest overhead on this video instead")
    parser.add_argument("--runs", type=int, default=3, help="runs per variant with --clip")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.clip:
        ok = bench_clip(args.clip, args.runs)
        print("all targets met" if ok else "TARGET MISSED")
        return 0 if ok else 1
    rows = args.videos * args.frames_per_video
    print(
        f"catalog of {args.videos} videos x {args.frames_per_video} frames = {rows:,} rows "
        f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus)"
    )
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        local = Catalog(os.path.join(tmp, "catalog"))
        build_s = build(
            local, args.videos, args.frames_per_video, workers=2, segments=args.segments_per_video
        )
        print(
            f"local  build via VideoWriter.commit: {build_s:6.1f} s "
            f"({build_s / args.videos * 1000:.1f} ms per video)"
        )
        uncompacted = measure("local", local, args.videos, args.repeat)
        t = time.perf_counter()
        local.compact()
        print(f"local  compact: {time.perf_counter() - t:6.2f} s")
        results["local_parts"] = uncompacted
        results["local"] = measure("local", local, args.videos, args.repeat)
        if not args.no_s3:
            with moto_process() as endpoint:
                import boto3

                boto3.client(
                    "s3",
                    endpoint_url=endpoint,
                    aws_access_key_id="bench",
                    aws_secret_access_key="bench",
                    region_name="us-east-1",
                ).create_bucket(Bucket="bench")
                options = {
                    "endpoint_url": endpoint,
                    "key": "bench",
                    "secret": "bench",
                    "client_kwargs": {"region_name": "us-east-1"},
                }
                s3 = Catalog("s3://bench/catalog", options, cache_dir=os.path.join(tmp, "c0"))
                build_s = build(
                    s3,
                    args.videos,
                    args.frames_per_video,
                    workers=8,
                    segments=args.segments_per_video,
                )
                print(
                    f"s3     build via VideoWriter.commit: {build_s:6.1f} s "
                    f"({build_s / args.videos * 1000:.1f} ms per video, 8 threads)"
                )
                t = time.perf_counter()
                s3.compact()
                print(f"s3     compact: {time.perf_counter() - t:6.2f} s")
                cold = Catalog("s3://bench/catalog", options, cache_dir=os.path.join(tmp, "cache"))
                t = time.perf_counter()
                cold.sql(FULL_SCAN)
                print(
                    f"s3     first query, cold cache (downloads the compacted files): "
                    f"{(time.perf_counter() - t) * 1000:8.1f} ms"
                )
                results["s3"] = measure("s3", cold, args.videos, args.repeat)
                results["s3_no_cache"] = measure(
                    "s3-nc",
                    Catalog("s3://bench/catalog", options, cache_dir=False),
                    args.videos,
                    max(3, args.repeat // 4),
                )
    ok = True
    loc = results["local"]
    print(
        f"\ntargets (local, compacted): one video < 50 ms: {loc['one_s'] * 1000:.1f} ms; "
        f"aggregate < 1 s: {loc['agg_s'] * 1000:.1f} ms"
    )
    ok &= loc["one_s"] < 0.05 and loc["agg_s"] < 1.0
    if "s3" in results:
        s3r = results["s3"]
        ratios = {k: s3r[k] / loc[k] for k in ("one_s", "agg_s", "scan_s")}
        print(
            "s3 / local (cached): "
            + ", ".join(f"{k[:-2]} {v:.2f}x" for k, v in ratios.items())
            + " (target <= 5x)"
        )
        nc = results["s3_no_cache"]
        print(
            "s3 / local (cache off, every byte over HTTP): "
            + ", ".join(f"{k[:-2]} {nc[k] / loc[k]:.2f}x" for k in ("one_s", "agg_s", "scan_s"))
        )
        ok &= all(v <= 5 for v in ratios.values())
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
