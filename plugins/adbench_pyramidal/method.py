"""``pyramidal_ae`` (Mishra et al. 2020a) and ``piade`` (Mishra et al. 2020b)."""

from __future__ import annotations

from pathlib import Path

from typing import Any, Literal

from adbench import FitReport, Method, MethodConfig, TrainData

_LOSS = dict(w_mse=1.0, w_ssim=1.0, w_perceptual=1.0)
#: input and perceptual-loss conventions: [−1, 1] inputs and ImageNet-normalised VGG inputs
#: (what ``quick``/``smoke`` were tuned with), or the PIADE authors' raw [0, 1] values
#: ``quick`` has no ImageNet VGG (nothing is downloaded unasked), and a perceptual term on a
#: random VGG was measured to hurt on the synthetic set (README, "Why quick has no perceptual term")
_NO_RANDOM_PERCEPTUAL = dict(w_perceptual=0.0)
_ADBENCH_IO = dict(input_range="pm1", perceptual_normalize=True)
_AUTHORS_IO = dict(input_range="01", perceptual_normalize=False)
#: PIADE's network as adbench builds it at ``quick``/``smoke``, and as the authors' code does;
#: ``quick``/``smoke`` stop the backbone one stage early and join its map depth-to-space (README,
#: "Why PIADE fails on the textures")
_PIADE_ADBENCH = dict(squash_input=True, detach_routing=False, fc_batchnorm=False, authors_layers=False,
                     feature_norm=True, stages=3, join="depth_to_space")
_PIADE_AUTHORS = dict(squash_input=False, detach_routing=True, fc_batchnorm=True, authors_layers=True,
                      feature_norm=False, stages=4, join="view")


class ReconstructionConfig(MethodConfig):
    """What both reconstruction methods share: loss weights, optimiser, map score and I/O."""

    w_mse: float
    w_ssim: float
    w_perceptual: float
    lr: float
    weight_decay: float
    sigma: float
    topk: float
    score: Literal["map_topk", "mse_ssim_perceptual"]
    pretrained: bool
    augment: bool
    input_range: Literal["pm1", "01"]
    perceptual_normalize: bool


class PyramidalConfig(ReconstructionConfig):
    """The pyramidal autoencoder's network (README, "Profiles")."""

    levels: int
    width: int
    latent: int
    code: int
    grid: int


class _ReconstructionMethod(Method):
    track = "unsupervised"
    tracks = ("unsupervised",)

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        """With ``pretrained``: the perceptual loss's ImageNet VGG11 (both papers use it)."""
        from adbench.weights import torchvision_weights

        from .perceptual import VGG11

        return [torchvision_weights(VGG11)] if cfg["pretrained"] else []

    def build_model(self):
        from adbench.layers import MapScorer

        from .perceptual import PerceptualNet
        from .pipeline import ReconstructionScorer

        perceptual = PerceptualNet(pretrained=self.cfg["pretrained"], seed=0,
                                   normalize=self.cfg["perceptual_normalize"])
        return ReconstructionScorer(self.build_net(), MapScorer(self.cfg["sigma"], self.cfg["topk"]),
                                    perceptual, self.cfg["score"], self.cfg["input_range"])

    def build_net(self):
        raise NotImplementedError

    def fit(self, train: TrainData) -> FitReport:
        from .training import fit_reconstruction

        return fit_reconstruction(self.model(), train, self.cfg, self.ctx)


class PyramidalAEMethod(_ReconstructionMethod):
    config_class = PyramidalConfig
    name = "pyramidal_ae"
    description = "Deep pyramidal stacked autoencoder with perceptual loss (Mishra et al. 2020a) [architecture inferred]"
    fidelity = "reading"
    paper = "Mishra, Piciarelli, Foresti, ICPR 2020 Workshops, LNCS, doi:10.1007/978-3-030-68799-1_51"
    display_name = "Pyramidal AE"
    bibtex = r"""@inproceedings{mishra2020pyramidal,
  author = {Mishra, Pankaj and Piciarelli, Claudio and Foresti, Gian Luca},
  title = {Image Anomaly Detection by Aggregating Deep Pyramidal Representations},
  booktitle = {Pattern Recognition. ICPR International Workshops and Challenges},
  series = {Lecture Notes in Computer Science},
  year = {2021},
  note = {doi:10.1007/978-3-030-68799-1\_51}
}"""
    profiles = {
        "smoke": dict(_LOSS, image_size=32, levels=3, width=8, latent=8, code=16, grid=4, lr=2e-3, weight_decay=0.0,
                      batch_size=16, epochs=2, sigma=1.0, topk=0.01, score="map_topk",
                      pretrained=False, augment=False, **_ADBENCH_IO),
        "quick": dict(_LOSS, image_size=64, levels=4, width=32, latent=16, code=32, grid=8, lr=2e-3,
                      weight_decay=0.0, batch_size=16, epochs=80, sigma=2.0, topk=0.01, **_NO_RANDOM_PERCEPTUAL,
                      score="map_topk", pretrained=False, augment=False, **_ADBENCH_IO),
        "paper": dict(_LOSS, image_size=128, levels=4, width=64, latent=32, code=64, grid=8, lr=1e-3,
                      weight_decay=1e-3, batch_size=60, epochs=400, sigma=4.0, topk=0.01,
                      score="mse_ssim_perceptual", pretrained=True, augment=False, **_AUTHORS_IO),
    }

    def build_net(self):
        from .nets import PyramidalAE

        c = self.cfg
        return PyramidalAE(self.input_size, c["levels"], c["width"], c["latent"], c["code"], c["grid"])


class PIADEConfig(ReconstructionConfig):
    """PIADE's network choices, checked before a run starts (``--set join=concat`` fails at once)."""

    depth: Literal[18, 34, 50]
    iterations: int
    caps_dim: int
    fc: list[int]
    dec_channels: list[int]
    squash_input: bool
    detach_routing: bool
    fc_batchnorm: bool
    authors_layers: bool
    feature_norm: bool
    stages: Literal[1, 2, 3, 4]
    join: Literal["view", "depth_to_space"]


class PIADEMethod(_ReconstructionMethod):
    config_class = PIADEConfig
    name = "piade"
    published_file = str(Path(__file__).with_name("published.toml"))
    description = "PIADE: SE-ResNet pyramid pooling + dynamic routing autoencoder (Mishra et al. 2020b)"
    paper = ("Mishra, Piciarelli, Foresti, 'A neural network for image anomaly detection with deep pyramidal "
             "representations and dynamic routing', IJNS 2020")
    display_name = "PIADE"
    bibtex = r"""@article{mishra2020piade,
  author = {Mishra, Pankaj and Piciarelli, Claudio and Foresti, Gian Luca},
  title = {A Neural Network for Image Anomaly Detection with Deep Pyramidal Representations and Dynamic Routing},
  journal = {International Journal of Neural Systems},
  year = {2020}
}"""
    profiles = {
        "smoke": dict(_LOSS, image_size=32, depth=18, iterations=3, caps_dim=16, fc=[32, 64], dec_channels=[8, 8, 8],
                      lr=1e-3, weight_decay=0.0, batch_size=16, epochs=2, sigma=1.0, topk=0.01,
                      score="map_topk", pretrained=False, augment=False, **_ADBENCH_IO, **_PIADE_ADBENCH),
        "quick": dict(_LOSS, image_size=64, depth=18, iterations=3, caps_dim=64, fc=[128, 512],
                      dec_channels=[64, 32, 32], lr=1e-3, weight_decay=0.0, batch_size=16, epochs=90,
                      sigma=2.0, topk=0.01, score="map_topk", pretrained=False, **_NO_RANDOM_PERCEPTUAL,
                      augment=False, **_ADBENCH_IO, **_PIADE_ADBENCH),
        "paper": dict(_LOSS, image_size=120, depth=50, iterations=3, caps_dim=64, fc=[128, 512],
                      dec_channels=[16, 32, 32], lr=1e-3, weight_decay=1e-3, batch_size=60, epochs=400,
                      sigma=4.0, topk=0.01, score="mse_ssim_perceptual",
                      pretrained=True, augment=False, **_AUTHORS_IO, **_PIADE_AUTHORS),
    }

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        """With ``pretrained``: the perceptual VGG11 and the ImageNet ResNet backbone."""
        from adbench.weights import torchvision_weights

        from .nets import RESNET_WEIGHTS

        extra = [torchvision_weights(RESNET_WEIGHTS[cfg["depth"]])] if cfg["pretrained"] else []
        return super().required_weights(cfg) + extra

    def build_net(self):
        from .nets import PIADENet

        c = self.cfg
        return PIADENet(self.input_size, c["depth"], c["iterations"], 2, c["caps_dim"], tuple(c["fc"]),
                        tuple(c["dec_channels"]), pretrained=c["pretrained"], squash_input=c["squash_input"],
                        detach_routing=c["detach_routing"], fc_batchnorm=c["fc_batchnorm"],
                        authors_layers=c["authors_layers"], feature_norm=c["feature_norm"],
                        stages=c["stages"], join=c["join"])
