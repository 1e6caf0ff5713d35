"""The cost profile of one method: tidy rows (one per device × precision × batch) plus a
summary that goes into each result row. Cached per (method, config, device, threads,
CPU model, versions).

Costs are measured on the method's pipeline built with fresh weights from seed 0 (the
``profiled_weights`` field says so), never on whichever cell happened to run first: the
cached figures are then the same whatever order the cells ran in. Each cell still checks
ONNX parity on its own fitted model (see ``protocol/runner.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any, Iterator, Sequence

import torch
from torch import nn

from ..config import cache_dir
from ..io import cached_entry, dist_version, write_json_atomic
from ..provenance import cpu_model, environment
from .fields import FITTED_WEIGHTS
from .flops import count_flops
from .latency import measure_latency, precision_supported
from .memory import measure_memory
from .onnx_export import export_and_check
from .size import model_size_mb, parameter_counts

PROFILER_VERSION = 4  # 3: onnx_opset read from the exported file; 4: latency quartiles
RANDOM_WEIGHTS = "random init (seed 0)"


def measure_model(model: nn.Module, image_size: int, *, device: str = "cpu", batches: Sequence[int] = (1,),
                  precisions: Sequence[str] = ("fp32",), min_time: float = 1.0, min_reps: int = 20,
                  train_batch: int = 1, onnx: bool = True) -> dict[str, Any]:
    """Every figure for one pipeline. ``summary``: parameters, FLOPs, memory at
    ``train_batch``, ONNX, and the smallest batch's fp32 latency, for the row; ``latency``: a
    list of tidy rows. A figure that cannot be measured is None with ``<figure>_error``."""
    x1 = torch.rand(1, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))
    model = model.eval()
    summary: dict[str, Any] = {**parameter_counts(model, x1), "model_size_mb": model_size_mb(model),
                               "input_size": image_size, **environment(device)}
    try:
        summary.update(count_flops(model.cpu(), x1))
    except Exception as exc:
        summary.update(gmacs=None, gflops=None, flops_error=f"{type(exc).__name__}: {exc}")
    try:
        summary.update(measure_memory(model, x1, device=device, batch=train_batch))
    except Exception as exc:
        summary.update(forward_mb=None, backward_mb=None, memory_batch=train_batch,
                       memory_error=f"{type(exc).__name__}: {str(exc)[:300]}")
    if onnx:
        summary.update(export_and_check(model, x1))
    rows = []
    for precision in precisions:
        for batch in batches:
            row = {"device": device, "precision": precision, "batch": batch}
            if not precision_supported(device, precision):
                row["status"] = "unsupported"
            else:
                x = torch.rand(batch, 3, image_size, image_size, generator=torch.Generator().manual_seed(1))
                try:
                    row.update(measure_latency(model, x, device=device, precision=precision,
                                               min_time=min_time, min_reps=min_reps), status="ok")
                except Exception as exc:
                    row.update(status="error", error=f"{type(exc).__name__}: {exc}")
            rows.append(row)
    model.cpu()
    first = next((r for r in rows if r["precision"] == "fp32" and r["batch"] == min(batches)), None)
    if first is not None and first["status"] == "ok":
        summary.update({k: first[k] for k in ("latency_ms", "latency_iqr_ms", "latency_q1_ms", "latency_q3_ms",
                                              "latency_reps", "latency_timed_s",
                                              "latency_noisy")},
                       latency_timer=first["timer"], latency_batch=first["batch"], latency_device=device)
    else:
        summary.update(latency_ms=None, latency_error=(first or {}).get("error", "no fp32 latency was asked for"))
    return {"summary": summary, "latency": rows}


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run the body with ``n`` intra-op threads (None: as they are), then restore."""
    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _cache_key(method: str, cfg: dict[str, Any], device: str, threads: int, batches: Sequence[int],
               precisions: Sequence[str], min_time: float, fitted_state: dict[str, Any] | None,
               train_batch: int | None = None) -> str:
    versions = {d: dist_version(d) for d in ("torch", "onnx", "onnxruntime", "fvcore", "adbench")}
    blob = json.dumps({"v": PROFILER_VERSION, "method": method, "cfg": dict(cfg), "device": device,
                       "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else cpu_model(),
                       "threads": threads, "batches": list(batches), "min_time": min_time,
                       "precisions": list(precisions), "versions": versions, "fitted_state": fitted_state,
                       **({"train_batch": train_batch} if train_batch else {})},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def measure_method(method_cls: Any, cfg: dict[str, Any], *, device: str = "cpu", batches: Sequence[int] = (1,),
                   precisions: Sequence[str] = ("fp32",), fitted: nn.Module | None = None,
                   threads: int | None = None, use_cache: bool = True, min_time: float = 1.0,
                   profile: str = "quick", fitted_state: dict[str, Any] | None = None,
                   train_batch: int | None = None) -> dict[str, Any]:
    """Profile a method's pipeline at its config, from the cache when possible.

    The pipeline is built with fresh weights from seed 0. Only a method whose ``model()``
    cannot be built before ``fit`` is profiled on ``fitted`` instead (and says so). A method
    whose cost depends on its fitted state (``fitted_state`` given, e.g. a memory bank's shape)
    is always profiled on ``fitted``, cached per that state. Latency runs with ``threads``
    intra-op threads (default: the current number). Training memory is measured at
    ``train_batch`` images (default: the config's ``batch_size``).
    """
    threads = threads or torch.get_num_threads()

    def run() -> dict[str, Any]:
        return _profile(method_cls, cfg, device, batches, precisions, fitted, threads, min_time, profile,
                        fitted_state, train_batch)

    if not use_cache:
        return {**run(), "cached": False}
    key = _cache_key(method_cls.name, cfg, device, threads, batches, precisions, min_time, fitted_state,
                     train_batch)
    result, hit = cached_entry(cache_dir() / "costs" / f"{key}.json", lambda p: json.loads(p.read_text()), run,
                               write_json_atomic)
    return {**result, "cached": hit}


def _pipeline(method_cls: Any, cfg: dict[str, Any], fitted: nn.Module | None, profile: str,
              fitted_state: dict[str, Any] | None = None) -> tuple[nn.Module, str]:
    from ..method import RunContext

    if fitted_state is not None:
        if fitted is None:
            raise ValueError(f"{method_cls.name}: its cost depends on the fitted state; profile the fitted model")
        state = ", ".join(f"{k} {'x'.join(map(str, v)) if isinstance(v, (list, tuple)) else v}"
                          for k, v in fitted_state.items())
        return fitted, f"{FITTED_WEIGHTS} ({state or 'its fitted state'})"

    if cfg.get("pretrained"):  # costs do not depend on weight values: no weights file is needed to profile
        cfg = method_cls.config_class({**cfg, "pretrained": False})
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(0)
        return method_cls(cfg, RunContext(device="cpu", seed=0, profile=profile)).model(), RANDOM_WEIGHTS
    except Exception as exc:
        if fitted is None:
            raise
        return fitted, f"fitted weights (model() failed before fit: {type(exc).__name__})"
    finally:
        torch.random.set_rng_state(state)


def _profile(method_cls: Any, cfg: dict[str, Any], device: str, batches: Sequence[int],
             precisions: Sequence[str], fitted: nn.Module | None, threads: int, min_time: float,
             profile: str, fitted_state: dict[str, Any] | None = None,
             train_batch: int | None = None) -> dict[str, Any]:
    from ..determinism import torch_defaults

    model, weights = _pipeline(method_cls, cfg, fitted, profile, fitted_state)
    with torch_threads(threads), torch_defaults():
        result = measure_model(model, cfg.image_size, device=device, batches=batches,
                               precisions=precisions, min_time=min_time,
                               train_batch=train_batch or int(cfg.get("batch_size", 1)))
    result["summary"]["profiled_weights"] = weights
    result["method"] = method_cls.name
    return result
