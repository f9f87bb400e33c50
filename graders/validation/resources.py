"""A container's resources as the API server checks them (k8s.io/kubernetes
pkg/apis/core/validation/validation.go: validateResourceRequirements, validateContainerResourceName,
ValidateResourceQuantityValue; pkg/apis/core/helper/helpers.go for which names are standard,
extended, integer-only or not overcommitable).

A request may not exceed its limit; a resource that cannot be overcommitted (hugepages, extended
resources such as example.com/gpu) needs a limit equal to its request. Quantities are compared as
numbers, so 0.5 and 500m are the same; the messages print them as the API server does (quantity.py).
A quantity that is not one at all never gets here: the API server cannot even decode it (decoding.py).
"""

from __future__ import annotations

from typing import Any

from graders.validation import quantity
from graders.validation.errors import Problem, forbidden, invalid, required
from graders.validation.names import label_key

CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")  # and hugepages-<size>
# Standard names that are not a container's (quota and pod counts): valid names, wrong place.
_OTHER_STANDARD = {"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
                   "persistentvolumeclaims", "storage", "requests.cpu", "requests.memory", "requests.storage",
                   "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage"}
HINT_NAMES = "a container asks for cpu and memory, in lower case, e.g. cpu: 100m and memory: 64Mi"


def requirements(where: str, found: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    limits = _quantities(found.get("limits"))
    requests = _quantities(found.get("requests"))
    for kind, given in (("limits", limits), ("requests", requests)):
        for name, amount in given.items():
            at = f"{where}.{kind}[{name}]"
            problems += _name(at, name)
            if amount.value < 0:
                problems.append((at, invalid(str(amount), "must be greater than or equal to 0",
                                             "a container cannot ask for less than nothing")))
            if _integer_only(name) and amount.value != amount.value.to_integral_value():
                problems.append((at, invalid(str(amount), "must be an integer")))
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is not None and not _overcommitable(name) and request.value != limit.value:
            problems.append((f"{where}.requests", invalid(str(request), f"must be equal to {name} limit of {limit}")))
        elif limit is not None and request.value > limit.value:
            problems.append((f"{where}.requests", invalid(str(request), f"must be less than or equal to {name} limit "
                                                                        f"of {limit}", (
                f"requests.{name}: {request} is more than its limit {limit}: a container may never use more than "
                f"its limit, so it cannot be promised more; raise the limit or lower the request"))))
        elif limit is None and not _overcommitable(name):
            problems.append((f"{where}.limits", required("Limit must be set for non overcommitable resources")))
    names = set(limits) | set(requests)
    if any(name.startswith("hugepages-") for name in names) and not names & {"cpu", "memory"}:
        problems.append((where, forbidden("HugePages require cpu or memory")))
    return problems


def _quantities(found: Any) -> dict[str, quantity.Quantity]:
    """The quantities that decode (a broken one is the decoder's 400, reported before validation)."""
    parsed = {}
    for name, raw in (found.items() if isinstance(found, dict) else []):
        try:
            parsed[str(name)] = quantity.at_milli(quantity.parse(raw))
        except quantity.QuantityError:
            continue
    return parsed


def _name(where: str, name: str) -> list[Problem]:
    messages = label_key(name)  # validateResourceName: a qualified name first
    if messages:
        return [(where, invalid(name, message, HINT_NAMES)) for message in messages]
    problems = []
    if "/" not in name:
        if name not in CONTAINER_RESOURCES and not name.startswith("hugepages-"):
            if name not in _OTHER_STANDARD:
                problems.append((where, invalid(name, "must be a standard resource type or fully qualified",
                                                HINT_NAMES)))
            problems.append((where, invalid(name, "must be a standard resource for containers", HINT_NAMES)))
    elif not _native(name) and not _extended(name):
        problems.append((where, invalid(name, "doesn't follow extended resource name standard")))
    return problems


def _native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _extended(name: str) -> bool:
    """A domain-prefixed name outside kubernetes.io, not starting with requests. (helper.IsExtendedResourceName)."""
    return not _native(name) and not name.startswith("requests.") and not label_key("requests." + name)


def _integer_only(name: str) -> bool:
    return name.startswith("hugepages-") or _extended(name) or name.startswith("attachable-volumes-")


def _overcommitable(name: str) -> bool:
    return _native(name) and not name.startswith("hugepages-")

