"""Which passes can be re-selected from their per-frame analysis.

Re-selection (``framesift.reselect``, the tuning widget, ``reestimate``) replays the keep
rules over a pass's analysis table instead of decoding again. That is exact only when the
pass decoded every frame: a keyframes-only, seeking or fast pass skipped frames, so its
analysis has holes a different setting would have needed. The rule lives here once, for
every front end that re-selects.
"""

from __future__ import annotations

from typing import Final

from framesift.errors import SettingsError

__all__ = ["FULL_PASS_MODE", "is_full_pass", "require_full_pass"]

FULL_PASS_MODE: Final = "straight"
"""The decode mode (``PassStats.mode``) of a pass that decoded every frame."""


def is_full_pass(mode: str) -> bool:
    """Whether a pass that ran in decode ``mode`` decoded every frame."""
    return mode == FULL_PASS_MODE


def require_full_pass(mode: str, source: str) -> None:
    """SettingsError unless the pass over ``source`` (as it may be shown) that ran in decode
    ``mode`` can be re-selected from its analysis."""
    if not is_full_pass(mode):
        raise SettingsError(
            f"re-selection needs a pass over every frame; the one over {source} ran in "
            f"{mode!r} mode: sample it without keyframes-only or fast decoding"
        )
