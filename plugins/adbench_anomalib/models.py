"""The anomalib models adbench registers, with their profiles.

``paper`` is anomalib 2.7's published defaults: the Lightning class's constructor defaults
(backbone, layers, coreset ratio, …), its ``configure_optimizers``, 256-px input (its
``configure_pre_processor``), batch 32 (its MVTec AD data module), and the ``max_epochs`` of
its model configs. ``smoke`` is for the contract tests; ``quick`` fits the 30-minute default
run on 2 CPU cores with random backbones, since nothing may be downloaded at run time.
"""

from __future__ import annotations

from typing import Any, Literal

from adbench import MethodConfig

from .method import AnomalibMethod


class BackboneConfig(MethodConfig):
    """A feature-extractor model: its timm backbone and whether ImageNet weights are loaded."""

    backbone: str
    pretrained: bool


class PatchCoreConfig(BackboneConfig):
    layers: list[str]
    coreset_sampling_ratio: float
    num_neighbors: int


class PaDiMConfig(BackboneConfig):
    layers: list[str]
    n_features: int


class STFPMConfig(BackboneConfig):
    layers: list[str]


class FastFlowConfig(BackboneConfig):
    flow_steps: int
    conv3x3_only: bool
    hidden_ratio: float


class DRAEMConfig(MethodConfig):
    beta: list[float]
    enable_sspcab: bool
    anomaly_source: Literal["perlin", "dtd"]
    recon_width: int
    disc_width: int

_CITE = "anomalib 2.7 (Akcay et al., ICIP 2022), model"


def _profiles(smoke: dict[str, Any], quick: dict[str, Any], paper: dict[str, Any],
              common: dict[str, Any], backbone: bool = True) -> dict[str, dict[str, Any]]:
    """``pretrained`` (an ImageNet backbone through ``adbench weights``) is on at ``paper`` only."""
    weights = (lambda on: {"pretrained": on}) if backbone else (lambda on: {})
    return {"smoke": {**common, "eval_batch_size": 16, **weights(False), **smoke},
            "quick": {**common, "eval_batch_size": 16, **weights(False), **quick},
            "paper": {**common, "image_size": 256, "batch_size": 32, "eval_batch_size": 32, **weights(True),
                      **paper}}


class PatchCore(AnomalibMethod):
    config_class = PatchCoreConfig
    name = "anomalib_patchcore"
    anomalib_class = "Patchcore"
    memory_bank = True
    fitted_buffers = ("memory_bank",)
    costs_after_fit = True  # latency and FLOPs grow with the bank, whose size follows the training set
    init_keys = ("backbone", "layers", "pretrained", "coreset_sampling_ratio", "num_neighbors")
    description = "PatchCore via anomalib: nearest neighbour to a coreset memory bank of patch features"
    paper = f"Roth et al., CVPR 2022; {_CITE} Patchcore"
    display_name = "PatchCore"
    bibtex = r"""@inproceedings{roth2022patchcore,
  author = {Roth, Karsten and Pemula, Latha and Zepeda, Joaquin and Sch{\"o}lkopf, Bernhard and Brox, Thomas and Gehler, Peter},
  title = {Towards Total Recall in Industrial Anomaly Detection},
  booktitle = {IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year = {2022},
  eprint = {2106.08265},
  archivePrefix = {arXiv}
}"""
    profiles = _profiles(
        dict(image_size=32, backbone="resnet18", batch_size=8),
        dict(image_size=128, backbone="resnet18", batch_size=16, coreset_sampling_ratio=0.05),
        dict(backbone="wide_resnet50_2"),
        common=dict(layers=["layer2", "layer3"], coreset_sampling_ratio=0.1, num_neighbors=9),
    )


class PaDiM(AnomalibMethod):
    config_class = PaDiMConfig
    name = "anomalib_padim"
    anomalib_class = "Padim"
    memory_bank = True
    fitted_buffers = ("gaussian.mean", "gaussian.inv_covariance")
    costs_after_fit = True  # profiled on the fitted Gaussian, like PatchCore, though its size follows the config
    init_keys = ("backbone", "layers", "pretrained", "n_features")
    description = "PaDiM via anomalib: per-position Gaussian of multi-scale features, Mahalanobis distance"
    paper = f"Defard et al., ICPR 2021; {_CITE} Padim"
    display_name = "PaDiM"
    bibtex = r"""@inproceedings{defard2021padim,
  author = {Defard, Thomas and Setkov, Aleksandr and Loesch, Angelique and Audigier, Romaric},
  title = {{PaDiM}: A Patch Distribution Modeling Framework for Anomaly Detection and Localization},
  booktitle = {Pattern Recognition. ICPR International Workshops and Challenges},
  year = {2021},
  eprint = {2011.08785},
  archivePrefix = {arXiv}
}"""
    profiles = _profiles(
        dict(image_size=32, batch_size=8, n_features=20),
        dict(image_size=128, batch_size=16, n_features=100),
        dict(n_features=100),
        common=dict(backbone="resnet18", layers=["layer1", "layer2", "layer3"]),
    )


class STFPM(AnomalibMethod):
    config_class = STFPMConfig
    name = "anomalib_stfpm"
    anomalib_class = "Stfpm"
    init_keys = ("backbone", "layers")
    description = "STFPM via anomalib: a student network regresses a frozen teacher's feature pyramid"
    paper = f"Wang et al., BMVC 2021; {_CITE} Stfpm"
    display_name = "STFPM"
    bibtex = r"""@inproceedings{wang2021stfpm,
  author = {Wang, Guodong and Han, Shumin and Ding, Errui and Huang, Di},
  title = {Student-Teacher Feature Pyramid Matching for Anomaly Detection},
  booktitle = {British Machine Vision Conference (BMVC)},
  year = {2021},
  eprint = {2103.04257},
  archivePrefix = {arXiv}
}"""
    profiles = _profiles(
        dict(image_size=32, batch_size=8, epochs=1),
        dict(image_size=128, batch_size=16, epochs=10),
        dict(epochs=100),
        common=dict(backbone="resnet18", layers=["layer1", "layer2", "layer3"]),
    )


class FastFlow(AnomalibMethod):
    config_class = FastFlowConfig
    name = "anomalib_fastflow"
    anomalib_class = "Fastflow"
    init_keys = ("backbone", "pretrained", "flow_steps", "conv3x3_only", "hidden_ratio")
    description = "FastFlow via anomalib: 2-D normalising flows on backbone features, likelihood as score"
    paper = f"Yu et al., arXiv:2111.07677; {_CITE} Fastflow"
    display_name = "FastFlow"
    bibtex = r"""@misc{yu2021fastflow,
  author = {Yu, Jiawei and Zheng, Ye and Wang, Xiang and Li, Wei and Wu, Yushuang and Zhao, Rui and Wu, Liwei},
  title = {{FastFlow}: Unsupervised Anomaly Detection and Localization via {2D} Normalizing Flows},
  year = {2021},
  eprint = {2111.07677},
  archivePrefix = {arXiv}
}"""
    profiles = _profiles(
        dict(image_size=32, batch_size=8, epochs=1, flow_steps=2),
        dict(image_size=128, batch_size=16, epochs=10, flow_steps=8),
        dict(epochs=500, flow_steps=8),
        common=dict(backbone="resnet18", conv3x3_only=False, hidden_ratio=1.0),
    )


class DRAEM(AnomalibMethod):
    config_class = DRAEMConfig
    name = "anomalib_draem"
    anomalib_class = "Draem"
    init_keys = ("beta", "enable_sspcab")
    description = "DRAEM via anomalib: reconstructive + discriminative sub-networks trained on simulated anomalies"
    paper = f"Zavrtanik et al., ICCV 2021; {_CITE} Draem"
    display_name = "DRAEM"
    bibtex = r"""@inproceedings{zavrtanik2021draem,
  author = {Zavrtanik, Vitjan and Kristan, Matej and Sko{\v{c}}aj, Danijel},
  title = {{DRAEM} -- A Discriminatively Trained Reconstruction Embedding for Surface Anomaly Detection},
  booktitle = {IEEE/CVF International Conference on Computer Vision (ICCV)},
  year = {2021},
  eprint = {2108.07610},
  archivePrefix = {arXiv}
}"""
    #: anomalib's widths (``ReconstructiveSubNetwork`` 128, ``DiscriminativeSubNetwork`` 64,
    #: 97.4 M parameters) take 4 s per batch of 8 at 64 px on 2 CPU cores; ``quick`` uses a
    #: quarter of each (6.1 M, 0.3 s), a declared deviation
    profiles = _profiles(
        dict(image_size=32, batch_size=4, epochs=1, recon_width=8, disc_width=4),
        dict(image_size=64, batch_size=8, epochs=20, recon_width=32, disc_width=16),
        dict(batch_size=8, epochs=700, anomaly_source="dtd"),
        common=dict(beta=[0.1, 1.0], enable_sspcab=False, anomaly_source="perlin", recon_width=128, disc_width=64),
        backbone=False,
    )

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        return []  # no backbone: DRAEM trains both sub-networks from scratch

    def backbone_weights(self) -> str:
        return "none (trained from scratch)"

    def _constructor_args(self) -> dict[str, Any]:
        from .sources import anomaly_source

        folder, self._source_note = anomaly_source(self.cfg["anomaly_source"])
        return {**super()._constructor_args(), "dtd_dir": folder}

    def _adjust(self, module: Any) -> None:
        from anomalib.models.image.draem.torch_model import DiscriminativeSubNetwork, ReconstructiveSubNetwork

        if (self.cfg["recon_width"], self.cfg["disc_width"]) != (128, 64):
            module.model.reconstructive_subnetwork = ReconstructiveSubNetwork(base_width=self.cfg["recon_width"],
                                                                              sspcab=self.cfg["enable_sspcab"])
            module.model.discriminative_subnetwork = DiscriminativeSubNetwork(in_channels=6, out_channels=2,
                                                                              base_width=self.cfg["disc_width"])

    def fit(self, train: Any) -> Any:
        report = super().fit(train)
        report.notes["anomaly_source"] = self._source_note  # found when the model was built
        return report


def _efficientad() -> type:
    from .efficientad import EfficientAD

    return EfficientAD


METHODS = (PatchCore, PaDiM, STFPM, FastFlow, DRAEM, _efficientad())
