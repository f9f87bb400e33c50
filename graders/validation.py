"""What the API server refuses with 422 Invalid that a beginner can hit, checked offline.

The schema check knows types and field names; it does not know that a container name must be a
DNS label or that a volumeMount must name a declared volume. The API server does, so a Pod that
passes the schema can still never be created on a cluster, while podman would play it anyway.
Checking here gives the same verdict on every backend: such a Pod fails `manifests`, is not applied.

Wording follows the API server (k8s.io/kubernetes pkg/apis/core/validation/validation.go and
k8s.io/apimachinery pkg/util/validation/validation.go), so a student who later meets the same
error from `kubectl apply` recognises it; a hint in the lesson's terms follows each one.
Runs after the schema check: values have the schema's types, but lists may hold anything.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

Problem = tuple[str, str]  # (field path, message)

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = rf"{_LABEL}(\.{_LABEL})*"
_QUALIFIED_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = rf"({_QUALIFIED_NAME})?"

LABEL_MESSAGE = (f"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                 f"start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                 f"validation is '{_LABEL}')")
SUBDOMAIN_MESSAGE = (f"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                     f"and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                     f"validation is '{_SUBDOMAIN}')")
QUALIFIED_NAME_MESSAGE = (f"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                          f"end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                          f"used for validation is '{_QUALIFIED_NAME}')")
LABEL_VALUE_MESSAGE = (f"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                       f"and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                       f"'12345', regex used for validation is '{_LABEL_VALUE}')")
# Kubernetes 1.34 made RelaxedEnvironmentVariableValidation GA: the API server of the graders' pinned
# version (graders/versions.py) accepts any printable ASCII name without '='. The older C-identifier-ish
# rule ([-._a-zA-Z][-._a-zA-Z0-9]*) would refuse names that kind accepts, so it is not used.
ENV_NAME_MESSAGE = "a valid environment variable name must consist only of printable ASCII characters other than '='"
PORT_RANGE_MESSAGE = "must be between 1 and 65535, inclusive"

HINT_NAME = "use lower-case letters, digits and '-' only, e.g. log-shipper"


def quote(value: Any) -> str:
    """A value as the API server quotes it in 'Invalid value: "..."' (Go's %q)."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else json.dumps(value)


def invalid(value: Any, message: str, hint: str = "") -> str:
    return f"Invalid value: {quote(value)}: {message}" + (f" ({hint})" if hint else "")


def problems(pod: dict[str, Any]) -> list[Problem]:
    """Every 422 a beginner can hit in this Pod, with its field path; [] when the API server would accept it."""
    found: list[Problem] = []
    metadata, spec = _mapping(pod.get("metadata")), _mapping(pod.get("spec"))
    name = metadata.get("name")
    if isinstance(name, str):
        found += [("metadata.name", invalid(name, message, HINT_NAME)) for message in dns1123_subdomain(name)]
    found += _labels(metadata.get("labels"))
    volumes = _volumes(spec, found)
    seen_containers: set[str] = set()
    for kind in ("initContainers", "containers"):  # the API server checks init containers first
        for index, container in _items(spec.get(kind)):
            found += _container(f"spec.{kind}[{index}]", container, volumes, seen_containers)
    return found


def dns1123_label(value: str) -> list[str]:
    errors = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not re.fullmatch(_LABEL, value):
        errors.append("must not contain dots" if re.fullmatch(_SUBDOMAIN, value) else LABEL_MESSAGE)
    return errors


def dns1123_subdomain(value: str) -> list[str]:
    errors = ["must be no more than 253 characters"] if len(value) > 253 else []
    if not re.fullmatch(_SUBDOMAIN, value):
        errors.append(SUBDOMAIN_MESSAGE)
    return errors


def port_name(value: str) -> list[str]:
    """IANA_SVC_NAME, lower case only, as the API server checks it."""
    errors = ["must be no more than 15 characters"] if len(value) > 15 else []
    if not re.fullmatch(r"[-a-z0-9]+", value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def env_name(value: str) -> list[str]:
    if not value:
        return ["environment variable name must be non-empty"]
    if any(not 32 <= ord(char) <= 126 or char == "=" for char in value):
        return [ENV_NAME_MESSAGE]
    return []


def label_key(key: str) -> list[str]:
    prefix, slash, name = key.rpartition("/")
    errors = []
    if slash and not prefix:
        errors.append("prefix part must be non-empty")
    elif prefix:
        errors += [f"prefix part {message}" for message in dns1123_subdomain(prefix)]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not re.fullmatch(_QUALIFIED_NAME, name):
        errors.append(QUALIFIED_NAME_MESSAGE)
    if key.count("/") > 1:
        errors = ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and "
                  "end with an alphanumeric character, with an optional DNS subdomain prefix and '/' "
                  "(e.g. 'example.com/MyName')"]
    return errors


def label_value(value: str) -> list[str]:
    errors = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not re.fullmatch(_LABEL_VALUE, value):
        errors.append(LABEL_VALUE_MESSAGE)
    return errors


# -- parts of the Pod ------------------------------------------------------------------------------
def _mapping(value: Any) -> dict[str, Any]:
    """The field when it is a mapping, else an empty one (the schema check reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, item in enumerate(value if isinstance(value, list) else []):
        if isinstance(item, dict):
            yield index, item


def _labels(labels: Any) -> list[Problem]:
    found: list[Problem] = []
    hint = "label keys and values: letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    for key, value in (labels.items() if isinstance(labels, dict) else []):
        if isinstance(key, str):
            found += [("metadata.labels", invalid(key, message, hint)) for message in label_key(key)]
        if isinstance(value, str):
            found += [(f"metadata.labels.{key}", invalid(value, message, hint)) for message in label_value(value)]
    return found


def _volumes(spec: dict[str, Any], found: list[Problem]) -> set[str]:
    """The declared volume names; their problems are added to `found`."""
    names: set[str] = set()
    for index, volume in _items(spec.get("volumes")):
        name, where = volume.get("name"), f"spec.volumes[{index}].name"
        if not isinstance(name, str):
            continue
        if not name:
            found.append((where, "Required value (every volume needs a name)"))
            continue
        found += [(where, invalid(name, message, HINT_NAME)) for message in dns1123_label(name)]
        if name in names:
            found.append((where, f"Duplicate value: {quote(name)} (two volumes with one name: rename or remove one)"))
        names.add(name)
    return names


def _container(where: str, container: dict[str, Any], volumes: set[str], seen: set[str]) -> list[Problem]:
    found: list[Problem] = []
    name = container.get("name")
    if isinstance(name, str) and name:
        found += [(f"{where}.name", invalid(name, message, HINT_NAME)) for message in dns1123_label(name)]
        if name in seen:
            found.append((f"{where}.name", f"Duplicate value: {quote(name)} (each container of a Pod, init "
                                           f"containers included, needs a name of its own)"))
        seen.add(name)
    found += _ports(where, container.get("ports"))
    for index, variable in _items(container.get("env")):
        value = variable.get("name")
        if isinstance(value, str):
            found += [(f"{where}.env[{index}].name", invalid(value, message)) for message in env_name(value)]
    found += _mounts(where, container.get("volumeMounts"), volumes)
    return found


def _ports(where: str, ports: Any) -> list[Problem]:
    found: list[Problem] = []
    names: set[str] = set()
    for index, port in _items(ports):
        at = f"{where}.ports[{index}]"
        name = port.get("name")
        if isinstance(name, str) and name:
            found += [(f"{at}.name", invalid(name, message, "a port name is at most 15 lower-case letters, digits "
                                                            "and '-', e.g. http"))
                      for message in port_name(name)]
            if name in names:
                found.append((f"{at}.name", f"Duplicate value: {quote(name)}"))
            names.add(name)
        for key in ("containerPort", "hostPort"):
            number = port.get(key)
            if key == "containerPort" and number == 0:
                found.append((f"{at}.containerPort", "Required value (the port your program listens on, e.g. 80)"))
            elif isinstance(number, int) and not isinstance(number, bool) and number != 0 and not 1 <= number <= 65535:
                found.append((f"{at}.{key}", invalid(number, PORT_RANGE_MESSAGE)))
    return found


def _mounts(where: str, mounts: Any, volumes: set[str]) -> list[Problem]:
    found: list[Problem] = []
    paths: set[str] = set()
    for index, mount in _items(mounts):
        at = f"{where}.volumeMounts[{index}]"
        name, path = mount.get("name"), mount.get("mountPath")
        if isinstance(name, str) and name not in volumes:
            declared = ", ".join(sorted(volumes)) or "none"
            found.append((f"{at}.name", f"Not found: {quote(name)} (a volumeMount names a volume declared under "
                                        f"the Pod's spec.volumes; declared: {declared})"))
        if isinstance(path, str) and path:
            if path in paths:
                found.append((f"{at}.mountPath", invalid(path, "must be unique",
                                                         "one container cannot mount two volumes at one path")))
            paths.add(path)
    return found
