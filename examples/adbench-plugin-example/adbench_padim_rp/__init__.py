"""Example adbench plugin: registers one method through the `adbench` entry-point group."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .method import PadimRP

    register(PadimRP)
