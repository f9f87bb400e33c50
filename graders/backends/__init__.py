"""Backends: where graded Pods run. Choose with --backend (ini: grader_backend).

    kind     a local kind cluster, created on first use and kept between runs (default)
    context  an existing cluster, only through a kubeconfig context named with --context
    podman   `podman kube play`, for machines without Kubernetes

Each module has the same shape: a `*Backend` class whose constructor checks that the backend is
usable (InfraError naming what was tried and how to fix it) and whose `open_sandbox()` returns an
isolated Sandbox (see base.py). Modules are imported only when chosen: podman runs never load the
Kubernetes client.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from graders.backends.base import Backend
from graders.errors import GraderError

NAMES = ("kind", "context", "podman")


@dataclass(frozen=True)
class BackendSettings:
    name: str = "kind"
    context: str | None = None
    kind_cluster: str = "k8s-101"
    kind_config: Path | None = None
    delete_cluster: bool = False
    # Where the kind backend reports its slow steps (download, create, image pulls: minutes on a first
    # run). None: the user's terminal, which pytest does not capture (stderr without one).
    progress: Callable[[str], None] | None = None


def make_backend(settings: BackendSettings) -> Backend:
    if settings.name == "podman":
        from graders.backends.podman import PodmanBackend
        return PodmanBackend()
    if settings.name == "context":
        from graders.backends.context import ContextBackend
        if not settings.context:  # never the current context implicitly (the plugin asks for --context)
            raise GraderError("--backend context needs --context NAME")
        return ContextBackend(settings.context)
    if settings.name == "kind":
        from graders.backends.kind import KindBackend
        return KindBackend(settings.kind_cluster, config=settings.kind_config, delete=settings.delete_cluster,
                           progress=settings.progress)
    raise ValueError(f"unknown backend {settings.name!r}; choose one of {', '.join(NAMES)}")
