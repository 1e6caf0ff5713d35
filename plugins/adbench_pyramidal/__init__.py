"""Pyramidal autoencoder (2020a) and PIADE (2020b) by Mishra, Piciarelli and Foresti."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .method import PIADEMethod, PyramidalAEMethod

    register(PyramidalAEMethod)
    register(PIADEMethod)
