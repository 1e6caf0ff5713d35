"""The method contract every plugin implements (DESIGN §4).

A method is built from a config (its profile's hyper-parameters plus overrides) and a
:class:`RunContext`; ``fit`` trains it; ``model`` returns the *whole* inference pipeline as
one ``nn.Module`` mapping images ``(B,3,H,W)`` float in ``[0, 1]`` to an
:class:`AnomalyOutput`. Metrics, latency, FLOPs, memory and ONNX all use that same module,
so the timed network is exactly the one that produced the scores.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, NamedTuple

if TYPE_CHECKING:  # torch loads when a method is built, not when plugins are listed
    import torch
    from torch import nn

PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
TRACKS: tuple[str, ...] = ("unsupervised", "supervised")


class AnomalyOutput(NamedTuple):
    """What ``model()(images)`` returns.

    ``image_scores``: float ``(B,)``, higher means more anomalous.
    ``anomaly_maps``: float ``(B,H,W)`` at the input resolution, or ``None`` for
    image-level methods.
    """

    image_scores: "torch.Tensor"
    anomaly_maps: "torch.Tensor | None" = None


@dataclass
class RunContext:
    """Where and how a method runs; built by the cell runner."""

    device: str = "cpu"
    seed: int = 0
    profile: str = "quick"
    #: "unsupervised" (train on normal images only) or "supervised" (some labelled anomalies)
    track: str = "unsupervised"
    work_dir: Path = field(default_factory=lambda: Path("."))
    log: Callable[[str], None] = lambda msg: None

    @property
    def torch_device(self) -> "torch.device":
        import torch

        return torch.device(self.device)


@dataclass
class TrainData:
    """Training split at the method's input size.

    ``images`` float32 ``(N,3,H,W)`` in ``[0,1]``; ``labels`` int64 ``(N,)`` (1 = anomalous;
    all zero in the unsupervised track); ``masks`` bool ``(N,H,W)`` (all False for normal
    images); ``defect_types`` one string per image (``"good"`` for normal ones).
    """

    images: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor
    defect_types: list[str]

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def normal(self) -> "TrainData":
        """The normal images only (what an unsupervised method may train on)."""
        keep = self.labels == 0
        return TrainData(
            self.images[keep],
            self.labels[keep],
            self.masks[keep],
            [d for d, k in zip(self.defect_types, keep.tolist()) if k],
        )


@dataclass
class FitReport:
    """What ``fit`` did: recorded in the row so a budget is never hidden."""

    epochs: int = 0
    steps: int = 0
    losses: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


class Method:
    """Base class of every anomaly-detection method.

    Subclasses set ``name``, ``profiles`` (hyper-parameters for ``smoke``/``quick``/``paper``,
    each with at least ``image_size``), and implement ``fit`` and ``model``.
    """

    name: ClassVar[str] = ""
    #: track used when the user does not pass ``--track``
    track: ClassVar[str] = "unsupervised"
    #: every track the method can run in
    tracks: ClassVar[tuple[str, ...]] = ("unsupervised",)
    #: False for image-level methods whose ``anomaly_maps`` is None
    produces_maps: ClassVar[bool] = True
    #: one line for ``adbench list methods``
    description: ClassVar[str] = ""
    #: citation of the published method
    paper: ClassVar[str] = ""
    profiles: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, cfg: dict[str, Any], ctx: RunContext):
        self.cfg = dict(cfg)
        self.ctx = ctx

    # -- configuration -------------------------------------------------------------
    @classmethod
    def config_for(cls, profile: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The profile's hyper-parameters with ``overrides`` applied (unknown keys rejected)."""
        if profile not in cls.profiles:
            raise ValueError(
                f"method {cls.name!r} has no profile {profile!r}; it has: "
                f"{', '.join(cls.profiles)}"
            )
        cfg = copy.deepcopy(cls.profiles[profile])
        for key, value in (overrides or {}).items():
            if key not in cfg:
                raise ValueError(
                    f"method {cls.name!r} has no hyper-parameter {key!r} in profile "
                    f"{profile!r}; known: {', '.join(sorted(cfg))}"
                )
            cfg[key] = _coerce(value, cfg[key])
        return cfg

    @property
    def input_size(self) -> int:
        """Square input side in pixels; the data are resized to it once, before ``fit``."""
        return int(self.cfg["image_size"])

    # -- the contract ----------------------------------------------------------------
    def fit(self, train: TrainData) -> FitReport:
        raise NotImplementedError

    def model(self) -> nn.Module:
        raise NotImplementedError

    # -- optional checkpointing --------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the fitted model; default: ``model().state_dict()``."""
        return self.model().state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model().load_state_dict(state)


def _coerce(value: Any, like: Any) -> Any:
    """Convert a command-line string to the type of the profile's default."""
    if not isinstance(value, str) or isinstance(like, str):
        return value
    if isinstance(like, bool):
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected a boolean, got {value!r}")
    kind = "an integer" if isinstance(like, int) else "a number" if isinstance(like, float) else None
    if kind is None:
        return value
    try:
        return int(value) if isinstance(like, int) else float(value)
    except ValueError:
        raise ValueError(f"expected {kind} (like the profile's {like!r}), got {value!r}") from None
