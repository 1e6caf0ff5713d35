"""Train/test splits of both tracks (docs/architecture.md, "Splits").

unsupervised: train = ``train/good``; test = the whole test split.
supervised: a seeded, stratified draw moves ``k`` anomalous test images per defect type (or
a fraction ``anomaly_ratio`` of each defect type, at least one) into training and evaluates
on the rest. The draw depends only on (category files, seed, k/ratio), never on the method,
so every method of a run sees the same split.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..data.sample import DatasetError, Sample


@dataclass
class Split:
    train: list[Sample]
    test: list[Sample]
    track: str
    description: dict

    def manifest(self) -> dict:
        """File lists that make the split reproducible exactly; stored next to the rows."""
        return {"track": self.track, **self.description,
                "train": [str(s.path) for s in self.train], "test": [str(s.path) for s in self.test]}


def unsupervised_split(train: list[Sample], test: list[Sample]) -> Split:
    return Split([s for s in train if s.label == 0], list(test), "unsupervised", {})


def supervised_split(train: list[Sample], test: list[Sample], *, seed: int, category: str,
                     k: int | None = 5, ratio: float | None = None) -> Split:
    """Move anomalies into training, stratified by defect type; too few anomalies is an error."""
    by_defect: dict[str, list[Sample]] = defaultdict(list)
    for s in test:
        if s.label == 1:
            by_defect[s.defect_type].append(s)
    if not by_defect:
        raise DatasetError(f"category {category!r} has no anomalous test images; the supervised "
                           f"track needs some to train on")
    if ratio is not None and not 0 < ratio < 1:
        raise ValueError(f"--anomaly-ratio must be in (0, 1), got {ratio}")
    moved: list[Sample] = []
    for defect in sorted(by_defect):
        items = sorted(by_defect[defect], key=lambda s: str(s.path))
        want = max(1, math.floor(ratio * len(items))) if ratio is not None else int(k or 0)
        if want >= len(items):
            raise DatasetError(
                f"category {category!r}, defect type {defect!r}: {len(items)} anomalous images, "
                f"cannot move {want} into training and still evaluate on it; use a smaller "
                f"--k-anomalies or --anomaly-ratio")
        digest = hashlib.sha256(f"{seed}|{category}|{defect}".encode()).digest()
        rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
        moved.extend(items[i] for i in sorted(rng.choice(len(items), size=want, replace=False)))
    moved_set = {s.path for s in moved}
    desc = {"k_anomalies": k if ratio is None else None, "anomaly_ratio": ratio,
            "moved": {d: sum(s.defect_type == d for s in moved) for d in sorted(by_defect)}}
    return Split([s for s in train if s.label == 0] + moved,
                 [s for s in test if s.path not in moved_set], "supervised", desc)
