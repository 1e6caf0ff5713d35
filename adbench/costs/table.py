"""Tidy cost table: one row per method × device × precision × batch, units in column names.

``GMACs_fvcore`` is fvcore's total: fvcore counts one fused multiply-add as one "flop",
so the figure is giga multiply-accumulates (about half the FLOPs). ``status`` is
"unsupported" for a precision the device lacks; its latency cells are then empty. Every
row says where its numbers came from: threads, CPU model, GPU, torch build and weights.
``adbench report --costs DIR`` reads this file back (:data:`ROW_KEYS`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: summary key → column of costs.csv
COLUMNS = {
    "params_inference": "params_inference",
    "params_total": "params_total",
    "model_size_mb": "model_size_MiB",
    "gmacs": "GMACs_fvcore",
    "forward_mb": "forward_peak_MiB",
    "backward_mb": "backward_peak_MiB",
    "memory_batch": "memory_batch",
    "memory_method": "memory_method",
    "onnx_size_mb": "onnx_MiB",
    "onnx_max_abs_err": "onnx_max_abs_err",
    "ort_latency_ms": "ort_cpu_latency_ms",
    "torch_threads": "threads",
    "cpu_model": "cpu_model",
    "gpu_name": "gpu_name",
    "torch_build": "torch_build",
    "profiled_weights": "weights",
}
#: the profile's environment columns → the row keys that hold a cost profile's environment
ENV_KEYS = {"threads": "costs_torch_threads", "cpu_model": "costs_cpu_model", "gpu_name": "costs_gpu_name",
            "torch_build": "costs_torch_build"}
#: costs.csv column → result-row key, for the figures of one latency row (not the ONNX parity
#: error, which each row measures on its own fitted model)
ROW_KEYS = {**{v: k for k, v in COLUMNS.items() if v not in ENV_KEYS and k != "onnx_max_abs_err"}, **ENV_KEYS,
            "latency_ms": "latency_ms", "latency_iqr_ms": "latency_iqr_ms", "latency_reps": "latency_reps",
            "latency_timed_s": "latency_timed_s", "latency_noisy": "latency_noisy", "timer": "latency_timer",
            "batch": "latency_batch"}


def costs_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for res in results:
        s = res["summary"]
        base = {"method": res["method"], **{label: s.get(key) for key, label in COLUMNS.items()}}
        base["flops_unsupported_ops"] = ",".join(s.get("flops_unsupported_ops", {}) or [])
        base["errors"] = "; ".join(f"{k}: {s[k]}" for k in ("flops_error", "memory_error", "onnx_error")
                                   if s.get(k)) or None
        for lat in res["latency"]:
            rows.append({**base, "device": lat["device"], "precision": lat["precision"], "batch": lat["batch"],
                         "status": lat["status"], "latency_ms": lat.get("latency_ms"),
                         "latency_iqr_ms": lat.get("latency_iqr_ms"), "latency_reps": lat.get("latency_reps"),
                         "latency_timed_s": lat.get("latency_timed_s"), "latency_noisy": lat.get("latency_noisy"),
                         "throughput_img_per_s": lat.get("throughput_ips"), "timer": lat.get("timer")})
    return pd.DataFrame(rows)
