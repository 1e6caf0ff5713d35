"""Training of the CapsNet anomaly classifier.

Loss = margin loss over the two class capsules + ``recon_weight`` × sum of squared errors of
the reconstruction from the *normal* capsule, computed on normal images only: the paper's
remedy for imbalance is that the decoder models the normal class alone.
"""

from __future__ import annotations

from typing import Any

import torch

from adbench import FitReport, RunContext, TrainData
from adbench.training import seed_everything, train_epochs
from adbench_capsules import margin_loss


def _draw(lo: int, hi: int, limit: int, gen: torch.Generator) -> int:
    """A start in [lo, hi], both first clamped to [0, limit] (a defect near the border)."""
    lo = min(max(lo, 0), limit)
    hi = min(max(hi, lo), limit)
    return lo + int(torch.randint(hi - lo + 1, (1,), generator=gen))


def crops(raw: torch.Tensor, masks: torch.Tensor, labels: torch.Tensor, patch: int,
          gen: torch.Generator) -> torch.Tensor:
    """One ``patch``-sized crop per image: anywhere in a normal image; in an anomalous one,
    around a random pixel of its defect mask (at least patch/8 from the crop's border where
    the image allows), so the crop's label is true. An anomalous image without a mask is
    shrunk whole instead."""
    h, w = raw.shape[-2:]
    margin = patch // 8
    out = []
    for img, mask, label in zip(raw, masks, labels.tolist()):
        if label == 1 and not mask.any():
            out.append(torch.nn.functional.interpolate(img[None], size=(patch, patch), mode="area")[0])
            continue
        if label == 1:
            ys, xs = torch.nonzero(mask, as_tuple=True)
            j = int(torch.randint(len(ys), (1,), generator=gen))
            cy, cx = int(ys[j]), int(xs[j])
            y = _draw(cy - patch + 1 + margin, cy - margin, h - patch, gen)
            x = _draw(cx - patch + 1 + margin, cx - margin, w - patch, gen)
        else:
            y, x = _draw(0, h - patch, h - patch, gen), _draw(0, w - patch, w - patch, gen)
        out.append(img[:, y:y + patch, x:x + patch])
    return torch.stack(out)


def fit_capsnet(model: Any, train: TrainData, cfg: dict[str, Any], ctx: RunContext, *, balanced: bool) -> FitReport:
    gen = seed_everything(ctx.seed)
    device = ctx.device
    images, labels, masks = train.images.to(device), train.labels.to(device), train.masks.to(device)
    n_anom = int(labels.sum())
    if n_anom == 0:
        raise ValueError("capsnet is supervised: its training split has no anomalous images; "
                         "run it with --track supervised")
    anomalous = torch.nonzero(labels == 1).flatten()
    counts = torch.bincount(labels, minlength=2).float()
    weights = (counts.sum() / (2 * counts)) if balanced else None
    model.to(device).train()
    net = model.net
    opt = torch.optim.Adam(model.parameters(), lr=cfg["lr"])

    def step(idx: torch.Tensor) -> torch.Tensor:
        if balanced:  # journal-variant reading: half of every batch is anomalous
            half = len(idx) // 2
            idx = torch.cat([idx[: len(idx) - half], anomalous[torch.randint(len(anomalous), (half,), generator=gen)]])
        raw, y = images[idx], labels[idx]
        if cfg["patch"]:  # window mode (README, "Diagnosis on realistic images")
            raw = crops(raw, masks[idx], y, cfg["patch"], gen)
        if cfg["augment"]:  # flips and quarter turns: the few anomalies are seen in 8 poses
            if torch.rand(1, generator=gen).item() < 0.5:
                raw = raw.flip(-1)
            raw = torch.rot90(raw, int(torch.randint(4, (1,), generator=gen)), dims=(-2, -1))
        v = net.capsules(model.normalize(raw))
        loss = margin_loss(v.norm(dim=-1), y, cfg["m_pos"], cfg["m_neg"], cfg["lam"],
                           weights.to(raw.device) if weights is not None else None)
        normal = y == 0
        if normal.any():
            recon = net.reconstruct(v[normal, 0])
            loss = loss + cfg["recon_weight"] * ((recon - raw[normal]) ** 2).flatten(1).sum(1).mean()
        return loss

    report = train_epochs(step, opt, len(images), epochs=cfg["epochs"], batch_size=cfg["batch_size"], gen=gen)
    report.notes.update(n_train_anomalous=n_anom, balanced_batches=balanced)
    model.eval()
    return report
