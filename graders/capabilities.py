"""What a backend can do, by name: labs and checks declare what they need, backends what they have.

A capability is a short string. Kinds of objects are `kind:<Kind>` (kind:Pod, kind:Service), so that a
lab that declares a Service needs `kind:Service` without saying so. A run on a backend that lacks a
need says so before anything starts, naming the backends that have it ("lab 2.1 needs Services: use
--backend kind"), and the checks that need it are not graded: an infrastructure matter, never lost points.
"""

from __future__ import annotations

from typing import Iterable

READINESS_PROBES = "readiness-probes"  # the backend itself runs readinessProbes (a kubelet does)
NATIVE_SIDECARS = "native-sidecars"  # initContainers with restartPolicy: Always keep running
EPHEMERAL_CONTAINERS = "ephemeral-containers"  # `kubectl debug`: containers added to a running Pod
NODE_LABELS = "node-labels"  # the backend lists its nodes and their labels (nodeSelector is judged on them)
KIND_PREFIX = "kind:"

# How a message names a capability; a kind capability reads as the kind's plural ("Services").
WORDS = {READINESS_PROBES: "readiness probes run by the kubelet", NATIVE_SIDECARS: "native sidecar containers",
         EPHEMERAL_CONTAINERS: "ephemeral containers", NODE_LABELS: "the labels of real nodes"}


def unknown(names: Iterable[str]) -> list[str]:
    """The names that are no capability (a typo in a lab's needs would otherwise read "no backend can")."""
    return sorted(name for name in names if name not in WORDS and not name.startswith(KIND_PREFIX))


def kind(name: str) -> str:
    """The capability of running objects of a kind: kind("Service") == "kind:Service"."""
    return KIND_PREFIX + name


def kinds_of(capabilities: Iterable[str]) -> frozenset[str]:
    """The object kinds among capabilities: {"kind:Pod", "readiness-probes"} -> {"Pod"}."""
    return frozenset(c[len(KIND_PREFIX):] for c in capabilities if c.startswith(KIND_PREFIX))


def describe(capability: str) -> str:
    if capability.startswith(KIND_PREFIX):
        return capability[len(KIND_PREFIX):] + "s"
    return WORDS.get(capability, capability)


def listing(capabilities: Iterable[str]) -> str:
    """Capabilities in words, sorted: "ConfigMaps and Services"."""
    words = sorted(describe(c) for c in capabilities)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
