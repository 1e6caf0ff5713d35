"""Where a row came from: versions, git sha, host, device. Recorded in every row."""

from __future__ import annotations

import functools
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import torch

from .io import dist_version


@functools.lru_cache(maxsize=1)
def git_sha() -> str | None:
    """Commit of the adbench checkout (``+dirty`` when modified), or None outside git."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The processor's model name (``/proc/cpuinfo``, then ``lscpu``), never just ``x86_64``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=5).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return platform.processor() or platform.machine()


def gpu_name(device: str) -> str | None:
    """The GPU's name for a CUDA device, else None."""
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return None


def device_name(device: str) -> str:
    """What runs the cell: the GPU's name, or the CPU model."""
    return gpu_name(device) or cpu_model()


@functools.lru_cache(maxsize=1)
def torch_build() -> str:
    """The torch build in one line: version, commit, CUDA or CPU-only, and the CPU libraries."""
    parts = [f"git {torch.version.git_version[:7]}" if getattr(torch.version, "git_version", None) else None,
             f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU-only",
             "MKL" if torch.backends.mkl.is_available() else None,
             "oneDNN" if torch.backends.mkldnn.is_available() else None]
    return f"{torch.__version__} ({', '.join(p for p in parts if p)})"


def environment(device: str) -> dict[str, Any]:
    """What a number depends on besides the code: threads, CPU model, GPU, torch build."""
    return {"torch_threads": torch.get_num_threads(), "cpu_model": cpu_model(), "gpu_name": gpu_name(device),
            "torch_build": torch_build()}


@functools.lru_cache(maxsize=None)
def _static() -> dict[str, Any]:
    return {
        "adbench_version": dist_version("adbench"),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "git_sha": git_sha(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }


def provenance(device: str) -> dict[str, Any]:
    return {**_static(), "device": device, "device_name": device_name(device), **environment(device)}
