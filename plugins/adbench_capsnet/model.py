"""CapsNet adapted for anomaly detection (Piciarelli et al., ICIAP 2019).

Conv → primary capsules → routing to 2 class capsules (0 = normal, 1 = anomalous) → a
fully connected decoder that reconstructs the image from the *normal* capsule.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adbench.layers import Normalize
from adbench.method import AnomalyOutput
from adbench_capsules import DynamicRouting, squash


class CapsNet(nn.Module):
    def __init__(self, image_size: int, conv_channels: int = 256, kernel: int = 9, primary_caps: int = 32,
                 primary_dim: int = 8, primary_stride: int = 2, out_dim: int = 16, iterations: int = 3,
                 decoder: tuple[int, int] = (512, 1024), conv_bn: bool = False):
        super().__init__()
        self.image_size = image_size
        self.primary_caps, self.primary_dim = primary_caps, primary_dim
        # conv_bn (not in the paper) normalises the first layer's activations; at small
        # sizes it removes the long plateau in which every input gets the same capsules
        conv = nn.Conv2d(3, conv_channels, kernel)
        self.conv = nn.Sequential(conv, nn.BatchNorm2d(conv_channels)) if conv_bn else conv
        self.primary = nn.Conv2d(conv_channels, primary_caps * primary_dim, kernel, stride=primary_stride)
        side = (image_size - kernel + 1 - kernel) // primary_stride + 1
        if side < 1:
            raise ValueError(f"image_size {image_size} is too small for two {kernel}x{kernel} convolutions")
        self.n_primary = primary_caps * side * side
        self.routing = DynamicRouting(self.n_primary, primary_dim, 2, out_dim, iterations)
        self.decoder = nn.Sequential(nn.Linear(out_dim, decoder[0]), nn.ReLU(inplace=True),
                                     nn.Linear(decoder[0], decoder[1]), nn.ReLU(inplace=True),
                                     nn.Linear(decoder[1], 3 * image_size * image_size), nn.Sigmoid())

    def capsules(self, x: torch.Tensor) -> torch.Tensor:
        """Class capsules (B, 2, out_dim)."""
        h = F.relu(self.conv(x))
        p = self.primary(h)  # (B, caps*dim, s, s)
        b = p.shape[0]
        u = p.view(b, self.primary_caps, self.primary_dim, -1).permute(0, 1, 3, 2).reshape(b, -1, self.primary_dim)
        return self.routing(squash(u))

    def reconstruct(self, normal_capsule: torch.Tensor) -> torch.Tensor:
        s = self.image_size
        return self.decoder(normal_capsule).view(-1, 3, s, s)


def windows(images: torch.Tensor, patch: int, stride: int) -> torch.Tensor:
    """All ``patch``-sized windows of ``images`` (B,3,H,W), ``stride`` apart, the last one
    flush with the border: (B, n_windows, 3, patch, patch). Plain slicing, so it exports."""
    h, w = images.shape[-2:]
    ys = sorted({*range(0, h - patch + 1, stride), h - patch})
    xs = sorted({*range(0, w - patch + 1, stride), w - patch})
    return torch.stack([images[..., y:y + patch, x:x + patch] for y in ys for x in xs], dim=1)


class CapsNetPipeline(nn.Module):
    """Score = (‖v_anomalous‖ − ‖v_normal‖) + MSE(image, reconstruction from v_normal).

    With ``patch`` (not in the paper; see README, "Diagnosis on realistic images") the network
    classifies windows of the image at full resolution and the image's score is its most
    anomalous window's, so a defect a few pixels wide is not averaged away by downsampling
    the whole image to the network's input size.
    """

    def __init__(self, net: CapsNet, recon_in_score: bool = True, standardize: bool = False,
                 patch: int = 0, stride: int = 0):
        super().__init__()
        # the paper feeds raw [0,1] pixels (MNIST: mostly zeros); natural images need centring,
        # or every input gives the same capsules at the start and training stalls
        self.normalize = Normalize() if standardize else Normalize((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
        self.net = net
        self.recon_in_score = recon_in_score
        self.patch, self.stride = patch, stride or max(patch // 2, 1)

    def score(self, images: torch.Tensor) -> torch.Tensor:
        """The paper's score of network-sized inputs."""
        v = self.net.capsules(self.normalize(images))
        lengths = v.norm(dim=-1)
        score = lengths[:, 1] - lengths[:, 0]
        if self.recon_in_score:
            score = score + ((self.net.reconstruct(v[:, 0]) - images) ** 2).flatten(1).mean(1)
        return score

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        if not self.patch:
            return AnomalyOutput(self.score(images), None)
        win = windows(images, self.patch, self.stride)
        b, n = win.shape[:2]
        return AnomalyOutput(self.score(win.flatten(0, 1)).view(b, n).amax(dim=1), None)
