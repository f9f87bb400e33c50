"""The API server's validation of a Pod, for the common mistakes: the 422 field errors it returns,
in its own words (k8s.io/apimachinery field.Error strings)."""

from __future__ import annotations

import json
import re
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
    if policy is not None and policy not in POLICIES:
        errors.add("spec.restartPolicy", "FieldValueNotSupported", "Unsupported value",
                   'supported values: "Always", "OnFailure", "Never"', policy)
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
    if init and c.get("restartPolicy") is not None:
        # native sidecars: this fake models a server without them (podman cannot run them)
        errors.add(f"{path}.restartPolicy", "FieldValueForbidden", "Forbidden",
                   "may not be set for init containers (native sidecars are not modelled by the fake cluster)")
    for j, port in enumerate(c.get("ports") or []):
        number = port.get("containerPort") if isinstance(port, dict) else None
        if number is None:
            errors.add(f"{path}.ports[{j}].containerPort", "FieldValueRequired", "Required value")
        elif not isinstance(number, int) or not 1 <= number <= 65535:
            errors.add(f"{path}.ports[{j}].containerPort", "FieldValueInvalid", "Invalid value",
                       "must be between 1 and 65535, inclusive", number)
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


def invalid_message(kind: str, name: str, causes: list[dict[str, str]]) -> str:
    """`Pod "x" is invalid: field: message`, or a bracketed list when there are several."""
    lines = [f"{c['field']}: {c['message']}" for c in causes]
    listed = lines[0] if len(lines) == 1 else "[" + ", ".join(lines) + "]"
    return f'{kind} "{name}" is invalid: {listed}'
