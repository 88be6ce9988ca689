"""A frame iterator run one step ahead in a thread: decoding goes on while the consumer
analyses the frame before (memory: ``depth`` items, whatever the video's length)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

__all__ = ["ReadAhead"]

T = TypeVar("T")


class ReadAhead(Generic[T]):
    """Runs a frame iterator in a thread, keeping at most ``depth`` items queued.

    Exceptions in the thread are raised in the consumer; ``stop`` ends the thread early
    (the consumer stopped) and waits for it, so the container can then be closed.
    """

    _END = object()

    def __init__(self, source: Iterator[T], depth: int) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(depth)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="framesift-decode", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._source:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._put(_Raised(exc))
            return
        self._put(self._END)

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if item is self._END:
                return
            if isinstance(item, _Raised):
                raise item.exc
            yield cast(T, item)

    def stop(self) -> None:
        self._stopping.set()
        while self._thread.is_alive():
            with suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        self._thread.join()


@dataclass(frozen=True)
class _Raised:
    exc: BaseException
