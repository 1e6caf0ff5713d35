"""Image → normalise → segmentation logits → sigmoid probability map → MapScorer."""

from __future__ import annotations

import torch
from torch import nn

from adbench.layers import MapScorer
from adbench.method import AnomalyOutput


class SegmentationPipeline(nn.Module):
    def __init__(self, net: nn.Module, normalize: nn.Module, scorer: MapScorer):
        super().__init__()
        self.normalize, self.net, self.scorer = normalize, net, scorer

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(self.normalize(images))[:, 0]

    def forward(self, images: torch.Tensor) -> AnomalyOutput:
        return self.scorer(torch.sigmoid(self.logits(images)))
