"""EfficientAD through anomalib, with its outside files supplied locally.

anomalib's ``EfficientAd`` fetches two things while training: the distilled teacher
(``efficientad_pretrained_weights.zip``) and Imagenette, whose images keep the student quiet
outside the normal data (the "penalty"). Here the teacher comes through ``adbench weights``
(an archive file with its published sha256) and Imagenette from the ``[imagenette]`` table of
datasets.toml. It also needs a Trainer for three things this adapter does itself: the
teacher's channel statistics (over the training images), the map quantiles (over held-out
*normal training* images, never the test split) and its step budget.
"""

from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any, Literal

from adbench import FitReport, MethodConfig, TrainData

from .method import AnomalibMethod, quiet

TEACHER_ARCHIVE = ("https://github.com/open-edge-platform/anomalib/releases/download/efficientad_pretrained_weights/"
                   "efficientad_pretrained_weights.zip")
#: the checksum anomalib verifies the same archive against (WEIGHTS_DOWNLOAD_INFO)
TEACHER_SHA256 = "c09aeaa2b33f244b3261a5efdaeae8f8284a949470a4c5a526c61275fe62684a"


class EfficientADConfig(MethodConfig):
    """EfficientAD's keys: anomalib's constructor arguments, the step budget and the penalty images."""

    model_size: Literal["small", "medium"]
    teacher_out_channels: int
    lr: float
    weight_decay: float
    padding: bool
    pad_maps: bool
    steps: int
    pretrained: bool
    penalty_source: Literal["noise", "imagenette"]
    validation_fraction: float


class EfficientAD(AnomalibMethod):
    config_class = EfficientADConfig
    name = "anomalib_efficientad"
    anomalib_class = "EfficientAd"
    init_keys = ("teacher_out_channels", "model_size", "lr", "weight_decay", "padding", "pad_maps")
    description = ("EfficientAD via anomalib: distilled PDN teacher, student and autoencoder; maps normalised on "
                   "held-out normals")
    paper = "Batzner et al., WACV 2024; anomalib 2.7 (Akcay et al., ICIP 2022), model EfficientAd"
    display_name = "EfficientAD"
    bibtex = r"""@inproceedings{batzner2024efficientad,
  author = {Batzner, Kilian and Heckler, Lars and K{\"o}nig, Rebecca},
  title = {{EfficientAD}: Accurate Visual Anomaly Detection at Millisecond-Level Latencies},
  booktitle = {IEEE/CVF Winter Conference on Applications of Computer Vision (WACV)},
  year = {2024},
  eprint = {2303.14535},
  archivePrefix = {arXiv}
}"""
    #: its PDN teacher, student and autoencoder need 256 px (the autoencoder's 8×8 bottleneck);
    #: one training step there takes 7.4 s on 2 CPU cores (measured), too slow for the default run
    left_out_of_all = "one 256-px training step takes 7.4 s on 2 CPU cores; run it on a GPU"
    profiles = {
        "smoke": dict(image_size=256, model_size="small", teacher_out_channels=384, lr=1e-4, weight_decay=1e-5,
                      padding=False, pad_maps=True, steps=2, batch_size=1, eval_batch_size=16, pretrained=False,
                      penalty_source="noise", validation_fraction=0.1),
        "quick": dict(image_size=256, model_size="small", teacher_out_channels=384, lr=1e-4, weight_decay=1e-5,
                      padding=False, pad_maps=True, steps=1000, batch_size=1, eval_batch_size=16, pretrained=False,
                      penalty_source="noise", validation_fraction=0.1),
        "paper": dict(image_size=256, model_size="small", teacher_out_channels=384, lr=1e-4, weight_decay=1e-5,
                      padding=False, pad_maps=True, steps=70000, batch_size=1, eval_batch_size=32, pretrained=True,
                      penalty_source="imagenette", validation_fraction=0.1),
    }

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        from adbench.weights import archive_weights

        if not cfg["pretrained"]:
            return []
        member = f"efficientad_pretrained_weights/pretrained_teacher_{cfg['model_size']}.pth"
        return [archive_weights(f"anomalib:efficientad_teacher_{cfg['model_size']}", TEACHER_ARCHIVE, TEACHER_SHA256,
                                member)]

    def _adjust(self, module: Any) -> None:
        from adbench import weights

        for w in self.required_weights(self.cfg):  # the distilled teacher, from the local cache only
            module.model.teacher.load_state_dict(weights.load_state_dict(w, self.name))

    def backbone_weights(self) -> str:
        files = self.required_weights(self.cfg)
        return files[0].name if files else "random teacher"

    def fit(self, train: TrainData) -> FitReport:
        import torch

        from adbench.training import check_time_limit, seed_everything

        from .sources import PenaltyImages

        gen = seed_everything(self.ctx.seed)
        device = self.ctx.device
        module, inner = self._module, self.model().to(device).model
        normal = train.normal.images
        order = torch.randperm(len(normal), generator=gen)
        n_val = max(1, round(self.cfg["validation_fraction"] * len(normal))) if len(normal) > 1 else 0
        fit_images, val_images = normal[order[n_val:]], normal[order[:n_val]]
        size = self.cfg.image_size
        penalty = PenaltyImages(self.cfg["penalty_source"], size, gen)

        with torch.no_grad():  # the teacher's channel statistics over the training images
            feats = torch.cat([inner.teacher(fit_images[i:i + 16].to(device)) for i in range(0, len(fit_images), 16)])
            inner.mean_std.update({"mean": feats.mean(dim=(0, 2, 3))[None, :, None, None],
                                   "std": feats.std(dim=(0, 2, 3), unbiased=False)[None, :, None, None]})
        steps = self.cfg["steps"]
        optimizer = torch.optim.Adam(list(inner.student.parameters()) + list(inner.ae.parameters()),
                                     lr=self.cfg["lr"], weight_decay=self.cfg["weight_decay"])
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, int(0.95 * steps)), gamma=0.1)
        report, start = FitReport(), time.perf_counter()
        module.train()
        epoch_losses: list[float] = []
        for step in range(steps):
            i = step % len(fit_images)
            if i == 0:
                order = torch.randperm(len(fit_images), generator=gen)
            with quiet():
                loss_st, loss_ae, loss_stae = inner(batch=fit_images[order[i]][None].to(device),
                                                    batch_imagenet=next(penalty).to(device))
            loss = loss_st + loss_ae + loss_stae
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            epoch_losses.append(float(loss.detach()))
            if i == len(fit_images) - 1 or step == steps - 1:
                report.losses.append(sum(epoch_losses) / len(epoch_losses))
                epoch_losses = []
                check_time_limit(f"{step + 1} of {steps} steps")
        module.eval()
        self._set_quantiles(inner, val_images.to(device))
        report.steps, report.epochs = steps, math.ceil(steps / len(fit_images))
        report.wall_s = time.perf_counter() - start
        report.notes.update(backbone_weights=self.backbone_weights(), n_validation=len(val_images),
                            validation="held-out normal training images", penalty_source=penalty.describe())
        return report

    @staticmethod
    def _set_quantiles(inner: Any, images: Any) -> None:
        """anomalib's ``map_norm_quantiles`` (90 % and 99.5 % of the unnormalised maps) on ``images``."""
        import torch

        from anomalib.models.image.efficient_ad.torch_model import reduce_tensor_elems

        with torch.no_grad():
            maps = [inner.get_maps(images[i:i + 1], normalize=False) for i in range(len(images))]
        out = {}
        for key, index in (("st", 0), ("ae", 1)):
            flat = reduce_tensor_elems(torch.cat([m[index] for m in maps]))
            out[f"qa_{key}"], out[f"qb_{key}"] = torch.quantile(flat, 0.9), torch.quantile(flat, 0.995)
        inner.quantiles.update(out)

    def fitted_state(self) -> dict[str, Any]:
        return {}
