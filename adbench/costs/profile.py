"""The cost profile of one method: tidy rows (one per device × precision × batch) plus a
summary that goes into each result row. Cached per (method, config, device, versions)."""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Any, Sequence

import torch
from torch import nn

from ..config import cache_dir, cached_entry
from ..results.store import write_json_atomic
from .flops import count_flops
from .latency import measure_latency, precision_supported
from .memory import measure_memory
from .onnx_export import export_and_check
from .size import count_parameters, model_size_mb

PROFILER_VERSION = 1


def profile_model(model: nn.Module, image_size: int, *, device: str = "cpu", batches: Sequence[int] = (1,),
                  precisions: Sequence[str] = ("fp32",), min_run_time: float = 0.5,
                  onnx: bool = True) -> dict[str, Any]:
    """Every figure for one pipeline. ``summary``: batch-1 fp32 figures for the row;
    ``latency``: a list of tidy rows."""
    x1 = torch.rand(1, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))
    model = model.eval()
    summary: dict[str, Any] = {**count_parameters(model), "model_size_mb": model_size_mb(model),
                               "input_size": image_size}
    try:
        summary.update(count_flops(model.cpu(), x1))
    except Exception as exc:
        summary["flops_error"] = f"{type(exc).__name__}: {exc}"
    try:
        summary.update(measure_memory(model, x1, device=device))
    except Exception as exc:
        summary["memory_error"] = f"{type(exc).__name__}: {exc}"
    if onnx:
        summary.update(export_and_check(model, x1))
    rows = []
    for precision in precisions:
        for batch in batches:
            row = {"device": device, "precision": precision, "batch": batch}
            if not precision_supported(device, precision):
                row["status"] = "unsupported"
            else:
                x = torch.rand(batch, 3, image_size, image_size)
                try:
                    row.update(measure_latency(model, x, device=device, precision=precision,
                                               min_run_time=min_run_time), status="ok")
                except Exception as exc:
                    row.update(status="error", error=f"{type(exc).__name__}: {exc}")
            rows.append(row)
    model.cpu()
    first = next((r for r in rows if r.get("status") == "ok" and r["batch"] == min(batches)), None)
    if first is not None:
        summary.update(latency_ms=first["latency_ms"], latency_iqr_ms=first["latency_iqr_ms"],
                       latency_reps=first["latency_reps"], latency_timer=first["timer"],
                       latency_precision=first["precision"], latency_device=device)
    return {"summary": summary, "latency": rows}


def _cache_key(method: str, cfg: dict[str, Any], device: str, batches: Sequence[int],
               precisions: Sequence[str]) -> str:
    import importlib.metadata as md

    versions = {d: _v(md, d) for d in ("torch", "onnx", "onnxruntime", "fvcore", "adbench")}
    blob = json.dumps({"v": PROFILER_VERSION, "method": method, "cfg": cfg, "device": device,
                       "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor(),
                       "threads": torch.get_num_threads(), "batches": list(batches),
                       "precisions": list(precisions), "versions": versions}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _v(md: Any, dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


def profile_method(method_cls: Any, cfg: dict[str, Any], *, device: str = "cpu", batches: Sequence[int] = (1,),
                   precisions: Sequence[str] = ("fp32",), model: nn.Module | None = None,
                   use_cache: bool = True, min_run_time: float = 0.5) -> dict[str, Any]:
    """Profile a method's pipeline at its config (untrained weights unless ``model`` is
    given: the costs do not depend on weight values), from the cache when possible."""
    if not use_cache:
        return {**_profile(method_cls, cfg, device, batches, precisions, model, min_run_time), "cached": False}
    key = _cache_key(method_cls.name, cfg, device, batches, precisions)
    result, hit = cached_entry(cache_dir() / "costs" / f"{key}.json", lambda p: json.loads(p.read_text()),
                               lambda: _profile(method_cls, cfg, device, batches, precisions, model, min_run_time),
                               write_json_atomic)
    return {**result, "cached": hit}


def _profile(method_cls: Any, cfg: dict[str, Any], device: str, batches: Sequence[int],
             precisions: Sequence[str], model: nn.Module | None, min_run_time: float) -> dict[str, Any]:
    if model is None:
        from ..method import RunContext

        model = method_cls(cfg, RunContext(device="cpu", profile="profile")).model()
    result = profile_model(model, int(cfg["image_size"]), device=device, batches=batches,
                           precisions=precisions, min_run_time=min_run_time)
    result["method"] = method_cls.name
    return result
