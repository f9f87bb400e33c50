"""The fake API server's validating admission, and how it serves quantities, as the real components do.

In the API server's order for a create (after decoding's defaults, the mutating plugins and the 422
validation): LimitRanger's min/max, then PodSecurity, then ResourceQuota (the order of the enabled
plugins, pkg/kubeapiserver/options/plugins.go). Each refusal is a 403 `pods "NAME" is forbidden: ...`
in the plugin's own words:
- LimitRanger (plugin/pkg/admission/limitranger/admission.go, maxConstraint): `maximum cpu usage per
  Container is 2, but limit is 5`; it refuses, it never lowers a limit;
- PodSecurity (staging/src/k8s.io/pod-security-admission: admission/admission.go, policy/check_*.go):
  `violates PodSecurity "baseline:latest": privileged (container "app" must not set
  securityContext.privileged=true), hostPath volumes (volume "host")`; only these two baseline checks
  are modelled (the grader's offline policy refuses the rest before anything is sent);
- ResourceQuota (staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go):
  `exceeded quota: NAME, requested: limits.memory=4Gi, used: limits.memory=512Mi, limited:
  limits.memory=4Gi`, counting the namespace's Pods (the `pods` count, requests.* and limits.*).

Quantities: the API server stores and serves a resource.Quantity, whose JSON is always a string in its
canonical form (k8s.io/apimachinery pkg/api/resource/quantity.go, MarshalJSON), whatever the client sent:
`sizeLimit: 67108864` is served as "67108864", `cpu: 0.5` as "500m" (graders/validation/quantity.py
holds the canonical form).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Iterator

from graders.validation.quantity import QuantityError, parse

if TYPE_CHECKING:
    from tests.cluster.api import Cluster

BASELINE_LEVELS = ("baseline", "restricted")  # the levels that include the baseline checks


def _canonical(value: Any) -> Any:
    try:
        return parse(value).text
    except QuantityError:
        return value  # validation reports it; never reached for a stored object


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in spec.get(key) or []:
            if isinstance(container, dict):
                yield container


def quantities_as_strings(spec: dict[str, Any]) -> None:
    """Every quantity of a Pod's spec as the API server serves it: a string, in canonical form."""
    for container in _containers(spec):
        resources = container.get("resources")
        if not isinstance(resources, dict):
            continue
        for key in ("limits", "requests"):
            section = resources.get(key)
            if isinstance(section, dict):
                resources[key] = {name: _canonical(value) for name, value in section.items()}
    for volume in spec.get("volumes") or []:
        empty_dir = volume.get("emptyDir") if isinstance(volume, dict) else None
        if isinstance(empty_dir, dict) and "sizeLimit" in empty_dir:
            empty_dir["sizeLimit"] = _canonical(empty_dir["sizeLimit"])
    for key in ("overhead",):
        if isinstance(spec.get(key), dict):
            spec[key] = {name: _canonical(value) for name, value in spec[key].items()}


def validating(cluster: "Cluster", ns: str, name: str, pod: dict[str, Any]) -> str:
    """Why the validating admission plugins refuse the Pod ('' when they admit it)."""
    return _limit_ranger(cluster, ns, pod) or _pod_security(cluster, ns, pod) or _resource_quota(cluster, ns, pod)


def _amount(value: Any) -> Decimal:
    try:
        return parse(value).value
    except QuantityError:
        return Decimal(0)


def _limit_ranger(cluster: "Cluster", ns: str, pod: dict[str, Any]) -> str:
    errors = []
    for limit_range in cluster.stored.get((ns, "limitranges"), {}).values():
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if item.get("type") != "Container":
                continue
            for container in pod["spec"]["containers"]:
                resources = container.get("resources") or {}
                limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
                for resource, bound in (item.get("max") or {}).items():
                    if resource not in limits:
                        errors.append(f"maximum {resource} usage per Container is {bound}.  No limit is specified")
                    elif _amount(limits[resource]) > _amount(bound):
                        errors.append(f"maximum {resource} usage per Container is {bound}, but limit is "
                                      f"{limits[resource]}")
                    elif resource in requests and _amount(requests[resource]) > _amount(bound):
                        errors.append(f"maximum {resource} usage per Container is {bound}, but request is "
                                      f"{requests[resource]}")
    # utilerrors.NewAggregate: one error as it is, several in brackets
    return errors[0] if len(errors) == 1 else ("[" + ", ".join(errors) + "]" if errors else "")


def _pod_security(cluster: "Cluster", ns: str, pod: dict[str, Any]) -> str:
    labels = (cluster.namespaces.get(ns) or {}).get("metadata", {}).get("labels") or {}
    level = labels.get("pod-security.kubernetes.io/enforce", "privileged")  # no label: the default, privileged
    if level not in BASELINE_LEVELS:
        return ""
    version = labels.get("pod-security.kubernetes.io/enforce-version", "latest")
    spec, failed = pod["spec"], []
    privileged = [c.get("name") for c in _containers(spec)
                  if ((c.get("securityContext") or {}).get("privileged")) is True]
    host_paths = [v.get("name") for v in spec.get("volumes") or [] if isinstance(v, dict) and "hostPath" in v]
    for reason, names, what, detail in (
            ("hostPath volumes", host_paths, ("volume", "volumes"), ""),
            ("privileged", privileged, ("container", "containers"), " must not set securityContext.privileged=true")):
        if names:
            quoted = ", ".join(f'"{n}"' for n in names)
            failed.append(f"{reason} ({what[0] if len(names) == 1 else what[1]} {quoted}{detail})")
    if not failed:
        return ""
    return f'violates PodSecurity "{level}:{version}": {", ".join(failed)}'


def _usage(pod: dict[str, Any]) -> dict[str, Decimal]:
    used: dict[str, Decimal] = {"pods": Decimal(1)}
    for container in pod["spec"]["containers"]:
        for key in ("limits", "requests"):
            for resource, value in ((container.get("resources") or {}).get(key) or {}).items():
                used[f"{key}.{resource}"] = used.get(f"{key}.{resource}", Decimal(0)) + _amount(value)
    return used


def _shown(resource: str, amount: Decimal) -> str:
    """A quantity as the quota's message prints it (a resource.Quantity's String())."""
    if resource.endswith("cpu"):
        return f"{int(amount)}" if amount == int(amount) else f"{int(amount * 1000)}m"
    for suffix, power in (("Gi", 30), ("Mi", 20), ("Ki", 10)):
        if amount and amount % (2 ** power) == 0:
            return f"{int(amount / 2 ** power)}{suffix}"
    return str(int(amount))


def _resource_quota(cluster: "Cluster", ns: str, pod: dict[str, Any]) -> str:
    requested = _usage(pod)
    used: dict[str, Decimal] = {}
    for (space, _), other in cluster.pods.items():
        if space == ns:
            for key, value in _usage(other.obj).items():
                used[key] = used.get(key, Decimal(0)) + value
    for quota in cluster.stored.get((ns, "resourcequotas"), {}).values():
        hard = {key: _amount(value) for key, value in ((quota.get("spec") or {}).get("hard") or {}).items()}
        exceeded = sorted(key for key, limit in hard.items()
                          if key in requested and used.get(key, Decimal(0)) + requested[key] > limit)
        if exceeded:
            return (f"exceeded quota: {quota['metadata']['name']}, requested: {_listed(requested, exceeded)}, "
                    f"used: {_listed(used, exceeded)}, limited: {_listed(hard, exceeded)}")
    return ""


def _listed(values: dict[str, Decimal], keys: list[str]) -> str:
    """prettyPrint of the quota plugin: sorted key=value pairs, joined by commas."""
    return ",".join(f"{key}={_shown(key, values.get(key, Decimal(0)))}" for key in keys)
