"""Defect-free images of the synthetic data set, with photographic statistics.

Each generator returns a :class:`Surface`: the albedo (what defects change), the region a
defect may sit on, and the light that multiplies it. Textures are built from 1/f noise,
oriented fibres and grain; every image gets a lighting gradient, a small shift (a random
phase or offset), sensor noise and a slight optical blur, so that no two normal images are
alike and a method must learn the distribution, not one template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter


@dataclass
class Surface:
    """One image before its exposure: ``albedo`` (H,W,3) in [0,1], ``region`` (H,W) bool
    where defects may be placed, ``light`` (H,W) the multiplicative illumination.

    Objects also keep what a defect needs to undo parts of them: ``background`` (the albedo
    without the object), ``unprinted`` (the albedo without the print), ``prints`` (soft masks
    of the printed strokes) and ``print_colour``.
    """

    albedo: np.ndarray
    region: np.ndarray
    light: np.ndarray
    background: np.ndarray | None = None
    unprinted: np.ndarray | None = None
    prints: list[np.ndarray] = field(default_factory=list)
    print_colour: np.ndarray | None = None

    def expose(self, rng: np.random.Generator) -> np.ndarray:
        """Light, blur and sensor noise: the photograph of this surface, in [0,1]."""
        img = self.albedo * self.light[..., None]
        sigma = 0.5 * self.albedo.shape[0] / 128
        img = gaussian_filter(img, sigma=(sigma, sigma, 0))
        img = img + rng.normal(0, 0.012, img.shape)
        return np.clip(img, 0, 1)


# -- building blocks -------------------------------------------------------------------
def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(y, x)`` in pixels, float64."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    return yy, xx


def pink_noise(rng: np.random.Generator, size: int, beta: float = 1.0, stretch: float = 1.0,
               angle: float = 0.0, cutoff: float = 0.0) -> np.ndarray:
    """Zero-mean, unit-std noise with a 1/f^beta amplitude spectrum.

    ``stretch`` > 1 elongates the structures along ``angle`` (fibres, brushing marks);
    ``cutoff`` removes frequencies below it (cycles per image), leaving fine grain only.
    """
    fy = np.fft.fftfreq(size)[:, None] * size
    fx = np.fft.fftfreq(size)[None, :] * size
    c, s = np.cos(angle), np.sin(angle)
    along, across = fx * c + fy * s, -fx * s + fy * c
    f = np.hypot(along * stretch, across)
    amp = np.where(f > max(cutoff, 0.5), 1.0 / np.maximum(f, 1e-6) ** beta, 0.0)
    spectrum = amp * (rng.normal(size=(size, size)) + 1j * rng.normal(size=(size, size)))
    field_ = np.fft.ifft2(spectrum).real
    return (field_ - field_.mean()) / (field_.std() + 1e-12)


def lighting(rng: np.random.Generator, size: int, strength: float = 0.12) -> np.ndarray:
    """A smooth illumination field around 1: a random linear gradient plus a soft hot spot."""
    yy, xx = grid(size)
    ang = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(ang) * (xx / size - 0.5) + np.sin(ang) * (yy / size - 0.5)) * strength * rng.uniform(0.5, 1.5)
    cy, cx = rng.uniform(0.2, 0.8, 2) * size
    spot = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * (0.35 * size) ** 2)) * strength * rng.uniform(0.2, 0.6)
    return rng.uniform(0.94, 1.06) * (1 + ramp + spot)


def colour_map(v: np.ndarray, dark: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Map ``v`` in [0,1] linearly between two RGB colours."""
    v = np.clip(v, 0, 1)[..., None]
    return dark * (1 - v) + light * v


def _jitter(rng: np.random.Generator, colour: tuple[float, float, float], amount: float = 0.02) -> np.ndarray:
    return np.clip(np.asarray(colour) + rng.uniform(-amount, amount, 3), 0, 1)


# -- textures ---------------------------------------------------------------------------
def fabric(rng: np.random.Generator, size: int) -> Surface:
    """A plain weave: warp and weft threads of jittered width, fibre noise along each thread."""
    yy, xx = grid(size)
    ang = rng.uniform(-0.04, 0.04)  # the cloth lies almost, never exactly, straight
    u = xx * np.cos(ang) + yy * np.sin(ang) + rng.uniform(0, 64)
    v = -xx * np.sin(ang) + yy * np.cos(ang) + rng.uniform(0, 64)
    period = 7.0 * size / 128
    iu, iv = np.floor(u / period), np.floor(v / period)
    fu, fv = u / period - iu, v / period - iv
    warp = np.sin(np.pi * fu) ** 0.6  # the round profile of one thread
    weft = np.sin(np.pi * fv) ** 0.6
    over = ((iu + iv) % 2) == 0
    fibre_u = pink_noise(rng, size, 1.2, stretch=6.0, angle=np.pi / 2 + ang)
    fibre_v = pink_noise(rng, size, 1.2, stretch=6.0, angle=ang)
    val = np.where(over, 0.35 + 0.5 * weft + 0.08 * fibre_u, 0.3 + 0.5 * warp + 0.08 * fibre_v)
    val += 0.06 * pink_noise(rng, size, 1.4)  # dye unevenness
    albedo = colour_map(val, _jitter(rng, (0.10, 0.13, 0.22)), _jitter(rng, (0.55, 0.62, 0.80)))
    return Surface(albedo, np.ones((size, size), bool), lighting(rng, size))


def wood(rng: np.random.Generator, size: int) -> Surface:
    """Growth rings bent by low-frequency noise, with fine pores along the grain."""
    yy, xx = grid(size)
    cy = rng.uniform(-3.0, -1.5) * size  # the trunk's centre lies far outside the board
    cx = rng.uniform(0.3, 0.7) * size
    r = np.hypot(yy - cy, (xx - cx) * 0.25)
    r += 4.0 * size / 128 * pink_noise(rng, size, 2.0)
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * r / (9.0 * size / 128))
    rings = rings ** 2.5  # narrow latewood bands
    pores = pink_noise(rng, size, 0.8, stretch=10.0, angle=0.0, cutoff=6)
    val = 0.55 + 0.3 * rings + 0.05 * pores + 0.05 * pink_noise(rng, size, 1.6)
    albedo = colour_map(val, _jitter(rng, (0.30, 0.16, 0.07)), _jitter(rng, (0.92, 0.68, 0.42)))
    return Surface(albedo, np.ones((size, size), bool), lighting(rng, size, 0.15))


def metal(rng: np.random.Generator, size: int) -> Surface:
    """Brushed metal: long streaks along one direction, mottling, and a specular band."""
    yy, xx = grid(size)
    ang = rng.uniform(-0.06, 0.06)
    brush = pink_noise(rng, size, 1.0, stretch=25.0, angle=ang, cutoff=3)
    mottle = pink_noise(rng, size, 2.2)
    val = 0.55 + 0.07 * brush + 0.05 * mottle
    albedo = np.repeat(val[..., None], 3, axis=-1) * _jitter(rng, (0.93, 0.95, 1.0), 0.015)
    band_pos = rng.uniform(0.2, 0.8) * size
    band = 0.18 * np.exp(-((yy + 0.3 * xx - band_pos) ** 2) / (2 * (0.18 * size) ** 2))
    return Surface(np.clip(albedo, 0, 1), np.ones((size, size), bool), lighting(rng, size, 0.1) + band)


# -- object -----------------------------------------------------------------------------
def _rotated(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ang: float) -> tuple[np.ndarray, np.ndarray]:
    dy, dx = yy - cy, xx - cx
    return dy * np.cos(ang) - dx * np.sin(ang), dy * np.sin(ang) + dx * np.cos(ang)


def soft_inside(d: np.ndarray, width: float) -> np.ndarray:
    """Soft inside-ness of a signed distance (negative inside), over ``width`` pixels."""
    return np.clip(0.5 - d / max(width, 1e-6), 0, 1)


def _box(py: np.ndarray, px: np.ndarray, y0: float, x0: float, h: float, w: float, px_size: float) -> np.ndarray:
    d = np.maximum(np.abs(py - y0) - h / 2, np.abs(px - x0) - w / 2)
    return soft_inside(d, px_size)


PRINT_STROKES = (  # a two-letter mark "HD" in the pill's frame: (y, x, height, width) as fractions of the image
    (0.0, -0.15, 0.14, 0.022), (0.0, -0.05, 0.14, 0.022), (0.0, -0.10, 0.022, 0.10),
    (0.0, 0.05, 0.14, 0.022), (-0.06, 0.09, 0.022, 0.08), (0.06, 0.09, 0.022, 0.08), (0.0, 0.13, 0.10, 0.022),
)


def pill(rng: np.random.Generator, size: int) -> Surface:
    """A capsule-shaped tablet with speckles and a printed mark, on a textured tray.

    Pose jitter: rotation of up to ±1.5° and a shift of up to 1 % of the image (an aligned part
    on a fixture, as MVTec AD's pill; larger jitter made the category a test of pose alone); illumination
    jitter comes from :func:`lighting` and a per-image exposure.
    """
    yy, xx = grid(size)
    k = size / 128
    tray = 0.22 + 0.03 * pink_noise(rng, size, 1.5)
    background = colour_map(tray, np.array([0.1, 0.1, 0.11]), np.array([0.5, 0.5, 0.52]))
    cy, cx = size / 2 + rng.uniform(-0.01, 0.01, 2) * size
    ang = rng.uniform(-0.026, 0.026)
    py, px = _rotated(yy, xx, cy, cx, ang)
    half_len, radius = 0.36 * size, 0.17 * size
    axis = np.clip(px, -(half_len - radius), half_len - radius)
    d = np.hypot(py, px - axis) - radius  # signed distance to the capsule's outline
    body = soft_inside(d, 0.8 * k)
    bulge = np.sqrt(np.clip(1 - (np.hypot(py, px - axis) / radius) ** 2, 0, 1))
    speckle = (pink_noise(rng, size, 0.3, cutoff=20) > 2.1).astype(np.float64)
    base = colour_map(0.85 + 0.1 * bulge - 0.05 * pink_noise(rng, size, 2.0), np.array([0.5, 0.45, 0.4]),
                      _jitter(rng, (0.97, 0.94, 0.88), 0.015))
    base = base * (1 - 0.6 * speckle[..., None] * np.array([0.1, 0.7, 0.7]))
    unprinted = background * (1 - body[..., None]) + base * body[..., None]
    ink = _jitter(rng, (0.55, 0.08, 0.1), 0.03)
    prints = [_box(py, px, y * size, x * size, h * size, w * size, 0.8 * k) * body
              for y, x, h, w in PRINT_STROKES]
    albedo = unprinted.copy()
    for a in prints:
        albedo = albedo * (1 - a[..., None]) + ink * a[..., None]
    return Surface(albedo, body > 0.5, lighting(rng, size, 0.1), background=background,
                   unprinted=unprinted, prints=prints, print_colour=ink)


NORMALS = {"fabric": fabric, "wood": wood, "metal": metal, "pill": pill}
