"""Networks of the pyramidal autoencoder (2020a, inferred) and PIADE (2020b)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adbench_capsules import DynamicRouting, squash


# -- pyramidal stacked autoencoder ---------------------------------------------------
def _down(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))


class PyramidalAE(nn.Module):
    """An image pyramid (scales 1, ½, ¼, …); one convolutional encoder per level brings its
    level to a common ``grid``×``grid`` latent; the latents are concatenated, squeezed by a
    1×1 convolution into a low-dimensional code, and one decoder reconstructs the image."""

    def __init__(self, image_size: int, levels: int = 4, width: int = 32, latent: int = 16, code: int = 32,
                 grid: int = 8):
        super().__init__()
        self.levels = levels
        self.encoders = nn.ModuleList()
        for level in range(levels):
            side = image_size // 2**level
            steps = max(0, (side // grid).bit_length() - 1)
            layers: list[nn.Module] = []
            cin = 3
            for s in range(steps):
                cout = min(width * 2**s, 4 * width)
                layers.append(_down(cin, cout))
                cin = cout
            layers.append(nn.Conv2d(cin, latent, 1))
            self.encoders.append(nn.Sequential(*layers))
        self.squeeze = nn.Sequential(nn.Conv2d(levels * latent, code, 1), nn.LeakyReLU(0.2))
        ups: list[nn.Module] = [nn.Conv2d(code, 4 * width, 1), nn.ReLU()]
        cin, side = 4 * width, grid
        while side * 2 < image_size:
            cout = max(width, cin // 2)
            ups += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.BatchNorm2d(cout), nn.ReLU()]
            cin, side = cout, side * 2
        ups.append(nn.ConvTranspose2d(cin, 3, 4, 2, 1))
        self.decoder = nn.Sequential(*ups)
        self.grid = grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        latents = []
        level = x
        for i, enc in enumerate(self.encoders):
            if i:
                level = F.avg_pool2d(level, 2)
            z = enc(level)
            if z.shape[-1] != self.grid:
                z = F.adaptive_avg_pool2d(z, self.grid)
            latents.append(z)
        return self.decoder(self.squeeze(torch.cat(latents, dim=1)))


# -- PIADE ------------------------------------------------------------------------------
class SqueezeExcite(nn.Module):
    """Squeeze-and-excitation; ``bias=False`` is the authors' ``senet.SELayer``."""

    def __init__(self, channels: int, reduction: int = 16, bias: bool = True):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc = nn.Sequential(nn.Linear(channels, hidden, bias=bias), nn.ReLU(inplace=True),
                                nn.Linear(hidden, channels, bias=bias), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.fc(x.mean(dim=(2, 3)))
        return x * w[:, :, None, None]


#: torchvision's ImageNet weights of each ResNet depth (what ``pretrained=True`` meant in the
#: torchvision the PIADE authors used: the V1 files)
RESNET_WEIGHTS = {18: "ResNet18_Weights.IMAGENET1K_V1", 34: "ResNet34_Weights.IMAGENET1K_V1",
                  50: "ResNet50_Weights.IMAGENET1K_V1"}


class SEResNet(nn.Module):
    """torchvision ResNet with a squeeze-and-excitation block after the stem and after each
    stage. ``pretrained``: the ResNet's ImageNet weights from the local cache
    (:mod:`adbench.weights`; never downloaded here); the SE blocks start from random weights.
    ``stages``: how many of the four ResNet stages run (4 is the authors'; fewer stop at a
    larger, shallower map, output stride 2**(stages + 1))."""

    def __init__(self, depth: int = 50, pretrained: bool = False, se_bias: bool = True, stages: int = 4):
        super().__init__()
        import torchvision

        from adbench import weights

        net = getattr(torchvision.models, f"resnet{depth}")(weights=None)
        if pretrained:
            net.load_state_dict(weights.load_state_dict(weights.torchvision_weights(RESNET_WEIGHTS[depth])))
        stem_c = net.conv1.out_channels
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, SqueezeExcite(stem_c, bias=se_bias))
        if not 1 <= stages <= 4:
            raise ValueError(f"stages must be 1 to 4, got {stages}")
        kept = [net.layer1, net.layer2, net.layer3, net.layer4][:stages]
        self.stages = nn.ModuleList(
            nn.Sequential(stage, SqueezeExcite(_out_channels(stage), bias=se_bias))
            for stage in kept)
        self.out_channels = _out_channels(kept[-1])
        self.stride = 2 ** (stages + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return x


def _out_channels(stage: nn.Sequential) -> int:
    block = stage[-1]
    return (block.conv3 if hasattr(block, "conv3") else block.conv2).out_channels


#: (kernel, stride, padding) of the authors' ``decoder2`` (autoencoder.py): 8→15→29→60→120
PAPER_DECODER = [(3, 2, 1), (3, 2, 1), (4, 2, 0), (4, 2, 1)]


def _fc(sizes: list[int], batchnorm: bool) -> nn.Sequential:
    """Linear layers with ReLU after each; ``batchnorm`` puts a BatchNorm1d before every ReLU
    but the last (the authors' ``decoder1``)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if batchnorm and i < len(sizes) - 2:
            layers.append(nn.BatchNorm1d(b))
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def double_side(x: torch.Tensor, join: str) -> torch.Tensor:
    """(B, C, s, s) → (B, C/4, 2s, 2s). ``"view"`` is the authors' raw reshape (capsmod.py), which
    scatters one position's values over whole rows of the new map; ``"depth_to_space"`` makes
    each position's values its own 2×2 block, so the map keeps the image's layout."""
    if join == "view":
        b, ch, s, _ = x.shape
        return x.reshape(b, ch // 4, 2 * s, 2 * s)
    return F.pixel_shuffle(x, 2)


class PIADENet(nn.Module):
    """SE-ResNet → pyramid pooling (1×1 pools, 1×1 convs to C/{1,2,4,8}) → 8-d capsules →
    routing to 2 vectors of 64 dims, the longest kept → FC decoder joined with the backbone
    features → transposed convolutions back to the image, Tanh.

    At 120 px with a ResNet-50 the decoder is the authors' (``PAPER_DECODER``); other sizes
    use 4/2/1 steps. ``authors_layers``: bias-free SE and pooling convolutions and the pooling
    BatchNorm's momentum 0.95, as in the authors' ``capsmod.py`` and ``senet.py``. ``stages``
    and ``join``: how many ResNet stages run and how the joined map doubles its side
    (:func:`double_side`); 4 and ``"view"`` are the authors'."""

    def __init__(self, image_size: int, depth: int = 50, iterations: int = 3, out_caps: int = 2, caps_dim: int = 64,
                 fc: tuple[int, int] = (128, 512), dec_channels: tuple[int, ...] = (16, 32, 32), *,
                 pretrained: bool = False, squash_input: bool = True, detach_routing: bool = False,
                 fc_batchnorm: bool = False, authors_layers: bool = False, feature_norm: bool = False,
                 stages: int = 4, join: str = "view"):
        super().__init__()
        if join not in ("view", "depth_to_space"):
            raise ValueError(f"join must be 'view' or 'depth_to_space', got {join!r}")
        self.join = join
        self.backbone = SEResNet(depth, pretrained=pretrained, se_bias=not authors_layers, stages=stages)
        c = self.backbone.out_channels
        # per-image layer norm of the backbone map before the decoder joins it (not the authors')
        self.feature_norm = nn.GroupNorm(1, c) if feature_norm else nn.Identity()
        # the backbone map's side: 4 at 120 px with all four stages, as published
        self.side = max(1, -(-image_size // self.backbone.stride))
        momentum = 0.95 if authors_layers else 0.1
        self.branches = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, c // r, 1, bias=not authors_layers), nn.BatchNorm2d(c // r, momentum=momentum),
                          nn.ReLU(inplace=True)) for r in (1, 2, 4, 8))
        n_values = sum(c // r for r in (1, 2, 4, 8))
        self.n_caps = n_values // 8
        self.squash_input = squash_input
        self.routing = DynamicRouting(self.n_caps, 8, out_caps, caps_dim, iterations,
                                      detach_intermediate=detach_routing)
        dec_c = c // 4  # the FC decoder's map has a quarter of the backbone's channels (512 for ResNet-50)
        self.fc = _fc([caps_dim, fc[0], fc[1], dec_c * self.side * self.side], fc_batchnorm)
        self.dec_c = dec_c
        joined = (dec_c + c) // 4  # reshaped to twice the side: 640×8×8 for ResNet-50 at 120 px
        chans, side = list(dec_channels), 2 * self.side
        if image_size == 120 and side == 8 and len(chans) == len(PAPER_DECODER) - 1:
            plan = PAPER_DECODER
        else:  # stride-2 steps until one more reaches the image size
            steps = 0
            while side * 2 ** (steps + 1) < image_size:
                steps += 1
            plan = [(4, 2, 1)] * (steps + 1)
        widths = [chans[min(i, len(chans) - 1)] for i in range(len(plan) - 1)] + [3]
        ups: list[nn.Module] = []
        cin = joined
        for i, ((k, s, p), cout) in enumerate(zip(plan, widths)):
            ups.append(nn.ConvTranspose2d(cin, cout, k, s, p))
            ups += [nn.Tanh()] if i == len(plan) - 1 else [nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            cin = cout
        self.decoder = nn.Sequential(*ups)
        self.image_size = image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(x)
        if feats.shape[-1] != self.side:
            feats = F.adaptive_avg_pool2d(feats, self.side)
        pooled = torch.cat([b(F.adaptive_avg_pool2d(feats, 1)) for b in self.branches], dim=1).flatten(1)
        u = pooled.view(pooled.shape[0], self.n_caps, 8)
        v = self.routing(squash(u) if self.squash_input else u)
        lengths = v.norm(dim=-1)
        keep = F.one_hot(lengths.argmax(dim=1), v.shape[1]).to(v.dtype)  # mask: the longest vector
        z = (v * keep.unsqueeze(-1)).sum(1)
        dec = self.fc(z).view(-1, self.dec_c, self.side, self.side)
        joined = torch.cat([dec, self.feature_norm(feats)], dim=1)
        out = self.decoder(double_side(joined, self.join))
        if out.shape[-1] != self.image_size:
            out = F.interpolate(out, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        return out
