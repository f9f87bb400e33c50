"""The fake cluster's API server: the part of the core/v1 API that graders/backends/kube/ uses,
with the real server's shapes, status codes and messages. Pods are played by kubelet.py.

Not modelled: scheduling and nodes, Services beyond storing them (no endpoints, no traffic), RBAC and
authentication (any token passes), watches, server-side apply. Admission: the default ServiceAccount,
LimitRange defaults and max, PodSecurity's privileged and hostPath checks, ResourceQuota (admission.py).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any, Awaitable, Callable

from aiohttp import web

from tests.cluster import discovery, openapi
from tests.cluster.faults import Faults
from tests.cluster.kubelet import Kubelet, Pod, now_iso
from tests.cluster.pods import PodsApi
from tests.cluster.responses import matches, merge, not_found, status
from tests.cluster.validation import LABEL, LABEL_ERROR, invalid_message
from tests.cluster.watch import Tombstones

# The version of kind v0.32's node image (graders/versions.py), as the grader's own cluster runs it; the
# fault server-version serves another minor
VERSION = {"major": "1", "minor": "36", "gitVersion": "v1.36.1-fake-cluster", "gitCommit": "", "gitTreeState": "clean",
           "buildDate": "2026-11-25T00:00:00Z", "goVersion": "go1.25", "compiler": "gc", "platform": "linux/amd64"}


def version_info(minor: str) -> dict[str, str]:
    """/version of a server of Kubernetes 1.<minor> (its gitVersion is what clients and kubectl read)."""
    if minor == VERSION["minor"]:
        return VERSION
    return {**VERSION, "minor": minor, "gitVersion": f"v1.{minor}.0-fake-cluster"}
# Stored as sent (plural -> kind); LimitRange defaults apply to new Pods, the others just exist.
NODE = "fake-cluster"  # the one node every Pod runs on (spec.nodeName)
STORED = {"limitranges": "LimitRange", "resourcequotas": "ResourceQuota", "services": "Service",
          "configmaps": "ConfigMap"}
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
SCHEDULER_REASONS = ("Scheduled", "FailedScheduling")  # events the scheduler writes, not the kubelet


class Cluster:
    """The stored objects and the HTTP handlers over them."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.kubelet = Kubelet(faults, self.emit)
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.sa_ready_at: dict[str, float] = {}
        self.pods: dict[tuple[str, str], Pod] = {}
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.stored: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}  # (ns, resource) -> name -> object
        self.version = 0
        self.on_first_pod: Callable[[], Awaitable[None]] | None = None  # the api-down fault
        self.tasks: set[asyncio.Task] = set()
        self.pods_api = PodsApi(self)
        self.minor = int(faults.server_version.split(".")[1])  # the definitions of the version it plays
        self.started = now_iso()
        self.tombstones = Tombstones()  # deleted objects, for a watch that starts after the deletion
        for name in SYSTEM_NAMESPACES:  # what every cluster starts with; `kubectl apply` uses `default`
            self.add_namespace(name, {})
            self.sa_ready_at[name] = 0.0  # their ServiceAccounts exist before anyone asks

    # -- helpers ------------------------------------------------------------------------------------
    def metadata(self, name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
        self.version += 1
        found = {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": str(self.version),
                 "creationTimestamp": now_iso(), **extra}
        if namespace:
            found["namespace"] = namespace
        return found

    def background(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def emit(self, pod: Pod, kind: str, reason: str, message: str) -> None:
        """An event about a Pod; a repeat of the last same one counts up, as the event recorder does."""
        events = self.events.setdefault(pod.namespace, [])
        for event in events:
            same = (event["involvedObject"]["uid"] == pod.obj["metadata"]["uid"] and event["reason"] == reason
                    and event["message"] == message)
            if same:
                event["count"] += 1
                event["lastTimestamp"] = now_iso()
                events.remove(event)
                events.append(event)
                return
        metadata = self.metadata(f"{pod.name}.{uuid.uuid4().hex[:16]}", pod.namespace)
        component = "default-scheduler" if reason in SCHEDULER_REASONS else "kubelet"
        source = {"component": component, **({"host": NODE} if component == "kubelet" else {})}
        events.append({"apiVersion": "v1", "kind": "Event", "metadata": metadata,
                       "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod.name,
                                          "namespace": pod.namespace, "uid": pod.obj["metadata"]["uid"]},
                       "reason": reason, "message": message, "type": kind, "count": 1,
                       "source": source,
                       "firstTimestamp": metadata["creationTimestamp"], "lastTimestamp": metadata["creationTimestamp"],
                       "reportingComponent": component, "reportingInstance": source.get("host", "")})

    async def body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            found = json.loads(await request.read() or b"{}")
        except ValueError:
            return None
        return found if isinstance(found, dict) else None

    def fields_match(self, obj: dict[str, Any], selector: str | None) -> bool:
        """An equality field selector (`metadata.name=web,status.phase!=Failed`), as kubectl wait sends."""
        for term in filter(None, (selector or "").split(",")):
            negated = "!=" in term
            key, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
            found = self._field(obj, key.strip())
            if (str(found) if found not in ({}, None) else "") == value.strip():
                if negated:
                    return False
            elif not negated:
                return False
        return True

    def gone(self, resource: str, ns: str | None, obj: dict[str, Any]) -> None:
        """An object was removed: a tombstone under the lists it was in, for watches (watch.py)."""
        self.version += 1
        obj = {**obj, "metadata": {**obj.get("metadata", {}), "resourceVersion": str(self.version)}}
        for path in ([f"/api/v1/namespaces/{ns}/{resource}", f"/api/v1/{resource}"] if ns else
                     [f"/api/v1/{resource}"]):
            self.tombstones.add(self.version, path, obj)

    def namespace_gate(self, ns: str, kind: str, name: str) -> web.Response | None:
        """NamespaceLifecycle admission: a missing namespace is 404, a terminating one 403."""
        namespace = self.namespaces.get(ns)
        if namespace is None:
            return not_found("namespaces", ns)
        if namespace["status"]["phase"] == "Terminating":
            return status(403, "Forbidden", f'{kind} "{name}" is forbidden: unable to create new content in namespace '
                                            f"{ns} because it is being terminated", name=name, kind=kind)
        return None

    # -- discovery ------------------------------------------------------------------------------------
    def node(self) -> dict[str, Any]:
        """The one node, labelled as kind's node is (the grader reads them for nodeSelector), Ready, with
        what `kubectl get nodes` prints of it (its conditions, kubelet version, address)."""
        labels = {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": NODE}
        return {"kind": "Node", "apiVersion": "v1",
                "metadata": {"name": NODE, "labels": labels, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, NODE)),
                             "resourceVersion": "1", "creationTimestamp": self.started},
                "spec": {}, "status": {
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                    "message": "kubelet is posting ready status", "lastHeartbeatTime": self.started,
                                    "lastTransitionTime": self.started}],
                    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                                  {"type": "Hostname", "address": NODE}],
                    "nodeInfo": {"kubeletVersion": self.served_version()["gitVersion"], "osImage": "podman",
                                 "kernelVersion": "", "containerRuntimeVersion": "podman://",
                                 "operatingSystem": "linux", "architecture": "amd64"},
                    "images": self.kubelet.node_images()}}  # every image the kubelet pulled

    async def list_nodes(self, request: web.Request) -> web.Response:
        return self.listing("NodeList", [self.node()])

    async def get_node(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.json_response(self.node()) if name == NODE else not_found("nodes", name)

    def served_version(self) -> dict[str, str]:
        """/version: the Kubernetes version this server plays (the server-version fault chooses another)."""
        return version_info(self.faults.server_version.split(".")[1])

    async def get_version(self, request: web.Request) -> web.Response:
        return web.json_response(self.served_version())

    # -- namespaces ---------------------------------------------------------------------------------
    async def create_namespace(self, request: web.Request) -> web.Response:
        body = await self.body(request)
        if body is None:
            return status(400, "BadRequest", "the body of the request was in an unknown format")
        name = (body.get("metadata") or {}).get("name")
        if not name or not isinstance(name, str) or len(name) > 63 or not LABEL.match(name):
            cause = {"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                     "field": "metadata.name"} if not name else {
                "reason": "FieldValueInvalid", "message": f"Invalid value: {json.dumps(name)}: {LABEL_ERROR}",
                "field": "metadata.name"}
            return status(422, "Invalid", invalid_message("Namespace", str(name or ""), [cause]),
                          name=str(name or ""), kind="Namespace", causes=[cause])
        if name in self.namespaces:
            return status(409, "AlreadyExists", f'namespaces "{name}" already exists', name=name, kind="namespaces")
        return web.json_response(self.add_namespace(name, body.get("metadata") or {}), status=201)

    def add_namespace(self, name: str, metadata: dict[str, Any]) -> dict[str, Any]:
        labels = {**(metadata.get("labels") or {}), "kubernetes.io/metadata.name": name}
        namespace = {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": self.metadata(name, labels=labels, annotations=metadata.get("annotations") or {}),
                     "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
        self.namespaces[name] = namespace
        self.sa_ready_at[name] = time.monotonic() + self.faults.sa_delay
        return namespace

    async def list_namespaces(self, request: web.Request) -> web.Response:
        selector = request.query.get("labelSelector")
        items = [ns for ns in self.namespaces.values() if matches(ns["metadata"].get("labels"), selector)]
        return self.listing("NamespaceList", items)

    async def get_namespace(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        return web.json_response(self.namespaces[ns]) if ns in self.namespaces else not_found("namespaces", ns)

    async def patch_namespace(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        if ns not in self.namespaces:
            return not_found("namespaces", ns)
        body = await self.body(request)
        if body is None:
            return status(415, "UnsupportedMediaType", "only merge patches of an object are modelled")
        merge(self.namespaces[ns], {"metadata": {k: v for k, v in (body.get("metadata") or {}).items()
                                                 if k in ("labels", "annotations")}})
        return web.json_response(self.namespaces[ns])

    async def delete_namespace(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        namespace = self.namespaces.get(ns)
        if namespace is None:
            return not_found("namespaces", ns)
        if namespace["status"]["phase"] != "Terminating":
            namespace["status"]["phase"] = "Terminating"
            namespace["metadata"]["deletionTimestamp"] = now_iso()
            self.version += 1
            namespace["metadata"]["resourceVersion"] = str(self.version)
            self.background(self._finish_namespace(ns))
        return web.json_response(namespace)

    async def _finish_namespace(self, ns: str) -> None:
        """The namespace controller: delete the Pods (their own grace periods), then the namespace."""
        pods = [pod for (space, _), pod in self.pods.items() if space == ns and not pod.deleting]
        for pod in pods:
            pod.deleting = True
        await asyncio.gather(*(self.pods_api.remove(pod, None) for pod in pods))
        while any(space == ns for space, _ in self.pods):  # Pods deleted before: their grace goes on
            await asyncio.sleep(0.5)
        for key in [key for key in self.stored if key[0] == ns]:
            del self.stored[key]
        self.events.pop(ns, None)
        self.sa_ready_at.pop(ns, None)
        gone = self.namespaces.pop(ns, None)
        if gone:
            self.gone("namespaces", None, gone)

    # -- service accounts ---------------------------------------------------------------------------
    def default_sa_ready(self, ns: str) -> bool:
        return time.monotonic() >= self.sa_ready_at.get(ns, float("inf"))

    def service_account(self, ns: str) -> dict[str, Any]:
        created = self.namespaces[ns]["metadata"]["creationTimestamp"]
        return {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": ns, "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, ns)),
                             "resourceVersion": "1", "creationTimestamp": created}}

    async def list_service_accounts(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        return self.listing("ServiceAccountList", [self.service_account(ns)] if self.default_sa_ready(ns) else [])

    async def get_service_account(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        if name == "default" and self.default_sa_ready(ns):
            return web.json_response(self.service_account(ns))
        return not_found("serviceaccounts", name)

    # -- events ---------------------------------------------------------------------------------------
    async def list_events(self, request: web.Request) -> web.Response:
        items = [e for e in self.events.get(request.match_info["ns"], [])
                 if self.fields_match(e, request.query.get("fieldSelector"))]
        return self.listing("EventList", items)

    @staticmethod
    def _field(obj: dict[str, Any], path: str) -> Any:
        for part in path.split("."):
            obj = obj.get(part, {}) if isinstance(obj, dict) else {}
        return obj

    # -- LimitRange, ResourceQuota: stored -----------------------------------------------------------
    async def create_stored(self, request: web.Request) -> web.Response:
        ns, resource = request.match_info["ns"], request.match_info["resource"]
        body = await self.body(request)
        name = ((body or {}).get("metadata") or {}).get("name")
        if not body or not name:
            return status(422, "Invalid", f"{resource}: metadata.name: Required value")
        refused = self.namespace_gate(ns, resource, name)
        if refused:
            return refused
        objects = self.stored.setdefault((ns, resource), {})
        if name in objects:
            return status(409, "AlreadyExists", f'{resource} "{name}" already exists', name=name, kind=resource)
        obj = {**body, "metadata": {**body["metadata"], **self.metadata(name, ns)}}
        objects[name] = obj
        return web.json_response(obj, status=201)

    async def list_stored(self, request: web.Request) -> web.Response:
        ns, resource = request.match_info["ns"], request.match_info["resource"]
        kind = STORED[resource] + "List"
        return self.listing(kind, list(self.stored.get((ns, resource), {}).values()))

    async def get_stored(self, request: web.Request) -> web.Response:
        ns, resource, name = request.match_info["ns"], request.match_info["resource"], request.match_info["name"]
        found = self.stored.get((ns, resource), {}).get(name)
        return web.json_response(found) if found else not_found(resource, name)

    async def delete_stored(self, request: web.Request) -> web.Response:
        ns, resource, name = request.match_info["ns"], request.match_info["resource"], request.match_info["name"]
        found = self.stored.get((ns, resource), {}).pop(name, None)
        return web.json_response(found) if found else not_found(resource, name)

    def listing(self, kind: str, items: list[dict[str, Any]]) -> web.Response:
        return web.json_response({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": str(self.version)},
                                  "items": items})

    # -- the application ----------------------------------------------------------------------------
    def routes(self, app: web.Application) -> None:
        pods = self.pods_api
        stored = "/api/v1/namespaces/{ns}/{resource:" + "|".join(STORED) + "}"
        pod = "/api/v1/namespaces/{ns}/pods/{name}"
        discovery.routes(app)
        openapi.routes(app, self.minor)
        app.add_routes([
            web.get("/version", self.get_version), web.get("/version/", self.get_version),
            web.get("/api/v1/nodes", self.list_nodes), web.get("/api/v1/nodes/{name}", self.get_node),
            web.post("/api/v1/namespaces", self.create_namespace), web.get("/api/v1/namespaces", self.list_namespaces),
            web.get("/api/v1/namespaces/{ns}", self.get_namespace),
            web.patch("/api/v1/namespaces/{ns}", self.patch_namespace),
            web.delete("/api/v1/namespaces/{ns}", self.delete_namespace),
            web.get("/api/v1/namespaces/{ns}/serviceaccounts", self.list_service_accounts),
            web.get("/api/v1/namespaces/{ns}/serviceaccounts/{name}", self.get_service_account),
            web.get("/api/v1/namespaces/{ns}/events", self.list_events),
            web.post(stored, self.create_stored), web.get(stored, self.list_stored),
            web.get(stored + "/{name}", self.get_stored), web.delete(stored + "/{name}", self.delete_stored),
            web.post("/api/v1/namespaces/{ns}/pods", pods.create), web.get("/api/v1/namespaces/{ns}/pods", pods.list),
            web.get("/api/v1/pods", pods.list),
            web.get(pod, pods.get), web.delete(pod, pods.delete), web.patch(pod, pods.patch),
            web.get(pod + "/log", pods.log),
            web.get(pod + "/exec", pods.exec), web.post(pod + "/exec", pods.exec),
            web.patch(pod + "/ephemeralcontainers", pods.ephemeral),
            web.put(pod + "/ephemeralcontainers", pods.ephemeral),
            web.get(pod + "/proxy", pods.proxy), web.get(pod + "/proxy/{path:.*}", pods.proxy),
        ])

    async def close(self) -> list[str]:
        for task in list(self.tasks):
            task.cancel()
        return await self.kubelet.close()
