"""The OpenAPI documents kubectl reads before it creates or applies anything.

- `/openapi/v3` and `/openapi/v3/api/v1`: kubectl (`--validate=strict`, its default) asks whether the
  server validates fields itself: the PATCH operation of the object's kind lists a `fieldValidation`
  query parameter. Then kubectl validates nothing on its side and sends `fieldValidation=Strict`
  (kubectl pkg/cmd/util/factory_client_access.go Validator; cli-runtime
  pkg/resource/query_param_verifier_v3.go supportsQueryParamV3). Without the documents kubectl stops
  with `Error from server (NotFound)`.
- `/openapi/v2`, protobuf only (client-go discovery OpenAPISchema asks for
  `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`): kubectl 1.28 loads it before any
  create, and every version validates a `kind: List`'s items against it on its own side, because a
  List has no PATCH operation (kubectl pkg/validation/validation.go validateList; kube-openapi
  pkg/util/proto/validation/types.go: unknown fields, missing required fields, a map where a list
  belongs, and so on).

The schemas are the Kubernetes version's own definitions as kubernetes-validate ships them (JSON
Schema made from the same OpenAPI), turned back into OpenAPI: one type per schema, `$ref`s to
`#/definitions/` or `#/components/schemas/`, IntOrString and Quantity as the strings they are
declared as. Only the definitions the served kinds reach are included, without descriptions (so
`kubectl explain` prints no text here).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

from aiohttp import web

from tests.cluster.discovery import RESOURCES

# kubectl asks for the "@" form; kube-openapi pkg/handler/handler.go answers with the dotted one, which
# Go's mime.ParseMediaType accepts (it refuses the "@")
V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def definition_of(kind: str) -> str:
    """The OpenAPI definition of a core/v1 kind."""
    return f"io.k8s.api.core.v1.{kind}"


def _schemas_folder(minor: int) -> Path:
    import kubernetes_validate  # a dependency of the graders already (graders/manifests.py)

    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    folder = root / f"v1.{minor}.0-local"
    if not folder.is_dir():  # a server newer than the schemas installed: the newest there is
        folder = max(root.glob("v1.*.0-local"), key=lambda path: int(path.name.split(".")[1]))
    return folder


@functools.lru_cache(maxsize=None)
def definitions(minor: int) -> dict[str, dict[str, Any]]:
    """name -> OpenAPI schema (v2 form, `#/definitions/` refs) of what the served kinds reach."""
    found = json.loads((_schemas_folder(minor) / "_definitions.json").read_text())["$defs"]
    wanted = [definition_of(r.kind) for r in RESOURCES]
    wanted += [name + "List" for name in wanted]
    result: dict[str, dict[str, Any]] = {}
    queue = [name for name in wanted if name in found]
    while queue:
        name = queue.pop()
        if name in result:
            continue
        result[name] = _openapi(found[name], top=True, name=name)
        queue.extend(ref.rsplit("/", 1)[-1] for ref in _refs(result[name]))
    return result


def _refs(schema: Any) -> Iterable[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


def _openapi(schema: dict[str, Any], top: bool = False, name: str = "") -> dict[str, Any]:
    if name == INT_OR_STRING:
        return {"type": "string", "format": "int-or-string"}
    if name == QUANTITY:
        return {"type": "string"}
    result: dict[str, Any] = {}
    if "$ref" in schema:
        return {"$ref": "#/definitions/" + schema["$ref"].rsplit("/", 1)[-1]}
    types = schema.get("type")
    if isinstance(types, list):
        types = next((t for t in types if t != "null"), None)
    if types:
        result["type"] = types
    elif "properties" in schema:
        result["type"] = "object"
    for key in ("format", "required"):
        if key in schema:
            result[key] = schema[key]
    if "items" in schema:
        result["items"] = _openapi(schema["items"])
    if isinstance(schema.get("additionalProperties"), dict):
        result["additionalProperties"] = _openapi(schema["additionalProperties"])
    if "properties" in schema:
        result["properties"] = {key: _openapi(value) for key, value in schema["properties"].items()}
    result.update({key: value for key, value in schema.items() if key.startswith("x-kubernetes-")})
    return result


# -- OpenAPI v3 ------------------------------------------------------------------------------------------
def _parameter(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": True}}


def _operations(resource: Any) -> dict[str, dict[str, Any]]:
    """The paths of one resource, each operation with the GVK and the query parameters a server lists."""
    gvk = {"group": "", "version": "v1", "kind": resource.kind}
    base = "/api/v1/namespaces/{namespace}/" if resource.namespaced else "/api/v1/"
    ref = {"$ref": f"#/components/schemas/{definition_of(resource.kind)}"}
    body = {"content": {"application/json": {"schema": ref}}}
    writes = [_parameter("dryRun"), _parameter("fieldManager"), _parameter("fieldValidation")]

    def operation(action: str, verb: str, parameters: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"operationId": f"{verb}CoreV1{resource.kind}", "parameters": parameters,
                "x-kubernetes-action": action, "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}, **extra}

    collection: dict[str, Any] = {}
    item: dict[str, Any] = {}
    if "list" in resource.verbs:
        collection["get"] = operation("list", "list", [_parameter("labelSelector"), _parameter("fieldSelector"),
                                                       _parameter("watch", "boolean")])
    if "create" in resource.verbs:
        collection["post"] = operation("post", "create", writes, requestBody=body)
    if "get" in resource.verbs:
        item["get"] = operation("get", "read", [])
    if "update" in resource.verbs:
        item["put"] = operation("put", "replace", writes, requestBody=body)
    if "patch" in resource.verbs:
        patch_body = {"content": {kind: {"schema": {"type": "object"}} for kind in (
            "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json",
            "application/apply-patch+yaml")}}
        item["patch"] = operation("patch", "patch", [*writes, _parameter("force", "boolean")], requestBody=patch_body)
    if "delete" in resource.verbs:
        item["delete"] = operation("delete", "delete", [_parameter("dryRun"), _parameter("gracePeriodSeconds",
                                                                                           "integer")])
    return {base + resource.name: collection, base + resource.name + "/{name}": item}


def _v3_schema(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {key: ("#/components/schemas/" + value.rsplit("/", 1)[-1] if key == "$ref" else _v3_schema(value))
                for key, value in schema.items()}
    return schema


@functools.lru_cache(maxsize=None)
def v3_document(minor: int) -> bytes:
    paths: dict[str, Any] = {}
    for resource in RESOURCES:
        paths.update(_operations(resource))
    schemas = {name: _v3_schema(schema) for name, schema in definitions(minor).items()}
    return json.dumps({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": f"v1.{minor}.0"},
                       "paths": paths, "components": {"schemas": schemas}}, sort_keys=True).encode()


# -- OpenAPI v2, as protobuf (gnostic openapiv2/OpenAPIv2.proto: Document, Schema, NamedAny) ---------------
def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


def _field(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (wire type 2): a string or an embedded message."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _named(name: str, value: bytes) -> bytes:  # NamedSchema, NamedAny: name = 1, value = 2
    return _field(1, name) + _field(2, value)


def _proto_schema(schema: dict[str, Any]) -> bytes:
    """Schema: _ref 1, format 2, required 19, additional_properties 21 (AdditionalPropertiesItem.schema 1),
    type 22 (TypeItem.value 1), items 23 (ItemsItem.schema 1), properties 25 (Properties.additional_properties
    1), vendor_extension 31 (NamedAny; Any.yaml 2)."""
    out = b""
    if "$ref" in schema:
        out += _field(1, schema["$ref"])
    if "format" in schema:
        out += _field(2, schema["format"])
    for name in schema.get("required", []):
        out += _field(19, name)
    if "additionalProperties" in schema:
        out += _field(21, _field(1, _proto_schema(schema["additionalProperties"])))
    if "type" in schema:
        out += _field(22, _field(1, schema["type"]))
    if "items" in schema:
        out += _field(23, _field(1, _proto_schema(schema["items"])))
    if "properties" in schema:
        out += _field(25, b"".join(_field(1, _named(key, _proto_schema(value)))
                                   for key, value in schema["properties"].items()))
    for key, value in schema.items():
        if key.startswith("x-kubernetes-"):
            out += _field(31, _named(key, _field(2, json.dumps(value))))  # JSON is YAML
    return out


@functools.lru_cache(maxsize=None)
def v2_document(minor: int) -> bytes:
    """Document: swagger 1, info 2 (title 1, version 2), paths 8, definitions 9 (additional_properties 1)."""
    info = _field(1, "Kubernetes") + _field(2, f"v1.{minor}.0")
    defs = b"".join(_field(1, _named(name, _proto_schema(schema))) for name, schema in definitions(minor).items())
    return _field(1, "2.0") + _field(2, info) + _field(8, b"") + _field(9, defs)


def routes(app: web.Application, minor: int) -> None:
    v3 = v3_document(minor)
    digest = hashlib.sha512(v3).hexdigest()[:128].upper()

    async def index(request: web.Request) -> web.Response:
        return web.json_response({"paths": {"api/v1": {"serverRelativeURL": f"/openapi/v3/api/v1?hash={digest}"}}})

    async def api_v1(request: web.Request) -> web.Response:
        headers = {"Etag": f'"{digest}"'}
        if request.query.get("hash") == digest:  # the hash names this content: it never changes
            headers["Cache-Control"] = "public, immutable"
            headers["Expires"] = "Fri, 01 Jan 2100 00:00:00 GMT"
        return web.Response(body=v3, content_type="application/json", headers=headers)

    async def v2(request: web.Request) -> web.Response:
        return web.Response(body=v2_document(minor), content_type=V2_PROTOBUF)

    app.add_routes([web.get("/openapi/v3", index), web.get("/openapi/v3/", index),
                    web.get("/openapi/v3/api/v1", api_v1), web.get("/openapi/v2", v2)])
