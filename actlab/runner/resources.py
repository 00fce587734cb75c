"""Resource feasibility: refuse, before anything runs, a trial the cluster can never place.

Tune would otherwise leave such a trial PENDING forever with only a warning (RLLIB_NOTES
§17.1); a researcher should get one line saying which setting to change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from actlab.spec.errors import SpecError, SpecProblem


@dataclass(frozen=True)
class ClusterCapacity:
    total_cpus: float
    total_gpus: float
    #: Largest single node (a bundle must fit on one node).
    node_cpus: float
    node_gpus: float
    where: str


def local_capacity() -> ClusterCapacity:
    cpus = float(os.cpu_count() or 1)
    gpus = float(_local_gpu_count())
    return ClusterCapacity(cpus, gpus, cpus, gpus, "this machine")


def _local_gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no usable CUDA means no GPU
        return 0


def ray_capacity() -> ClusterCapacity:
    """Capacity of the Ray cluster this driver is connected to."""
    import ray

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    totals = ray.cluster_resources()
    return ClusterCapacity(
        total_cpus=float(totals.get("CPU", 0)),
        total_gpus=float(totals.get("GPU", 0)),
        node_cpus=max((float(n["Resources"].get("CPU", 0)) for n in nodes), default=0.0),
        node_gpus=max((float(n["Resources"].get("GPU", 0)) for n in nodes), default=0.0),
        where=f"the Ray cluster ({len(nodes)} node(s))",
    )


def check_trial_resources(bundles_per_trial: list[list[dict[str, float]]], cap: ClusterCapacity, file: str) -> None:
    """Raise :class:`SpecError` if some trial can never be scheduled on ``cap``."""
    problems: list[SpecProblem] = []
    for bundles in bundles_per_trial:
        cpus = sum(b.get("CPU", 0.0) for b in bundles)
        gpus = sum(b.get("GPU", 0.0) for b in bundles)
        if gpus > cap.total_gpus:
            problems.append(SpecProblem(
                file, "resources.gpus_per_trial",
                f"a trial needs {gpus:g} GPU(s) but {cap.where} has {cap.total_gpus:g}; "
                "set resources.gpus_per_trial=0 to train on CPU",
            ))
        if cpus > cap.total_cpus:
            problems.append(SpecProblem(
                file, "resources",
                f"a trial needs {cpus:g} CPUs (1 driver x cpus_per_trial + env_runners x cpus_per_env_runner) but "
                f"{cap.where} has {cap.total_cpus:g}; lower resources.env_runners or resources.cpus_per_env_runner "
                "(e.g. 0.5), or use resources.env_runners=0",
            ))
        for bundle in bundles:
            if bundle.get("CPU", 0.0) > cap.node_cpus or bundle.get("GPU", 0.0) > cap.node_gpus:
                problems.append(SpecProblem(
                    file, "resources",
                    f"a trial asks for {bundle} on one node but the largest node of {cap.where} has "
                    f"{cap.node_cpus:g} CPU / {cap.node_gpus:g} GPU; lower cpus_per_trial / gpus_per_trial",
                ))
    if problems:
        raise SpecError(problems)
