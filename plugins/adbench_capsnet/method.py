"""The two CapsNet methods: ``capsnet`` (ICIAP 2019) and ``capsnet2021`` (assumed journal variant)."""

from __future__ import annotations

from typing import Any

from adbench import FitReport, Method, MethodConfig, TrainData


class CapsNetConfig(MethodConfig):
    """Both CapsNets' hyper-parameters (README, "Profiles")."""

    conv_channels: int
    kernel: int
    primary_caps: int
    primary_dim: int
    primary_stride: int
    out_dim: int
    iterations: int
    decoder: list[int]
    m_pos: float
    m_neg: float
    lam: float
    recon_weight: float
    lr: float
    augment: bool
    standardize: bool
    conv_bn: bool
    recon_in_score: bool
    patch: int
    patch_stride: int

_PAPER = dict(image_size=28, conv_channels=256, kernel=9, primary_caps=32, primary_dim=8, primary_stride=2,
              out_dim=16, iterations=3, decoder=[512, 1024], m_pos=0.9, m_neg=0.1, lam=0.5,
              recon_weight=0.0005, lr=1e-3, batch_size=32, epochs=10, augment=False,
              standardize=False, conv_bn=False, recon_in_score=True, patch=0, patch_stride=0)
# quick classifies 32-px windows of a 128-px image (README, "Diagnosis on realistic images")
_QUICK = dict(_PAPER, image_size=128, patch=32, patch_stride=16, conv_channels=64, primary_caps=8,
              decoder=[128, 256], epochs=160, augment=True, standardize=True, conv_bn=True, lr=3e-4)
_SMOKE = dict(_QUICK, image_size=64, conv_channels=16, primary_caps=4, epochs=2)


class CapsNetAD(Method):
    config_class = CapsNetConfig
    name = "capsnet"
    track = "supervised"
    tracks = ("supervised",)
    produces_maps = False
    description = "Supervised capsule network for imbalanced anomaly detection (Piciarelli et al. 2019)"
    paper = "Piciarelli, Mishra, Foresti, ICIAP 2019, arXiv:1909.02755"
    display_name = "CapsNet"
    bibtex = r"""@inproceedings{piciarelli2019capsnet,
  author = {Piciarelli, Claudio and Mishra, Pankaj and Foresti, Gian Luca},
  title = {Image Anomaly Detection with Capsule Networks and Imbalanced Datasets},
  booktitle = {Image Analysis and Processing -- ICIAP 2019},
  year = {2019},
  eprint = {1909.02755},
  archivePrefix = {arXiv}
}"""
    profiles = {"smoke": dict(_SMOKE), "quick": dict(_QUICK), "paper": dict(_PAPER)}
    #: journal-variant switches (see README): class-weighted margin loss and balanced batches
    balanced = False

    def build_model(self):
        from .model import CapsNet, CapsNetPipeline

        c = self.cfg
        side = c["patch"] or self.input_size  # the network sees windows in window mode
        net = CapsNet(side, c["conv_channels"], c["kernel"], c["primary_caps"], c["primary_dim"],
                      c["primary_stride"], c["out_dim"], c["iterations"], tuple(c["decoder"]), c["conv_bn"])
        return CapsNetPipeline(net, recon_in_score=c["recon_in_score"], standardize=c["standardize"],
                               patch=c["patch"], stride=c["patch_stride"])

    def fit(self, train: TrainData) -> FitReport:
        from .training import fit_capsnet

        return fit_capsnet(self.model(), train, self.cfg, self.ctx, balanced=self.balanced)


class CapsNet2021(CapsNetAD):
    name = "capsnet2021"
    description = "CapsNet journal variant (2021, IJPRAI): class-weighted margin loss + balanced batches [assumed]"
    fidelity = "reading"  # no text of the journal version was available (README)
    paper = ("Piciarelli, Mishra, Foresti, 'Supervised anomaly detection with highly imbalanced datasets "
             "using capsule networks', IJPRAI 2021 (text unavailable; reading documented in README)")
    display_name = "CapsNet-2021"
    bibtex = r"""@article{piciarelli2021capsnet,
  author = {Piciarelli, Claudio and Mishra, Pankaj and Foresti, Gian Luca},
  title = {Supervised Anomaly Detection with Highly Imbalanced Datasets Using Capsule Networks},
  journal = {International Journal of Pattern Recognition and Artificial Intelligence},
  year = {2021}
}"""
    profiles = {k: dict(v) for k, v in CapsNetAD.profiles.items()}
    balanced = True
