"""Segmentation baselines as anomaly detectors: a per-pixel anomaly probability map plus an
image score (the mean of the top 1 % of the smoothed map).

Supervised track: trained on the split's real masks (anomalous images oversampled to half
of each batch). Unsupervised track: trained on normal images with DRAEM-style pasted
anomalies (:mod:`adbench.augment`), the pasted mask as target.
"""

from __future__ import annotations

from typing import Any, Literal

from adbench import FitReport, Method, MethodConfig, TrainData

_COMMON = dict(sigma=1.0, topk=0.01, lr=1e-3, batch_size=16, loss="bce_dice", paste_p=0.8, paste_on="foreground")


def _profiles(smoke: dict, quick: dict, paper: dict) -> dict[str, dict[str, Any]]:
    """``quick`` epochs are set per network so that a cell trains for about 22 s on two CPU
    cores with the synthetic set (docs/benchmarks.md); budgets are epochs, never seconds."""
    return {"smoke": {**_COMMON, "epochs": 1, **smoke},
            "quick": {**_COMMON, **quick},
            "paper": {**_COMMON, "epochs": 100, "sigma": 4.0, **paper}}


#: the U-Net paper, which smp's U-Net and the original U-Net both cite
_UNET_BIBTEX = r"""@inproceedings{ronneberger2015unet,
  author = {Ronneberger, Olaf and Fischer, Philipp and Brox, Thomas},
  title = {{U-Net}: Convolutional Networks for Biomedical Image Segmentation},
  booktitle = {Medical Image Computing and Computer-Assisted Intervention (MICCAI)},
  year = {2015},
  eprint = {1505.04597},
  archivePrefix = {arXiv}
}"""

class SegmentationConfig(MethodConfig):
    """The choices checked before a run starts, so ``--set head_init=xavier`` fails at once."""

    sigma: float
    topk: float
    lr: float
    loss: Literal["bce_dice", "focal_dice", "bce"]
    paste_p: float
    paste_on: Literal["anywhere", "foreground"]
    head_init: Literal["he", "zero", "prior"] = "he"


class SMPConfig(SegmentationConfig):
    """An smp architecture: its encoder (any of smp's encoder names) and decoder widths."""

    encoder: str
    decoder_channels: list[int]
    pretrained: bool


class UNetConfig(SegmentationConfig):
    """The from-scratch U-Nets: base width, batch norm, and Refined UNet v2's dropout type."""

    base: int
    batchnorm: bool
    elementwise_dropout: bool = False


class FCN32sConfig(SegmentationConfig):
    """FCN-32s: VGG16 width divisor, fc width, and the reference recipe's switches."""

    width_div: int
    fc: int
    batch_norm: bool
    reference_padding: bool
    learn_upscore: bool
    pretrained: bool


class SegNetConfig(SegmentationConfig):
    """SegNet: VGG16-BN width divisor and ImageNet weights."""

    width_div: int
    pretrained: bool


class SegmentationMethod(Method):
    config_class = SegmentationConfig
    track = "unsupervised"
    tracks = ("unsupervised", "supervised")
    paper = ""
    #: the ImageNet weights ``pretrained`` loads (None: the publication trains from scratch)
    imagenet: str | None = None

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        from adbench.weights import torchvision_weights

        return [torchvision_weights(cls.imagenet)] if cls.imagenet and cfg["pretrained"] else []

    def build_model(self):
        from adbench.layers import MapScorer, Normalize

        from .pipeline import SegmentationPipeline

        return SegmentationPipeline(self.build_net(), Normalize(), MapScorer(self.cfg["sigma"], self.cfg["topk"]))

    def build_net(self):
        raise NotImplementedError

    def _init_head(self, net):
        """The per-pixel classifier's start: ``"he"`` as built, ``"zero"`` all zeros (FCN,
        Long et al. 2015, §4.3), ``"prior"`` a rare anomalous class
        (:func:`~adbench_segmentation.nets.prior_init`)."""
        from torch import nn

        from .nets import prior_init

        kind, head = self.cfg["head_init"], net.head()
        if kind == "prior":
            prior_init(head)
        elif kind == "zero":
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
        return net

    def fit(self, train: TrainData) -> FitReport:
        from .training import fit_segmentation

        return fit_segmentation(self.model(), train, self.cfg, self.ctx)


def _smp_profiles(quick_epochs: int) -> dict[str, dict[str, Any]]:
    return _profiles(
        dict(image_size=32, encoder="resnet18", decoder_channels=[32, 16, 8, 8, 8], pretrained=False),
        dict(image_size=64, encoder="resnet18", decoder_channels=[64, 32, 16, 16, 16], epochs=quick_epochs,
             pretrained=False),
        dict(image_size=256, encoder="resnet34", decoder_channels=[256, 128, 64, 32, 16], pretrained=True),
    )


class _SMPMethod(SegmentationMethod):
    """A segmentation-models-pytorch architecture. ``pretrained``: smp's ImageNet encoder
    weights, read from the local Hugging Face cache (``adbench weights download``)."""

    architecture = ""
    fidelity = "substitute"
    config_class = SMPConfig

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        from adbench.weights import smp_encoder_weights

        return [smp_encoder_weights(cfg["encoder"])] if cfg["pretrained"] else []

    def build_net(self):
        import segmentation_models_pytorch as smp

        from adbench import weights

        net = getattr(smp, self.architecture)(self.cfg["encoder"], encoder_weights=None, classes=1,
                                              decoder_channels=list(self.cfg["decoder_channels"]))
        for w in self.required_weights(self.cfg):
            net.encoder.load_state_dict(weights.load_state_dict(w, self.name))
        return net


class UNetSMP(_SMPMethod):
    name = "unet"
    architecture = "Unet"
    profiles = _smp_profiles(quick_epochs=22)
    description = "U-Net (segmentation-models-pytorch), anomaly segmentation baseline"
    paper = "Ronneberger et al., MICCAI 2015; implementation: segmentation-models-pytorch smp.Unet"
    display_name = "U-Net (smp)"
    bibtex = _UNET_BIBTEX


class UNetPlusPlus(_SMPMethod):
    name = "unetpp"
    architecture = "UnetPlusPlus"
    profiles = _smp_profiles(quick_epochs=16)
    description = "U-Net++ (segmentation-models-pytorch), anomaly segmentation baseline"
    paper = "Zhou et al., DLMIA 2018; implementation: segmentation-models-pytorch smp.UnetPlusPlus"
    display_name = "U-Net++"
    bibtex = r"""@inproceedings{zhou2018unetpp,
  author = {Zhou, Zongwei and Rahman Siddiquee, Md Mahfuzur and Tajbakhsh, Nima and Liang, Jianming},
  title = {{UNet++}: A Nested {U-Net} Architecture for Medical Image Segmentation},
  booktitle = {Deep Learning in Medical Image Analysis and Multimodal Learning for Clinical Decision Support (DLMIA)},
  year = {2018},
  eprint = {1807.10165},
  archivePrefix = {arXiv}
}"""


class UNetRonneberger(SegmentationMethod):
    config_class = UNetConfig
    name = "unet_ronneberger"
    description = "Original U-Net (64 base channels, ~31 M parameters at paper)"
    paper = "Ronneberger, Fischer, Brox, MICCAI 2015"
    display_name = "U-Net"
    bibtex = _UNET_BIBTEX
    profiles = _profiles(dict(image_size=32, base=4, batchnorm=True),
                         dict(image_size=64, base=16, epochs=36, batchnorm=True),
                         dict(image_size=256, base=64, batchnorm=False))

    def build_net(self):
        from .nets import UNet

        return UNet(self.cfg["base"], classes=1, batchnorm=self.cfg["batchnorm"])


class RefinedUNetV2(SegmentationMethod):
    config_class = UNetConfig
    name = "unet2"
    description = "Refined UNet v2 network (dropout on deep stages, 16-ch head); CRF not included"
    paper = "Jiao et al., Refined UNet V2, 2020"
    display_name = "Refined UNet v2"
    bibtex = r"""@article{jiao2020refinedunet2,
  author = {Jiao, Libin and Huo, Lianzhi and Hu, Changmiao and Tang, Ping},
  title = {Refined {UNet} {V2}: End-to-End Patch-Wise Network for Noise-Free Cloud and Shadow Segmentation},
  journal = {Remote Sensing},
  year = {2020}
}"""
    fidelity = "substitute"  # the network without its dense CRF stands in for the whole method
    profiles = _profiles(dict(image_size=32, base=4, batchnorm=True, elementwise_dropout=False),
                         dict(image_size=64, base=16, epochs=32, batchnorm=True, elementwise_dropout=False),
                         dict(image_size=256, base=64, batchnorm=False, elementwise_dropout=True))

    def build_net(self):
        from .nets import UNet

        return UNet(self.cfg["base"], classes=1, refined=True, batchnorm=self.cfg["batchnorm"],
                    elementwise_dropout=self.cfg["elementwise_dropout"])


class FCN32sMethod(SegmentationMethod):
    config_class = FCN32sConfig
    name = "fcn32s"
    description = "FCN-32s (VGG16 backbone recipe from torchvision, one 32x up-sampling)"
    paper = "Long, Shelhamer, Darrell, CVPR 2015"
    display_name = "FCN-32s"
    bibtex = r"""@inproceedings{long2015fcn,
  author = {Long, Jonathan and Shelhamer, Evan and Darrell, Trevor},
  title = {Fully Convolutional Networks for Semantic Segmentation},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  year = {2015},
  eprint = {1411.4038},
  archivePrefix = {arXiv}
}"""
    imagenet = "VGG16_Weights.IMAGENET1K_V1"
    _ADBENCH = dict(reference_padding=False, learn_upscore=True, pretrained=False)
    profiles = _profiles(
        dict(image_size=64, width_div=8, fc=128, batch_norm=True, head_init="prior", **_ADBENCH),
        dict(image_size=128, width_div=8, fc=128, batch_norm=True, lr=5e-4, epochs=45, head_init="prior", **_ADBENCH),
        dict(image_size=256, width_div=1, fc=4096, batch_norm=False, lr=1e-4, reference_padding=True,
             learn_upscore=False, pretrained=True, head_init="zero"),
    )

    def build_net(self):
        from adbench import weights

        from .nets import FCN32s

        c = self.cfg
        net = FCN32s(1, c["width_div"], c["fc"], c["batch_norm"], c["reference_padding"], c["learn_upscore"])
        for w in self.required_weights(c):
            net.load_vgg16(weights.load_state_dict(w, self.name))
        return self._init_head(net)


class SegNetMethod(SegmentationMethod):
    config_class = SegNetConfig
    name = "segnet"
    description = "SegNet (VGG16 encoder, decoder unpools with max-pooling indices)"
    paper = "Badrinarayanan, Kendall, Cipolla, TPAMI 2017"
    display_name = "SegNet"
    bibtex = r"""@article{badrinarayanan2017segnet,
  author = {Badrinarayanan, Vijay and Kendall, Alex and Cipolla, Roberto},
  title = {{SegNet}: A Deep Convolutional Encoder-Decoder Architecture for Image Segmentation},
  journal = {IEEE Transactions on Pattern Analysis and Machine Intelligence},
  year = {2017},
  eprint = {1511.00561},
  archivePrefix = {arXiv}
}"""
    imagenet = "VGG16_BN_Weights.IMAGENET1K_V1"
    profiles = _profiles(dict(image_size=32, width_div=16, pretrained=False, head_init="prior"),
                         dict(image_size=64, width_div=4, epochs=40, pretrained=False, head_init="prior"),
                         dict(image_size=256, width_div=1, pretrained=True, head_init="he"))

    def build_net(self):
        from adbench import weights

        from .nets import SegNet

        net = SegNet(1, self.cfg["width_div"])
        for w in self.required_weights(self.cfg):
            net.load_vgg16_bn(weights.load_state_dict(w, self.name))
        return self._init_head(net)


METHODS = (UNetSMP, UNetPlusPlus, UNetRonneberger, RefinedUNetV2, FCN32sMethod, SegNetMethod)
