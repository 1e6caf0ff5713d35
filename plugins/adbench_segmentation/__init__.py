"""Segmentation baselines: U-Net, U-Net++, original U-Net, Refined UNet v2, FCN-32s, SegNet."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .methods import METHODS

    for method in METHODS:
        register(method)
