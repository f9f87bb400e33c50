"""What `kubectl apply` needs beyond create: PATCH of an existing object, the update rules of a Pod, and
server-side field validation (`fieldValidation=Strict`, which kubectl sends).

- Strategic merge patch (what kubectl apply sends for built-in kinds): maps merge, `null` deletes,
  lists of named things merge by their key, directives (`$patch`, `$setElementOrder/...`, `$retainKeys`)
  as apimachinery pkg/util/strategicpatch/patch.go reads them; the merge keys are the `patchMergeKey`
  tags of k8s.io/api/core/v1/types.go. JSON merge patch is RFC 7386.
- A Pod's spec is immutable but for images and a few fields (kubernetes pkg/apis/core/validation/
  validation.go ValidatePodUpdate): anything else is the 422 kubectl shows as `Forbidden: pod updates may
  not change fields other than ...` (the server appends a diff of the specs; this one does not).
- Unknown fields: with `fieldValidation=Strict` the server refuses them with 400 `strict decoding error:
  unknown field "spec.containers[0].imagee"` (apiserver pkg/endpoints/handlers/rest.go and
  apimachinery's strict JSON decoding); with Warn it says so in a `Warning` header. Known fields are
  those of the Kubernetes version's OpenAPI definitions (openapi.py).
"""

from __future__ import annotations

import copy
from typing import Any

from tests.cluster.openapi import definitions, definition_of

# field name -> the key its list items merge by (types.go `patchMergeKey`); other lists are replaced
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
              "env": "name", "ports": "containerPort", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
              "imagePullSecrets": "name", "hostAliases": "ip", "resourceClaims": "name", "conditions": "type"}
STRATEGIC, MERGE = "application/strategic-merge-patch+json", "application/merge-patch+json"
IMMUTABLE_MESSAGE = ("Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                     "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                     "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                     "was previously negative)")


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_patch(target: Any, patch: Any, name: str = "") -> Any:
    if isinstance(patch, list):
        return _merge_list(target if isinstance(target, list) else [], patch, MERGE_KEYS.get(name))
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [item for item in result.get(field) or [] if item not in value]
        elif value is None:
            result.pop(key, None)
        else:
            merged = strategic_patch(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_list(current: list[Any], patch: list[Any], key: str | None) -> list[Any]:
    if key is None or not all(isinstance(item, dict) for item in patch):
        return [item for item in copy.deepcopy(patch) if not (isinstance(item, dict) and item.get("$patch"))]
    result = copy.deepcopy(current)
    for item in patch:
        index = next((i for i, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item.get(key)),
                     None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            result[index] = strategic_patch(result[index], item)
    return result


def apply(target: dict[str, Any], patch: Any, content_type: str) -> dict[str, Any] | None:
    """The patched object, or None for a patch type not modelled (JSON patch)."""
    if content_type == STRATEGIC:
        return strategic_patch(target, patch)
    if content_type == MERGE:
        return merge_patch(target, patch)
    return None


def pod_update_errors(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """ValidatePodUpdate for what a student can change: the spec with every image put back must be the same."""
    causes = []
    for field in ("name", "namespace", "uid", "creationTimestamp"):
        if (old.get("metadata") or {}).get(field) != (new.get("metadata") or {}).get(field):
            causes.append({"reason": "FieldValueInvalid", "field": f"metadata.{field}",
                           "message": "Invalid value: field is immutable"})
    restored = copy.deepcopy(new.get("spec") or {})
    for place in ("containers", "initContainers"):
        before = {c.get("name"): c.get("image") for c in (old.get("spec") or {}).get(place) or []}
        for container in restored.get(place) or []:
            if container.get("name") in before:
                container["image"] = before[container["name"]]
    for field in ("activeDeadlineSeconds", "tolerations"):
        if field in (old.get("spec") or {}) or field in restored:
            restored[field] = (old.get("spec") or {}).get(field)
            if restored[field] is None:
                restored.pop(field)
    if restored != (old.get("spec") or {}):
        causes.append({"reason": "FieldValueForbidden", "field": "spec", "message": IMMUTABLE_MESSAGE})
    return causes


def unknown_fields(obj: dict[str, Any], kind: str, minor: int) -> list[str]:
    """The paths of fields the kind's schema does not have, as strict decoding names them."""
    schemas = definitions(minor)
    found: list[str] = []

    def walk(value: Any, schema: dict[str, Any], path: str) -> None:
        while "$ref" in schema:
            schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        if isinstance(value, dict) and "properties" in schema:
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                if key not in schema["properties"]:
                    found.append(where)
                else:
                    walk(item, schema["properties"][key], where)
        elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
            for key, item in value.items():
                walk(item, schema["additionalProperties"], f"{path}.{key}")
        elif isinstance(value, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                walk(item, schema["items"], f"{path}[{index}]")

    walk(obj, schemas.get(definition_of(kind), {}), "")
    return found


def strict_decoding_message(kind: str, fields: list[str]) -> str:
    return (f"{kind} in version \"v1\" cannot be handled as a {kind}: strict decoding error: "
            + ", ".join(f'unknown field "{field}"' for field in fields))
