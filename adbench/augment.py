"""Training-time synthetic anomalies (DRAEM-style), shared by methods that need negatives.

Perlin-noise masks filled with texture from *another* training image (channel-shuffled,
brightness-jittered), a procedural two-colour Perlin texture, or a flat random colour,
blended with a random opacity. This is
deliberately unlike the synthetic *test* set's drawn scratches, holes, stains and cracks
(``adbench/data/synthetic.py``), so no method learns the test defects by construction.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def perlin_noise(batch: int, size: int, res: int, gen: torch.Generator) -> torch.Tensor:
    """Classic 2-D gradient (Perlin) noise, ``(batch, size, size)`` roughly in [-1, 1]."""
    cells = res
    angles = 2 * math.pi * torch.rand(batch, cells + 1, cells + 1, generator=gen)
    grads = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)
    t = torch.linspace(0, cells, size + 1)[:-1]
    y, x = torch.meshgrid(t, t, indexing="ij")
    y0, x0 = y.floor().long().clamp(max=cells - 1), x.floor().long().clamp(max=cells - 1)
    fy, fx = y - y0, x - x0

    def dot(iy: torch.Tensor, ix: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor) -> torch.Tensor:
        g = grads[:, iy, ix]  # (B, size, size, 2)
        return g[..., 0] * dx + g[..., 1] * dy

    n00 = dot(y0, x0, fy, fx)
    n01 = dot(y0, x0 + 1, fy, fx - 1)
    n10 = dot(y0 + 1, x0, fy - 1, fx)
    n11 = dot(y0 + 1, x0 + 1, fy - 1, fx - 1)
    sy, sx = (6 * fy**5 - 15 * fy**4 + 10 * fy**3), (6 * fx**5 - 15 * fx**4 + 10 * fx**3)
    top = n00 + sx * (n01 - n00)
    bottom = n10 + sx * (n11 - n10)
    return math.sqrt(2) * (top + sy * (bottom - top))


def perlin_mask(batch: int, size: int, gen: torch.Generator, threshold: float = 0.5) -> torch.Tensor:
    """Blob masks ``(batch, size, size)`` in {0,1}; every mask has at least one pixel."""
    res = int(2 ** torch.randint(1, 4, (1,), generator=gen).item())
    masks = (perlin_noise(batch, size, res, gen) > threshold).float()
    empty = masks.flatten(1).sum(1) == 0
    if empty.any():  # fall back to a small square so every pasted sample is anomalous
        c = size // 2
        masks[empty, c - size // 8 : c + size // 8, c - size // 8 : c + size // 8] = 1
    return masks


def foreground_masks(images: torch.Tensor, border: int = 2, separation: float = 3.0) -> torch.Tensor:
    """Where an object stands out from a plain background, ``(B,H,W)`` bool; all True where
    no object stands out (textures).

    The background colour is the median of the image's ``border``-pixel ring. A pixel is
    foreground when its colour distance from that is ``separation`` times the ring's own
    90th-percentile distance; holes (a dark print on the object) are filled. On a texture
    the ring varies as much as the rest, so few pixels pass: an image whose foreground
    covers less than 5 % or more than 95 % of it is kept whole.
    """
    from scipy.ndimage import binary_fill_holes

    out = torch.ones(images.shape[0], *images.shape[2:], dtype=torch.bool)
    for i, img in enumerate(images.detach().cpu().numpy()):
        ring = np.ones(img.shape[1:], dtype=bool)
        ring[border:-border, border:-border] = False
        dist = np.linalg.norm(img - np.median(img[:, ring], axis=1)[:, None, None], axis=0)
        fg = binary_fill_holes(dist > separation * max(float(np.quantile(dist[ring], 0.9)), 1e-3))
        if 0.05 <= fg.mean() <= 0.95:
            out[i] = torch.from_numpy(fg)
    return out


def paste_anomalies(images: torch.Tensor, gen: torch.Generator, p: float = 0.5,
                    region: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (augmented images, masks). ``images`` (B,3,H,W) in [0,1]; with probability
    ``p`` an image gets a pasted anomaly, and its mask marks exactly the changed pixels.
    ``region`` (B,H,W) bool, optional: where a paste may land (:func:`foreground_masks`)."""
    b, _, h, w = images.shape
    chosen = torch.rand(b, generator=gen) < p
    masks = perlin_mask(b, h, gen) * chosen[:, None, None].float()
    if h != w:
        masks = F.interpolate(masks[:, None], size=(h, w), mode="nearest")[:, 0]
    if region is not None:
        masks = masks * region.float()
    donor = images[torch.roll(torch.arange(b), 1)]
    donor = donor[:, torch.randperm(3, generator=gen)]
    donor = (donor * (0.6 + 0.8 * torch.rand(b, 1, 1, 1, generator=gen))).clamp(0, 1)
    flat = torch.rand(b, 3, 1, 1, generator=gen).expand_as(images)
    t = (perlin_noise(b, h, int(2 ** torch.randint(2, 5, (1,), generator=gen).item()), gen)[:, None] + 1) / 2
    if h != w:
        t = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False)
    c1, c2 = torch.rand(b, 3, 1, 1, generator=gen), torch.rand(b, 3, 1, 1, generator=gen)
    texture = (c1 * t + c2 * (1 - t)).clamp(0, 1)
    kind = torch.rand(b, generator=gen)[:, None, None, None]
    source = torch.where(kind < 0.3, flat, torch.where(kind < 0.6, texture, donor))
    beta = 0.6 * torch.rand(b, 1, 1, 1, generator=gen)  # opacity of the original under the paste
    m = masks[:, None]
    out = images * (1 - m) + m * ((1 - beta) * source + beta * images)
    changed = (out - images).abs().amax(1) > 1e-6
    return out, (masks.bool() & changed).float()
