"""VT-ADL (Mishra et al., ISIE 2021) as an adbench method plugin."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .method import VTADLMethod

    register(VTADLMethod)
