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

The same holds for ``scenedetect.platform``: the detectors' base module imports it for one
type alias (``StrPath``), and running it imports tqdm with its asyncio contrib (ssl
included), ``importlib.metadata`` and ``subprocess``, none of which a detector uses. It is
registered with that alias defined as PySceneDetect defines it, and runs, into the same
module, the first time anything asks it for another name.

framesift's scene modules import PySceneDetect's names from here only (a test checks it).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Mapping
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


def _run_deferred(name: str, defined: Mapping[str, Any] | None = None) -> None:
    """Register module (or package) ``name`` without running its code until a name it lacks
    is asked for (then the code runs once, under a lock, into the same module object);
    ``defined``: names it holds meanwhile, as its own code defines them."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return  # not installed: the imports below fail as they would anyway
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    lock = threading.Lock()
    is_package = spec.submodule_search_locations is not None

    def run_code(attribute: str) -> Any:
        if attribute == "__path__" and not is_package:
            # The import system asks every module whether it is a package: not a use.
            raise AttributeError(f"module {name!r} has no attribute '__path__'")
        with lock:
            if "__getattr__" in vars(module):
                del vars(module)["__getattr__"]  # from now on a missing name is an error
                loader.exec_module(module)
        return getattr(module, attribute)

    vars(module).update(defined or {})
    vars(module)["__getattr__"] = run_code
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        vars(sys.modules[parent])[child] = module  # as an import binds a submodule


_run_deferred("scenedetect")
_run_deferred("scenedetect.platform", {"StrPath": str | os.PathLike[str]})

# The submodules framesift uses, imported under the package set up above.
from scenedetect.common import FrameTimecode  # noqa: E402 - needs the package set up first
from scenedetect.detector import FlashFilter, SceneDetector  # noqa: E402
from scenedetect.detectors import (  # noqa: E402
    AdaptiveDetector,
    ContentDetector,
    HashDetector,
    ThresholdDetector,
)
