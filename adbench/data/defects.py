"""The synthetic data set's test defects, MVTec-like and at a range of contrasts.

Each defect changes a :class:`~adbench.data.surfaces.Surface`'s albedo through a soft
opacity map and returns the ground-truth mask, the pixels where that opacity is at least
one half: what an annotator would outline. Every defect draws its strength from a range
that reaches down to subtle (a scratch a few grey levels brighter than the fibres around
it), so no method solves the set by thresholding colour.

These are the test defects only; the training-time anomaly paster of the segmentation
baselines (``adbench/augment.py``) is a different generator on purpose.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.ndimage import binary_erosion, gaussian_filter

from .surfaces import Surface, grid, pink_noise, soft_inside


def _segment_dist(y: np.ndarray, x: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    d = q - p
    t = np.clip(((y - p[0]) * d[0] + (x - p[1]) * d[1]) / max(float(d @ d), 1e-12), 0, 1)
    return np.hypot(y - (p[0] + t * d[0]), x - (p[1] + t * d[1]))


def _polyline_dist(yy: np.ndarray, xx: np.ndarray, points: list[np.ndarray]) -> np.ndarray:
    dist = np.full(yy.shape, np.inf)
    for p, q in zip(points, points[1:]):
        dist = np.minimum(dist, _segment_dist(yy, xx, p, q))
    return dist


def _line_alpha(dist: np.ndarray, half_width: float) -> np.ndarray:
    """Opacity of a line of ``half_width`` pixels: 1 on it, a one-pixel soft edge."""
    return np.clip(half_width + 0.5 - dist, 0, 1)


def _blob_alpha(rng: np.random.Generator, size: int, c: np.ndarray, radius: float, edge: float) -> np.ndarray:
    """An irregular soft blob: a disc whose radius wobbles with low-frequency noise."""
    yy, xx = grid(size)
    wobble = 1 + 0.3 * pink_noise(rng, size, 2.0)
    return soft_inside(np.hypot(yy - c[0], xx - c[1]) / wobble - radius, edge)


def pick_centre(rng: np.random.Generator, region: np.ndarray, margin: int) -> np.ndarray:
    """A random pixel of ``region`` at least ``margin`` from the image border."""
    inner = np.zeros_like(region)
    inner[margin:-margin, margin:-margin] = region[margin:-margin, margin:-margin]
    ys, xs = np.nonzero(inner if inner.any() else region)
    i = rng.integers(len(ys))
    return np.array([ys[i], xs[i]], dtype=np.float64)


def _walk(rng: np.random.Generator, start: np.ndarray, steps: int, step_px: tuple[float, float],
          turn: float) -> list[np.ndarray]:
    points, ang = [start], rng.uniform(0, 2 * np.pi)
    for _ in range(steps):
        ang += rng.uniform(-turn, turn)
        points.append(points[-1] + rng.uniform(*step_px) * np.array([np.sin(ang), np.cos(ang)]))
    return points


def _blend(surface: Surface, alpha: np.ndarray, target: np.ndarray) -> None:
    surface.albedo = surface.albedo * (1 - alpha[..., None]) + target * alpha[..., None]


# -- the defects -------------------------------------------------------------------------
def scratch(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """A thin, slightly curved line, brighter or darker than the surface."""
    size = s.albedo.shape[0]
    yy, xx = grid(size)
    ang, length = rng.uniform(0, np.pi), rng.uniform(14, 34) * k
    d = np.array([np.sin(ang), np.cos(ang)]) * length / 2
    bend = np.array([-d[1], d[0]]) * rng.uniform(-0.25, 0.25)
    alpha = _line_alpha(_polyline_dist(yy, xx, [c - d, c + bend, c + d]), max(0.5 * k, 0.5))
    strength = rng.uniform(0.3, 0.7)
    shade = s.albedo + strength if rng.random() < 0.6 else s.albedo * (1 - 1.5 * strength)
    _blend(s, alpha, np.clip(shade, 0, 1))
    return alpha


def crack(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """A dark, jagged, sometimes branching fracture line."""
    size = s.albedo.shape[0]
    yy, xx = grid(size)
    trunk = _walk(rng, c, 7, (2.5 * k, 5 * k), 0.8)
    dist = _polyline_dist(yy, xx, trunk)
    if rng.random() < 0.6:
        dist = np.minimum(dist, _polyline_dist(yy, xx, _walk(rng, trunk[rng.integers(2, 6)], 3, (2 * k, 4 * k), 0.8)))
    alpha = _line_alpha(dist, max(0.45 * k, 0.5))
    _blend(s, alpha, s.albedo * (1 - rng.uniform(0.55, 0.9)))
    return alpha


def contamination(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """Foreign material: a speck with a texture and colour of its own, or a stray fibre."""
    size = s.albedo.shape[0]
    hue = rng.uniform(0.1, 0.9, 3)
    stuff = np.clip(hue + 0.12 * pink_noise(rng, size, 0.8)[..., None], 0, 1)
    if rng.random() < 0.5:
        alpha = _blob_alpha(rng, size, c, rng.uniform(3, 6.5) * k, 1.2 * k)
    else:
        yy, xx = grid(size)
        alpha = _line_alpha(_polyline_dist(yy, xx, _walk(rng, c, 6, (3 * k, 6 * k), 0.5)), max(0.6 * k, 0.5))
    _blend(s, alpha * rng.uniform(0.7, 1.0), stuff)
    return alpha


def hole(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """Missing material: a dark pit with a lit rim on the side the light comes from."""
    size = s.albedo.shape[0]
    radius = rng.uniform(2.0, 5.0) * k
    alpha = _blob_alpha(rng, size, c, radius, 1.0 * k)
    rim = np.clip(gaussian_filter(alpha, 1.2 * k) - alpha, 0, 1)
    depth = rng.uniform(0.45, 0.9)
    s.albedo = np.clip(s.albedo * (1 - depth * alpha[..., None]) + 0.5 * rim[..., None] * depth, 0, 1)
    return alpha


def stain(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """A translucent colour stain with a soft, irregular edge (oil, rust, a water mark)."""
    size = s.albedo.shape[0]
    alpha = _blob_alpha(rng, size, c, rng.uniform(5, 12) * k, 3.0 * k)
    tint = rng.choice(np.array([[0.75, 0.35, 0.1], [0.3, 0.25, 0.2], [0.55, 0.6, 0.3], [0.2, 0.3, 0.6]]))
    opacity = rng.uniform(0.35, 0.7)
    s.albedo = s.albedo * (1 - opacity * alpha[..., None] * (1 - tint))
    return alpha


def chip(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """A piece broken off an object's edge: the background shows where the object was."""
    if s.background is None:
        raise ValueError("a chip needs an object on a background (Surface.background); textures have none")
    ring = np.argwhere(s.region ^ binary_erosion(s.region, iterations=2))
    centre = ring[rng.integers(len(ring))].astype(np.float64)
    alpha = _blob_alpha(rng, s.albedo.shape[0], centre, rng.uniform(4.5, 8) * k, 1.0 * k) * s.region
    _blend(s, alpha, s.background)
    return alpha


def misprint(rng: np.random.Generator, s: Surface, c: np.ndarray, k: float) -> np.ndarray:
    """A printed stroke missing or shifted by a few pixels (objects with a print only)."""
    if not s.prints or s.unprinted is None:
        raise ValueError("a misprint needs a printed surface (Surface.prints, Surface.unprinted)")
    i = int(rng.integers(len(s.prints)))
    old = s.prints[i]
    if rng.random() < 0.5:  # missing
        new = np.zeros_like(old)
    else:  # shifted
        dy, dx = rng.choice([-1, 1], 2) * rng.uniform(2.0, 4.0, 2) * k
        new = np.clip(np.roll(old, (int(round(dy)), int(round(dx))), axis=(0, 1)), 0, 1)
    _blend(s, old, s.unprinted)
    _blend(s, new, s.print_colour)
    return np.maximum(old, new)  # an annotator outlines where the stroke was and where it is


Defect = Callable[[np.random.Generator, Surface, np.ndarray, float], np.ndarray]
DEFECTS: dict[str, Defect] = {"scratch": scratch, "crack": crack, "contamination": contamination, "hole": hole,
                              "stain": stain, "chip": chip, "misprint": misprint}


def apply(kind: str, rng: np.random.Generator, surface: Surface) -> np.ndarray:
    """Draw defect ``kind`` on ``surface`` (in place) and return its boolean mask."""
    if kind not in DEFECTS:
        raise ValueError(f"unknown synthetic defect {kind!r}; known: {', '.join(DEFECTS)}")
    size = surface.albedo.shape[0]
    k = size / 128.0
    c = pick_centre(rng, surface.region, max(int(14 * k), 1))
    alpha = DEFECTS[kind](rng, surface, c, k)
    mask = alpha >= 0.5
    if not mask.any():  # at tiny sizes a thin line may never reach full opacity
        mask = alpha >= 0.5 * alpha.max()
    return mask
