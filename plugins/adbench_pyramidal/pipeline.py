"""Scoring pipeline shared by both methods: reconstruction error map and image score."""

from __future__ import annotations

import torch
from torch import nn

from adbench.layers import MapScorer, Normalize, ssim
from adbench.method import AnomalyOutput

from .perceptual import PerceptualNet, perceptual_distance


class ReconstructionScorer(nn.Module):
    """images [0,1] → network input → reconstruct → per-pixel squared error (smoothed map).

    ``input_range``: ``"pm1"`` normalises the images to [−1, 1], the range of the decoder's
    Tanh; ``"01"`` feeds and compares the raw [0, 1] images, as the PIADE authors' code does.
    Image score: ``"map_topk"`` (mean of the map's top 1 %) or ``"mse_ssim_perceptual"`` (the
    papers' MSE − SSIM + perceptual distance)."""

    def __init__(self, net: nn.Module, scorer: MapScorer, perceptual: PerceptualNet, score: str = "map_topk",
                 input_range: str = "pm1"):
        super().__init__()
        if score not in ("map_topk", "mse_ssim_perceptual"):
            raise ValueError(f"score must be map_topk or mse_ssim_perceptual, got {score!r}")
        if input_range not in ("pm1", "01"):
            raise ValueError(f"input_range must be 'pm1' or '01', got {input_range!r}")
        self.input_range = input_range
        self.normalize = Normalize() if input_range == "pm1" else nn.Identity()
        self.net, self.scorer, self.perceptual, self.score = net, scorer, perceptual, score

    @property
    def data_range(self) -> float:
        """SSIM's data range of the network's input: 2 for [−1, 1], 1 for [0, 1]."""
        return 2.0 if self.input_range == "pm1" else 1.0

    def as_image(self, recon: torch.Tensor) -> torch.Tensor:
        """A reconstruction on the image's [0, 1] scale (what the perceptual network compares)."""
        return (recon + 1) / 2 if self.input_range == "pm1" else recon

    def losses(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Per-image MSE, SSIM and perceptual distance, and the squared-error map (B,H,W)."""
        x = self.normalize(images)
        recon = self.net(x)
        sq = (x - recon) ** 2
        perc = perceptual_distance(self.perceptual, images, self.as_image(recon))
        return sq.flatten(1).mean(1), ssim(x, recon, data_range=self.data_range), perc, sq.mean(dim=1)

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        if self.score == "map_topk":
            x = self.normalize(images)
            return self.scorer(((x - self.net(x)) ** 2).mean(dim=1))
        mse, sim, perc, sq_map = self.losses(images)
        return AnomalyOutput(mse - sim + perc, self.scorer(sq_map).anomaly_maps)
