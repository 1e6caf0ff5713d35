"""Network of the reference autoencoder: three stride-2 convolutions down, three up."""

from __future__ import annotations

from torch import nn

from adbench.layers import MapScorer, Normalize, ReconstructionPipeline


def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU())


class AutoEncoder(nn.Module):
    def __init__(self, width: int, latent: int):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(_down(3, w), _down(w, 2 * w), _down(2 * w, 4 * w),
                                     nn.Conv2d(4 * w, latent, 1))
        self.decoder = nn.Sequential(nn.Conv2d(latent, 4 * w, 1), nn.ReLU(), _up(4 * w, 2 * w),
                                     _up(2 * w, w), nn.ConvTranspose2d(w, 3, 4, 2, 1))

    def forward(self, x):
        return self.decoder(self.encoder(x))


def build_pipeline(cfg: dict) -> ReconstructionPipeline:
    return ReconstructionPipeline(AutoEncoder(cfg["width"], cfg["latent"]),
                                  MapScorer(cfg["sigma"], cfg["topk"]), Normalize())
