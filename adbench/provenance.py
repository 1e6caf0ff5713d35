"""Where a row came from: versions, git sha, host, device. Recorded in every row."""

from __future__ import annotations

import functools
import importlib.metadata as md
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

import torch


def _version(dist: str) -> str | None:
    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return None


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


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=None)
def _static() -> dict[str, Any]:
    return {
        "adbench_version": _version("adbench"),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "git_sha": git_sha(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }


def provenance(device: str) -> dict[str, Any]:
    return {**_static(), "device": device, "device_name": device_name(device),
            "torch_threads": torch.get_num_threads()}
