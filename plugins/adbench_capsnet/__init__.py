"""CapsNet anomaly classifiers for imbalanced data (Piciarelli et al. 2019; 2021 variant)."""

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    from .method import CapsNet2021, CapsNetAD

    register(CapsNetAD)
    register(CapsNet2021)
