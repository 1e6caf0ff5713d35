"""Training shared by both methods: loss = w_mse·MSE − w_ssim·SSIM + w_perc·perceptual, on normal images."""

from __future__ import annotations

from typing import Any

import torch

from adbench import FitReport, RunContext, TrainData
from adbench.layers import ssim
from adbench.training import seed_everything, train_epochs

from .perceptual import perceptual_distance


def fit_reconstruction(model: Any, train: TrainData, cfg: dict[str, Any], ctx: RunContext) -> FitReport:
    gen = seed_everything(ctx.seed)
    device = ctx.device
    normal = train.normal
    images = normal.images.to(device)
    model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def step(idx: torch.Tensor) -> torch.Tensor:
        img = images[idx]
        if cfg.get("augment", False) and torch.rand(1, generator=gen).item() < 0.5:
            img = img.flip(-1)
        x = model.normalize(img)
        recon = model.net(x)
        loss = cfg["w_mse"] * ((recon - x) ** 2).mean()
        if cfg["w_ssim"]:
            loss = loss - cfg["w_ssim"] * ssim(x, recon, data_range=model.data_range).mean()
        if cfg["w_perceptual"]:
            loss = loss + cfg["w_perceptual"] * perceptual_distance(model.perceptual, img, model.as_image(recon)).mean()
        return loss

    report = train_epochs(step, opt, len(normal), epochs=cfg["epochs"], batch_size=cfg["batch_size"], gen=gen)
    report.notes["perceptual_backbone"] = model.perceptual.backbone
    model.eval()
    return report
