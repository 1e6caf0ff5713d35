"""One generic adapter that runs an anomalib model under adbench's protocol.

A subclass names the anomalib class and which profile keys its constructor takes. The
adapter builds the Lightning module offline (:func:`offline_build`), with anomalib's own
input normalisation and no post-processor; it fits memory-bank models by one pass over the
normal training images then ``fit()`` (as anomalib's one-epoch Trainer does), and
gradient-trained ones with the module's own ``configure_optimizers`` and ``training_step``
for exactly ``epochs`` epochs. docs/architecture.md, "Wrapping another library's models".
"""

from __future__ import annotations

import contextlib
import warnings
from types import SimpleNamespace
from pathlib import Path
from typing import Any, ClassVar, Iterator

from adbench import FitReport, Method, TrainData

#: ImageNet backbones are loaded through ``adbench weights``; ``pretrained=false`` is random init
BACKBONE_RANDOM = "random"


class AnomalibMethod(Method):
    """An anomalib 2.7 model as an adbench method (see the module docstring)."""

    track = "unsupervised"
    tracks = ("unsupervised",)
    fidelity = "faithful"
    #: the class in ``anomalib.models``
    anomalib_class: ClassVar[str] = ""
    #: profile keys passed to that class's constructor (``pretrained`` becomes ``pre_trained``)
    init_keys: ClassVar[tuple[str, ...]] = ()
    #: fitted by one pass that fills a memory bank, then ``fit()`` (no gradient, no epochs)
    memory_bank: ClassVar[bool] = False
    #: the inner model's buffers that ``fit`` fills (their shapes are the row's ``fitted_state``)
    fitted_buffers: ClassVar[tuple[str, ...]] = ()
    #: anomalib's published MVTec AD averages (the model READMEs), loose targets
    published_file = str(Path(__file__).with_name("published.toml"))

    def __init__(self, cfg: Any, ctx: Any):
        super().__init__(cfg, ctx)
        self._module: Any = None  # the Lightning module; its ``.model`` is inside the pipeline

    @classmethod
    def required_weights(cls, cfg: Any) -> list[Any]:
        from adbench.weights import timm_weights

        return [timm_weights(cfg["backbone"])] if cfg.get("pretrained") else []

    # -- building ----------------------------------------------------------------------
    def _constructor_args(self) -> dict[str, Any]:
        args = {("pre_trained" if k == "pretrained" else k): self.cfg[k] for k in self.init_keys}
        return {k: tuple(v) if isinstance(v, list) and k != "layers" else v for k, v in args.items()}

    def build_model(self):
        import torch

        from adbench import weights

        with quiet():  # anomalib's import warns about its own deprecated modules
            import anomalib.models

        from .pipeline import AnomalibPipeline, load_backbone, normalization_of, offline_build

        cls = getattr(anomalib.models, self.anomalib_class)
        size = self.cfg.image_size
        pre = cls.configure_pre_processor(image_size=(size, size))
        with offline_build() as asked, quiet():
            module = cls(**self._constructor_args(), pre_processor=pre, post_processor=False, evaluator=False,
                         visualizer=False)
        self._adjust(module)
        files = self.required_weights(self.cfg)
        if files and asked:  # the backbones anomalib wanted pretrained (STFPM's teacher, …), from one file
            state = weights.load_state_dict(files[0], self.name)
            for _, backbone in asked:
                load_backbone(backbone, state, files[0].name)
        self._module = module
        pipeline = AnomalibPipeline(module.model, *normalization_of(pre))
        if self.memory_bank:
            pipeline.requires_grad_(False)  # nothing is trained: the backbone is a frozen feature extractor
            # a usable model before fit: the bank of one blank image (never profiled)
            self._fill_bank(pipeline, [torch.zeros(1, 3, size, size)])
        return pipeline

    def _adjust(self, module: Any) -> None:
        """Change the built Lightning module where a profile departs from anomalib (declared in the README)."""

    def backbone_weights(self) -> str:
        """What the row records for the backbone: the timm tag (its sha256 is in
        ``pretrained_weights``), or ``random``."""
        files = self.required_weights(self.cfg)
        return files[0].name if files else BACKBONE_RANDOM

    # -- fitting -----------------------------------------------------------------------
    def _fill_bank(self, pipeline: Any, batches: list[Any]) -> None:
        """One training-mode pass (the inner model stores embeddings), then the module's ``fit``."""
        import torch

        inner = pipeline.model
        for attr in ("embedding_store", "memory_bank"):  # forget a previous (or the blank) fill
            if isinstance(getattr(inner, attr, None), list):
                getattr(inner, attr).clear()
        inner.train()
        with torch.no_grad(), quiet():
            for x in batches:
                inner(x)
        with quiet(), no_progress_bars():  # anomalib 2.7's fit() trips its own deprecation warning
            self._module.fit()
        inner.eval()

    def fit(self, train: TrainData) -> FitReport:
        import time

        import torch

        from adbench.training import minibatches, seed_everything

        gen = seed_everything(self.ctx.seed)
        pipeline = self.model().to(self.ctx.device)
        images = train.normal.images
        if not self.memory_bank:
            return self._fit_by_gradient(pipeline, images, gen)
        start = time.perf_counter()
        batches = [pipeline.normalize(images[idx].to(self.ctx.device))
                   for idx in minibatches(len(images), self.cfg["batch_size"], gen, shuffle=False)]
        self._fill_bank(pipeline, batches)
        state = self.fitted_state()
        return FitReport(epochs=1, steps=len(batches), wall_s=time.perf_counter() - start,
                         notes={"backbone_weights": self.backbone_weights(), "fitted_state": state})

    def _fit_by_gradient(self, pipeline: Any, images: Any, gen: Any) -> FitReport:
        from adbench.training import train_epochs

        module = self._module
        optimizer, schedulers = _optimizers(module.configure_optimizers())
        module.train()
        device = self.ctx.device

        def step(idx):
            with quiet():  # training_step logs to a Trainer; there is none, the loss is in our report
                out = module.training_step(SimpleNamespace(image=pipeline.normalize(images[idx].to(device))))
            return out["loss"] if isinstance(out, dict) else out

        report = train_epochs(step, optimizer, len(images), epochs=self.cfg["epochs"],
                              batch_size=self.cfg["batch_size"], gen=gen,
                              on_epoch_end=lambda *_: [s.step() for s in schedulers])
        module.eval()
        pipeline.eval()
        report.notes.update(backbone_weights=self.backbone_weights(), optimizer=type(optimizer).__name__,
                            lr=optimizer.param_groups[0]["lr"])
        return report

    def fitted_state(self) -> dict[str, Any]:
        """Shapes of the buffers ``fit`` filled (PatchCore's bank, PaDiM's Gaussian)."""
        buffers = dict(self.model().model.named_buffers())
        return {name: list(buffers[name].shape) for name in self.fitted_buffers}

    # -- checkpoints: buffers whose size follows the training set ------------------------
    def load_state_dict(self, state: dict[str, Any]) -> None:
        pipeline = self.model()
        for name, value in state.items():  # resize a fitted buffer (the bank) before loading it
            owner, _, leaf = name.rpartition(".")
            module = pipeline.get_submodule(owner) if owner else pipeline
            if leaf in module._buffers and module._buffers[leaf] is not None \
                    and module._buffers[leaf].shape != value.shape:
                module._buffers[leaf] = value.clone()
        pipeline.load_state_dict(state)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence warnings for the body: anomalib's and Lightning's about their own internals
    (deprecated modules, logging without a Trainer)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def no_progress_bars() -> Iterator[None]:
    """Hide the coreset sampler's own progress bar: adbench's run bar is the one the user reads."""
    from functools import partial

    from anomalib.models.components.sampling import k_center_greedy

    bar = k_center_greedy.tqdm
    k_center_greedy.tqdm = partial(bar, disable=True)
    try:
        yield
    finally:
        k_center_greedy.tqdm = bar


def _optimizers(conf: Any) -> tuple[Any, list[Any]]:
    """The optimizer and epoch schedulers of a Lightning ``configure_optimizers`` result."""
    if isinstance(conf, tuple) and len(conf) == 2 and isinstance(conf[0], list):
        optimizers, schedulers = conf
        return optimizers[0], [s["scheduler"] if isinstance(s, dict) else s for s in schedulers]
    if isinstance(conf, dict):
        sched = conf.get("lr_scheduler")
        sched = sched["scheduler"] if isinstance(sched, dict) else sched
        return conf["optimizer"], [sched] if sched is not None else []
    if isinstance(conf, (list, tuple)):
        return conf[0], []
    return conf, []
