"""Counts in words for people: ``counted(1, "scene")`` is "1 scene", ``counted(7,
"scene")`` "7 scenes". Every front end (the command line, the widgets, the reports' totals)
words its counts through it."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and ``noun`` (its ``plural``, default noun + "s", unless ``n`` is 1)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
