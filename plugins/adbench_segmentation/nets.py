"""Segmentation networks built here (U-Net/U-Net++ come from segmentation-models-pytorch)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.vgg import make_layers

# torchvision's VGG16 layer recipe ("D"); widths are divided by `width_div` for small profiles.
VGG16_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


#: the anomalous share of pixels a ``prior`` head starts from (Lin et al., ICCV 2017, §4.1)
HEAD_PRIOR = 0.01


def prior_init(head: nn.Conv2d, prior: float = HEAD_PRIOR) -> None:
    """Start a per-pixel classifier at a rare positive class: weights N(0, 0.01²), bias
    log(π / (1 − π)). He-initialised heads start with large random logits; trained from scratch
    on pasted anomalies, SegNet and FCN-32s then sat at "nothing is anomalous" (loss flat at
    about 1.16) for most of their ``quick`` epochs (plugin README, "Diagnosis")."""
    nn.init.normal_(head.weight, std=0.01)
    nn.init.constant_(head.bias, math.log(prior / (1 - prior)))


def kaiming_init(module: nn.Module) -> nn.Module:
    """He initialisation as torchvision's VGG does; PyTorch's default init lets activations
    shrink through 13+ plain conv layers until every image gives the same output."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module


def _conv_block(cin: int, cout: int, dropout: float = 0.0, batchnorm: bool = True,
                elementwise_dropout: bool = False) -> nn.Sequential:
    norm = (lambda c: [nn.BatchNorm2d(c)]) if batchnorm else (lambda c: [])
    layers = [nn.Conv2d(cin, cout, 3, padding=1), *norm(cout), nn.ReLU(inplace=True),
              nn.Conv2d(cout, cout, 3, padding=1), *norm(cout), nn.ReLU(inplace=True)]
    if dropout:
        layers.append(nn.Dropout(dropout) if elementwise_dropout else nn.Dropout2d(dropout))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Ronneberger et al. 2015 (same-padded convolutions, transposed-conv up-sampling).

    ``base=64`` gives the original 64…1024 widths (≈31.0 M parameters for one class).
    ``refined=True`` is Refined UNet v2's network: dropout 0.5 on the two deepest stages and
    an extra 3×3 convolution to 16 channels before the 1×1 head. ``batchnorm``: BatchNorm after
    every convolution (neither publication has it); ``elementwise_dropout``: ``Dropout`` (the
    Refined UNet v2 authors' Keras ``Dropout``) instead of channel-wise ``Dropout2d``.
    """

    def __init__(self, base: int = 64, classes: int = 1, refined: bool = False, batchnorm: bool = True,
                 elementwise_dropout: bool = False):
        super().__init__()
        w = [base * 2**i for i in range(5)]
        drop = [0.0, 0.0, 0.0, 0.5, 0.5] if refined else [0.0] * 5
        block = lambda cin, cout, p=0.0: _conv_block(cin, cout, p, batchnorm, elementwise_dropout)  # noqa: E731
        self.downs = nn.ModuleList([block(3, w[0], drop[0])] + [block(w[i - 1], w[i], drop[i]) for i in range(1, 5)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(w[i], w[i - 1], 2, stride=2) for i in range(4, 0, -1)])
        self.dec = nn.ModuleList([block(2 * w[i - 1], w[i - 1]) for i in range(4, 0, -1)])
        head: list[nn.Module] = []
        if refined:
            head += [nn.Conv2d(w[0], 16, 3, padding=1), nn.ReLU(inplace=True)]
        head.append(nn.Conv2d(16 if refined else w[0], classes, 1))
        self.head = nn.Sequential(*head)
        kaiming_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, down in enumerate(self.downs):
            x = down(x if i == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.ups, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)


def _bilinear_kernel(channels: int, size: int) -> torch.Tensor:
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float32)
    filt = (1 - (og - center).abs() / factor)
    k = filt[:, None] * filt[None, :]
    weight = torch.zeros(channels, channels, size, size)
    weight[range(channels), range(channels)] = k
    return weight


#: the Caffe reference's crop offset of FCN-32s's upscored map (fcn.berkeleyvision.org, voc-fcn32s)
FCN32_CROP = 19


class FCN32s(nn.Module):
    """Long et al. 2015: VGG16 features, fc6/fc7 as convolutions (7×7×4096, 1×1×4096), a 1×1
    score layer and one stride-32 transposed convolution (64×64 kernel, bilinear init).

    ``reference_padding``: the Caffe reference's layout (conv1_1 padded by 100, ceil-mode
    pooling, an unpadded fc6, the upscored map cropped at offset 19); otherwise fc6 is padded
    by 3 and the transposed convolution by 16, which gives the input size directly.
    ``learn_upscore``: train the bilinear upsampling (the reference keeps it fixed)."""

    def __init__(self, classes: int = 1, width_div: int = 1, fc: int = 4096, batch_norm: bool = False,
                 reference_padding: bool = False, learn_upscore: bool = True):
        super().__init__()
        cfg = [c if c == "M" else c // width_div for c in VGG16_CFG]
        self.features = make_layers(cfg, batch_norm=batch_norm)
        self.reference_padding = reference_padding
        if reference_padding:
            self.features[0].padding = (100, 100)
            for m in self.features:
                if isinstance(m, nn.MaxPool2d):
                    m.ceil_mode = True
        top = cfg[-2]
        self.fc6 = nn.Sequential(nn.Conv2d(top, fc, 7, padding=0 if reference_padding else 3), nn.ReLU(inplace=True),
                                 nn.Dropout2d(0.5))
        self.fc7 = nn.Sequential(nn.Conv2d(fc, fc, 1), nn.ReLU(inplace=True), nn.Dropout2d(0.5))
        self.score = nn.Conv2d(fc, classes, 1)
        self.upscore = nn.ConvTranspose2d(classes, classes, 64, stride=32, padding=0 if reference_padding else 16,
                                          bias=False)
        kaiming_init(self)
        with torch.no_grad():
            self.upscore.weight.copy_(_bilinear_kernel(classes, 64))
        self.upscore.weight.requires_grad_(learn_upscore)

    def head(self) -> nn.Conv2d:
        """The per-pixel classifier (before the up-sampling)."""
        return self.score

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.upscore(self.score(self.fc7(self.fc6(self.features(x)))))
        if self.reference_padding:
            h, w = int(x.shape[-2]), int(x.shape[-1])
            out = out[:, :, FCN32_CROP : FCN32_CROP + h, FCN32_CROP : FCN32_CROP + w]
        return out

    def load_vgg16(self, state: dict[str, torch.Tensor]) -> None:
        """torchvision's ImageNet VGG16: its 13 convolutions, and its first two classifier
        layers reshaped into fc6 (7×7) and fc7 (1×1), as the reference initialises FCN-32s."""
        fc6, fc7 = self.fc6[0], self.fc7[0]
        if fc6.out_channels != 4096 or self.features[0].out_channels != 64 or \
                any(isinstance(m, nn.BatchNorm2d) for m in self.features):
            raise ValueError("pretrained VGG16 weights need the full network: width_div=1, fc=4096, batch_norm=false")
        self.features.load_state_dict({k.removeprefix("features."): v for k, v in state.items()
                                       if k.startswith("features.")})
        with torch.no_grad():
            fc6.weight.copy_(state["classifier.0.weight"].view_as(fc6.weight))
            fc6.bias.copy_(state["classifier.0.bias"])
            fc7.weight.copy_(state["classifier.3.weight"].view_as(fc7.weight))
            fc7.bias.copy_(state["classifier.3.bias"])


def _unpool2x(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """2×2 max-unpooling. Eager: the ATen op, with Python-int sizes (``F.max_unpool2d``'s own
    size check fails under the JIT tracer). Traced (ONNX export, fvcore): the same values by
    :func:`_unpool2x_traceable`, which the TorchScript exporter can export."""
    if torch.jit.is_tracing():
        return _unpool2x_traceable(x, indices)
    size = [int(x.shape[-2]) * 2, int(x.shape[-1]) * 2]
    return torch.ops.aten.max_unpool2d(x, indices, size)


def _up2(t: torch.Tensor) -> torch.Tensor:
    """Nearest 2× upsampling by expand + reshape (exported as Expand/Reshape, any dtype)."""
    b, c, h, w = (int(v) for v in t.shape)
    return t[:, :, :, None, :, None].expand(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w)


def _unpool2x_traceable(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Max-unpooling without ``max_unpool2d`` (which the TorchScript exporter lacks; its
    dynamo fallback took about 2 s per export): each output pixel keeps its window's value
    where the window's max-pooling index points at it. Bit-identical to the ATen op forward
    and backward for 2×2 windows; its only constant is the (H, W) grid of positions, so the
    ONNX file stays the size of the weights (a zero-filled scatter target was folded into
    the file as 27 % extra)."""
    h, w = int(x.shape[-2]) * 2, int(x.shape[-1]) * 2
    positions = torch.arange(h * w, device=x.device).view(h, w)
    return torch.where(_up2(indices) == positions, _up2(x), x.new_zeros(()))


class SegNet(nn.Module):
    """Badrinarayanan et al. 2017: VGG16 encoder (13 conv+BN) and a mirrored decoder that
    unpools with the stored max-pooling indices (≈29.4 M parameters at full width)."""

    STAGES = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]

    def __init__(self, classes: int = 1, width_div: int = 1):
        super().__init__()
        stages = [(n, c // width_div) for n, c in self.STAGES]

        def block(cin: int, cout: int) -> list[nn.Module]:
            return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

        self.enc = nn.ModuleList()
        cin = 3
        for n, c in stages:
            layers: list[nn.Module] = []
            for _ in range(n):
                layers += block(cin, c)
                cin = c
            self.enc.append(nn.Sequential(*layers))
        self.dec = nn.ModuleList()
        rev = list(reversed(stages))
        for i, (n, c) in enumerate(rev):
            out = rev[i + 1][1] if i + 1 < len(rev) else stages[0][1]
            layers = []
            for j in range(n):
                last = j == n - 1
                layers += block(c, out if last else c)
            if i == len(rev) - 1:  # the final stage ends in the classifier, not conv+BN+ReLU
                layers = layers[:-3] + [nn.Conv2d(c, classes, 3, padding=1)]
            self.dec.append(nn.Sequential(*layers))
        kaiming_init(self)

    def head(self) -> nn.Conv2d:
        """The per-pixel classifier: the decoder's last convolution."""
        return self.dec[-1][-1]

    def load_vgg16_bn(self, state: dict[str, torch.Tensor]) -> None:
        """torchvision's ImageNet VGG16-BN into the encoder: its 13 conv+BN pairs in order
        (SegNet initialises its encoder from VGG16)."""
        from torchvision.models import vgg16_bn

        reference = vgg16_bn(weights=None).features
        reference.load_state_dict({k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")})
        ours = [m for m in self.enc.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
        theirs = [m for m in reference if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
        if [tuple(p.shape for p in m.parameters()) for m in ours] != \
                [tuple(p.shape for p in m.parameters()) for m in theirs]:
            raise ValueError("pretrained VGG16-BN weights need the full encoder: width_div=1")
        for mine, src in zip(ours, theirs):
            mine.load_state_dict(src.state_dict())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # input sides must be multiples of 32, so every pooled size doubles back exactly
        indices = []
        for stage in self.enc:
            x, idx = F.max_pool2d(stage(x), 2, 2, return_indices=True)
            indices.append(idx)
        for stage in self.dec:
            x = stage(_unpool2x(x, indices.pop()))
        return x
