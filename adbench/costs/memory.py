"""Forward and backward memory of one training step at batch 1 (the paper's figure 6).

On CUDA: peak allocated memory during the forward pass and during the backward pass,
above what was allocated before each. On CPU, where no allocator peak exists:
forward = bytes of the activations autograd saves for backward (counted through
``torch.autograd.graph.saved_tensors_hooks``, each storage once, parameters excluded); backward = bytes of the
parameter gradients it produces.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from .size import MB


def _loss(out: Any) -> torch.Tensor | None:
    """A scalar touching every output, so backward runs through the whole pipeline."""
    tensors = [t for t in (out if isinstance(out, tuple) else (out,)) if isinstance(t, torch.Tensor)]
    diff = [t.float().mean() for t in tensors if t.requires_grad]
    return sum(diff) if diff else None


def measure_memory(model: nn.Module, images: torch.Tensor, *, device: str) -> dict[str, Any]:
    """Works on a copy: the training-mode pass must not touch the caller's BatchNorm statistics."""
    model = copy.deepcopy(model).to(device).train()
    x = images[:1].to(device)
    for p in model.parameters():
        p.grad = None
    if device.startswith("cuda"):
        return _cuda_memory(model, x)
    saved: dict[Any, int] = {}
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}

    def pack(t: torch.Tensor) -> torch.Tensor:
        try:
            key = t.untyped_storage().data_ptr()
            if key in weights:  # parameters are model size, not activations
                return t
            saved[key] = max(saved.get(key, 0), t.untyped_storage().nbytes())
        except RuntimeError:  # tensors without storage (e.g. some views of wrapped tensors)
            saved[id(t)] = t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    loss = _loss(out)
    result = {"forward_mb": sum(saved.values()) / MB}
    if loss is None:
        result.update(backward_mb=0.0, memory_note="outputs do not depend on trainable parameters")
    else:
        loss.backward()
        grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
        result["backward_mb"] = grads / MB
    return {**result, "memory_method": "saved_tensors_hooks+grad_bytes"}


def _cuda_memory(model: nn.Module, x: torch.Tensor) -> dict[str, Any]:
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = model(x)
    torch.cuda.synchronize()
    fwd = torch.cuda.max_memory_allocated() - base
    loss = _loss(out)
    after = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    bwd = 0
    if loss is not None:
        loss.backward()
        torch.cuda.synchronize()
        bwd = torch.cuda.max_memory_allocated() - after
    del out, loss, model
    return {"forward_mb": fwd / MB, "backward_mb": max(bwd, 0) / MB, "memory_method": "cuda_peak"}
