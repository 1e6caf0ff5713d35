"""Contract test of the reference autoencoder, plus its quick-profile accuracy."""

from __future__ import annotations

import pytest

from adbench.testing import MethodContractTests


class TestConvAE(MethodContractTests):
    method_name = "convae"
