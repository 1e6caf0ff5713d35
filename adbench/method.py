"""The method contract every plugin implements (docs/architecture.md, "The method contract").

A method is built from a config (its profile's hyper-parameters plus overrides) and a
:class:`RunContext`; ``fit`` trains it; ``model`` returns the *whole* inference pipeline as
one ``nn.Module`` mapping images ``(B,3,H,W)`` float in ``[0, 1]`` to an
:class:`AnomalyOutput`. Metrics, latency, FLOPs, memory and ONNX all use that same module,
so the timed network is exactly the one that produced the scores.
"""

from __future__ import annotations

import copy
import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Iterator, NamedTuple

from .typecheck import check

if TYPE_CHECKING:  # torch loads when a method is built, not when plugins are listed
    import torch
    from torch import nn

PROFILES: tuple[str, ...] = ("smoke", "quick", "paper")
TRACKS: tuple[str, ...] = ("unsupervised", "supervised")
#: how closely a method's ``paper`` profile follows its publication (docs/architecture.md,
#: "Fidelity"): the publication or the authors' code; a reading of choices the publication
#: leaves open (marked † in reports); another network standing in (‡)
FIDELITY: tuple[str, ...] = ("faithful", "reading", "substitute")


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


#: the largest input side a profile or ``--set image_size=`` may ask for: above it one image
#: alone fills gigabytes, and a cell would fail late with a MemoryError instead of up front
MAX_IMAGE_SIZE = 8192


class MethodConfig(Mapping[str, Any]):
    """A profile's hyper-parameters after overrides: typed attributes for the keys the core
    reads, and every key by name (``cfg["width"]`` or ``cfg.width``).

    The core reads ``image_size`` (square input side; the data are resized to it once),
    ``eval_batch_size`` (images per forward pass when predicting the test set, default 16)
    ``epochs`` (the training budget, when the method trains by epochs) and ``batch_size``. A
    plugin subclasses it with its own annotated keys and sets ``Method.config_class``; every
    annotated key is then required (unless the class gives a default) and checked when a
    profile is built (:mod:`adbench.typecheck`; a ``Literal[...]`` lists the allowed values),
    and the contract test fails on a profile key that no annotation declares. So a typo or an
    unknown choice fails before a run starts, never in the middle of one.
    """

    image_size: int
    eval_batch_size: int = 16
    epochs: int | None = None
    #: the training batch (the cost profile measures memory at it)
    batch_size: int | None = None

    def __init__(self, values: Mapping[str, Any]):
        data = dict(values)
        for key, kind in _typed_keys(type(self)).items():
            if key in data:
                check(type(self).__name__, key, data[key], kind)  # adbench.typecheck: the one checker
            elif not hasattr(type(self), key):
                raise ValueError(f"{type(self).__name__}: the profile has no {key!r} (required)")
        size = data.get("image_size")
        if isinstance(size, int) and not 1 <= size <= MAX_IMAGE_SIZE:
            raise ValueError(f"image_size={size}: the input side must lie in 1..{MAX_IMAGE_SIZE} px (one "
                             f"{MAX_IMAGE_SIZE}² RGB image is {3 * 4 * MAX_IMAGE_SIZE ** 2 / 2 ** 30:.1f} GiB as float32); "
                             f"MVTec AD's own images are at most 1024 px")
        object.__setattr__(self, "_data", data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __getattribute__(self, key: str) -> Any:
        # a typed key set by the profile wins over the class default
        if not key.startswith("_") and key in _typed_keys(type(self)):
            data = object.__getattribute__(self, "_data")
            if key in data:
                return data[key]
        return object.__getattribute__(self, key)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["_data"][key]
        except KeyError:
            raise AttributeError(f"config has no hyper-parameter {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("a MethodConfig is read-only; use --set or Method.config_for(overrides=...)")

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> "MethodConfig":
        return type(self)(copy.deepcopy(self._data, memo))

    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-ready copy (what the row stores under ``config``)."""
        return copy.deepcopy(self._data)


@functools.lru_cache(maxsize=None)
def _typed_keys(cls: type) -> dict[str, Any]:
    """The annotated keys of a config class and its bases."""
    return {k: v for k, v in typing.get_type_hints(cls).items() if not k.startswith("_")}


class Method:
    """Base class of every anomaly-detection method.

    Subclasses set ``name``, ``profiles`` (hyper-parameters for ``smoke``/``quick``/``paper``,
    each with at least ``image_size``; see :class:`MethodConfig`), and implement
    ``build_model`` (the untrained inference pipeline) and ``fit``. ``model()`` returns the
    one pipeline, built on first use, that ``fit`` trains and the protocol scores and profiles.
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
    #: citation of the published method (recorded in every row, shown by the report)
    paper: ClassVar[str] = ""
    #: the name tables and figures show ("VT-ADL"); empty: ``name``
    display_name: ClassVar[str] = ""
    #: one BibTeX entry of the publication: LaTeX tables ``\\citep`` its key, and the report writes
    #: it to ``references.bib`` (empty: nothing to cite, e.g. a reference baseline)
    bibtex: ClassVar[str] = ""
    #: notes the report prints under a metric's table, keyed by metric name (e.g. what the
    #: method's paper calls that metric); recorded in every row of the method
    notes: ClassVar[dict[str, str]] = {}
    #: one of :data:`FIDELITY`; recorded in every row, and reports mark readings and substitutes
    fidelity: ClassVar[str] = "faithful"
    #: the TOML file of the numbers the publication reports (:mod:`adbench.published`); a row
    #: carries those of its data set, and the report sets them beside the run's own
    published_file: ClassVar[str | None] = None
    profiles: ClassVar[dict[str, dict[str, Any]]] = {}
    #: the typed config the profiles are checked against and built into
    config_class: ClassVar[type[MethodConfig]] = MethodConfig
    #: why ``adbench run all`` leaves this method out (empty: it is part of ``all``); such a
    #: method runs when named, e.g. one whose ``quick`` profile needs a GPU to be quick
    left_out_of_all: ClassVar[str] = ""
    #: True when the pipeline's cost depends on what ``fit`` stored (a memory bank whose size
    #: follows the training set): costs are then profiled on each cell's fitted model, keyed by
    #: :meth:`fitted_state` (docs/architecture.md, "Costs of fitted state")
    costs_after_fit: ClassVar[bool] = False

    def __init__(self, cfg: Mapping[str, Any], ctx: RunContext):
        self.cfg = cfg if isinstance(cfg, self.config_class) else self.config_class(cfg)
        self.ctx = ctx
        self._model: nn.Module | None = None

    # -- configuration -------------------------------------------------------------
    @classmethod
    def config_for(cls, profile: str, overrides: dict[str, Any] | None = None) -> MethodConfig:
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
        return cls.config_class(cfg)

    @property
    def input_size(self) -> int:
        """Square input side in pixels; the data are resized to it once, before ``fit``."""
        return self.cfg.image_size

    @classmethod
    def required_weights(cls, cfg: MethodConfig) -> list[Any]:
        """The published pretrained weights (:class:`adbench.weights.Weights`) that building
        this configuration loads; none by default. The runner checks that each is cached
        before it loads any data, and ``adbench weights download`` fetches them."""
        return []

    def fitted_state(self) -> dict[str, Any]:
        """The shapes of what ``fit`` stored that the cost depends on, e.g. ``{"memory_bank":
        [16384, 384]}``. Read only when :attr:`costs_after_fit` is set; recorded in the row and
        part of the cost cache key, so two categories with different banks never share costs."""
        return {}

    # -- the contract ----------------------------------------------------------------
    def build_model(self) -> nn.Module:
        """The whole inference pipeline, untrained. Called once, by the first ``model()``."""
        raise NotImplementedError(f"method {self.name!r} implements neither build_model() nor model()")

    def fit(self, train: TrainData) -> FitReport:
        raise NotImplementedError

    def model(self) -> nn.Module:
        """The one pipeline ``fit`` trains and the protocol scores and profiles (built on first use)."""
        if self._model is None:
            self._model = self.build_model()
        return self._model

    def build(self) -> None:
        """Build the pipeline now, if the method implements ``build_model`` (the cell runner
        calls this right after seeding, so initial weights depend on the seed alone). A method
        that overrides ``model()`` itself builds whenever it chooses."""
        cls = type(self)
        if cls.build_model is not Method.build_model and cls.model is Method.model:
            self.model()

    # -- optional checkpointing --------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the fitted model; default: ``model().state_dict()``."""
        return self.model().state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model().load_state_dict(state)


def _coerce(value: Any, like: Any) -> Any:
    """Convert a command-line string to the type of the profile's default."""
    if not isinstance(value, str) or isinstance(like, str) or not isinstance(like, (bool, int, float)):
        return value
    from .config import parse_text

    kind = bool if isinstance(like, bool) else int if isinstance(like, int) else float
    try:
        return parse_text(value, kind)
    except ValueError:
        if kind is bool:
            raise ValueError(f"expected a boolean, got {value!r}") from None
        raise ValueError(f"expected {'an integer' if kind is int else 'a number'} (like the profile's {like!r}), "
                         f"got {value!r}") from None
