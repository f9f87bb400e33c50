"""The API server's validation of a Pod, for the common mistakes: the 422 field errors it returns,
in its own words (k8s.io/apimachinery field.Error strings; the rules of k8s.io/kubernetes
pkg/apis/core/validation/validation.go, read and written again here apart from graders/validation/, so
that the two can disagree: tests/test_validation.py compares them on the same Pods).

Simplified where a beginner never goes: quantities are compared by their value and printed as written,
a named probe port is not checked for its syntax, and defaults are those of pkg/apis/core/v1/defaults.go
for the fields modelled ("" or a missing restartPolicy, dnsPolicy, protocol, pull policy)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SUBDOMAIN_ERROR = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_ERROR = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
               "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
               "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
UNITS: dict[str, Decimal | int] = {"": 1, "m": Decimal("0.001"), "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9,
                                   "T": 10 ** 12, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40}


def _supported(values: tuple[str, ...]) -> str:
    return "supported values: " + ", ".join(json.dumps(v) for v in values)


def _amount(value: Any) -> Decimal | None:
    """A quantity's value, for the units a lab uses; None for anything else (not compared)."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?", str(value).strip())
    return Decimal(match.group(1)) * UNITS[match.group(2) or ""] if match else None


def _quote(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


class Errors:
    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []

    def add(self, field: str, reason: str, kind: str, detail: str = "", value: Any = None) -> None:
        """kind: Required value / Invalid value / Duplicate value / Not found / Unsupported value / Forbidden."""
        message = kind
        if kind in ("Invalid value", "Duplicate value", "Not found", "Unsupported value"):
            message += f": {_quote(value)}"
        if detail:
            message += f": {detail}"
        self.causes.append({"reason": reason, "message": message, "field": field})


def name_errors(name: Any, field: str = "metadata.name") -> list[dict[str, str]]:
    errors = Errors()
    if not name:
        errors.add(field, "FieldValueRequired", "Required value", "name or generateName is required")
    elif not isinstance(name, str) or len(name) > 253 or not SUBDOMAIN.match(name):
        errors.add(field, "FieldValueInvalid", "Invalid value", SUBDOMAIN_ERROR, name)
    return errors.causes


def pod_errors(pod: dict[str, Any]) -> list[dict[str, str]]:
    """Field errors of a Pod, as the API server lists them (empty: valid as far as modelled)."""
    errors = Errors()
    errors.causes += name_errors((pod.get("metadata") or {}).get("name"))
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        errors.add("spec.containers", "FieldValueRequired", "Required value")
        return errors.causes
    volumes: set[Any] = set()  # any YAML value: an int or a null name is reported, then kept
    for i, volume in enumerate(spec.get("volumes") or []):
        name = volume.get("name") if isinstance(volume, dict) else None
        if not name:
            errors.add(f"spec.volumes[{i}].name", "FieldValueRequired", "Required value")
        elif name in volumes:
            errors.add(f"spec.volumes[{i}].name", "FieldValueDuplicate", "Duplicate value", value=name)
        elif not LABEL.match(str(name)):
            errors.add(f"spec.volumes[{i}].name", "FieldValueInvalid", "Invalid value", LABEL_ERROR, name)
        volumes.add(name)
    containers = spec.get("containers") or []
    if not containers:
        errors.add("spec.containers", "FieldValueRequired", "Required value")
    names: set[Any] = set()
    groups = [("initContainers", spec.get("initContainers") or []), ("containers", containers)]
    for group, items in groups:
        for i, container in enumerate(items):
            _container(errors, f"spec.{group}[{i}]", container if isinstance(container, dict) else {}, names,
                       volumes, init=group == "initContainers")
    policy = spec.get("restartPolicy")
    if policy and policy not in POLICIES:
        errors.add("spec.restartPolicy", "FieldValueNotSupported", "Unsupported value", _supported(POLICIES), policy)
    dns = spec.get("dnsPolicy")
    if dns and dns not in DNS_POLICIES:
        errors.add("spec.dnsPolicy", "FieldValueNotSupported", "Unsupported value", _supported(DNS_POLICIES), dns)
    return errors.causes


def _container(errors: Errors, path: str, c: dict[str, Any], names: set[Any], volumes: set[Any], init: bool) -> None:
    name = c.get("name")
    if not name:
        errors.add(f"{path}.name", "FieldValueRequired", "Required value")
    elif name in names:
        errors.add(f"{path}.name", "FieldValueDuplicate", "Duplicate value", value=name)
    elif not isinstance(name, str) or len(name) > 63 or not LABEL.match(name):
        errors.add(f"{path}.name", "FieldValueInvalid", "Invalid value", LABEL_ERROR, name)
    names.add(name)
    if not c.get("image"):
        errors.add(f"{path}.image", "FieldValueRequired", "Required value")
    sidecar = init and c.get("restartPolicy") == "Always"  # a native sidecar (Kubernetes 1.29+)
    if init and c.get("restartPolicy") is not None and not sidecar:
        errors.add(f"{path}.restartPolicy", "FieldValueNotSupported", "Unsupported value", _supported(("Always",)),
                   c.get("restartPolicy"))
    elif not init and c.get("restartPolicy") is not None:  # validateContainers: only init containers take one
        errors.add(f"{path}.restartPolicy", "FieldValueForbidden", "Forbidden",
                   "may not be set for non-init containers")
    message_policy = c.get("terminationMessagePolicy")
    if message_policy and message_policy not in MESSAGE_POLICIES:
        errors.add(f"{path}.terminationMessagePolicy", "FieldValueNotSupported", "Unsupported value",
                   _supported(MESSAGE_POLICIES), message_policy)
    for j, port in enumerate(c.get("ports") or []):
        number = port.get("containerPort") if isinstance(port, dict) else None
        if number is None:
            errors.add(f"{path}.ports[{j}].containerPort", "FieldValueRequired", "Required value")
        elif not isinstance(number, int) or not 1 <= number <= 65535:
            errors.add(f"{path}.ports[{j}].containerPort", "FieldValueInvalid", "Invalid value",
                       "must be between 1 and 65535, inclusive", number)
        protocol = port.get("protocol") if isinstance(port, dict) else None
        if protocol and protocol not in PROTOCOLS:
            errors.add(f"{path}.ports[{j}].protocol", "FieldValueNotSupported", "Unsupported value",
                       _supported(PROTOCOLS), protocol)
    pull = c.get("imagePullPolicy")
    if pull and pull not in PULL_POLICIES:
        errors.add(f"{path}.imagePullPolicy", "FieldValueNotSupported", "Unsupported value", _supported(PULL_POLICIES),
                   pull)
    resources = c.get("resources")
    _resources(errors, f"{path}.resources", resources if isinstance(resources, dict) else {})
    if not init or sidecar:  # a sidecar takes probes as a container does
        for kind in PROBES:
            if isinstance(c.get(kind), dict):
                _probe(errors, f"{path}.{kind}", c[kind])
    else:
        for kind in PROBES:
            if c.get(kind) is not None:
                errors.add(f"{path}.{kind}", "FieldValueForbidden", "Forbidden",
                           "may not be set for init containers without restartPolicy=Always")
    paths: set[Any] = set()
    for j, mount in enumerate(c.get("volumeMounts") or []):
        mount = mount if isinstance(mount, dict) else {}
        if not mount.get("name"):
            errors.add(f"{path}.volumeMounts[{j}].name", "FieldValueRequired", "Required value")
        elif mount["name"] not in volumes:
            errors.add(f"{path}.volumeMounts[{j}].name", "FieldValueNotFound", "Not found", value=mount["name"])
        target = mount.get("mountPath")
        if not target:
            errors.add(f"{path}.volumeMounts[{j}].mountPath", "FieldValueRequired", "Required value")
        elif target in paths:
            errors.add(f"{path}.volumeMounts[{j}].mountPath", "FieldValueInvalid", "Invalid value",
                       "must be unique", target)
        paths.add(target)


def _resources(errors: Errors, path: str, resources: dict[str, Any]) -> None:
    """A request may not exceed its limit (reported on `requests`, with the request's value)."""
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    for name, request in (requests.items() if isinstance(requests, dict) else []):
        limit = limits.get(name) if isinstance(limits, dict) else None
        wanted, allowed = _amount(request), _amount(limit)
        if wanted is not None and allowed is not None and wanted > allowed:
            errors.add(f"{path}.requests", "FieldValueInvalid", "Invalid value",
                       f"must be less than or equal to {name} limit of {limit}", str(request))


def _probe(errors: Errors, path: str, probe: dict[str, Any]) -> None:
    """One handler per probe; a port number in range."""
    given = [kind for kind in HANDLERS if probe.get(kind) is not None]
    if not given:
        errors.add(path, "FieldValueRequired", "Required value", "must specify a handler type")
    for kind in given[1:]:
        errors.add(f"{path}.{kind}", "FieldValueForbidden", "Forbidden", "may not specify more than 1 handler type")
    if given and given[0] in ("httpGet", "tcpSocket"):
        port = (probe[given[0]] or {}).get("port")
        if isinstance(port, int) and not 1 <= port <= 65535:
            errors.add(f"{path}.{given[0]}.port", "FieldValueInvalid", "Invalid value",
                       "must be between 1 and 65535, inclusive", port)


def invalid_message(kind: str, name: str, causes: list[dict[str, str]]) -> str:
    """`Pod "x" is invalid: field: message`, or a bracketed list when there are several."""
    lines = [f"{c['field']}: {c['message']}" for c in causes]
    listed = lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    return f'{kind} "{name}" is invalid: {listed}'
