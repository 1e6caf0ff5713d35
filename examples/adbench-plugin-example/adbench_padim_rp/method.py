"""PaDiM-style detector that needs no pretrained weights.

Features: a fixed, seeded random convolution (a random projection of local patches) at two
scales, concatenated on a coarse grid. Fit: a Gaussian per grid location (mean and
shrunk covariance) over the normal training images. Score: the Mahalanobis distance per
location, up-sampled to the image (the map); the image score is its maximum.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adbench import AnomalyOutput, FitReport, Method, MethodConfig, TrainData


class RandomFeatures(nn.Module):
    def __init__(self, channels: int, seed: int = 0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.register_buffer("w1", torch.randn(channels, 3, 5, 5, generator=gen) / 5.0)
        self.register_buffer("w2", torch.randn(channels, channels, 3, 3, generator=gen) / (3.0 * channels**0.5))

    def forward(self, x: torch.Tensor, grid: int) -> torch.Tensor:
        f1 = torch.relu(F.conv2d(x - 0.5, self.w1, padding=2))
        f2 = torch.relu(F.conv2d(F.avg_pool2d(f1, 2), self.w2, padding=1))
        return torch.cat([F.adaptive_avg_pool2d(f1, grid), F.adaptive_avg_pool2d(f2, grid)], dim=1)


class Pipeline(nn.Module):
    def __init__(self, image_size: int, channels: int, grid: int):
        super().__init__()
        self.features, self.grid, self.size = RandomFeatures(channels), grid, image_size
        d = 2 * channels
        self.register_buffer("mean", torch.zeros(grid * grid, d))
        self.register_buffer("precision", torch.eye(d).repeat(grid * grid, 1, 1))

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        f = self.features(images, self.grid).flatten(2).transpose(1, 2)  # (B, L, D)
        diff = f - self.mean
        dist = torch.einsum("bld,lde,ble->bl", diff, self.precision, diff).clamp(min=0).sqrt()
        maps = F.interpolate(dist.view(-1, 1, self.grid, self.grid), size=(self.size, self.size),
                             mode="bilinear", align_corners=False)[:, 0]
        return AnomalyOutput(maps.flatten(1).amax(1), maps)


class PadimRPConfig(MethodConfig):
    """Every profile key with its type, checked before a run (the contract test requires it)."""

    channels: int
    grid: int
    shrinkage: float


class PadimRP(Method):
    config_class = PadimRPConfig
    name = "padim_rp"
    track = "unsupervised"
    tracks = ("unsupervised",)
    description = "PaDiM-style Gaussians on random-projection features (example third-party plugin)"
    paper = "after Defard et al., PaDiM, ICPR Workshops 2021 (random features instead of a pretrained CNN)"
    display_name = "PaDiM-RP"
    bibtex = r"""@inproceedings{defard2021padim,
  author = {Defard, Thomas and Setkov, Aleksandr and Loesch, Angelique and Audigier, Romaric},
  title = {{PaDiM}: A Patch Distribution Modeling Framework for Anomaly Detection and Localization},
  booktitle = {Pattern Recognition. ICPR International Workshops and Challenges},
  year = {2021},
  eprint = {2011.08785},
  archivePrefix = {arXiv}
}"""
    profiles = {
        "smoke": {"image_size": 32, "channels": 8, "grid": 8, "shrinkage": 0.1},
        "quick": {"image_size": 64, "channels": 16, "grid": 16, "shrinkage": 0.05},
        "paper": {"image_size": 256, "channels": 32, "grid": 32, "shrinkage": 0.01},
    }

    def build_model(self):
        return Pipeline(self.cfg.image_size, self.cfg["channels"], self.cfg["grid"])

    @torch.no_grad()
    def fit(self, train: TrainData) -> FitReport:
        model = self.model()
        f = model.features(train.normal.images, model.grid).flatten(2).permute(2, 0, 1)  # (L, N, D)
        mean = f.mean(1)
        centred = f - mean[:, None]
        cov = centred.transpose(1, 2) @ centred / max(1, f.shape[1] - 1)
        d = cov.shape[-1]
        scale = cov.diagonal(dim1=1, dim2=2).mean(-1).clamp(min=1e-6)[:, None, None]
        cov = (1 - self.cfg["shrinkage"]) * cov + self.cfg["shrinkage"] * scale * torch.eye(d)
        model.mean.copy_(mean)
        model.precision.copy_(torch.linalg.inv(cov))
        return FitReport(epochs=1, notes={"train_images": int(f.shape[1])})
