"""PySceneDetect's detectors, imported without the start-up cost of the whole package.

``import scenedetect`` runs the package's ``__init__``, which imports all of PySceneDetect
(its video backends, scene manager, video splitter and output writers) and, while doing so,
runs ``ffmpeg -v quiet`` in a child process to learn whether ffmpeg is installed
(``scenedetect/output/video.py``; its own TODO says to move that to first use). framesift
needs only the detector classes and ``FrameTimecode``: about 0.3 s less per command.

So this module puts the package's module object in ``sys.modules`` with its ``__init__``
not yet run, and imports the few submodules framesift uses under it. Nothing else is
changed: the submodules are PySceneDetect's own, and the ``__init__`` still runs, into the
same module object, the first time anyone asks the package for a name it does not hold yet
(``scenedetect.detect``, ``from scenedetect import SceneManager``; PEP 562's module
``__getattr__``), so code that uses the whole package sees it whole. Where the package was
imported before this module, it is used as it is.

framesift's scene modules import PySceneDetect's names from here only (a test checks it).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any

__all__ = [
    "AdaptiveDetector",
    "ContentDetector",
    "FlashFilter",
    "FrameTimecode",
    "HashDetector",
    "SceneDetector",
    "ThresholdDetector",
]


def _package_with_init_deferred(name: str) -> None:
    """Register package ``name`` without running its ``__init__`` until a name it lacks is
    asked for (then the ``__init__`` runs once, under a lock, into the same module)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return  # not installed as a package: the imports below fail as they would anyway
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader
    lock = threading.Lock()

    def run_init(attribute: str) -> Any:
        with lock:
            if "__getattr__" in vars(package):
                del vars(package)["__getattr__"]  # from now on a missing name is an error
                loader.exec_module(package)
        return getattr(package, attribute)

    vars(package)["__getattr__"] = run_init
    sys.modules[name] = package


_package_with_init_deferred("scenedetect")

# The submodules framesift uses, imported under the package set up above.
from scenedetect.common import FrameTimecode  # noqa: E402 - needs the package set up first
from scenedetect.detector import FlashFilter, SceneDetector  # noqa: E402
from scenedetect.detectors import (  # noqa: E402
    AdaptiveDetector,
    ContentDetector,
    HashDetector,
    ThresholdDetector,
)
