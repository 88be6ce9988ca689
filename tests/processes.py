"""Processes in tests: those below a test (from /proc, Linux), to find and kill a batch's
workers; a child Python run with its output captured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["alive", "descendants", "python", "stopped"]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (not gone, not a zombie)."""
    state = _state(pid)
    return state is not None and state != "Z"


def stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped (SIGSTOP: state T)."""
    return _state(pid) == "T"


def python(code: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -c code argv...`` in a child process, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120
    )
