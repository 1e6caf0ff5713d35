"""ONNX export of the whole pipeline, checked with onnxruntime against PyTorch."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from .size import MB

#: opset asked of each exporter (the dynamo exporter needs 18)
OPSETS = {"torchscript": 17, "dynamo": 18}


class _Outputs(nn.Module):
    """Wraps a pipeline so the exported graph returns only tensors (no ``None`` map)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(images)
        return tuple(t for t in out if t is not None)


def export_and_check(model: nn.Module, images: torch.Tensor, *, reps: int = 20,
                     keep: Path | None = None) -> dict[str, Any]:
    """Export, measure file size, run with onnxruntime on CPU, compare to PyTorch, and time
    ``reps`` ORT runs (none with ``reps=0``, for a parity check alone).

    Never raises for an export failure: the row gets ``onnx_error`` with the exception text.
    """
    import onnxruntime as ort

    wrapped = _Outputs(model.eval().cpu())
    x = images.cpu()
    with torch.inference_mode():
        expected = [t.float().numpy() for t in wrapped(x)]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        try:
            exporter = _export(wrapped, x, path)
        except Exception as exc:  # an explained refusal, never a crash
            return {"onnx_ok": False, "onnx_error": f"{type(exc).__name__}: {str(exc)[:500]}"}
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / MB  # includes external data
        opset = file_opset(path)
        try:
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            name = sess.get_inputs()[0].name
            got = sess.run(None, {name: x.numpy()})
            err, ok = parity(got, expected)
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                sess.run(None, {name: x.numpy()})
                times.append(time.perf_counter() - t0)
        except Exception as exc:
            return {"onnx_ok": False, "onnx_size_mb": size_mb, "onnx_exporter": exporter,
                    "onnx_error": f"onnxruntime: {type(exc).__name__}: {str(exc)[:500]}"}
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_bytes(path.read_bytes())
    out = {"onnx_ok": ok, "onnx_opset": opset, "onnx_exporter": exporter,
           "onnx_size_mb": size_mb, "onnx_max_abs_err": err,
           "onnx_error": None if ok else f"an output differs from PyTorch by more than {PARITY_TOL:g} × its "
                                         f"scale (at least 1); the largest difference is {err:.3g}"}
    if times:
        out["ort_latency_ms"] = float(np.median(times)) * 1e3
    return out


#: the largest ONNX-vs-PyTorch difference accepted, relative to each output's largest value
#: (or absolute for outputs within ±1): float32 keeps about 7 digits, so a score of 5,000
#: may differ by a few thousandths through rounding alone
PARITY_TOL = 1e-3


def parity(got: list[np.ndarray], expected: list[np.ndarray]) -> tuple[float, bool]:
    """The largest absolute difference over all outputs, and whether every output is within
    ``PARITY_TOL`` of PyTorch's on its own scale."""
    worst, ok = 0.0, True
    for g, e in zip(got, expected):
        if not e.size:
            continue
        diff = float(np.max(np.abs(g - e)))
        worst = max(worst, diff)
        ok = ok and diff < PARITY_TOL * max(1.0, float(np.max(np.abs(e))))
    return worst, ok


def file_opset(path: Path) -> int | None:
    """The default-domain opset the exported file actually declares (an exporter may raise
    the requested one: the dynamo exporter writes 18 when asked for 17)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), None)


@contextlib.contextmanager
def _stdout_discarded() -> Iterator[None]:
    """Silence file descriptor 1 for a while. The TorchScript exporter turns its C++ log on
    (torch checks ``_jit_is_onnx_log_enabled`` without calling it) and, when it fails, dumps
    the whole IR graph to stdout, burying the run's summary table in hundreds of lines."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _export(model: nn.Module, x: torch.Tensor, path: Path) -> str:
    """TorchScript exporter first (fast, mature); the dynamo exporter when it fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with _stdout_discarded():
                torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=OPSETS["torchscript"],
                                  input_names=["images"], do_constant_folding=True)
            return "torchscript"
        except Exception as first:
            try:
                torch.onnx.export(model, (x,), str(path), dynamo=True, opset_version=OPSETS["dynamo"],
                                  input_names=["images"], verbose=False)
                return "dynamo"
            except Exception as second:
                raise RuntimeError(f"torchscript exporter: {first}; dynamo exporter: {second}") from second
