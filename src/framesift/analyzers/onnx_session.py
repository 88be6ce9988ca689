"""The one way framesift opens an ONNX Runtime session.

:func:`open_session` tries the execution providers in :data:`PROVIDER_ORDER` that this
onnxruntime build offers (CUDA, TensorRT, CoreML, DirectML, then CPU), with the CPU
provider always last as the fallback; when the session comes up on another provider than
the first tried, one log line says so. Graph optimisation is on; intra-op threads are the
cores this worker owns (:func:`inference_threads`: the executor's share, so a process
pool or a Dask worker does not oversubscribe the machine), one inter-op thread, and the
thread pool does not spin while idle (the decoder shares the cores).

:func:`quantize_int8` makes an INT8 copy of a model with ONNX Runtime's dynamic
quantisation (weights to 8 bits, activations quantised on the fly).
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from framesift.errors import ModelContractError, SettingsError

if TYPE_CHECKING:
    import onnxruntime

__all__ = [
    "PROVIDER_ORDER",
    "OpenedSession",
    "inference_threads",
    "open_session",
    "quantize_int8",
]

logger = logging.getLogger(__name__)

PROVIDER_ORDER: tuple[str, ...] = (
    "CUDAExecutionProvider",
    "TensorrtExecutionProvider",
    "CoreMLExecutionProvider",
    "DmlExecutionProvider",
    "CPUExecutionProvider",
)
_CPU = "CPUExecutionProvider"
_INSTALL = "the onnx analyzer needs ONNX Runtime: pip install 'framesift[analyze]'"


def inference_threads(requested: int = 0) -> int:
    """Threads for inference: ``requested``, else the cores this process may run on
    (a process pool's or Dask worker's share when its executor pinned or limited it)."""
    if requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class OpenedSession:
    """A session and the provider it runs on."""

    session: onnxruntime.InferenceSession
    provider: str

    @property
    def engine(self) -> str:
        import onnxruntime

        return f"onnxruntime {onnxruntime.__version__} {self.provider}"


def _runtime() -> None:
    """SettingsError with the install hint when ONNX Runtime is missing."""
    try:
        import onnxruntime  # noqa: F401  (only whether it imports)
    except ImportError:
        raise SettingsError(_INSTALL) from None


def _load_errors() -> tuple[type[BaseException], ...]:
    """What ONNX Runtime raises for a file it cannot load (its own pybind11 types)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = ("Fail", "InvalidArgument", "InvalidGraph", "InvalidProtobuf", "NoSuchFile")
    own = tuple(getattr(state, n) for n in names if hasattr(state, n))
    return (*own, RuntimeError, ValueError)


def open_session(
    model: bytes, *, threads: int, shown: str, providers: tuple[str, ...] | None = None
) -> OpenedSession:
    """An inference session for ``model`` (the ONNX file's bytes; ``shown`` names it in
    messages) on the first provider of ``providers`` (default :data:`PROVIDER_ORDER`) that
    this build has and that loads. ModelContractError when the bytes are not a model ONNX
    Runtime can run."""
    _runtime()
    import onnxruntime

    available = set(onnxruntime.get_available_providers())
    wanted = [p for p in (providers or PROVIDER_ORDER) if p in available and p != _CPU]
    chain = [*wanted, _CPU]
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: provider fallbacks get our one line
    try:
        session = onnxruntime.InferenceSession(model, sess_options=options, providers=chain)
    except _load_errors() as exc:
        raise ModelContractError(
            f"model {shown}: not an ONNX model ONNX Runtime can load ({_first_line(exc)}); "
            "expected an .onnx file (an exported ONNX graph)"
        ) from None
    used = session.get_providers()[0]
    if used != chain[0]:
        logger.warning("%s did not load for %s; running on %s", chain[0], shown, used)
    return OpenedSession(session, used)


def quantize_int8(model: bytes, *, shown: str) -> bytes:
    """An INT8 copy of ``model`` by dynamic quantisation (needs the ``onnx`` package)."""
    _runtime()
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError:
        raise SettingsError(
            "INT8 quantisation needs the onnx package: pip install 'framesift[analyze]'"
        ) from None
    with tempfile.TemporaryDirectory(prefix="framesift-int8-") as folder:
        source, target = Path(folder, "model.onnx"), Path(folder, "model.int8.onnx")
        source.write_bytes(model)
        failures: tuple[type[BaseException], ...] = (*_load_errors(), KeyError)
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8)
        except failures as exc:
            raise ModelContractError(
                f"model {shown}: INT8 quantisation failed ({_first_line(exc)}); run it as FP32"
            ) from None
        return target.read_bytes()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
