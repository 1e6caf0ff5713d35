"""The perceptual (feature-level) loss network: the layers of torchvision ``vgg11.features[:4]``.

ImageNet weights are used when torchvision's file is already in the local torch hub cache
(``$TORCH_HOME/hub/checkpoints``); nothing is downloaded. Otherwise adbench falls back,
with a warning, to the same layers with fixed random (seeded He-initialised) weights, which
still compare local structure at two scales of receptive field. The choice is recorded in
the fit report and so in the row (``fit_notes.perceptual_backbone``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

VGG11_FILE = "vgg11-8a719046.pth"  # torchvision.models.VGG11_Weights.IMAGENET1K_V1


def _hub_file() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG11_FILE


class PerceptualNet(nn.Module):
    """Frozen feature extractor; ``backbone`` records which weights it holds."""

    def __init__(self, prefer_pretrained: bool = True, seed: int = 0):
        super().__init__()
        # only the four layers used are built: the whole of vgg11() would also initialise
        # its 129 M-parameter classifier, about a second of serial work per cell
        features = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(2, 2), nn.Conv2d(64, 128, 3, padding=1))
        self.backbone = "vgg11_features4_random_frozen"
        path = _hub_file()
        if prefer_pretrained and path.is_file():
            state = torch.load(path, weights_only=True, map_location="cpu")
            features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()
                                      if k.split(".")[:2] in (["features", "0"], ["features", "3"])})
            self.backbone = "vgg11_features4_imagenet"
        else:
            if prefer_pretrained:
                warnings.warn(f"perceptual loss: no ImageNet VGG11 weights at {path}; using fixed random "
                              f"VGG11 layers instead (recorded in the row). Put {VGG11_FILE} there to use "
                              f"the published setting.", stacklevel=2)
            gen = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for m in features:
                    if isinstance(m, nn.Conv2d):
                        m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / m.weight[0].numel()) ** 0.5)
                        m.bias.zero_()
        self.features = features.eval()
        for p in self.features.parameters():
            p.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> "PerceptualNet":  # always frozen
        return super().train(False)

    def forward(self, images01: torch.Tensor) -> torch.Tensor:
        return self.features((images01 - self.mean) / self.std)


def perceptual_distance(net: PerceptualNet, a01: torch.Tensor, b01: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared feature difference, shape (B,); zero for identical inputs."""
    return ((net(a01) - net(b01)) ** 2).flatten(1).mean(1)
