"""VT-ADL network: ViT encoder → (noise) → capsule layer → transposed-conv decoder, and an
MDN over the patch embeddings. Written from the published description and the facts in
the plugin README; no code was copied."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from adbench.layers import GaussianBlur2d, ssim, topk_mean
from adbench.method import AnomalyOutput
from adbench_capsules import DynamicRouting, squash

from .mdn import MDN, patch_nll


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, scale: str):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        # the authors scale by dim**-0.5 (not per-head size); "head" gives the usual ViT scaling
        self.scale = (dim if scale == "dim" else dim // heads) ** -0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        attn = torch.softmax((q @ k.transpose(-1, -2)) * self.scale, dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-LayerNorm transformer block, GELU MLP, no dropout."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, scale: str):
        super().__init__()
        self.n1, self.attn = nn.LayerNorm(dim), Attention(dim, heads, scale)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.n1(x))
        return x + self.mlp(self.n2(x))


class ViTEncoder(nn.Module):
    """``embed_init="randn"``: cls token and position embedding drawn from N(0, 1), as in the
    authors' ``student_transformer.py``; ``"vit"``: zeros and 0.02·N(0, 1), the usual ViT choice."""

    def __init__(self, image_size: int, patch: int, dim: int, depth: int, heads: int, mlp_dim: int, scale: str,
                 embed_init: str = "vit"):
        super().__init__()
        if image_size % patch:
            raise ValueError(f"image_size {image_size} is not a multiple of patch_size {patch}")
        if embed_init not in ("vit", "randn"):
            raise ValueError(f"embed_init must be 'vit' or 'randn', got {embed_init!r}")
        self.patch, self.grid = patch, image_size // patch
        self.embed = nn.Linear(3 * patch * patch, dim)
        std = 1.0 if embed_init == "randn" else 0.02
        self.cls = nn.Parameter(torch.randn(1, 1, dim) if embed_init == "randn" else torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(std * torch.randn(1, self.grid * self.grid + 1, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, mlp_dim, scale) for _ in range(depth)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, p, g = x.shape[0], self.patch, self.grid
        patches = x.view(b, 3, g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(b, g * g, 3 * p * p)
        tokens = torch.cat([self.cls.expand(b, -1, -1), self.embed(patches)], dim=1) + self.pos
        return self.blocks(tokens)[:, 1:]  # the cls token is dropped


#: (kernel, stride, padding) of the authors' ``decoder2`` (model_res18.py): 8→15→49→245→497→502→512
PAPER_DECODER = [(3, 2, 1), (9, 3, 1), (7, 5, 1), (9, 2, 0), (6, 1, 0), (11, 1, 0)]


class CapsuleDecoder(nn.Module):
    """A single routed capsule reshaped to (C,8,8) and decoded with transposed convolutions."""

    def __init__(self, image_size: int, dim: int, channels: list[int], align_corners: bool = False):
        super().__init__()
        self.align_corners = align_corners
        if dim % 64:
            raise ValueError(f"dim {dim} must be a multiple of 64 to reshape to (dim/64, 8, 8)")
        self.c0 = dim // 64
        layers: list[nn.Module] = []
        cin = self.c0
        if image_size == 512 and len(channels) == len(PAPER_DECODER):
            plan = PAPER_DECODER
        else:
            steps = max(1, int(math.log2(image_size // 8)))
            plan = [(4, 2, 1)] * steps
            channels = (channels + [channels[-1]] * steps)[: steps - 1] + [3]
        for i, ((k, s, p), cout) in enumerate(zip(plan, channels)):
            layers.append(nn.ConvTranspose2d(cin, cout, k, s, p))
            layers += [nn.BatchNorm2d(cout), nn.ReLU()] if i < len(plan) - 1 else [nn.Tanh()]
            cin = cout
        self.net = nn.Sequential(*layers)
        self.image_size = image_size

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        out = self.net(v.view(-1, self.c0, 8, 8))
        if out.shape[-1] != self.image_size:
            out = F.interpolate(out, size=(self.image_size, self.image_size), mode="bilinear",
                                align_corners=self.align_corners)
        return out


def kaiming_init(*modules: nn.Module) -> None:
    """The authors' ``initialize_weights`` (VT_AE.py): He-normal weights and zero biases for
    every ``Conv2d`` and ``Linear`` (a ``ConvTranspose2d`` is neither, so it keeps PyTorch's
    default), BatchNorm to 1/0. They apply it to the ViT and the decoder only."""
    for module in modules:
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)


class VTADL(nn.Module):
    """Whole VT-ADL pipeline: ``forward(images in [0,1]) → AnomalyOutput``.

    ``encode``/``decode``/``mdn`` are used by training; ``forward`` is inference: per-patch
    NLL → bilinear up-sampling (``align_corners``; the authors' ``UpsamplingBilinear2d`` aligns
    corners) → Gaussian smoothing (σ=``map_sigma``) gives the map; the image score is the mean
    of the map's top ``topk`` fraction (``score="map_topk"``) or MSE − SSIM + max patch score
    (``score="authors"``; README, "Declared deviations", on the sign). ``target_range``: the
    reconstruction is compared with the image in [0, 1] (``"01"``, the authors' code) or in
    [−1, 1] (``"pm1"``, the range of the decoder's Tanh). ``squash_input``: squash the 8-d
    input capsules before routing (the authors route the raw encoder output).
    """

    def __init__(self, cfg: dict):
        super().__init__()
        s, dim = cfg["image_size"], cfg["dim"]
        self.image_size, self.dim = s, dim
        self.encoder = ViTEncoder(s, cfg["patch_size"], dim, cfg["depth"], cfg["heads"], cfg["mlp_dim"],
                                  cfg["attn_scale"], cfg["embed_init"])
        n_caps = self.encoder.grid**2 * dim // 8
        self.caps = DynamicRouting(n_caps, 8, 1, dim, cfg["routing_iterations"],
                                   detach_intermediate=cfg["detach_routing"])
        self.align_corners = cfg["align_corners"]
        self.decoder = CapsuleDecoder(s, dim, list(cfg["decoder_channels"]), self.align_corners)
        self.mdn = MDN(dim, cfg["gaussians"])
        self.mdn_loss, self.score = cfg["mdn_loss"], cfg["score"]
        self.blur = GaussianBlur2d(cfg["map_sigma"])
        self.topk = cfg["topk"]
        self.squash_input, self.target_range = cfg["squash_input"], cfg["target_range"]
        if self.target_range not in ("01", "pm1"):
            raise ValueError(f"target_range must be '01' or 'pm1', got {self.target_range!r}")
        if cfg["init"] == "kaiming":
            kaiming_init(self.encoder, self.decoder)
        elif cfg["init"] != "default":
            raise ValueError(f"init must be 'kaiming' or 'default', got {cfg['init']!r}")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        u = h.reshape(h.shape[0], -1, 8)
        return self.decoder(self.caps(squash(u) if self.squash_input else u)[:, 0])

    def target(self, images: torch.Tensor) -> torch.Tensor:
        """What the reconstruction is compared with (``target_range``)."""
        return images if self.target_range == "01" else images * 2 - 1

    @property
    def data_range(self) -> float:
        """SSIM's data range for the target: 1 for [0, 1] (pytorch_ssim's constants), 2 for [−1, 1]."""
        return 1.0 if self.target_range == "01" else 2.0

    def patch_scores(self, h: torch.Tensor) -> torch.Tensor:
        return patch_nll(self.mdn_loss, h, self.mdn(h))  # (B, N)

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        h = self.encode(images)
        g = self.encoder.grid
        patch = self.patch_scores(h).view(-1, 1, g, g)
        up = F.interpolate(patch, size=(self.image_size, self.image_size), mode="bilinear",
                           align_corners=self.align_corners)
        maps = self.blur(up).squeeze(1)
        if self.score == "map_topk":
            return AnomalyOutput(topk_mean(maps, self.topk), maps)
        recon = self.decode(h)
        target = self.target(images)
        mse = ((recon - target) ** 2).flatten(1).mean(1)
        return AnomalyOutput(mse - ssim(recon, target, data_range=self.data_range) + patch.flatten(1).amax(1), maps)
