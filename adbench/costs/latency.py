"""Inference latency: one timed forward pass at a time, CUDA events on GPU, ``perf_counter``
on CPU, until at least ``min_time`` seconds *and* ``min_reps`` repetitions are timed.

Every repetition is timed on its own (not as block means), so the median and the IQR are
those of single forward passes; ``latency_noisy`` flags a spread that a table must not hide.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}
#: IQR / median above which a latency is flagged as noisy (marked in tables)
NOISY_IQR_RATIO = 0.25


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


def summarise(times_s: list[float], batch: int) -> dict[str, Any]:
    """Median, quartiles and IQR, n, total timed seconds and the noisy flag of single-pass times."""
    t = np.asarray(times_s)
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    return {"latency_ms": med * 1e3, "latency_iqr_ms": (q3 - q1) * 1e3, "latency_q1_ms": q1 * 1e3,
            "latency_q3_ms": q3 * 1e3, "latency_reps": int(t.size),
            "latency_timed_s": float(t.sum()), "latency_noisy": bool((q3 - q1) > NOISY_IQR_RATIO * med),
            "throughput_ips": batch / med}


def _time_passes(once: Callable[[], float], min_time: float, min_reps: int, max_time: float) -> list[float]:
    """Call ``once`` (which returns one pass's seconds) until ``min_time`` and ``min_reps`` are
    both reached, or ``max_time`` is spent with at least ``min_time`` timed."""
    times: list[float] = []
    total = 0.0
    while not ((total >= min_time and len(times) >= min_reps) or total >= max(max_time, min_time)):
        times.append(once())
        total += times[-1]
    return times


@torch.inference_mode()
def measure_latency(model: nn.Module, images: torch.Tensor, *, device: str, precision: str = "fp32",
                    warmup_s: float = 0.2, min_warmup: int = 3, min_time: float = 1.0, min_reps: int = 20,
                    max_time: float = 60.0) -> dict[str, Any]:
    """Median, IQR and count of single forward passes of ``images``, after a warm-up of at least
    ``min_warmup`` passes and ``warmup_s`` seconds (first-call allocations and kernel selection
    must not be timed)."""
    model = model.eval().to(device)
    x = images.to(device)
    cuda = device.startswith("cuda")
    with autocast(device, precision):
        start, n = time.perf_counter(), 0
        while n < min_warmup or time.perf_counter() - start < warmup_s:
            model(x)
            n += 1
        if cuda:
            torch.cuda.synchronize()
            times = _time_passes(lambda: _cuda_once(model, x), min_time, min_reps, max_time)
            extra = {"timer": "cuda_events", "cudnn_benchmark": bool(torch.backends.cudnn.benchmark)}
        else:
            times = _time_passes(lambda: _cpu_once(model, x), min_time, min_reps, max_time)
            extra = {"timer": "perf_counter"}
    return {**summarise(times, x.shape[0]), **extra, "threads": torch.get_num_threads(), "warmup_reps": n}


def _cpu_once(model: nn.Module, x: torch.Tensor) -> float:
    t0 = time.perf_counter()
    model(x)
    return time.perf_counter() - t0


def _cuda_once(model: nn.Module, x: torch.Tensor) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    model(x)
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1e3
