"""Slurm through submitit: the cells become one job array; every job writes its own row
into the shared run folder, exactly as a local run would.

Options (flags or ``[executor.submitit]`` of ``--executor-config FILE``): ``partition``,
``time`` (minutes per cell), ``gpus`` (per job), ``cpus`` (per job), ``mem`` (GB),
``array_parallelism``, ``cluster`` (``slurm``; ``local`` or ``debug`` for testing).
"""

from __future__ import annotations

import sys
from typing import Any, Sequence

from ..protocol.cells import Cell
from .base import RunSpec, failure_row, run_one


class SubmititExecutor:
    name = "submitit"

    def __init__(self, partition: str | None = None, time: int = 60, gpus: int = 0, cpus: int = 4,
                 mem: int = 16, array_parallelism: int = 64, cluster: str | None = None, **_: Any):
        self.options = dict(partition=partition, time=time, gpus=gpus, cpus=cpus, mem=mem,
                            array_parallelism=array_parallelism)
        self.cluster = cluster

    def run(self, cells: Sequence[Cell], spec: RunSpec) -> list[dict[str, Any]]:
        import submitit
        from tqdm import tqdm

        folder = spec.run_dir / "submitit" / "%j"
        executor = submitit.AutoExecutor(folder=str(folder), cluster=self.cluster)
        params: dict[str, Any] = dict(timeout_min=int(self.options["time"]), cpus_per_task=int(self.options["cpus"]),
                                      mem_gb=int(self.options["mem"]), name="adbench",
                                      slurm_array_parallelism=int(self.options["array_parallelism"]))
        if self.options["gpus"]:
            params["gpus_per_node"] = int(self.options["gpus"])
        if self.options["partition"]:
            params["slurm_partition"] = self.options["partition"]
        executor.update_parameters(**{k: v for k, v in params.items()
                                      if k.startswith("slurm_") is False or executor.cluster == "slurm"})
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
