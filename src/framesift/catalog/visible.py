"""``VisibleState``: what one :class:`~framesift.catalog.Catalog` object shows.

The commit markers as last listed (listed again once older than ``max_staleness_s``), with
the damage this object already found hidden: a listing does not show that a committed
part is missing, and looking for it again on every read would cost a listing each time.
"""

from __future__ import annotations

import threading
import time

from framesift.catalog import layout
from framesift.catalog.commits import CatalogState, load_state
from framesift.catalog.health import hide_damaged
from framesift.storage import Storage

__all__ = ["VisibleState"]


class VisibleState:
    """The visible state of one catalog, shared by the threads of one Catalog object."""

    def __init__(self, storage: Storage, max_staleness_s: float) -> None:
        self._storage = storage
        self.max_staleness_s = max_staleness_s
        self._lock = threading.RLock()
        self._state: CatalogState | None = None
        self._at = 0.0
        self._damage: dict[tuple[str, int], str] = {}  # (video, generation) -> what is lost
        self._broken_snapshot: tuple[int, str] | None = None  # (sequence, why)

    def cached(self) -> CatalogState | None:
        """The last listing if it is younger than ``max_staleness_s``, else None."""
        with self._lock:
            if self._state is not None and time.monotonic() - self._at <= self.max_staleness_s:
                return self._state
        return None

    def current(self) -> CatalogState:
        """The visible state, listed again when older than ``max_staleness_s``."""
        return self.cached() or self.refresh()

    def refresh(self) -> CatalogState:
        """List the commit markers again now (known damage stays hidden)."""
        return self._keep(self._known_damage(load_state(self._storage)))

    def find_damage(self) -> CatalogState:
        """A fresh listing with the videos whose parts are missing hidden, and remembered."""
        state = hide_damaged(self._storage, load_state(self._storage))
        with self._lock:
            for video_id, why in state.damaged.items():
                self._damage[(video_id, state.commits[video_id].generation)] = why
            if state.snapshot_problem and state.snapshot_keys:
                sequence = layout.parse_snapshot_key(state.snapshot_keys[-1]) or 0
                self._broken_snapshot = (sequence, state.snapshot_problem)
        return self._keep(state)

    def is_damaged(self, video_id: str, generation: int) -> bool:
        with self._lock:
            return (video_id, generation) in self._damage

    def invalidate(self) -> None:
        """Forget the listing (this process committed something)."""
        with self._lock:
            self._state = None

    def _keep(self, state: CatalogState) -> CatalogState:
        with self._lock:
            self._state = state
            self._at = time.monotonic()
        return state

    def _known_damage(self, state: CatalogState) -> CatalogState:
        with self._lock:
            damaged = {
                v: why
                for (v, g), why in self._damage.items()
                if (c := state.commits.get(v)) is not None and c.generation == g
            }
            broken = self._broken_snapshot
        snapshot = state.snapshot
        problem = broken[1] if broken and snapshot and snapshot.sequence == broken[0] else None
        return state.with_damage(damaged, problem) if damaged or problem else state
