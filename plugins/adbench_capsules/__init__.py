"""Capsule-network building blocks shared by the CapsNet, PIADE and VT-ADL plugins.

A library package (no hooks): squash, routing-by-agreement (Sabour et al., NIPS 2017) and
the margin loss. Written with einsum/softmax only, so it exports to ONNX.
"""

from .routing import DynamicRouting, margin_loss, squash

__all__ = ["DynamicRouting", "margin_loss", "squash"]
