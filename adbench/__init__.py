"""adbench: a plugin-based benchmarking harness for industrial image anomaly detection."""

from .hookspecs import hookimpl
from .method import PROFILES, TRACKS, AnomalyOutput, FitReport, Method, MethodConfig, RunContext, TrainData

__all__ = ["PROFILES", "TRACKS", "AnomalyOutput", "BenchmarkRequest", "FitReport", "Method", "MethodConfig",
           "RunContext", "RunSummary", "TrainData", "hookimpl", "run_benchmark"]


def __getattr__(name: str):  # the session imports pandas and torch: load it on first use, not on `adbench list`
    if name in ("run_benchmark", "BenchmarkRequest", "RunSummary"):
        from .protocol import session

        return getattr(session, name)
    raise AttributeError(f"module 'adbench' has no attribute {name!r}")
