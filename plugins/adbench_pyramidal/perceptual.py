"""The perceptual (feature-level) loss network: the layers of torchvision ``vgg11.features[:4]``.

``pretrained=True`` loads torchvision's ImageNet VGG11 weights from the local torch hub cache
(``adbench weights download``; :mod:`adbench.weights`): a missing file stops the cell before
training, it is never replaced silently. ``pretrained=False`` uses the same layers with fixed,
seeded He-initialised weights, which still compare local structure at two receptive-field
scales. ``normalize``: ImageNet mean/std before the VGG (torchvision's convention) or, as the
PIADE authors' ``vgg_percep_loss.py`` does, the raw values. The row records which weights
(``pretrained_weights``, with the file's sha256) and ``fit_notes.perceptual_backbone``.
"""

from __future__ import annotations

import torch
from torch import nn

from adbench import weights

VGG11 = "VGG11_Weights.IMAGENET1K_V1"


class PerceptualNet(nn.Module):
    """Frozen feature extractor; ``backbone`` records which weights it holds."""

    def __init__(self, pretrained: bool = False, seed: int = 0, normalize: bool = True):
        super().__init__()
        # only the four layers used are built: the whole of vgg11() would also initialise
        # its 129 M-parameter classifier, about a second of serial work per cell
        features = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(inplace=True),
                                 nn.MaxPool2d(2, 2), nn.Conv2d(64, 128, 3, padding=1))
        if pretrained:
            state = weights.load_state_dict(weights.torchvision_weights(VGG11))
            features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()
                                      if k.split(".")[:2] in (["features", "0"], ["features", "3"])})
            self.backbone = "vgg11_features4_imagenet"
        else:
            gen = torch.Generator().manual_seed(seed)
            with torch.no_grad():
                for m in features:
                    if isinstance(m, nn.Conv2d):
                        m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / m.weight[0].numel()) ** 0.5)
                        m.bias.zero_()
            self.backbone = "vgg11_features4_random_frozen"
        self.features = features.eval()
        for p in self.features.parameters():
            p.requires_grad_(False)
        self.normalize = normalize
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def train(self, mode: bool = True) -> "PerceptualNet":  # always frozen
        return super().train(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features((images - self.mean) / self.std if self.normalize else images)


def perceptual_distance(net: PerceptualNet, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared feature difference, shape (B,); zero for identical inputs."""
    return ((net(a) - net(b)) ** 2).flatten(1).mean(1)
