"""Squash, dynamic routing-by-agreement and the margin loss."""

from __future__ import annotations

import torch
from torch import nn


def squash(s: torch.Tensor, dim: int = -1, eps: float = 1e-8) -> torch.Tensor:
    """v = ‖s‖²/(1+‖s‖²) · s/‖s‖: keeps the direction, maps the norm into [0, 1)."""
    n2 = (s * s).sum(dim=dim, keepdim=True)
    return s * (n2 / (1.0 + n2) / torch.sqrt(n2 + eps))


class DynamicRouting(nn.Module):
    """``n_in`` capsules of ``d_in`` dims → ``n_out`` capsules of ``d_out`` dims.

    Each input capsule predicts every output capsule through its own matrix
    (``û_{j|i} = W_ij u_i``); coupling coefficients ``c_ij = softmax_j(b_ij)`` start uniform
    and are updated by agreement ``b_ij += û_{j|i} · v_j`` for ``iterations`` rounds.
    ``forward`` returns the output capsules; ``last_coupling`` keeps the final ``c``.

    ``detach_intermediate``: the iterations before the last route a detached ``û``, so the
    gradient flows only through the final iteration (Guo's CapsNet-Pytorch ``DigitCaps``,
    which the VT-ADL and PIADE authors' code uses); off, every iteration is differentiated.
    """

    def __init__(self, n_in: int, d_in: int, n_out: int, d_out: int, iterations: int = 3, init_std: float = 0.01,
                 detach_intermediate: bool = False):
        super().__init__()
        if iterations < 1:
            raise ValueError("routing needs at least one iteration")
        self.iterations = iterations
        self.detach_intermediate = detach_intermediate
        self.weight = nn.Parameter(init_std * torch.randn(n_in, n_out, d_out, d_in))
        self.last_coupling: torch.Tensor | None = None

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        u_hat = torch.einsum("iodk,bik->biod", self.weight, u)  # (B, n_in, n_out, d_out)
        logits = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype, device=u_hat.device)
        v = u_hat.mean(1)
        for it in range(self.iterations):
            last = it == self.iterations - 1
            routed = u_hat.detach() if self.detach_intermediate and not last else u_hat
            c = torch.softmax(logits, dim=2)
            v = squash((c.unsqueeze(-1) * routed).sum(dim=1))  # (B, n_out, d_out)
            if not last:
                logits = logits + (routed * v.unsqueeze(1)).sum(-1)
            self.last_coupling = c.detach()
        return v


def margin_loss(lengths: torch.Tensor, targets: torch.Tensor, m_pos: float = 0.9, m_neg: float = 0.1,
                lam: float = 0.5, class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Sabour et al.'s margin loss, summed over classes and averaged over the batch.

    ``lengths`` (B, K) capsule norms; ``targets`` (B,) class indices. ``class_weights``
    (K,) optionally re-weights each sample by the weight of its true class.
    """
    t = torch.nn.functional.one_hot(targets, lengths.shape[1]).to(lengths.dtype)
    per = t * torch.clamp(m_pos - lengths, min=0) ** 2 + lam * (1 - t) * torch.clamp(lengths - m_neg, min=0) ** 2
    per = per.sum(1)
    if class_weights is not None:
        per = per * class_weights[targets]
    return per.mean()
