"""VT-ADL training: loss = w_mse·MSE − w_ssim·SSIM + w_mdn·MDN loss, on normal images, with
Gaussian noise (sd ``noise_sd``) on the patch embeddings during training; the state of the
lowest-loss epoch is kept, as in the authors' training script."""

from __future__ import annotations

import copy
from typing import Any

import torch

from adbench import FitReport, RunContext, TrainData
from adbench.layers import ssim
from adbench.training import seed_everything, train_epochs

from .mdn import patch_nll


def vtadl_loss(model: Any, images: torch.Tensor, cfg: dict[str, Any], gen: torch.Generator) -> torch.Tensor:
    h = model.encode(images)
    if cfg["noise_sd"]:
        h = h + cfg["noise_sd"] * torch.randn(h.shape, generator=gen).to(h.device)
    recon = model.decode(h)
    target = model.target(images)
    loss = cfg["w_mse"] * ((recon - target) ** 2).mean() - cfg["w_ssim"] * ssim(recon, target, data_range=model.data_range).mean()
    mdn = patch_nll(cfg["mdn_loss"], h, model.mdn(h)).sum(1).mean()  # summed over patches
    return loss + cfg["w_mdn"] * mdn


def fit_vtadl(model: Any, train: TrainData, cfg: dict[str, Any], ctx: RunContext) -> FitReport:
    gen = seed_everything(ctx.seed)
    images = train.normal.images.to(ctx.device)
    model.to(ctx.device).train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    best: dict[str, Any] = {"loss": float("inf"), "state": None, "epoch": -1}

    def keep_best(epoch: int, loss: float) -> None:
        if loss < best["loss"]:
            best.update(loss=loss, state=copy.deepcopy(model.state_dict()), epoch=epoch)

    report = train_epochs(lambda idx: vtadl_loss(model, images[idx], cfg, gen), opt, len(images),
                          epochs=cfg["epochs"], batch_size=cfg["batch_size"], gen=gen,
                          on_epoch_end=keep_best)
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    report.notes.update(best_epoch=best["epoch"] + 1, mdn_loss=cfg["mdn_loss"])
    model.eval()
    return report
