"""The embedded synthetic data set: deterministic, complete, generated once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import binary_dilation
from PIL import Image

from adbench.data import defects, surfaces, synthetic
from adbench.data.adapters import Synthetic
from adbench.config import DatasetSpec

SETTINGS = dict(seed=3, size=48, n_train=3, n_test_good=2, n_per_defect=2)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_deterministic_for_a_seed(tmp_path: Path):
    a = synthetic.ensure_generated(tmp_path / "a", categories=["fabric", "pill"], **SETTINGS)
    b = synthetic.ensure_generated(tmp_path / "b", categories=["fabric", "pill"], **SETTINGS)
    assert _tree(a) == _tree(b) and len(_tree(a)) > 0
    c = synthetic.ensure_generated(tmp_path / "c", categories=["fabric"], **{**SETTINGS, "seed": 4})
    assert _tree(c)["fabric/train/good/000.png"] != _tree(a)["fabric/train/good/000.png"]


def test_categories_and_defects_with_masks(tmp_path: Path):
    kinds = list(synthetic.CATEGORIES.values())
    assert kinds.count("texture") >= 3 and kinds.count("object") >= 1
    root = synthetic.ensure_generated(tmp_path, categories=list(synthetic.CATEGORIES), **SETTINGS)
    for cat in synthetic.CATEGORIES:
        assert len(synthetic.defects_of(cat)) >= 5
        assert sorted(p.name for p in (root / cat / "test").iterdir()) == sorted(("good", *synthetic.defects_of(cat)))
        for defect in synthetic.defects_of(cat):
            for i in range(SETTINGS["n_per_defect"]):
                img = np.asarray(Image.open(root / cat / "test" / defect / f"{i:03d}.png"))
                mask = np.asarray(Image.open(root / cat / "ground_truth" / defect / f"{i:03d}_mask.png")) > 0
                assert img.shape == (48, 48, 3) and mask.shape == (48, 48)
                assert 0 < mask.sum() < 0.2 * mask.size, (cat, defect, i)


@pytest.mark.parametrize("category", list(synthetic.CATEGORIES))
def test_defect_mask_marks_what_changed(category: str):
    """Every defect changes the surface inside its mask; outside it only its soft edge may
    differ (an anti-aliased line, a lit rim, a stain's fading halo: at most 5 px at 128 px)."""
    for kind in synthetic.defects_of(category):
        for i in range(3):
            clean = surfaces.NORMALS[category](np.random.default_rng(i), 128)
            hurt = surfaces.NORMALS[category](np.random.default_rng(i), 128)
            mask = defects.apply(kind, np.random.default_rng([i, 1]), hurt)
            changed = np.abs(hurt.albedo - clean.albedo).max(axis=-1) > 0.02
            assert changed[mask].mean() > 0.5, (kind, i)
            near = binary_dilation(mask, iterations=5)
            assert changed[~near].sum() == 0, (kind, i)


def test_images_have_photographic_statistics():
    """Every category has a falling (about 1/f) power spectrum, and no two images are alike
    (textures shift, the object's pose and the lighting change)."""
    for category in synthetic.CATEGORIES:
        imgs = [surfaces.NORMALS[category](np.random.default_rng(i), 128).expose(np.random.default_rng(i))
                for i in range(2)]
        grey = imgs[0].mean(-1)
        power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
        f = np.hypot(*np.meshgrid(np.fft.fftfreq(128), np.fft.fftfreq(128)))
        low, high = power[(f > 0.02) & (f < 0.06)].mean(), power[(f > 0.25) & (f < 0.45)].mean()
        assert low > 20 * high, category  # white noise would give about 1
        assert np.abs(imgs[0] - imgs[1]).mean() > 0.01, category


@pytest.mark.parametrize("kind", ["chip", "misprint"])
def test_object_defects_refuse_a_texture_instead_of_drawing_something_else(kind: str):
    """A chip needs a background and a misprint a print; on a texture the generator stops
    rather than writing another defect into the ``kind`` folder."""
    surface = surfaces.NORMALS["wood"](np.random.default_rng(0), 64)
    with pytest.raises(ValueError, match=kind[:4]):
        defects.apply(kind, np.random.default_rng(1), surface)


def test_generator_version_is_in_the_cache_key(tmp_path: Path, monkeypatch):
    """A new generator writes a new tree instead of reusing images of the old one."""
    old = synthetic.ensure_generated(tmp_path, categories=["metal"], **SETTINGS)
    monkeypatch.setattr(synthetic, "GENERATOR_VERSION", synthetic.GENERATOR_VERSION + 1)
    new = synthetic.ensure_generated(tmp_path, categories=["metal"], **SETTINGS)
    assert old != new and old.name.startswith(f"v{synthetic.GENERATOR_VERSION - 1}-")


def test_generated_once(tmp_path: Path):
    root = synthetic.ensure_generated(tmp_path, categories=["wood"], **SETTINGS)
    stamp = (root / "wood" / "train" / "good" / "000.png").stat().st_mtime_ns
    again = synthetic.ensure_generated(tmp_path, categories=["wood"], **SETTINGS)
    assert again == root
    assert (root / "wood" / "train" / "good" / "000.png").stat().st_mtime_ns == stamp


def test_adapter_reads_generated_tree(tmp_path: Path):
    spec = DatasetSpec("synthetic", "synthetic", root=str(tmp_path), categories=["metal"], image_size=48,
                       options={"n_train": 3, "n_test_good": 2, "n_per_defect": 2})
    ad = Synthetic(spec)
    train, test = ad.samples("metal", "train"), ad.samples("metal", "test")
    assert len(train) == 3 and all(s.label == 0 for s in train)
    assert sum(s.label for s in test) == 2 * len(synthetic.defects_of("metal"))
    assert all(s.mask_path is not None for s in test if s.label)
    assert ad.check("metal") == []
