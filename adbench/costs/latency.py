"""Inference latency: CUDA events with synchronisation on GPU, torch.utils.benchmark on CPU."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
from torch import nn

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def precision_supported(device: str, precision: str) -> bool:
    """fp32 everywhere; bf16 on CPU and on GPUs that have it; fp16 on CUDA only."""
    if precision == "fp32":
        return True
    if device.startswith("cuda"):
        return precision == "fp16" or torch.cuda.is_bf16_supported()
    return precision == "bf16"


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager:
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=DTYPES[precision])


def _summary(times_s: list[float], batch: int) -> dict[str, Any]:
    t = np.asarray(times_s)
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    return {"latency_ms": med * 1e3, "latency_iqr_ms": (q3 - q1) * 1e3, "latency_reps": int(t.size),
            "throughput_ips": batch / med}


@torch.inference_mode()
def measure_latency(model: nn.Module, images: torch.Tensor, *, device: str, precision: str = "fp32",
                    warmup: int = 3, min_run_time: float = 1.0, max_reps: int = 200) -> dict[str, Any]:
    """Median, IQR and repetitions of one forward pass of ``images`` (after warm-up)."""
    model = model.eval().to(device)
    x = images.to(device)
    with autocast(device, precision):
        for _ in range(warmup):
            model(x)
        if device.startswith("cuda"):
            return {**_cuda_times(model, x, min_run_time, max_reps), "timer": "cuda_events",
                    "cudnn_benchmark": bool(torch.backends.cudnn.benchmark)}
        from torch.utils import benchmark

        timer = benchmark.Timer(stmt="model(x)", globals={"model": model, "x": x},
                                num_threads=torch.get_num_threads())
        m = timer.blocked_autorange(min_run_time=min_run_time)
        per_run = [t for t in m.times]
        out = _summary(per_run, x.shape[0])
        out["latency_reps"] = int(len(m.times) * m.number_per_run)
        return {**out, "timer": "torch.utils.benchmark", "threads": torch.get_num_threads()}


def _cuda_times(model: nn.Module, x: torch.Tensor, min_run_time: float, max_reps: int) -> dict[str, Any]:
    times: list[float] = []
    torch.cuda.synchronize()
    total = 0.0
    while (total < min_run_time or len(times) < 10) and len(times) < max_reps:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        model(x)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1e3)
        total += times[-1]
    return _summary(times, x.shape[0])
