"""Training loop shared by the segmentation baselines (both tracks)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from adbench import FitReport, RunContext, TrainData
from adbench.augment import foreground_masks, paste_anomalies
from adbench.training import seed_everything, train_epochs


def dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    return (1 - (2 * (p * t).sum(1) + eps) / (p.sum(1) + t.sum(1) + eps)).mean()


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    p_t = torch.exp(-bce)
    return ((1 - p_t) ** gamma * bce).mean()


def segmentation_loss(kind: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if kind == "bce_dice":
        return F.binary_cross_entropy_with_logits(logits, target) + dice_loss(logits, target)
    if kind == "focal_dice":
        return focal_loss(logits, target) + dice_loss(logits, target)
    if kind == "bce":
        return F.binary_cross_entropy_with_logits(logits, target)
    raise ValueError(f"unknown loss {kind!r}; use bce_dice, focal_dice or bce")


def fit_segmentation(model: Any, train: TrainData, cfg: dict[str, Any], ctx: RunContext) -> FitReport:
    gen = seed_everything(ctx.seed)
    device = ctx.device
    supervised = ctx.track == "supervised"
    data = train if supervised else train.normal
    images, masks = data.images.to(device), data.masks.float().to(device)
    anomalous = torch.nonzero(data.labels == 1).flatten()
    # where pastes may land: the object (textures stay whole), or anywhere (None); the value is
    # one of the two, checked by SegmentationConfig before the run
    region = foreground_masks(data.images) if not supervised and cfg["paste_on"] == "foreground" else None
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])

    def step(idx: torch.Tensor) -> torch.Tensor:
        if supervised and len(anomalous):  # oversample the rare anomalies to half the batch
            half = len(idx) // 2
            extra = anomalous[torch.randint(len(anomalous), (half,), generator=gen)]
            idx = torch.cat([idx[: len(idx) - half], extra])
            x, y = images[idx], masks[idx]
        else:
            x, y = paste_anomalies(images[idx].cpu(), gen, p=cfg["paste_p"],
                                   region=None if region is None else region[idx.cpu()])
            x, y = x.to(device), y.to(device)
        flip = torch.rand(1, generator=gen).item() < 0.5
        if flip:
            x, y = x.flip(-1), y.flip(-1)
        return segmentation_loss(cfg["loss"], model.logits(x), y)

    report = train_epochs(step, opt, len(data), epochs=cfg["epochs"], batch_size=cfg["batch_size"],
                          gen=gen)
    report.notes["training_target"] = "real masks" if supervised else "pasted Perlin anomalies (adbench.augment)"
    model.eval()
    return report
