"""The server-side Table answer that `kubectl get` asks for (`Accept: application/json;as=Table;v=v1;
g=meta.k8s.io`): the columns and cells the API server prints, so that kubectl shows READY, STATUS,
RESTARTS and AGE, the wide columns (kubectl hides those of priority 1 unless `-o wide`), and labels
from each row's object (`--show-labels`).

Columns and cells follow kubernetes pkg/printers/internalversion/printers.go (AddHandlers: the column
definitions; printPod, printNamespace, printEvent, printServiceAccount, printNode, printConfigMap; a kind
without a printer gets printObjectMeta's Name and Age); the server prints with `Wide: true` and lets the
client drop columns (pkg/printers/storage/storage.go). Ages are apimachinery pkg/util/duration
HumanDuration. The row's object is what `includeObject` asks for (Metadata by default: a
PartialObjectMetadata), as staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go writes it.
"""

from __future__ import annotations

import calendar
import json
import time
from typing import Any, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

NAME = {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}
AGE = {"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp", "priority": 0}


def _column(name: str, description: str, priority: int = 0, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "type": kind, "format": "", "description": description, "priority": priority}


def wants_table(accept: str) -> bool:
    return any("as=Table" in choice and "g=meta.k8s.io" in choice for choice in accept.split(","))


def human_duration(seconds: float) -> str:
    """apimachinery's HumanDuration: two or three significant figures."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return f"{minutes}m{whole % 60}s" if whole % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24 % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    return human_duration(time.time() - calendar.timegm(time.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ")))


# -- Pods ---------------------------------------------------------------------------------------------------
POD_COLUMNS = [NAME, _column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
               _column("Status", "The aggregate status of the containers in this pod."),
               _column("Restarts", "The number of times the containers in this pod have been restarted and when "
                                   "the last container in this pod has restarted."),
               AGE, _column("IP", "IP address allocated to the pod.", 1),
               _column("Node", "NodeName is a request to schedule this pod onto a specific node.", 1),
               _column("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods.", 1),
               _column("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", 1)]


def _restartable(container: dict[str, Any] | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"  # type: ignore[union-attr]


def _exit_text(terminated: dict[str, Any]) -> str:
    return f"Signal:{terminated['signal']}" if terminated.get("signal") else f"ExitCode:{terminated.get('exitCode')}"


def pod_cells(pod: dict[str, Any]) -> list[Any]:
    """printPod: READY counts ready containers, STATUS is the reason of the first container that is not
    running (an init container's as Init:N/M), RESTARTS the sum with the time of the last one."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = {c["name"]: c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(_restartable(c) for c in init_specs.values())
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last = ""
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    initializing = False
    for index, c in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(c.get("restartCount") or 0)
        last_restart = max(last_restart, ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt", ""))
        if _restartable(init_specs.get(c.get("name"))):
            sidecar_restarts += int(c.get("restartCount") or 0)
            sidecar_last = max(sidecar_last,
                               ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt", ""))
        state = c.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if _restartable(init_specs.get(c.get("name"))) and c.get("started"):
            ready += bool(c.get("ready"))
            continue
        if terminated:
            reason = "Init:" + (terminated.get("reason") or _exit_text(terminated))
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    if not initializing or initialized:
        restarts, last_restart, running = sidecar_restarts, sidecar_last, False
        for c in reversed(status.get("containerStatuses") or []):
            restarts += int(c.get("restartCount") or 0)
            last_restart = max(last_restart,
                               ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt", ""))
            state = c.get("state") or {}
            waiting, terminated = state.get("waiting") or {}, state.get("terminated")
            if waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = _exit_text(terminated)
            elif c.get("ready") and "running" in state:
                running = True
                ready += 1
        if reason == "Completed" and running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in status.get("conditions") or [])
            reason = "Running" if pod_ready else "NotReady"
    if (pod.get("metadata") or {}).get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_text = f"{restarts} ({since(last_restart)} ago)" if restarts and last_restart else str(restarts)
    ips = [entry.get("ip") for entry in status.get("podIPs") or [] if entry.get("ip")]
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
        gates_text = f"{sum(g.get('conditionType') in true for g in gates)}/{len(gates)}"
    return [pod["metadata"]["name"], f"{ready}/{total}", reason, restarts_text,
            since(pod["metadata"].get("creationTimestamp")), ips[0] if ips else "<none>",
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_text]


def _pod_conditions(pod: dict[str, Any]) -> list[dict[str, Any]]:
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):  # kubectl hides completed Pods from `get` when asked to
        return [{"type": "Completed", "status": "True", "reason": phase,
                 "message": "The pod has completed successfully." if phase == "Succeeded" else "The pod failed."}]
    return []


# -- other kinds --------------------------------------------------------------------------------------------
EVENT_COLUMNS = [_column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
                 _column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
                 _column("Reason", "This should be a short, machine understandable string that gives the reason "
                                   "for the transition into the object's current status."),
                 _column("Object", "The object that this event is about."),
                 _column("Subobject", "The field of the object the event is about.", 1),
                 _column("Source", "The component reporting this event.", 1),
                 _column("Message", "A human-readable description of the status of this operation."),
                 _column("First Seen", "The time at which the event was first recorded.", 1),
                 _column("Count", "The number of times this event has occurred.", 1),
                 {**NAME, "priority": 1}]


def event_cells(event: dict[str, Any]) -> list[Any]:
    involved = event.get("involvedObject") or {}
    target = f"{str(involved.get('kind', '')).lower()}/{involved['name']}" if involved.get("name") else \
        str(involved.get("kind", "")).lower()
    source = event.get("source") or {}
    origin = ", ".join(filter(None, (source.get("component"), source.get("host")))) or \
        ", ".join(filter(None, (event.get("reportingComponent"), event.get("reportingInstance"))))
    first = since(event.get("firstTimestamp"))
    return [since(event.get("lastTimestamp")) if event.get("lastTimestamp") else first, event.get("type", ""),
            event.get("reason", ""), target, involved.get("fieldPath", ""), origin,
            str(event.get("message", "")).strip(), first, int(event.get("count") or 1), event["metadata"]["name"]]


def _node_cells(node: dict[str, Any]) -> list[Any]:
    info = (node.get("status") or {}).get("nodeInfo") or {}
    labels = node["metadata"].get("labels") or {}
    roles = sorted(key.split("/", 1)[1] for key in labels if key.startswith("node-role.kubernetes.io/"))
    addresses = {a.get("type"): a.get("address") for a in (node.get("status") or {}).get("addresses") or []}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                for c in (node.get("status") or {}).get("conditions") or [])
    return [node["metadata"]["name"], "Ready" if ready else "NotReady", ",".join(roles) or "<none>",
            since(node["metadata"].get("creationTimestamp")), info.get("kubeletVersion", ""),
            addresses.get("InternalIP", "<none>"), addresses.get("ExternalIP", "<none>"), info.get("osImage", ""),
            info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]


NODE_COLUMNS = [NAME, _column("Status", "The status of the node"), _column("Roles", "The roles of the node"), AGE,
                _column("Version", "Kubelet Version reported by the node."),
                _column("Internal-IP", "List of addresses reachable to the node.", 1),
                _column("External-IP", "List of addresses reachable to the node.", 1),
                _column("OS-Image", "OS Image reported by the node.", 1),
                _column("Kernel-Version", "Kernel Version reported by the node.", 1),
                _column("Container-Runtime", "ContainerRuntime Version reported by the node.", 1)]

PRINTERS: dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any]], list[Any]]]] = {
    "Pod": (POD_COLUMNS, pod_cells),
    "Namespace": ([NAME, _column("Status", "The status of the namespace"), AGE],
                  lambda ns: [ns["metadata"]["name"], (ns.get("status") or {}).get("phase", ""),
                              since(ns["metadata"].get("creationTimestamp"))]),
    "Event": (EVENT_COLUMNS, event_cells),
    "ServiceAccount": ([NAME, _column("Secrets", "Secrets is a list of the secrets in the same namespace"), AGE],
                       lambda sa: [sa["metadata"]["name"], len(sa.get("secrets") or []),
                                   since(sa["metadata"].get("creationTimestamp"))]),
    "ConfigMap": ([NAME, _column("Data", "Data contains the configuration data."), AGE],
                  lambda cm: [cm["metadata"]["name"], len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
                              since(cm["metadata"].get("creationTimestamp"))]),
    "Node": (NODE_COLUMNS, _node_cells),
}


def table(kind: str, objects: list[dict[str, Any]], resource_version: str, include: str = "Metadata",
          headers: bool = True) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table of the objects (one kind), with each row's object as `include` says."""
    columns, cells = PRINTERS.get(kind, ([NAME, AGE], lambda o: [o["metadata"]["name"],
                                                                  since(o["metadata"].get("creationTimestamp"))]))
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": cells(obj)}
        if kind == "Pod":
            conditions = _pod_conditions(obj)
            if conditions:
                row["conditions"] = conditions
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj.get("metadata") or {}}
        rows.append(row)
    found: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
                             "metadata": {"resourceVersion": resource_version}, "rows": rows}
    if headers:
        found["columnDefinitions"] = columns
    return found


@web.middleware
async def as_table(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A read answered with a Table when the client asks for one (a list, or one object as a one-row Table)."""
    answer = await handler(request)
    if request.method != "GET" or not wants_table(request.headers.get("Accept", "")) or \
            not isinstance(answer, web.Response) or answer.status != 200 or answer.content_type != "application/json" \
            or not isinstance(answer.body, bytes):
        return answer
    found = json.loads(answer.body)
    include = request.query.get("includeObject", "Metadata")
    if isinstance(found.get("items"), list) and str(found.get("kind", "")).endswith("List"):
        version = str((found.get("metadata") or {}).get("resourceVersion", ""))
        return web.json_response(table(found["kind"].removesuffix("List"), found["items"], version, include))
    if isinstance(found.get("metadata"), dict) and found.get("kind") not in (None, "Status"):
        version = str(found["metadata"].get("resourceVersion", ""))
        return web.json_response(table(found["kind"], [found], version, include))
    return answer
