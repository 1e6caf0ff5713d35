"""Train/test splits of both tracks (docs/architecture.md, "Splits").

unsupervised: train = ``train/good``; test = the whole test split.
supervised: a seeded, stratified draw moves ``k`` anomalous test images per defect type (or
a fraction ``anomaly_ratio`` of each defect type, at least one) into training and evaluates
on the rest. The draw depends only on (category files, seed, k/ratio), never on the method,
so every method of a run sees the same split.

validation (both tracks): the data set's own normal validation images, or on request a seeded
fraction of ``train/good`` held out of training (:func:`with_validation`); they only set the
operating point of the threshold metrics.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

import numpy as np

from ..data.sample import DatasetError, Sample


@dataclass
class Split:
    train: list[Sample]
    test: list[Sample]
    track: str
    description: dict
    #: normal images that set the operating point of the threshold metrics, never trained on
    validation: list[Sample] = field(default_factory=list)

    def manifest(self) -> dict:
        """File lists that make the split reproducible exactly; stored next to the rows."""
        out = {"track": self.track, **self.description,
               "train": [str(s.path) for s in self.train], "test": [str(s.path) for s in self.test]}
        if self.validation:
            out["validation"] = [str(s.path) for s in self.validation]
        return out


def with_validation(split: Split, declared: list[Sample], *, fraction: float | None, seed: int,
                    category: str) -> Split:
    """The split with its normal validation images: the data set's own (``declared``) when it
    has them, else — only when asked — a seeded ``fraction`` of the normal training images,
    held out of training. ``description["validation"]`` says which."""
    if declared:
        return replace(split, validation=list(declared),
                       description={**split.description, "validation": "the data set's validation/good"})
    if fraction is None:
        return split
    if not 0 < fraction < 1:
        raise ValueError(f"--validation-fraction must be in (0, 1), got {fraction}")
    normals = [s for s in split.train if s.label == 0]
    want = max(1, round(fraction * len(normals)))
    if want >= len(normals):
        raise DatasetError(f"category {category!r}: {len(normals)} normal training images, cannot hold out "
                           f"{want} for validation and still train; use a smaller --validation-fraction")
    held = _draw(normals, want, seed, f"{category}|validation")
    held_paths = {s.path for s in held}
    return replace(split, train=[s for s in split.train if s.path not in held_paths], validation=held,
                   description={**split.description,
                                "validation": f"{want} of {len(normals)} train/good images held out (fraction "
                                              f"{fraction}, seed {seed})"})


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
        items = by_defect[defect]
        want = max(1, math.floor(ratio * len(items))) if ratio is not None else int(k or 0)
        if want >= len(items):
            raise DatasetError(
                f"category {category!r}, defect type {defect!r}: {len(items)} anomalous images, "
                f"cannot move {want} into training and still evaluate on it; use a smaller "
                f"--k-anomalies or --anomaly-ratio")
        moved.extend(_draw(items, want, seed, f"{category}|{defect}"))
    moved_set = {s.path for s in moved}
    desc = {"k_anomalies": k if ratio is None else None, "anomaly_ratio": ratio,
            "moved": {d: sum(s.defect_type == d for s in moved) for d in sorted(by_defect)}}
    return Split([s for s in train if s.label == 0] + moved,
                 [s for s in test if s.path not in moved_set], "supervised", desc)


def _draw(items: list[Sample], k: int, seed: int, what: str) -> list[Sample]:
    """``k`` of ``items`` (sorted by path), seeded by (seed, what) alone: every method draws the
    same. The one seeded draw of every split: supervised anomalies, validation, shots, contamination."""
    ordered = sorted(items, key=lambda s: str(s.path))
    digest = hashlib.sha256(f"{seed}|{what}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
    return [ordered[i] for i in sorted(rng.choice(len(ordered), size=k, replace=False))]


def with_train_shots(split: Split, shots: int | None, *, seed: int, category: str) -> Split:
    """The few-shot setting: ``shots`` normal training images, a seeded draw; the rest unused."""
    if shots is None:
        return split
    normals = [s for s in split.train if s.label == 0]
    if not 1 <= shots <= len(normals):
        raise DatasetError(f"category {category!r}: --train-shots {shots} needs 1 to {len(normals)} normal "
                           f"training images (it has {len(normals)})")
    kept = {s.path for s in _draw(normals, shots, seed, f"{category}|shots")}
    return replace(split, train=[s for s in split.train if s.label != 0 or s.path in kept],
                   description={**split.description, "train_shots": shots})


def with_contamination(split: Split, ratio: float | None, *, seed: int, category: str) -> Split:
    """The noisy-training setting: anomalous test images, a seeded draw, moved into training so
    that a fraction ``ratio`` of it is anomalous, and handed to the method as normal (label 0,
    no mask: an unsupervised method is not told); the test set loses them."""
    if ratio is None:
        return split
    if not 0 < ratio < 1:
        raise ValueError(f"--train-contamination must be in (0, 1), got {ratio}")
    normals = [s for s in split.train if s.label == 0]
    anomalies = [s for s in split.test if s.label == 1]
    want = max(1, round(ratio / (1 - ratio) * len(normals)))
    if want >= len(anomalies):
        raise DatasetError(f"category {category!r}: contamination {ratio:g} of {len(normals)} normal training images "
                           f"needs {want} anomalous images, and the test set has {len(anomalies)} (some must stay "
                           f"to test on); use a smaller --train-contamination")
    moved = _draw(anomalies, want, seed, f"{category}|contamination")
    gone = {s.path for s in moved}
    hidden = [replace(s, label=0, defect_type="good", mask_path=None, defects_config=None) for s in moved]
    return replace(split, train=split.train + hidden, test=[s for s in split.test if s.path not in gone],
                   description={**split.description, "contamination": ratio,
                                "contaminated": [str(s.path) for s in moved]})
