"""The embedded synthetic data set: deterministic, complete, generated once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from adbench.data import synthetic
from adbench.data.adapters import Synthetic
from adbench.config import DatasetSpec

SETTINGS = dict(seed=3, size=48, n_train=3, n_test_good=2, n_per_defect=2)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_deterministic_for_a_seed(tmp_path: Path):
    a = synthetic.ensure_generated(tmp_path / "a", categories=["weave", "disc"], **SETTINGS)
    b = synthetic.ensure_generated(tmp_path / "b", categories=["weave", "disc"], **SETTINGS)
    assert _tree(a) == _tree(b) and len(_tree(a)) > 0
    c = synthetic.ensure_generated(tmp_path / "c", categories=["weave"], **{**SETTINGS, "seed": 4})
    assert _tree(c)["weave/train/good/000.png"] != _tree(a)["weave/train/good/000.png"]


def test_categories_and_defects_with_masks(tmp_path: Path):
    kinds = set(synthetic.CATEGORIES.values())
    assert list(synthetic.CATEGORIES.values()).count("texture") >= 2
    assert list(synthetic.CATEGORIES.values()).count("object") >= 2 and kinds == {"texture", "object"}
    assert len(synthetic.DEFECTS) >= 3
    root = synthetic.ensure_generated(tmp_path, categories=list(synthetic.CATEGORIES), **SETTINGS)
    for cat in synthetic.CATEGORIES:
        for defect in synthetic.DEFECTS:
            for i in range(SETTINGS["n_per_defect"]):
                img = np.asarray(Image.open(root / cat / "test" / defect / f"{i:03d}.png"))
                mask = np.asarray(Image.open(root / cat / "ground_truth" / defect / f"{i:03d}_mask.png")) > 0
                assert img.shape == (48, 48, 3) and mask.shape == (48, 48)
                assert 0 < mask.sum() < 0.2 * mask.size, (cat, defect, i)


def test_defect_mask_marks_what_changed(tmp_path: Path):
    rng = np.random.default_rng(0)
    img, region = synthetic.NORMALS["grain"](rng, 64)
    out, mask = synthetic._defect("hole", rng, img, region)
    changed = np.abs(out - img).max(axis=-1) > 1e-6
    assert changed[~mask].sum() == 0 and changed[mask].mean() > 0.9


def test_generated_once(tmp_path: Path):
    root = synthetic.ensure_generated(tmp_path, categories=["grain"], **SETTINGS)
    stamp = (root / "grain" / "train" / "good" / "000.png").stat().st_mtime_ns
    again = synthetic.ensure_generated(tmp_path, categories=["grain"], **SETTINGS)
    assert again == root
    assert (root / "grain" / "train" / "good" / "000.png").stat().st_mtime_ns == stamp


def test_adapter_reads_generated_tree(tmp_path: Path):
    spec = DatasetSpec("synthetic", "synthetic", root=str(tmp_path), categories=["plate"], image_size=48,
                       options={"n_train": 3, "n_test_good": 2, "n_per_defect": 2})
    ad = Synthetic(spec)
    train, test = ad.samples("plate", "train"), ad.samples("plate", "test")
    assert len(train) == 3 and all(s.label == 0 for s in train)
    assert sum(s.label for s in test) == 2 * len(synthetic.DEFECTS)
    assert all(s.mask_path is not None for s in test if s.label)
    assert ad.check("plate") == []
