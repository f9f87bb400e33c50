"""What the API server fills in of a Pod that `kubectl describe` shows: the probes' defaults and the QoS class.

- A probe's timeoutSeconds 1, periodSeconds 10, successThreshold 1, failureThreshold 3, and an httpGet's
  path `/` and scheme HTTP (kubernetes pkg/apis/core/v1/defaults.go: SetDefaults_Probe,
  SetDefaults_HTTPGetAction); describe prints them as `http-get http://:http/ delay=0s timeout=1s ...`.
- status.qosClass, which the API server sets when it creates the Pod (pkg/registry/core/pod/strategy.go
  PrepareForCreate) by pkg/apis/core/helper/qos/qos.go ComputePodQOS: of the CPU and memory of every
  container and init container, BestEffort when none asks for any, Guaranteed when each has CPU and memory
  limits and what all of them request equals what they are limited to, else Burstable. A limit without its
  request requests the limit (defaults.go, SetDefaults_Pod), so it counts as both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from graders.checks.expect import parse_quantity

PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
QOS_RESOURCES = ("cpu", "memory")


def probe_defaults(spec: dict[str, Any]) -> None:
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for name in PROBES:
            probe = container.get(name)
            if not isinstance(probe, dict):
                continue
            for key, value in PROBE_DEFAULTS.items():
                probe.setdefault(key, value)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("path", "/")
                probe["httpGet"].setdefault("scheme", "HTTP")


def qos_class(spec: dict[str, Any]) -> str:
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    guaranteed = True
    for container in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        resources = container.get("resources") or {}
        given_limits = _positive(resources.get("limits"))
        given_requests = _positive({**(resources.get("limits") or {}), **(resources.get("requests") or {})})
        for name, value in given_requests.items():
            requests[name] = requests.get(name, Decimal(0)) + value
        for name, value in given_limits.items():
            limits[name] = limits.get(name, Decimal(0)) + value
        guaranteed &= set(QOS_RESOURCES) <= set(given_limits)
    if not requests and not limits:
        return "BestEffort"
    if guaranteed and requests == limits:
        return "Guaranteed"
    return "Burstable"


def _positive(quantities: Any) -> dict[str, Decimal]:
    """The CPU and memory of a requests or limits map that are more than zero."""
    found = {}
    for name in QOS_RESOURCES:
        try:
            value = parse_quantity((quantities or {}).get(name))
        except ValueError:
            continue
        if value > 0:
            found[name] = value
    return found
