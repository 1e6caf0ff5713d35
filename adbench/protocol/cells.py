"""A cell is one (method, dataset, category, track, seed, profile) experiment; cells are independent.

A :class:`Cell` and a :class:`RunSpec` are everything needed to run one cell anywhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import DatasetSpec


#: where pixel metrics can be scored (docs/architecture.md, "Evaluation resolution")
EVAL_RESOLUTIONS = ("native", "input")


@dataclass(frozen=True)
class Cell:
    method: str
    dataset: str
    category: str
    track: str = "unsupervised"
    seed: int = 0
    profile: str = "quick"
    #: supervised track: anomalous images per defect type moved into training …
    k_anomalies: int | None = None
    #: … or the fraction of anomalous images moved (overrides k)
    anomaly_ratio: float | None = None
    overrides: tuple[tuple[str, Any], ...] = field(default_factory=tuple)
    #: where pixel metrics are scored: "native" (each test image's own mask size) or "input"
    #: (the method's input size); part of the key, so the two never share a row
    eval_resolution: str = "native"
    #: hold this fraction of ``train/good`` out as normal validation images (``--validation-fraction``),
    #: for a data set that declares no validation split; None: none held out
    validation_fraction: float | None = None
    #: AU-PRO integrated to these FPR limits as well (``--au-pro-limit``, a data set's
    #: ``au_pro_limits``), beyond the registered 0.3 and 0.05
    au_pro_limits: tuple[float, ...] = ()
    #: few-shot setting: train on this many normal images, a seeded draw (``--train-shots``)
    train_shots: int | None = None
    #: noisy-training setting: this fraction of the training set is anomalous test images, moved
    #: out of the test set and handed to the method as normal (``--train-contamination``)
    contamination: float | None = None

    @property
    def key(self) -> str:
        """Stable hash of the definition: the row's file name, so reruns find finished cells."""
        blob = json.dumps(self.definition(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def definition(self) -> dict[str, Any]:
        d = asdict(self)
        d["overrides"] = dict(self.overrides)
        if self.track != "supervised":
            d.pop("k_anomalies")
            d.pop("anomaly_ratio")
        for optional in ("validation_fraction", "train_shots", "contamination"):
            if d[optional] is None:  # the keys of cells without them stay those of earlier runs
                d.pop(optional)
        if not self.au_pro_limits:
            d.pop("au_pro_limits")
        else:
            d["au_pro_limits"] = list(self.au_pro_limits)
        return d

    @property
    def label(self) -> str:
        extra = ""
        if self.track == "supervised":
            extra = f" ratio={self.anomaly_ratio}" if self.anomaly_ratio is not None else f" k={self.k_anomalies}"
        if self.train_shots is not None:
            extra += f" {self.train_shots}-shot"
        if self.contamination is not None:
            extra += f" contamination={self.contamination:g}"
        return f"{self.method} · {self.dataset}/{self.category} · {self.track}{extra} · seed {self.seed}"


@dataclass
class RunSpec:
    """How this run's cells run: picklable, so a worker process or a Slurm job can run a cell from it."""

    run_dir: Path
    device: str
    catalogue: dict[str, "DatasetSpec"]
    force: bool = False
    #: the cells' time guard in seconds (``--cell-timeout``); None: the profile's default
    cell_timeout: float | None = None
    #: intra-op threads of the cost measurements; None: each process's own
    cost_threads: int | None = None
    #: keep every test image's map at native size (``--save-maps``)
    save_maps: bool = False
