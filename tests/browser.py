"""The headless Chromium the browser tests drive (Debian's, through playwright; never
``playwright install``): where it is, and the flags that keep it offline and quiet."""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NO_CHROMIUM = "needs Chromium (scripts/test.sh installs it: apt-get chromium)"
