"""Backends: where graded Pods run, all registered here. Choose with --backend (ini: grader_backend).

    kind     a local kind cluster, created on first use and kept between runs (default)
    context  an existing cluster, only through a kubeconfig context named with --context
             (an existing k3d or minikube cluster works this way: --context k3d-NAME / minikube)
    podman   `podman kube play`, for machines without Kubernetes

BACKENDS is the one list: each entry names its backend, what it can do (capabilities, see
graders/capabilities.py), its own command-line options, and how to make it. The plugin adds the
options, checks what a lab needs against the capabilities before anything starts, and makes the
backend. A new backend (k3d, minikube) is one module with a `*Backend` class plus one entry here.

Each module has the same shape: a `*Backend` class whose constructor checks that the backend is
usable (InfraError naming what was tried and how to fix it) and whose `open_sandbox()` returns an
isolated Sandbox (see base.py). Modules are imported only when chosen: podman runs never load the
Kubernetes client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from graders import capabilities as can
from graders.backends.base import Backend
from graders.backends.resources import RESOURCES


@dataclass(frozen=True)
class Option:
    """One option of a backend: --NAME on the command line (underscores as dashes), grader_NAME in the ini."""

    name: str  # "kind_cluster": --kind-cluster, ini grader_kind_cluster
    help: str
    default: Any = None
    flag: bool = False  # an on/off switch (--delete-cluster)
    required: str = ""  # the usage error when the backend is chosen without it; "" when optional

    @property
    def flag_name(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class BackendSettings:
    name: str = "kind"
    options: Mapping[str, Any] = field(default_factory=dict)  # Option.name -> value, for every registered option
    kind_config: Path | None = None
    # Where the kind backend reports its slow steps (download, create, image pulls: minutes on a first
    # run). None: the user's terminal, which pytest does not capture (stderr without one).
    progress: Callable[[str], None] | None = None

    def option(self, name: str) -> Any:
        return self.options.get(name, OPTIONS[name].default)


@dataclass(frozen=True)
class Entry:
    name: str
    summary: str
    capabilities: frozenset[str]
    make: Callable[[BackendSettings], Backend]
    options: tuple[Option, ...] = ()


def _podman(settings: BackendSettings) -> Backend:
    from graders.backends.podman import PodmanBackend
    return PodmanBackend()


def _context(settings: BackendSettings) -> Backend:
    from graders.backends.context import ContextBackend
    return ContextBackend(settings.option("context"))


def _kind(settings: BackendSettings) -> Backend:
    from graders.backends.kind import KindBackend
    return KindBackend(settings.option("kind_cluster"), config=settings.kind_config,
                       delete=settings.option("delete_cluster"), progress=settings.progress)


# A kubelet runs probes and native sidecars, the API server takes ephemeral containers and lists nodes,
# and the kube backend creates any kind of its table. (A context's cluster older than Kubernetes 1.29
# lacks native sidecars: it refuses such a Pod when it is applied.)
CLUSTER = frozenset({can.READINESS_PROBES, can.NATIVE_SIDECARS, can.EPHEMERAL_CONTAINERS, can.NODE_LABELS,
                     *(can.kind(kind) for kind in RESOURCES)})
# podman kube play runs Pods only; the checks run readiness probes from the grader's side.
PODMAN = frozenset({can.kind("Pod")})
# The kind cluster every run, the Classroom workflow and the re-grade create or reuse unless told otherwise.
KIND_CLUSTER = "k8s-101"

BACKENDS: dict[str, Entry] = {entry.name: entry for entry in (
    Entry("kind", "a local kind cluster, created on first use and kept between runs", CLUSTER, _kind, (
        Option("kind_cluster", f"name of the kind cluster (default: {KIND_CLUSTER})", default=KIND_CLUSTER),
        Option("delete_cluster", "delete the kind cluster at the end (default: keep it for the next run)",
               default=False, flag=True))),
    Entry("context", "an existing cluster (kind, k3d, minikube, a cloud), through a kubeconfig context",
          CLUSTER, _context, (
              Option("context", "kubeconfig context for --backend context (never the current context implicitly)",
                     required="--backend context needs --context NAME (a context of your kubeconfig: "
                              "`kubectl config get-contexts` lists them)"),)),
    Entry("podman", "`podman kube play`, for machines without Kubernetes (Pods only)", PODMAN, _podman),
)}
NAMES = tuple(BACKENDS)
OPTIONS = {option.name: option for entry in BACKENDS.values() for option in entry.options}


def make_backend(settings: BackendSettings) -> Backend:
    if settings.name not in BACKENDS:
        raise ValueError(f"unknown backend {settings.name!r}; choose one of {', '.join(NAMES)}")
    return BACKENDS[settings.name].make(settings)


def lacking(backend: str, needs: frozenset[str]) -> frozenset[str]:
    """What of needs the backend cannot do."""
    return needs - BACKENDS[backend].capabilities


def able(needs: frozenset[str]) -> list[str]:
    """The backends that can do all of needs, in the registry's order of preference."""
    return [name for name, entry in BACKENDS.items() if needs <= entry.capabilities]
