"""adbench: a plugin-based benchmarking harness for industrial image anomaly detection."""

from .hookspecs import hookimpl
from .method import PROFILES, TRACKS, AnomalyOutput, FitReport, Method, RunContext, TrainData

__all__ = ["PROFILES", "TRACKS", "AnomalyOutput", "FitReport", "Method", "RunContext", "TrainData", "hookimpl"]
