"""adbench's reference method: a small convolutional autoencoder scored by reconstruction error."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .method import ConvAE

    register(ConvAE)
