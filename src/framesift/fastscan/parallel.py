"""Running the fast scan's jobs side by side in threads (PyAV and OpenCV release the GIL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["chunks", "run_parallel"]

_T = TypeVar("_T")


def chunks(items: Sequence[_T], count: int) -> list[list[_T]]:
    """``items`` in at most ``count`` contiguous runs of near-equal length."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    out: list[list[_T]] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append(list(items[start:end]))
        start = end
    return out


def run_parallel(work: Callable[[_T], None], parts: list[_T]) -> None:
    """``work`` on every part, one thread each (in this thread when there is one part);
    the first failure is raised."""
    if len(parts) <= 1:
        for part in parts:
            work(part)
        return
    with ThreadPoolExecutor(len(parts), thread_name_prefix="framesift-fast") as pool:
        for future in [pool.submit(work, part) for part in parts]:
            future.result()
