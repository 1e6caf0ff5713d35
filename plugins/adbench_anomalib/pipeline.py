"""The adbench pipeline around an anomalib torch model, and the offline build that makes it.

The pipeline maps images in ``[0, 1]`` to :class:`adbench.AnomalyOutput`: the model's own
input normalisation (read from anomalib's pre-processor, without its resize: adbench has
already resized the data), then ``lightning_module.model`` in inference mode. anomalib's
post-processor, evaluator and visualiser are never built: adbench scores raw outputs.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

import torch
from torch import nn

from adbench import AnomalyOutput


class AnomalibPipeline(nn.Module):
    """``normalize`` then the anomalib torch model, always in inference mode.

    anomalib's models change what ``forward`` returns in training mode (PatchCore stores
    embeddings, STFPM returns feature pairs), so the pipeline keeps the inner model in eval
    mode whatever mode it is put in; ``fit`` trains ``pipeline.model`` directly.
    """

    def __init__(self, model: nn.Module, mean: list[float] | None, std: list[float] | None):
        super().__init__()
        self.model = model
        self.normalized = mean is not None
        self.register_buffer("mean", torch.tensor(mean or [0.0, 0.0, 0.0]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std or [1.0, 1.0, 1.0]).view(1, 3, 1, 1))

    def train(self, mode: bool = True) -> "AnomalibPipeline":
        super().train(mode)
        self.model.eval()
        return self

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Images in ``[0, 1]`` as the inner model takes them (``fit`` feeds it directly)."""
        return (images - self.mean) / self.std if self.normalized else images

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        out = self.model(self.normalize(images))
        maps = out.anomaly_map
        if maps.dim() == 4:  # (B,1,H,W) from most models, (B,H,W) from DRAEM
            maps = maps[:, 0]
        return AnomalyOutput(out.pred_score.reshape(-1), maps)


def normalization_of(pre_processor: Any) -> tuple[list[float] | None, list[float] | None]:
    """The mean and std of the Normalize step in an anomalib pre-processor (None, None without one)."""
    from torchvision.transforms.v2 import Compose, Normalize

    transform = getattr(pre_processor, "transform", None)
    steps = transform.transforms if isinstance(transform, Compose) else [transform]
    for step in steps:
        if isinstance(step, Normalize):
            return list(step.mean), list(step.std)
    return None, None


@contextlib.contextmanager
def offline_build() -> Iterator[list[tuple[str, nn.Module]]]:
    """Build anomalib models with no network: every ``timm.create_model(pretrained=True)`` is
    made with random weights instead, and yielded as ``(timm name, module)`` so the caller can
    load the cached file through ``adbench.weights`` (which records its sha256). The Hugging
    Face hub is offline for the duration unless the user set ``HF_HUB_OFFLINE`` themselves."""
    import timm

    asked: list[tuple[str, nn.Module]] = []
    create = timm.create_model

    def create_offline(name: str, pretrained: bool = False, **kwargs: Any) -> nn.Module:
        kwargs.pop("pretrained_cfg_overlay", None)
        module = create(name, pretrained=False, **kwargs)
        if pretrained:
            asked.append((name, module))
        return module

    before = os.environ.get("HF_HUB_OFFLINE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    timm.create_model = create_offline
    try:
        yield asked
    finally:
        timm.create_model = create
        if before is None:
            os.environ.pop("HF_HUB_OFFLINE", None)


def load_backbone(module: nn.Module, state: dict[str, torch.Tensor], name: str) -> None:
    """Load a timm checkpoint into a (possibly ``features_only``, truncated) timm module: every
    tensor the module has must come from the file (the stages and head it dropped are left over)."""
    missing, _ = module.load_state_dict(state, strict=False)
    if missing:
        raise ValueError(f"the weights file of {name} lacks {len(missing)} tensors of the backbone, "
                         f"e.g. {missing[:3]}")
