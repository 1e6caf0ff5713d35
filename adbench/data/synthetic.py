"""A deterministic procedural data set: textures and objects with drawn defects and masks.

It is the embedded default data set, so ``adbench run all`` works with no download. The
generator writes an MVTec-AD-layout tree once (``train/good``, ``test/<defect>``,
``ground_truth/<defect>/<stem>_mask.png``), which the ordinary MVTec loader then reads:
the synthetic path exercises the same code as real data.

Its defects are drawn here and nowhere else; the training-time anomaly paster used by the
segmentation baselines is a different generator on purpose (see docs/architecture.md).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from filelock import FileLock
from PIL import Image

GENERATOR_VERSION = 1
CATEGORIES: dict[str, str] = {"weave": "texture", "grain": "texture", "disc": "object", "plate": "object"}
DEFECTS: tuple[str, ...] = ("scratch", "hole", "stain", "crack")


# -- normal images ---------------------------------------------------------------------
def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    return yy / size, xx / size


def _smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """Low-frequency noise in [0,1]: bilinear upsampling of a coarse random grid."""
    coarse = rng.random((cells + 1, cells + 1))
    img = Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(img, dtype=np.float64) / 255.0


def _weave(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = _grid(size)
    f = 10 + rng.uniform(-0.3, 0.3)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    v = 0.5 + 0.22 * np.sin(2 * np.pi * f * x + p1) * np.sign(np.sin(2 * np.pi * f / 2 * y + p2))
    v += rng.normal(0, 0.03, v.shape)
    tint = np.array([0.55, 0.6, 0.75]) + rng.uniform(-0.03, 0.03, 3)
    return np.clip(v[..., None] * tint * 1.4, 0, 1), np.ones((size, size), bool)


def _grain(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = _grid(size)
    warp = _smooth_noise(rng, size, 3) * 0.6
    v = 0.5 + 0.25 * np.sin(2 * np.pi * (14 * y + 2.0 * warp) + rng.uniform(0, 2 * np.pi))
    v += rng.normal(0, 0.025, v.shape)
    tint = np.array([0.78, 0.55, 0.33]) + rng.uniform(-0.02, 0.02, 3)
    return np.clip(v[..., None] * tint * 1.3, 0, 1), np.ones((size, size), bool)


def _disc(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = _grid(size)
    cy, cx = 0.5 + rng.uniform(-0.03, 0.03, 2)
    r = np.hypot(y - cy, x - cx)
    outer, inner = 0.33 + rng.uniform(-0.01, 0.01), 0.12
    body = (r < outer) & (r > inner)
    img = np.full((size, size, 3), 0.12)
    shade = 0.75 - 0.5 * (r - inner)
    img[body] = (shade[body, None] * np.array([0.85, 0.85, 0.9]))
    img += rng.normal(0, 0.015, img.shape)
    return np.clip(img, 0, 1), body


def _plate(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    y, x = _grid(size)
    cy, cx = 0.5 + rng.uniform(-0.03, 0.03, 2)
    half = 0.3
    body = (np.abs(y - cy) < half) & (np.abs(x - cx) < half)
    for dy in (-0.2, 0.2):
        for dx in (-0.2, 0.2):
            body &= np.hypot(y - cy - dy, x - cx - dx) > 0.05
    img = np.full((size, size, 3), 0.2) * np.array([0.9, 1.0, 0.9])
    img[body] = np.array([0.35, 0.6, 0.4]) + 0.1 * (x[body, None] - cx)
    img += rng.normal(0, 0.015, img.shape)
    return np.clip(img, 0, 1), body


NORMALS = {"weave": _weave, "grain": _grain, "disc": _disc, "plate": _plate}


# -- defects ---------------------------------------------------------------------------
def _segment_dist(y: np.ndarray, x: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    d = q - p
    t = np.clip(((y - p[0]) * d[0] + (x - p[1]) * d[1]) / max(float(d @ d), 1e-12), 0, 1)
    return np.hypot(y - (p[0] + t * d[0]), x - (p[1] + t * d[1]))


def _pick_centre(rng: np.random.Generator, region: np.ndarray, margin: int) -> np.ndarray:
    inner = np.zeros_like(region)
    inner[margin:-margin, margin:-margin] = region[margin:-margin, margin:-margin]
    ys, xs = np.nonzero(inner if inner.any() else region)
    i = rng.integers(len(ys))
    return np.array([ys[i], xs[i]], dtype=np.float64)


def _defect(kind: str, rng: np.random.Generator, img: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size = img.shape[0]
    s = size / 128.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    c = _pick_centre(rng, region, int(16 * s))
    out = img.copy()
    if kind == "scratch":
        ang = rng.uniform(0, np.pi)
        half = rng.uniform(12, 24) * s * np.array([np.sin(ang), np.cos(ang)])
        mask = _segment_dist(yy, xx, c - half, c + half) < 1.3 * s
        out[mask] = np.array([0.97, 0.97, 0.92])
    elif kind == "hole":
        mask = np.hypot(yy - c[0], xx - c[1]) < rng.uniform(4, 7) * s
        out[mask] = 0.02
    elif kind == "stain":
        radius = rng.uniform(7, 12) * s
        wobble = 1 + 0.3 * (_smooth_noise(rng, size, 4) - 0.5)
        mask = np.hypot((yy - c[0]) / wobble, (xx - c[1]) * 0.8) < radius
        colour = np.array([0.75, 0.2, 0.15]) + rng.uniform(-0.05, 0.05, 3)
        out[mask] = 0.3 * out[mask] + 0.7 * colour
    elif kind == "crack":
        mask = np.zeros((size, size), bool)
        p = c.copy()
        ang = rng.uniform(0, 2 * np.pi)
        for _ in range(8):
            ang += rng.uniform(-0.7, 0.7)
            q = p + rng.uniform(3, 6) * s * np.array([np.sin(ang), np.cos(ang)])
            mask |= _segment_dist(yy, xx, p, q) < 1.0 * s
            p = q
        out[mask] = 0.05
    else:
        raise ValueError(f"unknown synthetic defect {kind!r}")
    return np.clip(out, 0, 1), mask


# -- writing the tree ------------------------------------------------------------------
def _to_png(arr: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((np.clip(arr, 0, 1) * 255).round().astype(np.uint8)).save(path)


def generate_category(
    root: Path, category: str, *, seed: int, size: int, n_train: int, n_test_good: int, n_per_defect: int
) -> None:
    """Write one category in the MVTec AD layout under ``root/category``."""
    make = NORMALS[category]
    cat_id = list(CATEGORIES).index(category)

    def rng(split: int, i: int) -> np.random.Generator:
        return np.random.default_rng([seed, cat_id, split, i])

    for i in range(n_train):
        img, _ = make(rng(0, i), size)
        _to_png(img, root / category / "train" / "good" / f"{i:03d}.png")
    for i in range(n_test_good):
        img, _ = make(rng(1, i), size)
        _to_png(img, root / category / "test" / "good" / f"{i:03d}.png")
    for d, kind in enumerate(DEFECTS):
        for i in range(n_per_defect):
            r = rng(2 + d, i)
            img, region = make(r, size)
            img, mask = _defect(kind, r, img, region)
            _to_png(img, root / category / "test" / kind / f"{i:03d}.png")
            _to_png(mask.astype(np.float64), root / category / "ground_truth" / kind / f"{i:03d}_mask.png")


def ensure_generated(root: Path, *, categories: list[str], seed: int, size: int, n_train: int,
                     n_test_good: int, n_per_defect: int) -> Path:
    """Generate the tree once into ``root/<fingerprint>`` and return that folder.

    The folder name fingerprints every generator setting, so a changed setting creates a
    new tree instead of mixing old and new images. Writing goes to a temporary folder that
    is renamed into place, so an interrupted generation never leaves a half-written tree.
    """
    settings = dict(version=GENERATOR_VERSION, seed=seed, size=size, n_train=n_train,
                    n_test_good=n_test_good, n_per_defect=n_per_defect)
    name = "v{version}-s{seed}-px{size}-n{n_train}-{n_test_good}-{n_per_defect}".format(**settings)
    target = root / name
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / ".lock")):  # two runs starting together generate once
        for category in categories:
            if not (target / category / ".complete").exists():
                _generate_into(target, category, settings)
    return target


def _generate_into(target: Path, category: str, settings: dict) -> None:
    """Write one category to a temporary folder, then rename it into place."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown synthetic category {category!r}; known: {', '.join(CATEGORIES)}")
    counts = {k: settings[k] for k in ("n_train", "n_test_good", "n_per_defect")}
    tmp = Path(tempfile.mkdtemp(prefix=f".{category}-", dir=target))
    generate_category(tmp, category, seed=settings["seed"], size=settings["size"], **counts)
    (tmp / category / ".complete").write_text(json.dumps(settings))
    final = target / category
    if final.exists():  # a stale, incomplete tree from an interrupted run
        shutil.rmtree(final)
    os.replace(tmp / category, final)
    shutil.rmtree(tmp, ignore_errors=True)
