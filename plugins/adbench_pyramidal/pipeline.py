"""Scoring pipeline shared by both methods: reconstruction error map and image score."""

from __future__ import annotations

import torch
from torch import nn

from adbench.layers import MapScorer, Normalize, ssim
from adbench.method import AnomalyOutput

from .perceptual import PerceptualNet, perceptual_distance


class ReconstructionScorer(nn.Module):
    """images [0,1] → normalise to [-1,1] → reconstruct → per-pixel squared error (smoothed
    map). Image score: ``"map_topk"`` (mean of the map's top 1 %) or ``"mse_ssim_perceptual"``
    (the papers' MSE − SSIM + perceptual distance)."""

    def __init__(self, net: nn.Module, scorer: MapScorer, perceptual: PerceptualNet, score: str = "map_topk"):
        super().__init__()
        if score not in ("map_topk", "mse_ssim_perceptual"):
            raise ValueError(f"score must be map_topk or mse_ssim_perceptual, got {score!r}")
        self.normalize = Normalize()
        self.net, self.scorer, self.perceptual, self.score = net, scorer, perceptual, score

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        x = self.normalize(images)
        recon = self.net(x)
        out = self.scorer(((x - recon) ** 2).mean(dim=1))
        if self.score == "map_topk":
            return out
        mse = ((x - recon) ** 2).flatten(1).mean(1)
        perc = perceptual_distance(self.perceptual, images, (recon + 1) / 2)
        return AnomalyOutput(mse - ssim(x, recon) + perc, out.anomaly_maps)
