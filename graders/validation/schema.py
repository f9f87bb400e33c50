"""The schema check (kubernetes-validate, the OpenAPI schema of the pinned Kubernetes version) in the
words of the component that refuses the same file, with what to do about it.

- An unknown field: the API server's strict decoding refuses it (`strict decoding error: unknown field
  "spec.containers[0].terminationGracePeriodSeconds"`). When the field exists elsewhere in a Pod, the
  message says where it belongs, from the schema itself (which definitions have a property of that name),
  not from a hand-made list; when it does not, it names the closest field of that place.
- A value of the wrong type: the JSON decoder refuses it (`json: cannot unmarshal string into Go struct
  field ContainerPort.spec.containers.ports.containerPort of type int32`), kubectl already for metadata;
  the message first says what was expected and what was found (`expected the number 80; found the text
  '80'`), as the labs' READMEs promise.
- A missing required field: the API server's `Required value`.

The Go type and struct names come from the schema's definitions (io.k8s.api.core.v1.ContainerPort is
the Go struct ContainerPort, `format: int32` an int32), as encoding/json prints them.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import deque
from typing import Any, Sequence

from graders.versions import KUBERNETES_VERSION

Definitions = dict[str, Any]
ROOT = "Pod"
# Where a definition sits, in the lesson's terms; any other is named by the first path it has in a Pod.
PLACES = {
    ROOT: "the top of the file (beside `apiVersion:` and `kind:`)",
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": "`metadata`",
    "io.k8s.api.core.v1.PodSpec": "the Pod's `spec` (beside `containers:`)",
    "io.k8s.api.core.v1.Container": "a container",
    "io.k8s.api.core.v1.Probe": "a probe (`readinessProbe`, `livenessProbe` or `startupProbe`)",
    "io.k8s.api.core.v1.ContainerPort": "a port (an entry of a container's `ports:`)",
    "io.k8s.api.core.v1.VolumeMount": "a volume mount (an entry of a container's `volumeMounts:`)",
    "io.k8s.api.core.v1.Volume": "a volume (an entry of the Pod's `spec.volumes`)",
    "io.k8s.api.core.v1.EnvVar": "an environment variable (an entry of a container's `env:`)",
    "io.k8s.api.core.v1.ResourceRequirements": "a container's `resources:`",
    "io.k8s.api.core.v1.HTTPGetAction": "`httpGet:`",
    "io.k8s.api.core.v1.TCPSocketAction": "`tcpSocket:`",
    "io.k8s.api.core.v1.ExecAction": "`exec:`",
    "io.k8s.api.core.v1.SecurityContext": "a container's `securityContext:`",
    "io.k8s.api.core.v1.PodSecurityContext": "the Pod's `spec.securityContext`",
    "io.k8s.api.core.v1.EmptyDirVolumeSource": "`emptyDir:`",
    "io.k8s.api.core.v1.Lifecycle": "a container's `lifecycle:`",
    "io.k8s.api.core.v1.LifecycleHandler": "a lifecycle hook (`postStart:` or `preStop:`)",
}
# Definitions a student never means: a Pod's status (written by the cluster) and ephemeral containers
# (the fields of a container, added by kubectl debug).
_NOT_MEANT = ("io.k8s.api.core.v1.PodStatus", "io.k8s.api.core.v1.EphemeralContainer")
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"


@functools.cache
def pod_schema() -> tuple[dict[str, Any], Definitions]:
    """The Pod's schema and its definitions, from the same files kubernetes-validate checks against."""
    from kubernetes_validate import utils  # imported here: loads jsonschema (see graders/manifests.py)

    version = [v for v in utils.all_versions() if utils.major_minor(v) <= KUBERNETES_VERSION][-1]
    folder = f"kubernetes-json-schema/v{version}-local-strict"
    pod = utils.schema_contents(f"{folder}/pod-v1.json", KUBERNETES_VERSION)
    return pod, utils.schema_contents(f"{folder}/_definitions.json", KUBERNETES_VERSION)["$defs"]


def _ref(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _node(name: str) -> dict[str, Any]:
    pod, definitions = pod_schema()
    return pod if name == ROOT else definitions.get(name, {})


@functools.cache
def _places() -> dict[str, str]:
    """Each definition a Pod reaches -> the first (shortest) path where it appears, e.g. spec.containers[]."""
    found = {ROOT: ""}
    queue = deque([ROOT])
    while queue:
        name = queue.popleft()
        for key, prop in (_node(name).get("properties") or {}).items():
            for child, suffix in _children(prop):
                if child not in found and child not in _NOT_MEANT:
                    found[child] = ".".join(part for part in (found[name], key) if part) + suffix
                    queue.append(child)
    return found


def _children(prop: dict[str, Any]) -> list[tuple[str, str]]:
    """The definitions a property holds: itself, its list's items ([]), its map's values ({})."""
    found = []
    for node, suffix in ((prop, ""), (prop.get("items") or {}, "[]"), (prop.get("additionalProperties"), "{}")):
        if isinstance(node, dict) and _ref(node):
            found.append((str(_ref(node)), suffix))
    return found


def owners(field: str) -> list[str]:
    """The definitions of a Pod (the shallowest first) that have a property of this name."""
    places = _places()
    return sorted((name for name in places if field in (_node(name).get("properties") or {})),
                  key=lambda name: (places[name].count(".") + places[name].count("[]"), places[name]))


def place(name: str) -> str:
    return PLACES.get(name) or f"`{_places().get(name, name)}`"


def definition_at(path: Sequence[Any]) -> tuple[str | None, dict[str, Any]]:
    """The definition whose object sits at this instance path (None for a list or map of plain values),
    and the schema node there."""
    walked = _walk(path)
    return walked[2], walked[3]


def _walk(path: Sequence[Any]) -> tuple[str, list[str], str | None, dict[str, Any]]:
    """(the struct that holds the last field, the struct fields on the way, the definition at the end or
    None, the schema node at the end). A map's keys and a list's indexes are no struct fields."""
    struct, fields = ROOT, []
    name: str | None = ROOT
    node = _node(ROOT)
    for part in path:
        if isinstance(part, int):
            child = node.get("items") or {}
        elif "properties" in node:
            struct, child = name or struct, node["properties"].get(part, {})
            fields.append(str(part))
        else:
            extra = node.get("additionalProperties")
            child = extra if isinstance(extra, dict) else {}
        name = _ref(child)
        node = _node(name) if name else child
    return struct, fields, name, node


def reason(error: Any) -> tuple[list[Any], str]:
    """(the instance path to report, the message) for one jsonschema error of a Pod."""
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        return path, unknown_fields(path, error.instance)
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        field = missing.group(1) if missing else "?"
        return path + [field], f"Required value ({field} is needed here{_example(field)})"
    if error.validator in ("type", "oneOf"):
        return path, wrong_type(path, error.instance, error.validator_value if error.validator == "type" else None)
    return path, error.message


def _example(field: str) -> str:
    return {"containerPort": ": the port your program listens on, e.g. 80", "name": ", e.g. name: app",
            "image": ": name:tag, as the lab's README says",
            "port": ": a number such as 80 or a port's name such as http",
            "mountPath": ": the folder inside the container, e.g. /logs"}.get(field, "")


def unknown_fields(path: list[Any], instance: Any) -> str:
    name, node = definition_at(path)
    known = set(node.get("properties") or {})
    unknown = [key for key in (instance if isinstance(instance, dict) else {}) if key not in known]
    where = _field_path(path)
    lines = []
    for field in unknown:
        full = f"{where}.{field}" if where else str(field)
        lines.append(f'unknown field "{field}": {_belongs(str(field), name, known)} (a cluster refuses it: strict '
                     f'decoding error: unknown field "{full}")')
    return "; ".join(lines)


def _belongs(field: str, here: str | None, known: set[str]) -> str:
    elsewhere = [owner for owner in owners(field) if owner != here]
    if elsewhere:  # the places a student knows first; else the shallowest other one
        named = [owner for owner in elsewhere if owner in PLACES][:3] or elsewhere[:1]
        shown = " or to ".join(place(owner) for owner in named)
        return f"{field} belongs to {shown}, not to {place(here) if here else 'this place'}"
    same_case = [key for key in known if key.lower() == field.lower()]
    if same_case:
        return f"field names are case-sensitive: write {same_case[0]}"
    close = difflib.get_close_matches(field, sorted(known), n=1, cutoff=0.7)
    if close:
        return f"did you mean {close[0]}? (check the spelling)"
    return f"{place(here) if here else 'this place'} has no such field (check the spelling and indentation)"


def wrong_type(path: list[Any], instance: Any, expected: Any) -> str:
    name, _ = definition_at(path)
    if name == QUANTITY:
        return (f"expected a quantity such as 500m, 0.5 or 128Mi; found {_shown(instance)} (a cluster cannot decode "
                f"it: 400 Bad Request)")
    if name == INT_OR_STRING:
        return (f"expected a port number such as 80 or a port name such as http; found {_shown(instance)} (a cluster "
                f"cannot decode it: 400 Bad Request)")
    types = [expected] if isinstance(expected, str) else [t for t in (expected or []) if t != "null"]
    what = _expected_found(types[0] if types else "?", instance, path)
    # kubectl decodes an object's metadata itself, and refuses the whole file before it sends anything
    # (observed with kubectl 1.28 to 1.33: `unable to decode "FILE": json: cannot unmarshal number into Go
    # struct field ObjectMeta.metadata.annotations of type string`); the rest is the API server's decoder.
    who = "kubectl refuses the file: unable to decode" if path[:1] == ["metadata"] else "a cluster refuses it"
    return f"{what} ({who}: {_go_error(path, instance)})"


def _expected_found(wanted: str, instance: Any, path: list[Any]) -> str:
    if wanted in ("integer", "number") and isinstance(instance, str):
        if re.fullmatch(r"\s*[+-]?\d+(\.\d+)?\s*", instance):
            return f"expected the number {instance.strip()}; found the text {instance!r}: remove the quotes"
        return f"expected a number; found the text {instance!r}"
    if wanted == "integer" and isinstance(instance, float):
        return f"expected a whole number; found {instance}"
    if wanted == "string" and isinstance(instance, bool):
        return (f"expected text; found the yes/no value {str(instance).lower()} (YAML reads true, false, yes, no, on "
                f"and off without quotes as one): put it in quotes, \"{str(instance).lower()}\"")
    if wanted == "string" and isinstance(instance, (int, float)):
        return f"expected text; found the number {instance}: put it in quotes, \"{instance}\""
    if wanted == "object":
        return f"expected a mapping (key: value lines, indented under it); found {_shown(instance)}"
    if wanted == "array":
        example = (': write each word as an item, e.g. command: ["sh", "-c", "tail -F /logs/access.log"]'
                   if path and path[-1] in ("command", "args") else "")
        return f"expected a list (items starting with '- ', or [a, b]); found {_shown(instance)}{example}"
    if wanted == "boolean":
        return f"expected true or false; found {_shown(instance)}"
    return f"expected {wanted}; found {_shown(instance)}"


def _shown(instance: Any) -> str:
    if isinstance(instance, str):
        return f"the text {instance!r}"
    if isinstance(instance, bool):
        return f"the yes/no value {str(instance).lower()}"
    if isinstance(instance, (int, float)):
        return f"the number {instance}"
    if isinstance(instance, list):
        return "a list"
    if isinstance(instance, dict):
        return "a mapping"
    return repr(instance)


def _go_error(path: list[Any], instance: Any) -> str:
    """encoding/json's words: the struct that holds the field, the fields' path, the field's Go type."""
    struct, fields, name, node = _walk(path)
    kind = {str: "string", bool: "bool", list: "array", dict: "object"}.get(type(instance), "number")
    go_type = "v1." + name.rsplit(".", 1)[-1] if name else _go_type(node)
    return (f"json: cannot unmarshal {kind} into Go struct field {struct.rsplit('.', 1)[-1]}.{'.'.join(fields)} "
            f"of type {go_type}")


def _go_type(node: dict[str, Any]) -> str:
    ref = _ref(node)
    if ref:
        return "v1." + ref.rsplit(".", 1)[-1]
    types = node.get("type")
    kinds = [types] if isinstance(types, str) else [t for t in (types or []) if t != "null"]
    kind = kinds[0] if kinds else ""
    if kind == "integer":
        return str(node.get("format") or "int")
    if kind == "array":
        return "[]" + _go_type(node.get("items") or {})
    if kind == "object":
        values = node.get("additionalProperties")
        return f"map[string]{_go_type(values)}" if isinstance(values, dict) else "map[string]interface {}"
    return {"string": "string", "boolean": "bool", "number": "float64"}.get(kind, "interface {}")


def _field_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
