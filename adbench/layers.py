"""Reusable, ONNX-exportable building blocks for method pipelines (no method-specific code)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .method import AnomalyOutput


def gaussian_kernel1d(sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


class GaussianBlur2d(nn.Module):
    """Separable Gaussian smoothing of ``(B,1,H,W)`` maps with reflect padding; σ=0 is identity."""

    def __init__(self, sigma: float):
        super().__init__()
        self.sigma = float(sigma)
        k = gaussian_kernel1d(sigma) if sigma > 0 else torch.ones(1)
        self.register_buffer("kernel", k, persistent=False)
        self.pad = (k.numel() - 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.sigma <= 0:
            return x
        k = self.kernel
        pad = min(self.pad, x.shape[-1] - 1, x.shape[-2] - 1)
        if pad < self.pad:  # tiny maps: trim the kernel instead of failing on reflect padding
            k = k[self.pad - pad : self.pad + pad + 1]
            k = k / k.sum()
        x = F.pad(x, (pad, pad, 0, 0), mode="reflect")
        x = F.conv2d(x, k.view(1, 1, 1, -1))
        x = F.pad(x, (0, 0, pad, pad), mode="reflect")
        return F.conv2d(x, k.view(1, 1, -1, 1))


class Normalize(nn.Module):
    """``(x - mean) / std`` per channel, inside the model so exported pipelines take [0,1] images."""

    def __init__(self, mean: tuple[float, ...] = (0.5, 0.5, 0.5), std: tuple[float, ...] = (0.5, 0.5, 0.5)):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def topk_mean(maps: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean of the top ``fraction`` of each map's pixels (fraction→0 gives the max)."""
    flat = maps.flatten(1)
    n = int(flat.shape[1])  # a constant under tracing: exported graphs have a fixed image size
    k = max(1, int(fraction * n + 0.5))
    return flat.topk(k, dim=1).values.mean(dim=1)


class MapScorer(nn.Module):
    """Turns a raw ``(B,H,W)`` anomaly map into the contract's output: smoothed map and
    image score = mean of its top ``topk`` fraction."""

    def __init__(self, sigma: float = 2.0, topk: float = 0.01):
        super().__init__()
        self.blur = GaussianBlur2d(sigma)
        self.topk = float(topk)

    def forward(self, raw: torch.Tensor) -> AnomalyOutput:
        smoothed = self.blur(raw.unsqueeze(1)).squeeze(1)
        return AnomalyOutput(topk_mean(smoothed, self.topk), smoothed)


class ReconstructionPipeline(nn.Module):
    """Image → reconstruction → per-pixel squared error (channel mean) → :class:`MapScorer`.

    ``net`` maps normalised images to normalised reconstructions of the same shape.
    """

    def __init__(self, net: nn.Module, scorer: MapScorer, normalize: nn.Module | None = None):
        super().__init__()
        self.normalize = normalize or nn.Identity()
        self.net = net
        self.scorer = scorer

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        x = self.normalize(images)
        recon = self.net(x)
        return self.scorer(((x - recon) ** 2).mean(dim=1))


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5, data_range: float = 2.0,
         reduce: bool = True) -> torch.Tensor:
    """Structural similarity with a Gaussian window (Wang et al. 2004), per channel, as plain
    convolutions (ONNX-exportable). ``reduce=False`` returns the (B,H,W) map averaged over
    channels; otherwise the mean per image, shape (B,)."""
    c = x.shape[1]
    k1 = gaussian_kernel1d(sigma)
    if k1.numel() > window:
        k1 = k1[(k1.numel() - window) // 2 : (k1.numel() + window) // 2]
        k1 = k1 / k1.sum()
    k2 = (k1[:, None] * k1[None, :]).to(x)[None, None].repeat(c, 1, 1, 1)
    pad = k2.shape[-1] // 2

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(t, (pad, pad, pad, pad), mode="reflect"), k2, groups=c)

    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    s = s.mean(1)
    return s.flatten(1).mean(1) if reduce else s
