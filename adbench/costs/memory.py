"""Forward and backward memory of one training step at the method's training batch size
(the seed paper's figure 6).

Both devices report the same quantity, a peak of allocated bytes:
* ``forward_mb``: the peak during the forward pass, above what was allocated before it
  (parameters, buffers and the input are not counted);
* ``backward_mb``: the peak during the backward pass, above what was allocated when it
  started (so the activations saved by the forward pass are not counted twice).

On CUDA the figures come from the caching allocator's ``max_memory_allocated``. On CPU,
where torch keeps no allocator statistics, :class:`LiveTensorBytes` follows every tensor
storage an operator creates (a ``TorchDispatchMode``) until it is freed, so its peak is
the peak of live tensor bytes; library scratch space outside tensors is not seen.
``memory_method`` names which one produced a row's figures.
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from .size import MB

CPU_METHOD = "cpu: peak of live tensor storages (TorchDispatchMode)"
CUDA_METHOD = "cuda: peak of torch.cuda.max_memory_allocated"


class LiveTensorBytes(TorchDispatchMode):
    """Bytes of the tensor storages created while the mode is active and still alive, and
    their peak. Storages that existed before (``known``) are never counted."""

    def __init__(self, known: list[torch.Tensor]):
        super().__init__()
        self.live = self.peak = 0
        self._known = {t.untyped_storage().data_ptr() for t in known}
        self._refs: dict[int, Any] = {}

    def reset_peak(self) -> None:
        self.peak = self.live

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                self._add(t.untyped_storage())
        return out

    def _add(self, storage: torch.UntypedStorage) -> None:
        key, nbytes = storage.data_ptr(), storage.nbytes()
        if nbytes == 0 or key in self._known or key in self._refs:
            return
        self._refs[key] = weakref.ref(storage, lambda _, k=key, n=nbytes: self._free(k, n))
        self.live += nbytes
        self.peak = max(self.peak, self.live)

    def _free(self, key: int, nbytes: int) -> None:
        if self._refs.pop(key, None) is not None:
            self.live -= nbytes


def _loss(out: Any) -> torch.Tensor | None:
    """A scalar touching every output, so backward runs through the whole pipeline."""
    tensors = [t for t in (out if isinstance(out, tuple) else (out,)) if isinstance(t, torch.Tensor)]
    diff = [t.float().mean() for t in tensors if t.requires_grad]
    return sum(diff) if diff else None


def training_batch(images: torch.Tensor, batch: int) -> torch.Tensor:
    """``batch`` images from ``images`` (repeated when there are fewer)."""
    reps = -(-batch // images.shape[0])
    return images.repeat(reps, 1, 1, 1)[:batch]


def measure_memory(model: nn.Module, images: torch.Tensor, *, device: str, batch: int = 1) -> dict[str, Any]:
    """Peak forward and backward memory of one training-mode step at ``batch`` images.

    Works on a copy: the training-mode pass must not touch the caller's BatchNorm
    statistics or gradients. A pipeline whose outputs do not depend on trainable
    parameters has no backward pass: ``backward_mb`` is None with ``memory_note`` saying so.
    """
    model = copy.deepcopy(model).to(device).train()
    x = training_batch(images, batch).to(device)
    for p in model.parameters():
        p.grad = None
    result = _cuda_memory(model, x) if device.startswith("cuda") else _cpu_memory(model, x)
    if result["backward_mb"] is None:
        result["memory_note"] = "outputs do not depend on trainable parameters: no backward pass"
    return {**result, "memory_batch": int(x.shape[0])}


def _cpu_memory(model: nn.Module, x: torch.Tensor) -> dict[str, Any]:
    known = [x, *model.parameters(), *model.buffers()]
    with LiveTensorBytes(known) as tracker:
        out = model(x)
        forward = tracker.peak
        loss = _loss(out)
        tracker.reset_peak()
        start = tracker.live
        if loss is not None:
            loss.backward()
        backward = tracker.peak - start if loss is not None else None
    return {"forward_mb": forward / MB, "backward_mb": None if backward is None else backward / MB,
            "memory_method": CPU_METHOD}


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
    bwd = None
    if loss is not None:
        loss.backward()
        torch.cuda.synchronize()
        bwd = max(torch.cuda.max_memory_allocated() - after, 0)
    del out, loss, model
    return {"forward_mb": fwd / MB, "backward_mb": None if bwd is None else bwd / MB, "memory_method": CUDA_METHOD}
