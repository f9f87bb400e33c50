"""Discovery as the API server writes it, for the resources this server has: the legacy documents
(`/api`, `/api/v1`, `/apis`) and the aggregated one that kubectl 1.27+ asks for first (`Accept:
application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`, v2beta1 before 1.30).

kubectl maps every file's kind through discovery before it decodes anything else (`no matches for kind
"Pod" in version "v1"` without it), and resolves `kubectl get ns` and `po` through the singular and
short names. The facts per resource follow the API server's registry, kubernetes/kubernetes
pkg/registry/core/<resource>/storage/storage.go (ShortNames(), Categories(), and the verbs its REST
storage implements: Creater, Getter, Lister, Updater, Patcher, GracefulDeleter, CollectionDeleter,
Watcher); the shapes follow staging/src/k8s.io/api/apidiscovery/v2/types.go and
staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go (APIResourceList), and the answer's media
type, which tells client-go which document it got, follows
staging/src/k8s.io/client-go/discovery/discovery_client.go (the Accept list and its content-type check).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v={version};as=APIGroupDiscoveryList"


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = "v1"


@dataclass(frozen=True)
class Resource:
    name: str  # the plural, as in the URL
    singular: str
    kind: str
    namespaced: bool = True
    verbs: tuple[str, ...] = ALL_VERBS
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = field(default_factory=tuple)


_STATUS = ("get", "patch", "update")
# The core/v1 resources this server serves (a real server has more: bindings, endpoints, secrets,
# persistentvolumes, ...; listing one it does not serve would send kubectl to a 404).
RESOURCES = (
    Resource("configmaps", "configmap", "ConfigMap", short_names=("cm",)),
    Resource("events", "event", "Event", short_names=("ev",)),
    Resource("limitranges", "limitrange", "LimitRange", short_names=("limits",)),
    Resource("namespaces", "namespace", "Namespace", namespaced=False,
             verbs=("create", "delete", "get", "list", "patch", "update", "watch"), short_names=("ns",),
             subresources=(Subresource("finalize", "Namespace", ("update",)),
                           Subresource("status", "Namespace", _STATUS))),
    Resource("nodes", "node", "Node", namespaced=False, short_names=("no",),
             subresources=(Subresource("proxy", "NodeProxyOptions", ("create", "delete", "get", "patch", "update")),
                           Subresource("status", "Node", _STATUS))),
    Resource("pods", "pod", "Pod", short_names=("po",), categories=("all",), subresources=(
        Subresource("attach", "PodAttachOptions", ("create", "get")),
        Subresource("binding", "Binding", ("create",)),
        Subresource("ephemeralcontainers", "Pod", ("get", "patch", "update")),
        Subresource("eviction", "Eviction", ("create",), group="policy"),
        Subresource("exec", "PodExecOptions", ("create", "get")),
        Subresource("log", "Pod", ("get",)),
        Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
        Subresource("proxy", "PodProxyOptions", ("create", "delete", "get", "patch", "update")),
        Subresource("status", "Pod", _STATUS))),
    Resource("resourcequotas", "resourcequota", "ResourceQuota", short_names=("quota",),
             subresources=(Subresource("status", "ResourceQuota", _STATUS),)),
    Resource("serviceaccounts", "serviceaccount", "ServiceAccount", short_names=("sa",),
             subresources=(Subresource("token", "TokenRequest", ("create",), group="authentication.k8s.io"),)),
    Resource("services", "service", "Service", short_names=("svc",), categories=("all",),
             verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
             subresources=(Subresource("proxy", "ServiceProxyOptions", ("create", "delete", "get", "patch", "update")),
                           Subresource("status", "Service", _STATUS))),
)
BY_NAME = {resource.name: resource for resource in RESOURCES}
BY_KIND = {resource.kind: resource for resource in RESOURCES}


def _resource_list() -> dict[str, Any]:
    """/api/v1: an APIResourceList, each subresource an entry `pods/exec` of its own."""
    entries: list[dict[str, Any]] = []
    for resource in RESOURCES:
        entry: dict[str, Any] = {"name": resource.name, "singularName": resource.singular, "kind": resource.kind,
                                 "namespaced": resource.namespaced, "verbs": list(resource.verbs)}
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        entries.append(entry)
        for sub in resource.subresources:
            entries.append({"name": f"{resource.name}/{sub.name}", "singularName": "", "kind": sub.kind,
                            "namespaced": resource.namespaced, "verbs": list(sub.verbs),
                            **({"group": sub.group, "version": sub.version} if sub.group else {})})
    return {"kind": "APIResourceList", "groupVersion": "v1", "resources": entries}


def _aggregated(version: str) -> dict[str, Any]:
    """/api in the aggregated form: one APIGroupDiscovery, the legacy group (no name), version v1."""
    resources = []
    for resource in RESOURCES:
        entry: dict[str, Any] = {
            "resource": resource.name, "responseKind": {"group": "", "version": "v1", "kind": resource.kind},
            "scope": "Namespaced" if resource.namespaced else "Cluster", "singularResource": resource.singular,
            "verbs": list(resource.verbs)}
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        if resource.subresources:
            entry["subresources"] = [{"subresource": sub.name, "verbs": list(sub.verbs),
                                      "responseKind": {"group": sub.group, "version": sub.version, "kind": sub.kind}}
                                     for sub in resource.subresources]
        resources.append(entry)
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": [{"metadata": {"creationTimestamp": None},
                       "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]}]}


def _aggregated_version(request: web.Request) -> str | None:
    """The aggregated discovery version the client accepts first, or None for the legacy documents.
    The client lists its choices in order (v2, then v2beta1, then plain JSON); so does this."""
    for choice in request.headers.get("Accept", "").split(","):
        params = dict(part.strip().partition("=")[::2] for part in choice.split(";")[1:])
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList" \
                and params.get("v") in ("v2", "v2beta1"):
            return params["v"]
        if choice.strip().split(";")[0] in ("application/json", "*/*"):
            return None
    return None


async def get_api(request: web.Request) -> web.Response:
    version = _aggregated_version(request)
    if version:
        return web.json_response(_aggregated(version), content_type=AGGREGATED.format(version=version))
    return web.json_response({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": request.host}]})


async def get_apis(request: web.Request) -> web.Response:
    """No API groups beyond the legacy one are served here (a real server has apps, batch, ...)."""
    version = _aggregated_version(request)
    if version:
        return web.json_response({"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}",
                                  "metadata": {}, "items": []}, content_type=AGGREGATED.format(version=version))
    return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": []})


async def get_api_v1(request: web.Request) -> web.Response:
    return web.json_response(_resource_list())


def routes(app: web.Application) -> None:
    app.add_routes([web.get("/api", get_api), web.get("/api/", get_api), web.get("/api/v1", get_api_v1),
                    web.get("/api/v1/", get_api_v1), web.get("/apis", get_apis), web.get("/apis/", get_apis)])
