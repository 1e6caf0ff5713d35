"""The one ``costs.csv`` layout, written by ``adbench profile --out`` (one row per method ×
device × precision × batch) and by ``adbench report`` (one row per method × device, the
median over the run's cells): the columns are the result rows' own cost keys
(``costs/fields.py``), in raw units (parameters as counts), so either file reads back into
rows by name (``adbench report --costs``).

``gmacs`` is fvcore's total: fvcore counts one fused multiply-add as one "flop", so the
figure is giga multiply-accumulates (about half the FLOPs). ``status`` is "unsupported" for a
precision the device lacks; its latency cells are then empty.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .fields import PROFILE_ENV_KEYS

#: every column of costs.csv, in order
COSTS_CSV_COLUMNS: tuple[str, ...] = (
    "method", "device", "precision", "batch", "status",
    "params_inference", "params_total", "params_trainable", "model_size_mb", "input_size", "gmacs", "gflops",
    "forward_mb", "backward_mb", "memory_batch", "memory_method", "onnx_size_mb", "onnx_max_abs_err",
    "ort_latency_ms", "latency_ms", "latency_iqr_ms", "latency_q1_ms", "latency_q3_ms", "latency_reps", "latency_timed_s", "latency_noisy",
    "latency_timer", "throughput_img_per_s", *(f"costs_{k}" for k in PROFILE_ENV_KEYS), "profiled_weights",
    "flops_unsupported_ops", "errors", "costs_source")
#: the profile summary's keys copied as they are (the environment goes under ``costs_<key>``)
_SUMMARY_KEYS = ("params_inference", "params_total", "params_trainable", "model_size_mb", "input_size", "gmacs",
                 "gflops", "forward_mb", "backward_mb", "memory_batch", "memory_method", "onnx_size_mb",
                 "onnx_max_abs_err", "ort_latency_ms", "profiled_weights")
#: a latency measurement's keys → costs.csv columns
_LATENCY_KEYS = {"latency_ms": "latency_ms", "latency_iqr_ms": "latency_iqr_ms", "latency_q1_ms": "latency_q1_ms",
                 "latency_q3_ms": "latency_q3_ms", "latency_reps": "latency_reps",
                 "latency_timed_s": "latency_timed_s", "latency_noisy": "latency_noisy", "timer": "latency_timer",
                 "throughput_ips": "throughput_img_per_s"}
#: the columns of costs.csv files written before the one layout (adbench 0.1 ``profile``), so
#: ``report --costs`` still reads them
LEGACY_COLUMNS = {"model_size_MiB": "model_size_mb", "GMACs_fvcore": "gmacs", "forward_peak_MiB": "forward_mb",
                  "backward_peak_MiB": "backward_mb", "onnx_MiB": "onnx_size_mb",
                  "ort_cpu_latency_ms": "ort_latency_ms", "threads": "costs_torch_threads",
                  "cpu_model": "costs_cpu_model", "gpu_name": "costs_gpu_name", "torch_build": "costs_torch_build",
                  "weights": "profiled_weights", "timer": "latency_timer"}
#: costs.csv column → result-row key, for the figures of one latency row (not the ONNX parity
#: error, which each row measures on its own fitted model)
ROW_KEYS = {**{c: c for c in COSTS_CSV_COLUMNS
               if c not in ("method", "device", "precision", "batch", "status", "onnx_max_abs_err",
                            "throughput_img_per_s", "flops_unsupported_ops", "errors", "costs_source")},
            "batch": "latency_batch"}


def in_layout(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with exactly the costs.csv columns, in order (absent ones empty)."""
    return table.reindex(columns=list(COSTS_CSV_COLUMNS))


def profile_table(results: list[dict[str, Any]]) -> pd.DataFrame:
    """``adbench profile``'s results as costs.csv rows."""
    rows = []
    for res in results:
        s = res["summary"]
        base = {"method": res["method"], **{k: s.get(k) for k in _SUMMARY_KEYS},
                **{f"costs_{k}": s.get(k) for k in PROFILE_ENV_KEYS}}
        base["flops_unsupported_ops"] = ",".join(s.get("flops_unsupported_ops", {}) or [])
        base["errors"] = "; ".join(f"{k}: {s[k]}" for k in ("flops_error", "memory_error", "onnx_error")
                                   if s.get(k)) or None
        for lat in res["latency"]:
            rows.append({**base, "device": lat["device"], "precision": lat["precision"], "batch": lat["batch"],
                         "status": lat["status"], **{col: lat.get(key) for key, col in _LATENCY_KEYS.items()},
                         "costs_source": "adbench profile"})
    return in_layout(pd.DataFrame(rows))


def failed_profile(method: str, input_size: int, device: str, reason: str) -> dict[str, Any]:
    """A profile result for a method that could not be measured: one error row in costs.csv
    (its figures empty, ``errors`` says why), so a report shows n/a with the reason, never 0."""
    return {"method": method, "summary": {"input_size": input_size, "flops_error": reason},
            "latency": [{"device": device, "precision": "fp32", "batch": 1, "status": "error", "error": reason}]}
