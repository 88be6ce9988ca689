"""CPU seconds of a serial batch's own thread per video, outside the sampling pass and in
it: the part of the batch's critical path that is not decoding (fingerprint, ledger,
probe, and whatever of the write and commit stays on that thread).

    PYTHONPATH=src python benchmarks/bench_batch_thread.py CLIP [CLIP ...]
    PYTHONPATH=OLD/src python benchmarks/bench_batch_thread.py CLIP [CLIP ...]   # A/B

Thread CPU time (``time.thread_time``) hardly moves with the machine's load, so the
figure holds on a shared machine where wall times do not. Default sampling, a fresh
catalog in a temporary folder.
"""

from __future__ import annotations

import functools
import sys
import tempfile
import time
from typing import Any

import framesift as fs
import framesift.batch.loop  # imported before the clock starts
import framesift.catalog.ingest as per_video


def main(clips: list[str]) -> None:
    in_pass = [0.0]
    sample_video = per_video.sample_video

    @functools.wraps(sample_video)
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return sample_video(*args, **kwargs)
        finally:
            in_pass[0] += time.thread_time() - began

    per_video.sample_video = timed  # the pass, as the per-video unit calls it
    with tempfile.TemporaryDirectory() as folder:
        thread0, process0, wall0 = time.thread_time(), time.process_time(), time.perf_counter()
        summary = fs.ingest(clips, f"{folder}/catalog", fs.SamplingSpec())
        thread1, process1, wall1 = time.thread_time(), time.process_time(), time.perf_counter()
    n = len(clips)
    outside = (thread1 - thread0 - in_pass[0]) / n
    print(
        f"{fs.__file__}: {summary.counts['ingested']} of {n} ingested; per video: batch thread "
        f"outside the pass {outside * 1000:.1f} ms CPU, in it {in_pass[0] / n * 1000:.0f} ms; "
        f"process {(process1 - process0) / n:.2f} s CPU; wall {(wall1 - wall0) / n:.2f} s"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
