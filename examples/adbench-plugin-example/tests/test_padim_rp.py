"""The whole test suite of a third-party plugin: one line on top of adbench's contract."""

from adbench.testing import MethodContractTests


class TestPadimRP(MethodContractTests):
    method_name = "padim_rp"
