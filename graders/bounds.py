"""What a grading run lets a Pod take: one rule for every backend, in the same words everywhere.

- A container that sets no limit or request gets DEFAULT_LIMITS and DEFAULT_REQUESTS: on a cluster the
  run's LimitRange gives them (graders/backends/kube/sandbox.py); podman caps at the same numbers
  (graders/backends/podman/play.py, MEMORY_LIMIT and CPU_LIMIT; a test holds the two equal).
- A CPU limit above 1 is kept as written on a cluster (a limit reserves nothing on the node) and capped
  at 1 CPU on podman: either way the Pod runs, so nothing is refused for it. (Lab 1.2's `cpu: 5` mistake
  is graded by its `resources` check alone, on every backend.)
- What would change the verdict between backends is refused offline, before anything runs, by the
  `manifests` check (graders/policy.py calls `violations`):
  - a memory or ephemeral-storage limit above MAX_LIMITS: a cluster's LimitRanger would answer 403
    (`maximum memory usage per Container is 1Gi, but limit is 4Gi`), podman would run it capped;
  - a Pod requesting more than MAX_POD_REQUESTS: a request reserves the node's capacity, so a small
    machine's kind node (2 CPUs, about 1 of them taken by the control plane) would leave it Pending
    while podman runs it. A container that sets a limit and no request requests its limit: the API
    server's defaulting copies limits to requests (pkg/apis/core/v1/defaults.go, SetDefaults_Pod).
  The Pod's effective request is the scheduler's: the sum of its containers' (native sidecars
  included), or its largest ordinary init container's when that is more
  (pkg/api/v1/resource/helpers.go, PodRequests).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterator, Mapping

from graders.validation.quantity import QuantityError, parse

DEFAULT_LIMITS = {"cpu": "1", "memory": "512Mi", "ephemeral-storage": "1Gi"}
DEFAULT_REQUESTS = {"cpu": "50m", "memory": "32Mi", "ephemeral-storage": "64Mi"}
MAX_LIMITS = {"memory": "1Gi", "ephemeral-storage": "2Gi"}  # per container
MAX_POD_REQUESTS = {"cpu": "1", "memory": "1Gi"}  # per Pod, as the scheduler counts them
# The namespace's total: never reached by a submission the rules above accepted (a lab has a few Pods)
RUN_QUOTA = {"pods": "10", "limits.memory": "4Gi", "requests.memory": "4Gi"}

Violation = tuple[str, str]  # (field path, reason)


def _amount(value: Any) -> Decimal | None:
    try:
        return parse(value).value
    except QuantityError:
        return None  # not a quantity: the decoder's check says so


def _bound(text: str) -> Decimal:
    return parse(text).value


def _items(spec: Mapping[str, Any], key: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for index, item in enumerate(spec.get(key) or []):
        if isinstance(item, Mapping):
            yield index, item


def _section(container: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    resources = container.get("resources")
    section = resources.get(name) if isinstance(resources, Mapping) else None
    return section if isinstance(section, Mapping) else {}


def _requested(container: Mapping[str, Any], resource: str) -> tuple[Decimal, str]:
    """What the container requests of a resource after the API server's defaulting, and from where."""
    requests, limits = _section(container, "requests"), _section(container, "limits")
    for where, section in (("requests", requests), ("limits", limits)):
        if resource in section:
            amount = _amount(section[resource])
            if amount is not None:
                return amount, where
    default = DEFAULT_REQUESTS.get(resource)
    return (_amount(default) or Decimal(0)) if default else Decimal(0), "default"


def violations(pod: Mapping[str, Any]) -> list[Violation]:
    """Where the Pod asks for more than a grading run gives it (see the module's docstring)."""
    spec = pod.get("spec")
    if not isinstance(spec, Mapping):
        return []
    found: list[Violation] = []
    for key in ("initContainers", "containers"):
        for index, container in _items(spec, key):
            limits = _section(container, "limits")
            for resource, bound in MAX_LIMITS.items():
                amount = _amount(limits.get(resource)) if resource in limits else None
                if amount is not None and amount > _bound(bound):
                    found.append((f"spec.{key}[{index}].resources.limits.{resource}",
                                  f"{limits[resource]} is more than a grading run lets a container use (at most "
                                  f"{bound}, on every backend): ask for {bound} or less"))
    for resource, bound in MAX_POD_REQUESTS.items():
        running = [(f"spec.containers[{i}]", c) for i, c in _items(spec, "containers")]
        running += [(f"spec.initContainers[{i}]", c) for i, c in _items(spec, "initContainers")
                    if c.get("restartPolicy") == "Always"]  # native sidecars run beside the containers
        inits = [(f"spec.initContainers[{i}]", c) for i, c in _items(spec, "initContainers")
                 if c.get("restartPolicy") != "Always"]
        asked = {path: _requested(c, resource) for path, c in running + inits}
        total = sum((asked[path][0] for path, _ in running), Decimal(0))
        effective = max([total, *(asked[path][0] for path, _ in inits)])
        if effective > _bound(bound):
            path, (_, source) = max(asked.items(), key=lambda item: item[1][0])
            if any(where == f"{path}.resources.{source}.{resource}" for where, _ in found):
                continue  # its limit is refused already: one reason per field
            found.append((f"{path}.resources.{source}.{resource}",
                          f"the Pod requests {_shown(effective, resource)} in all"
                          + (" (a container without a request requests its limit)" if source == "limits" else "")
                          + f", more than a grading run can promise a Pod (at most {_shown(_bound(bound), resource)},"
                            " on every backend: a small machine's cluster would leave it Pending): request less"))
    return found


def _shown(amount: Decimal, resource: str) -> str:
    if resource == "cpu":
        if amount < 1:
            return f"{int(amount * 1000)}m of CPU"
        return f"{amount.normalize():f} CPU" + ("s" if amount > 1 else "")
    for suffix, power in (("Gi", 30), ("Mi", 20), ("Ki", 10)):
        if amount >= 2 ** power:
            return f"{(amount / 2 ** power).normalize():f}{suffix} of {resource}"
    return f"{int(amount)} bytes of {resource}"
