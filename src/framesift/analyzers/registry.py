"""Frame analyzers by name: where each lives and how to install what it needs.

Implementations import on first use (their model runtimes are optional extras); a missing
one raises :class:`~framesift.errors.SettingsError` with the install command. Building
the analyzers of a spec loads their models, so :func:`check_analyzers` fails before any
video when a model cannot run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from framesift.analyzers.model import Analyzer
from framesift.analyzers.onnx_session import inference_threads
from framesift.errors import SettingsError
from framesift.spec import ANALYZER_NAMES, AnalyzerSpec

__all__ = ["KNOWN_ANALYZERS", "AnalyzerEntry", "check_analyzers", "make_analyzers"]


@dataclass(frozen=True)
class AnalyzerEntry:
    """Where an analyzer lives (a module with ``build(spec, *, threads) -> Analyzer``) and
    what to install for it."""

    module: str
    install: str


KNOWN_ANALYZERS: dict[str, AnalyzerEntry] = {
    "faces": AnalyzerEntry(
        "framesift.analyzers.faces", "pip install 'framesift[analyze]' (yuface, YuNet)"
    ),
    "onnx": AnalyzerEntry(
        "framesift.analyzers.onnx_model", "pip install 'framesift[analyze]' (onnxruntime)"
    ),
    "ocr": AnalyzerEntry(
        "framesift.analyzers.ocr", "pip install 'framesift[analyze]' (rapidocr, PP-OCR)"
    ),
}
assert tuple(KNOWN_ANALYZERS) == ANALYZER_NAMES


def make_analyzers(spec: AnalyzerSpec) -> list[Analyzer]:
    """The analyzers ``spec`` names, built (models loaded) in its order."""
    threads = inference_threads(spec.threads)
    built: list[Analyzer] = []
    try:
        for name in spec.names:
            built.append(_make(name, spec, threads))
    except BaseException:
        for analyzer in built:
            analyzer.close()
        raise
    return built


def check_analyzers(spec: AnalyzerSpec) -> None:
    """Build and release the analyzers of ``spec``: a missing package, a model that is not
    ONNX or breaks its contract raises here, before any video."""
    for analyzer in make_analyzers(spec):
        analyzer.close()


def _make(name: str, spec: AnalyzerSpec, threads: int) -> Analyzer:
    entry = KNOWN_ANALYZERS[name]
    try:
        module = importlib.import_module(entry.module)
    except ImportError as exc:
        raise SettingsError(f"analyzer {name!r} cannot load ({exc}): {entry.install}") from None
    analyzer: Analyzer = module.build(spec, threads=threads)
    return analyzer
