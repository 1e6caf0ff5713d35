"""anomalib's models (PatchCore, PaDiM, STFPM, FastFlow, DRAEM) under adbench's protocol.

Installed with the extra ``adbench[anomalib]``. Without anomalib this plugin registers
nothing, so ``adbench run all`` is unchanged; the check does not import anomalib, which
loads only when one of these methods is built.
"""

from importlib.util import find_spec

from adbench import hookimpl


@hookimpl
def adbench_register_methods(register):
    if find_spec("anomalib") is None:
        return
    from .models import METHODS

    for method in METHODS:
        register(method)
