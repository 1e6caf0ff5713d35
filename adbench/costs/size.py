"""Parameter counts and in-memory model size.

A pipeline module may hold parts that only training uses (VT-ADL's reconstruction decoder
when the score comes from the density head, a perceptual-loss VGG): ``params_total``
counts them, ``params_inference`` counts only what a forward pass uses, which is what the
ONNX file holds and what the latency times.
"""

from __future__ import annotations

import torch
from torch import nn

MB = 1024.0**2


def count_parameters(model: nn.Module) -> dict[str, int]:
    """Total and trainable parameters of every part of ``model``; shared tensors count once."""
    seen: dict[int, tuple[int, bool]] = {}
    for p in model.parameters():
        seen[id(p)] = (p.numel(), p.requires_grad)
    return {"params": sum(n for n, _ in seen.values()),
            "params_trainable": sum(n for n, t in seen.values() if t)}


def used_parameters(model: nn.Module, images: torch.Tensor) -> list[nn.Parameter]:
    """The parameters one forward pass of ``images`` uses: those of every module whose
    ``forward`` runs, plus any that reach the outputs through autograd (a parameter read
    directly by another module). Works on the model as it is; gradients are left untouched."""
    called: set[int] = set()
    handles = [m.register_forward_pre_hook(lambda mod, _args: called.add(id(mod))) for m in model.modules()]
    params = list(dict.fromkeys(model.parameters()))
    was_training = model.training
    try:
        model.eval()
        with torch.enable_grad():
            out = model(images)
        leaves = [t for t in (out if isinstance(out, tuple) else (out,))
                  if isinstance(t, torch.Tensor) and t.requires_grad]
        trainable = [p for p in params if p.requires_grad]
        reached: set[int] = set()
        if leaves and trainable:
            grads = torch.autograd.grad(sum(t.float().sum() for t in leaves), trainable, allow_unused=True)
            reached = {id(p) for p, g in zip(trainable, grads) if g is not None}
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    direct = {id(p) for m in model.modules() if id(m) in called for p in m.parameters(recurse=False)}
    return [p for p in params if id(p) in direct | reached]


def parameter_counts(model: nn.Module, images: torch.Tensor) -> dict[str, int]:
    """``params_inference`` (used by a forward pass), ``params_total`` (every part) and
    ``params_trainable`` (every part that trains)."""
    total = count_parameters(model)
    return {"params_inference": sum(p.numel() for p in used_parameters(model, images)),
            "params_total": total["params"], "params_trainable": total["params_trainable"]}


def model_size_mb(model: nn.Module) -> float:
    """Bytes of parameters plus buffers, in MiB (what a checkpoint of the pipeline holds)."""
    total = sum(p.numel() * p.element_size() for p in model.parameters())
    total += sum(b.numel() * b.element_size() for b in model.buffers())
    return total / MB
