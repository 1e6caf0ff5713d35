"""PatchCore's ``paper`` profile reproduces anomalib's published figure on one MVTec AD category
(``pytest -m slow``). Skipped with a message when anomalib, the data or the weights are absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

#: anomalib 2.7.0, models/image/patchcore/README.md, MVTec AD image AUROC, Wide ResNet-50 row
PUBLISHED_IMAGE_AUROC = {"bottle": 1.000, "carpet": 0.984, "grid": 0.959, "leather": 1.000, "tile": 1.000,
                         "wood": 0.989, "hazelnut": 1.000, "metal_nut": 0.994, "zipper": 0.982}
TOLERANCE = 0.02


def test_patchcore_paper_matches_anomalib_on_one_category(tmp_path, monkeypatch):
    pytest.importorskip("anomalib", reason="the anomalib extra is not installed")
    from adbench import registry

    # the user's real caches, not the empty ones tests/conftest.py gives the suite
    user = json.loads(os.environ.get("ADBENCH_TEST_USER_WEIGHT_CACHES", "{}"))
    for key, value in user.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)

    category = os.environ.get("ADBENCH_PATCHCORE_CATEGORY", "bottle")
    root = os.environ.get("MVTEC_AD_ROOT")
    if not root or not os.path.isdir(os.path.join(root, category)):
        pytest.skip(f"MVTEC_AD_ROOT does not hold {category}/: set it to the extracted MVTec AD folder")
    cls = registry.methods().get("anomalib_patchcore").obj
    [weights] = cls.required_weights(cls.config_for("paper"))
    if weights.cached() is None:
        pytest.skip(f"{weights.name} is not cached: run `adbench weights download anomalib_patchcore`")
    res = subprocess.run([sys.executable, "-m", "adbench", "run", "anomalib_patchcore", "--profile", "paper",
                          "--dataset", "mvtec_ad", "--category", category, "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=3600)
    assert res.returncode == 0, res.stderr[-3000:]
    [row] = [json.loads(p.read_text()) for p in (tmp_path / "cells").glob("*.json")]
    got = row["metrics"]["image_auroc"]
    assert abs(got - PUBLISHED_IMAGE_AUROC[category]) <= TOLERANCE, (category, got)
