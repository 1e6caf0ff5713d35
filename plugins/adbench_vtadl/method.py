"""The ``vtadl`` method (Mishra et al., ISIE 2021). Sources of every value: README.md."""

from __future__ import annotations

from pathlib import Path

from typing import Any, Literal

from adbench import FitReport, Method, MethodConfig, TrainData


class VTADLConfig(MethodConfig):
    """Every VT-ADL key with its type and allowed values (README, "Declared deviations"), so
    ``--set score=map_top`` fails before training instead of silently scoring the other way."""

    w_mse: float
    w_ssim: float
    w_mdn: float
    noise_sd: float
    routing_iterations: int
    attn_scale: Literal["dim", "head"]
    squash_input: bool
    detach_routing: bool
    init: Literal["default", "kaiming"]
    embed_init: Literal["vit", "randn"]
    align_corners: bool
    target_range: Literal["pm1", "01"]
    patch_size: int
    dim: int
    depth: int
    heads: int
    mlp_dim: int
    decoder_channels: list[int]
    gaussians: int
    mdn_loss: Literal["mixture", "authors"]
    lr: float
    weight_decay: float
    map_sigma: float
    topk: float
    score: Literal["map_topk", "authors"]

_LOSS = dict(w_mse=5.0, w_ssim=0.5, w_mdn=1.0, noise_sd=0.2, routing_iterations=3, attn_scale="dim")

#: the authors' code (README, "Declared deviations"): raw capsules routed with detached
#: intermediate iterations, He init of the ViT and decoder, N(0, 1) cls/position embeddings,
#: corner-aligned bilinear upsampling, the Tanh output compared with the [0, 1] image
_AUTHORS = dict(squash_input=False, detach_routing=True, init="kaiming", embed_init="randn", align_corners=True,
                target_range="01")
#: what ``quick`` and ``smoke`` keep (tuned and measured with it, docs/benchmarks.md)
_ADBENCH = dict(squash_input=True, detach_routing=False, init="default", embed_init="vit", align_corners=False,
                target_range="pm1")

PAPER = dict(_LOSS, **_AUTHORS, image_size=512, patch_size=64, dim=512, depth=6, heads=8, mlp_dim=1024,
             decoder_channels=[16, 32, 32, 16, 8, 3], gaussians=10, mdn_loss="authors", lr=1e-4,
             weight_decay=1e-4, batch_size=8, epochs=400, map_sigma=4.0, topk=0.01,
             score="authors")


class VTADLMethod(Method):
    config_class = VTADLConfig
    name = "vtadl"
    track = "unsupervised"
    tracks = ("unsupervised",)
    description = "VT-ADL: vision transformer + capsule decoder + Gaussian mixture density localisation (2021)"
    paper = "Mishra, Verk, Fornasier, Piciarelli, Foresti, 'VT-ADL', IEEE ISIE 2021"
    display_name = "VT-ADL"
    bibtex = r"""@inproceedings{mishra2021vtadl,
  author = {Mishra, Pankaj and Verk, Riccardo and Fornasier, Daniele and Piciarelli, Claudio and Foresti, Gian Luca},
  title = {{VT-ADL}: A Vision Transformer Network for Image Anomaly Detection and Localization},
  booktitle = {IEEE 30th International Symposium on Industrial Electronics (ISIE)},
  year = {2021},
  eprint = {2104.10036},
  archivePrefix = {arXiv}
}"""
    published_file = str(Path(__file__).with_name("published.toml"))
    notes = {"pixel_auroc": 'VT-ADL\'s published "PRO" is this pixel AUROC (not AU-PRO).'}
    profiles = {
        "smoke": dict(PAPER, **_ADBENCH, image_size=32, patch_size=8, dim=64, depth=1, heads=2, mlp_dim=64,
                      decoder_channels=[8, 8], gaussians=3, mdn_loss="mixture", lr=1e-3, weight_decay=0.0,
                      epochs=2, map_sigma=1.0, score="map_topk"),
        "quick": dict(PAPER, **_ADBENCH, image_size=128, patch_size=16, dim=128, depth=4, heads=4, mlp_dim=256,
                      decoder_channels=[32, 32, 16, 8], gaussians=10, mdn_loss="mixture", lr=5e-4,
                      weight_decay=1e-4, batch_size=8, epochs=50, map_sigma=4.0,
                      score="map_topk"),
        "paper": dict(PAPER),
    }

    def build_model(self):
        from .model import VTADL

        return VTADL(self.cfg)

    def fit(self, train: TrainData) -> FitReport:
        from .training import fit_vtadl

        return fit_vtadl(self.model(), train, self.cfg, self.ctx)
