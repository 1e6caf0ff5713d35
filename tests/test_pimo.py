"""AUPIMO against the official computation: anomalib 2.7's ``anomalib.metrics.pimo`` (the
``anomalib`` extra, which the README's test command installs), per image to 1e-6, and the same
refusals where the official code refuses."""

from __future__ import annotations

import numpy as np
import pytest

from adbench.metrics import MetricError
from adbench.metrics.pimo import FPR_BOUNDS, MIN_POINTS, NUM_THRESHOLDS, aupimo, aupimo_per_image

functional = pytest.importorskip("anomalib.metrics.pimo.functional", reason="the official AUPIMO ships with anomalib")
torch = pytest.importorskip("torch")


def official(maps: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, int]:
    """anomalib's per-image AUPIMO (NaN for normal images) and its number of integration points."""
    *_, aucs, points = functional.aupimo_scores(torch.from_numpy(maps), torch.from_numpy(masks.astype(bool)),
                                                num_thresholds=NUM_THRESHOLDS, fpr_bounds=FPR_BOUNDS)
    return aucs.numpy(), points


def scene(seed: int, n: int = 16, side: int = 160, dtype=np.float32, decimals: int | None = None):
    """Half normal, half anomalous images of Gaussian scores; each defect a raised rectangle."""
    rng = np.random.default_rng(seed)
    maps = rng.standard_normal((n, side, side)).astype(dtype)
    masks = np.zeros((n, side, side), bool)
    for i in range(n // 2, n):
        y, x = rng.integers(0, side - 12, 2)
        h, w = rng.integers(2, 12, 2)
        masks[i, y:y + h, x:x + w] = True
        maps[i][masks[i]] += rng.uniform(0.5, 4.0)
    if decimals is not None:
        maps = np.round(maps, decimals).astype(dtype)
    return maps, masks


@pytest.mark.parametrize("seed", range(2))
def test_per_image_aupimo_equals_anomalibs(seed):
    maps, masks = scene(seed)
    ours, points = aupimo_per_image(maps, masks)
    theirs, their_points = official(maps, masks)
    assert points == their_points > MIN_POINTS
    assert np.isnan(ours[:8]).all() and np.isnan(theirs[:8]).all()  # normal images get no value
    np.testing.assert_allclose(ours[8:], theirs[8:], atol=1e-6, rtol=0)
    assert aupimo(maps, masks) == pytest.approx(float(np.nanmean(theirs)), abs=1e-6)
    assert 0.0 < aupimo(maps, masks) < 1.0


def test_tied_and_float64_maps_agree_too():
    maps, masks = scene(7, decimals=2)  # thousands of tied scores
    np.testing.assert_allclose(aupimo_per_image(maps, masks)[0][8:], official(maps, masks)[0][8:], atol=1e-6)
    maps, masks = scene(8, dtype=np.float64)
    np.testing.assert_allclose(aupimo_per_image(maps, masks)[0][8:], official(maps, masks)[0][8:], atol=1e-6)


def test_the_official_refusals_are_refusals_here():
    """Constant normal maps (no threshold range), too few normal pixels to reach FPR 1e-5, and too
    few points in the FPR range (uniform scores: their top 1e-4 spans only ~27 of 300,000
    thresholds) are errors in the official code, and MetricErrors here (the row stores null with
    the reason)."""
    maps, masks = scene(1)
    maps[:8] = 0.5
    with pytest.raises(ValueError):
        official(maps, masks)
    with pytest.raises(MetricError, match="constant"):
        aupimo(maps, masks)
    rng = np.random.default_rng(2)
    maps = rng.random((8, 32, 32)).astype(np.float32)
    masks = np.zeros_like(maps, bool)
    masks[4:, 5:9, 5:9] = True
    with pytest.raises(ValueError, match="out of the range"):
        official(maps, masks)
    with pytest.raises(MetricError, match="outside the shared FPR's range"):
        aupimo(maps, masks)
    maps = rng.random((16, 160, 160)).astype(np.float32)
    masks = np.zeros_like(maps, bool)
    masks[8:, 5:15, 5:15] = True
    with pytest.raises(RuntimeError, match="enough points"):
        official(maps, masks)
    with pytest.raises(MetricError, match="thresholds fall in the FPR range"):
        aupimo(maps, masks)
    with pytest.raises(MetricError, match="at least one normal"):
        aupimo(maps[8:], masks[8:])


def test_images_of_different_sizes_share_a_mean_of_per_image_rates():
    """The shared FPR is a mean of per-image rates: cutting one normal image out of a larger
    map and scoring the same pixels as its own image changes the result only through that mean,
    which a direct computation from the definition reproduces."""
    maps, masks = scene(3, n=12, side=180)
    small = [m[:150, :] for m in maps[:6]] + list(maps[6:])
    small_masks = [g[:150, :] for g in masks[:6]] + list(masks[6:])
    ours, _ = aupimo_per_image(small, small_masks)
    thresholds = torch.linspace(min(float(m.min()) for m in small[:6]), max(float(m.max()) for m in small[:6]),
                                NUM_THRESHOLDS, dtype=torch.float32).numpy()
    shared = np.mean([(m.ravel()[:, None] >= thresholds[None, ::1000]).mean(axis=0) for m in small[:6]], axis=0)
    pooled = np.concatenate([m.ravel() for m in small[:6]])
    assert np.allclose(shared, (pooled[:, None] >= thresholds[None, ::1000]).mean(axis=0))  # equal sizes: pooled
    assert np.isfinite(ours[6:]).all() and np.isnan(ours[:6]).all()
    assert (0 <= ours[6:]).all() and (ours[6:] <= 1).all()
