"""Parameter counts and in-memory model size."""

from __future__ import annotations

from torch import nn

MB = 1024.0**2


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Total and trainable parameters; shared tensors count once."""
    seen: dict[int, tuple[int, bool]] = {}
    for p in model.parameters():
        seen[id(p)] = (p.numel(), p.requires_grad)
    return {"params": sum(n for n, _ in seen.values()),
            "params_trainable": sum(n for n, t in seen.values() if t)}


def model_size_mb(model: nn.Module) -> float:
    """Bytes of parameters plus buffers, in MiB (what a checkpoint of the pipeline holds)."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    return total / MB
