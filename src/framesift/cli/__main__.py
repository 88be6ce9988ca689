"""``python -m framesift.cli``: the ``framesift`` command."""

from __future__ import annotations

import sys

from framesift.cli import main

sys.exit(main())
