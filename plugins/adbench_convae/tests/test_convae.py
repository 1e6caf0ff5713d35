"""Contract test of the reference autoencoder (its quick-profile accuracy: tests/test_slow_quality.py)."""

from __future__ import annotations


from adbench.testing import MethodContractTests


class TestConvAE(MethodContractTests):
    method_name = "convae"
