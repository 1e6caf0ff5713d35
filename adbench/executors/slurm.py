"""Slurm through submitit: the cells become one job array; every job writes its own row
into the shared run folder, exactly as a local run would.

Options (flags, ``--executor-opt KEY=VALUE`` or ``[executor.submitit]`` of
``--executor-config FILE``): see :attr:`SubmititExecutor.options`.
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from ..protocol.cells import Cell
from .base import Executor, ExecutorOption, RunSpec, failure_row, run_one


class SubmititExecutor(Executor):
    name = "submitit"
    description = "Slurm job array through submitit (one job per cell)"
    options = (
        ExecutorOption("partition", str, None, "Slurm partition", flag="--partition"),
        ExecutorOption("time", int, 60, "minutes per cell (the job's time limit)", flag="--time", minimum=1),
        ExecutorOption("gpus", int, 0, "GPUs per job", flag="--gpus", minimum=0),
        ExecutorOption("cpus", int, 4, "CPUs per job", flag="--cpus", minimum=1),
        ExecutorOption("mem", int, 16, "memory per job in GB", flag="--mem", minimum=1),
        ExecutorOption("array_parallelism", int, 64, "jobs of the array running at once", minimum=1),
        ExecutorOption("cluster", str, None, "submitit cluster: slurm (default when available), local or debug"),
    )

    def run(self, cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
        import submitit
        from tqdm import tqdm

        o = self.config
        folder = spec.run_dir / "submitit" / "%j"
        executor = submitit.AutoExecutor(folder=str(folder), cluster=o["cluster"])
        params: dict[str, Any] = dict(timeout_min=o["time"], cpus_per_task=o["cpus"], mem_gb=o["mem"],
                                      name="adbench", slurm_array_parallelism=o["array_parallelism"])
        if o["gpus"]:
            params["gpus_per_node"] = o["gpus"]
        if o["partition"]:
            params["slurm_partition"] = o["partition"]
        executor.update_parameters(**{k: v for k, v in params.items()
                                      if not k.startswith("slurm_") or executor.cluster == "slurm"})
        jobs = executor.map_array(run_one, list(cells), [spec] * len(cells))
        print(f"submitted {len(jobs)} jobs ({executor.cluster}); logs in {spec.run_dir / 'submitit'}",
              file=sys.stderr)
        rows = []
        for cell, job in tqdm(zip(cells, jobs), total=len(jobs), unit="cell", file=sys.stderr):
            try:
                rows.append(job.result())
            except Exception as exc:  # the job died before it could write its row
                rows.append(failure_row(cell, spec, f"submitit job {job.job_id} failed: {type(exc).__name__}: {exc}"))
        return rows
