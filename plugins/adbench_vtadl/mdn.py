"""Mixture density network over patch embeddings, with both of VT-ADL's losses.

Heads (bias-free linear layers, as in the authors' code): π = softmax(W_π h),
μ = W_μ h (K means), s = softplus(W_s h) used as the *log-variance* of each dimension.
Per component, NLL_k(x) = ½ Σ_d [log 2π + s_kd + (x_d − μ_kd)² e^{−s_kd}].

- ``"mixture"``: the proper mixture likelihood, −log Σ_k π_k e^{−NLL_k}, computed with
  logsumexp (plain tensor ops, so it exports to ONNX);
- ``"authors"``: Σ_k π_k · NLL_k, what the authors' ``mdn1.py`` sums (an upper bound of the
  mixture NLL by Jensen's inequality, not the likelihood itself).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LOG_2PI = math.log(2 * math.pi)


class MDN(nn.Module):
    def __init__(self, dim: int, components: int, eps: float = 1e-6):
        super().__init__()
        self.dim, self.k, self.eps = dim, components, eps
        self.pi = nn.Linear(dim, components, bias=False)
        self.mu = nn.Linear(dim, dim * components, bias=False)
        self.log_var = nn.Linear(dim, dim * components, bias=False)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """h (..., dim) → log π (..., K), μ (..., K, dim), log-variance (..., K, dim)."""
        h = h.clamp(min=self.eps)
        shape = h.shape[:-1]
        log_pi = F.log_softmax(self.pi(h), dim=-1)
        mu = self.mu(h).view(*shape, self.k, self.dim)
        log_var = F.softplus(self.log_var(h)).view(*shape, self.k, self.dim)
        return log_pi, mu, log_var


def component_nll(x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """NLL of x (..., dim) under each diagonal Gaussian: (..., K)."""
    d = x.unsqueeze(-2) - mu
    return 0.5 * (LOG_2PI + log_var + d * d * torch.exp(-log_var)).sum(-1)


def mixture_nll(x: torch.Tensor, log_pi: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """−log Σ_k π_k N(x; μ_k, σ_k²), per position: (...)."""
    return -torch.logsumexp(log_pi - component_nll(x, mu, log_var), dim=-1)


def authors_nll(x: torch.Tensor, log_pi: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """Σ_k π_k · NLL_k, per position: (...)."""
    return (log_pi.exp() * component_nll(x, mu, log_var)).sum(-1)


def patch_nll(kind: str, x: torch.Tensor, params: tuple[torch.Tensor, ...]) -> torch.Tensor:
    if kind == "mixture":
        return mixture_nll(x, *params)
    if kind == "authors":
        return authors_nll(x, *params)
    raise ValueError(f"mdn_loss must be 'mixture' or 'authors', got {kind!r}")
